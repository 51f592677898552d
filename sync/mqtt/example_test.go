package mqtt_test

import (
	"fmt"

	"github.com/clipfleet/clipfleet/sync/mqtt"
)

// The topics of one fleet; the device id is always the third level, which
// is what a broker ACL binds to the client's username.
func ExampleTopics() {
	t := mqtt.Topics{Prefix: "clipfleet", Fleet: "warehouse"}
	fmt.Println(t.Delta("robot-7"))
	fmt.Println(t.Ack("robot-7"))
	fmt.Println(t.Global())
	fmt.Println(t.AllDeltas())
	dev, ok := t.DeviceOf("clipfleet/warehouse/robot-7/delta", "delta")
	fmt.Println(dev, ok)
	// Output:
	// clipfleet/warehouse/robot-7/delta
	// clipfleet/warehouse/robot-7/ack
	// clipfleet/warehouse/global
	// clipfleet/warehouse/+/delta
	// robot-7 true
}

// A device configuration: persistent session, mTLS to the broker, and
// re-send of an un-acked delta after the ack timeout.
func ExampleConfig() {
	cfg := mqtt.DefaultConfig()
	cfg.Fleet, cfg.Device = "warehouse", "robot-7"
	cfg.Broker.URL = "ssl://broker.example:8883"
	cfg.Broker.TLS = mqtt.TLS{CAFile: "ca.crt", CertFile: "robot-7.crt", KeyFile: "robot-7.key"}
	fmt.Println(cfg.Validate())
	cfg.Broker.URL = "tcp://broker.example:1883" // TLS files need a TLS URL
	fmt.Println(cfg.Validate() != nil)
	// Output:
	// <nil>
	// true
}
