package synctest

import (
	"testing"

	"github.com/clipfleet/clipfleet/sync/mqtt/broker"
)

// StartMochi starts an in-process broker on a free loopback port, closed
// when the test ends.
func StartMochi(t testing.TB) *broker.Broker {
	t.Helper()
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}
