package host

import (
	"fmt"
	"strings"

	periphhost "periph.io/x/host/v3"

	"github.com/clipfleet/clipfleet/boards"
)

func init() { boards.RegisterHostDrivers(load) }

// load initialises periph's host drivers and summarises which loaded.
// Drivers that are skipped (not this kind of host) are normal and left out
// of the summary; ones that failed are listed, since a pin the user
// expected may be missing because of them.
func load() (string, error) {
	st, err := periphhost.Init()
	if err != nil {
		return "", fmt.Errorf("boards/host: loading periph host drivers: %w", err)
	}
	return summarize(st.Loaded, st.Failed), nil
}

func summarize[I fmt.Stringer, F fmt.Stringer](loaded []I, failed []F) string {
	var b strings.Builder
	b.WriteString("periph drivers loaded: ")
	if len(loaded) == 0 {
		b.WriteString("none")
	}
	for i, d := range loaded {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.String())
	}
	if len(failed) > 0 {
		b.WriteString("; failed: ")
		for i, f := range failed {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(f.String())
		}
	}
	return b.String()
}
