// Command edge is the clipfleet device daemon and its local debug CLI.
//
// Each subcommand lives in its own file and registers itself in init, so
// that features can add commands without touching this file.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one `edge` subcommand.
type command struct {
	name    string
	summary string
	// run executes the command with its own arguments (after the name).
	// It returns the process exit code.
	run func(ctx context.Context, env *cliEnv, args []string) int
}

// cliEnv carries the process's streams so commands can be tested in-process.
type cliEnv struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// environ lists KEY=VALUE pairs for config overrides; nil means os.Environ.
	environList func() []string
}

func (e *cliEnv) environ() []string {
	if e.environList != nil {
		return e.environList()
	}
	return os.Environ()
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("edge: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	// OpenCV and GStreamer warn on stderr about every probe and retry; the
	// daemon reports those failures itself, once, in its own log.
	if os.Getenv("OPENCV_LOG_LEVEL") == "" {
		os.Setenv("OPENCV_LOG_LEVEL", "ERROR")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runCLI(ctx, &cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

func runCLI(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "edge: unknown command %q\n\n", args[0])
		usage(env.stderr)
		return 2
	}
	return c.run(ctx, env, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: edge <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
}
