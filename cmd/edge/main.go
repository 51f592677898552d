// Command edge is the clipfleet device daemon and its local debug CLI.
//
// Each subcommand lives in its own file and registers itself in init, so
// that features can add commands without touching this file.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/clipfleet/clipfleet/internal/cli"
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

var commands = cli.New[*cliEnv]("edge")

func register(c command) { commands.Register(c.name, c.summary, c.run) }

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
	return commands.Run(ctx, env, env.stderr, args)
}
