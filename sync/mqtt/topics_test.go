package mqtt

import "testing"

func TestTopics(t *testing.T) {
	tp := Topics{Prefix: "clipfleet", Fleet: "warehouse"}
	for got, want := range map[string]string{
		tp.Delta("r7"):        "clipfleet/warehouse/r7/delta",
		tp.Ack("r7"):          "clipfleet/warehouse/r7/ack",
		tp.Status("r7"):       "clipfleet/warehouse/r7/status",
		tp.State("r7"):        "clipfleet/warehouse/r7/state",
		tp.Cmd("r7"):          "clipfleet/warehouse/r7/cmd",
		tp.CatchUp("r7"):      "clipfleet/warehouse/r7/catchup",
		tp.AllStates():        "clipfleet/warehouse/+/state",
		tp.Global():           "clipfleet/warehouse/global",
		tp.AllDeltas():        "clipfleet/warehouse/+/delta",
		tp.HubStatus("hub-a"): "clipfleet/warehouse/hub/hub-a/status",
	} {
		if got != want {
			t.Errorf("%s, want %s", got, want)
		}
	}
	for _, c := range []struct {
		topic, leaf, dev string
		ok               bool
	}{
		{"clipfleet/warehouse/r7/delta", "delta", "r7", true},
		{"clipfleet/warehouse/r7/state", "state", "r7", true},
		{"clipfleet/warehouse/r7/delta", "ack", "", false},
		{"clipfleet/other/r7/delta", "delta", "", false},
		{"clipfleet/warehouse/r7/x/delta", "delta", "", false},
		{"clipfleet/warehouse/hub/hub-a/status", "status", "", false},
		{"clipfleet/warehouse/+/delta", "delta", "", false},
	} {
		dev, ok := tp.DeviceOf(c.topic, c.leaf)
		if dev != c.dev || ok != c.ok {
			t.Errorf("DeviceOf(%q, %q) = %q, %v", c.topic, c.leaf, dev, ok)
		}
	}
	for _, bad := range []Topics{{"", "f"}, {"a/b", "f"}, {"#", "f"}, {"p", "+"}, {"$SYS", "f"}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
