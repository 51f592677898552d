package broker_test

import (
	"fmt"
	"strings"

	"github.com/clipfleet/clipfleet/sync/mqtt/broker"
)

// An in-process broker on a free loopback port.
func ExampleStart() {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		panic(err)
	}
	defer b.Close()
	fmt.Println(strings.HasPrefix(b.URL(), "tcp://127.0.0.1:"))
	// Output: true
}
