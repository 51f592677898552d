package cli

import (
	"context"
	"strings"
	"testing"
)

func TestRegistryDispatchesAndExplains(t *testing.T) {
	r := New[*[]string]("tool")
	r.Register("run", "run it", func(_ context.Context, got *[]string, args []string) int {
		*got = args
		return 7
	})
	r.Register("bench", "measure", func(context.Context, *[]string, []string) int { return 0 })
	var got []string
	var stderr strings.Builder
	if code := r.Run(context.Background(), &got, &stderr, []string{"run", "-x", "y"}); code != 7 || strings.Join(got, " ") != "-x y" {
		t.Fatalf("run: code %d args %v", code, got)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage: tool <command>"},
		{[]string{"help"}, 0, "  bench  measure\n  run    run it\n"},
		{[]string{"fly"}, 2, `tool: unknown command "fly"`},
	} {
		stderr.Reset()
		if code := r.Run(context.Background(), &got, &stderr, tc.args); code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: code %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a duplicate command did not panic")
		}
	}()
	r.Register("run", "again", nil)
}
