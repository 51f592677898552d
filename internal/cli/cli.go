// Package cli is the subcommand registry the clipfleet binaries (edge,
// hub) share: each subcommand lives in its own file and registers itself in
// init, so features add commands without touching main.
package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
)

// Registry maps subcommand names to their functions. E is the binary's
// environment (streams, environment variables), passed to every command so
// commands run in-process in tests.
type Registry[E any] struct {
	prog string
	cmds map[string]entry[E]
}

type entry[E any] struct {
	summary string
	run     func(ctx context.Context, env E, args []string) int
}

// New returns an empty registry for the program prog ("edge").
func New[E any](prog string) *Registry[E] {
	return &Registry[E]{prog: prog, cmds: map[string]entry[E]{}}
}

// Register adds a command; a name registered twice is a programming error.
func (r *Registry[E]) Register(name, summary string, run func(ctx context.Context, env E, args []string) int) {
	if _, dup := r.cmds[name]; dup {
		panic(r.prog + ": command registered twice: " + name)
	}
	r.cmds[name] = entry[E]{summary, run}
}

// Run dispatches args[0] with the remaining arguments and returns the exit
// code: 2 and the usage on stderr for no or an unknown command, 0 for help.
func (r *Registry[E]) Run(ctx context.Context, env E, stderr io.Writer, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		r.Usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := r.cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "%s: unknown command %q\n\n", r.prog, args[0])
		r.Usage(stderr)
		return 2
	}
	return c.run(ctx, env, args[1:])
}

// Usage lists the commands, sorted, with their summaries.
func (r *Registry[E]) Usage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s <command> [flags]\n\ncommands:\n", r.prog)
	width := 0
	for n := range r.cmds {
		width = max(width, len(n))
	}
	for _, n := range slices.Sorted(maps.Keys(r.cmds)) {
		fmt.Fprintf(w, "  %-*s  %s\n", width, n, r.cmds[n].summary)
	}
}
