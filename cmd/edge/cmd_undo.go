package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/clipfleet/clipfleet/daemon"
)

func init() {
	register(command{name: "undo", summary: "revert the last N teach actions of the running daemon", run: runUndo})
}

func runUndo(ctx context.Context, env *cliEnv, args []string) int {
	fs := flag.NewFlagSet("edge undo", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	var cf configFlags
	cf.register(fs)
	daemonURL := fs.String("daemon", "", "debug API of the running daemon (default: http.listen)")
	fs.Usage = func() {
		fmt.Fprint(env.stderr, "usage: edge undo [N] [--daemon URL] [--config FILE] [--set key=value]\n\n"+
			"Reverts the last N (default 1) teach actions, newest first, and prints them as JSON. The undo\n"+
			"history lives in the running daemon (learner.undo.depth actions); it does not survive a restart.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	n := 1
	if fs.NArg() > 0 {
		v, err := strconv.Atoi(fs.Arg(0))
		// Flags may follow N.
		if err == nil {
			if perr := fs.Parse(fs.Args()[1:]); perr != nil {
				return 2
			}
		}
		if err != nil || v < 1 || fs.NArg() > 0 {
			fmt.Fprintf(env.stderr, "edge undo: want one count N >= 1, got %v\n", fs.Args())
			return 2
		}
		n = v
	}
	cfg, err := cf.load(env)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge undo:", err)
		return 2
	}
	base, err := findDaemon(ctx, cfg, *daemonURL)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge undo:", err)
		return 1
	}
	if base == "" {
		fmt.Fprintln(env.stderr, "edge undo: no running daemon answers (see --daemon); the undo history lives in the daemon, "+
			"so state taught offline cannot be undone — teach the correct label instead")
		return 1
	}
	var resp daemon.UndoResponse
	err = postJSON(ctx, base, "/api/v1/undo", daemon.UndoRequest{N: n}, &resp, 10*time.Second)
	if err != nil && resp.Error == "" {
		fmt.Fprintln(env.stderr, "edge undo:", err)
		return 1
	}
	_ = json.NewEncoder(env.stdout).Encode(resp)
	if resp.Error != "" {
		fmt.Fprintln(env.stderr, "edge undo:", resp.Error)
		return 1
	}
	return 0
}
