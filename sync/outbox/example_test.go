package outbox_test

import (
	"fmt"
	"os"

	"github.com/clipfleet/clipfleet/sync/outbox"
)

// A device stores payloads while offline, sends them when connected, and
// forgets each only when the hub acknowledges it.
func Example() {
	dir, _ := os.MkdirTemp("", "outbox-example")
	defer os.RemoveAll(dir)
	cfg := outbox.DefaultConfig()
	cfg.Dir = dir
	ob, err := outbox.Open(cfg, nil)
	if err != nil {
		panic(err)
	}
	for _, delta := range []string{"delta one", "delta two"} {
		// Normally: p.Seq = seq; data, _ := wire.Encode(p, key)
		seq := ob.NextSeq()
		if err := ob.Put(seq, []byte(delta)); err != nil {
			panic(err)
		}
	}

	// Connected: publish everything not yet handed out.
	for {
		e, err := ob.Next()
		if err != nil {
			break // outbox.ErrEmpty
		}
		fmt.Printf("publish seq %d: %s\n", e.Seq, e.Data)
	}
	// The hub acknowledged seq 1 only; seq 2 is resent after a restart.
	_ = ob.Ack(1)
	ob.Close()

	ob, _ = outbox.Open(cfg, nil)
	e, _ := ob.Next()
	fmt.Printf("after restart: seq %d: %s; next seq %d\n", e.Seq, e.Data, ob.NextSeq())
	// Output:
	// publish seq 1: delta one
	// publish seq 2: delta two
	// after restart: seq 2: delta two; next seq 3
}
