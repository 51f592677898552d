package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/sync/mqtt"
	"github.com/clipfleet/clipfleet/sync/mqtt/broker"
)

// `make run` starts with this: the story runs to its end and reports the
// hub's merges.
func TestFleetDemoCommand(t *testing.T) {
	needORT(t)
	code, out, errs := runEdge(t, nil, "fleet-demo", "--robots", "3")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for _, want := range []string{"robot-3 comes back into coverage", "fleet version 2", "2 deltas merged"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code, _, errs := runEdge(t, nil, "fleet-demo", "--robots", "2"); code == 0 || !strings.Contains(errs, "at least 3") {
		t.Errorf("2 robots: exit %d, %s", code, errs)
	}
}

// edge run with sync on: the device key and hub keys load, the fleet sync
// connects, and the daemon stops cleanly with it.
func TestRunWithFleetSync(t *testing.T) {
	needORT(t)
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	dir := t.TempDir()
	hubs := filepath.Join(dir, "hubs")
	if err := os.MkdirAll(hubs, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := mqtt.GenerateKeyPair(filepath.Join(dir, "hub.key"), filepath.Join(hubs, "hub-1.pub")); err != nil {
		t.Fatal(err)
	}
	if _, err := mqtt.GenerateKeyPair(filepath.Join(dir, "device.key"), filepath.Join(dir, "device.pub")); err != nil {
		t.Fatal(err)
	}
	args := []string{"run", "--max-frames", "5", "--listen", "off",
		"--set", "sync.enabled=true", "--set", "sync.fleet=f1", "--set", "sync.device=robot-1",
		"--set", "sync.broker.url=" + b.URL(), "--set", "sync.key_file=" + filepath.Join(dir, "device.key"),
		"--set", "sync.hub_keys_dir=" + hubs, "--set", "state_dir=" + filepath.Join(dir, "state")}
	code, _, errs := runEdge(t, nil, args...)
	if code != 0 || !strings.Contains(errs, "fleet sync ready") {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "sync", "outbox")); err != nil {
		t.Errorf("outbox not under state_dir/sync: %v", err)
	}
	// A hub key directory without keys is refused at start, naming it.
	empty := t.TempDir()
	args[len(args)-3] = "sync.hub_keys_dir=" + empty
	code, _, errs = runEdge(t, nil, args...)
	if code == 0 || !strings.Contains(errs, "sync.hub_keys_dir") {
		t.Fatalf("empty hub keys dir: exit %d\n%s", code, errs)
	}
}
