package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/sync/mqtt"
	"github.com/clipfleet/clipfleet/sync/outbox"
	"github.com/clipfleet/clipfleet/sync/wire"
)

var urlRE = regexp.MustCompile(`url=(tcp://127\.0\.0\.1:\d+)`)

func waitLog(t *testing.T, b interface{ String() string }, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(b.String()); m != nil {
			return m
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %v in the log:\n%s", re, b.String())
	return nil
}

// applier records committed global adapters.
type applier struct {
	mu      sync.Mutex
	active  uint64
	staged  uint64
	classes []learner.ClassStats
}

func (a *applier) Active() uint64 { a.mu.Lock(); defer a.mu.Unlock(); return a.active }
func (a *applier) Apply(_ context.Context, g *wire.Payload) (mqtt.HealthCheck, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.staged = g.Version
	a.classes = append(a.classes, g.Classes...)
	return nil, nil
}
func (a *applier) Commit(context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.active = a.staged
	return nil
}
func (a *applier) Rollback(context.Context) error { return nil }

// TestRunEmbeddedBroker: `hub run --embedded-broker 127.0.0.1:0` serves a
// device end to end — its delta is merged, acked and the signed global
// adapter applied — and stops cleanly when its context ends.
func TestRunEmbeddedBroker(t *testing.T) {
	cfgPath, hubPub := setup(t, "")
	env, _, logs := testEnv()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, env, "run", "--config", cfgPath, "--embedded-broker", "127.0.0.1:0") }()
	defer func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("exit %d:\n%s", code, logs)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("hub run did not stop:\n%s", logs)
		}
	}()
	url := waitLog(t, logs, urlRE, 5*time.Second)[1]
	waitLog(t, logs, regexp.MustCompile(`msg="hub: active"`), 5*time.Second)

	dir := t.TempDir()
	ob, err := outbox.Open(outbox.Config{Dir: filepath.Join(dir, "outbox"), MaxBytes: 1 << 20, Drop: outbox.DropOldest}, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := wire.NewKeyring("demo")
	if err := keys.AddHub("hub-a", hubPub); err != nil {
		t.Fatal(err)
	}
	mc := mqtt.DefaultConfig()
	mc.Fleet, mc.Device, mc.StateDir = "demo", "robot-1", filepath.Join(dir, "sync")
	mc.Broker.URL, mc.Broker.MaxReconnectInterval = url, 250*time.Millisecond
	app := &applier{}
	dev, err := mqtt.NewDevice(mqtt.DeviceOptions{Config: mc, Key: devKey("robot-1"), HubKeys: keys, Outbox: ob, Applier: app, Method: "ncm", Dim: 4})
	if err != nil {
		t.Fatal(err)
	}
	dctx, dcancel := context.WithCancel(context.Background())
	ddone := make(chan struct{})
	go func() { defer close(ddone); dev.Run(dctx) }()
	defer func() { dcancel(); <-ddone }()
	d := &learner.Delta{Method: "ncm", Dim: 4, ID: 77, Examples: 1,
		Classes: []learner.ClassStats{{Label: 9, Count: 1, Examples: 1, Sum: []float64{1, 0, 0, 0}}}}
	p, err := wire.FromDelta(d, wire.Compression{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dev.Enqueue(p); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for app.Active() != 1 || ob.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("not synced: active %d, outbox %d\n%s", app.Active(), ob.Len(), logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	app.mu.Lock()
	defer app.mu.Unlock()
	if len(app.classes) != 1 || app.classes[0].Label != 9 {
		t.Errorf("applied classes %+v", app.classes)
	}
}

func TestRunRefusesMissingKeys(t *testing.T) {
	cfgPath, _ := setup(t, "")
	if err := os.Remove(filepath.Join(filepath.Dir(cfgPath), "hub.key")); err != nil {
		t.Fatal(err)
	}
	env, _, logs := testEnv()
	if code := run(context.Background(), env, "run", "--config", cfgPath, "--embedded-broker", "127.0.0.1:0"); code != 1 {
		t.Errorf("exit %d:\n%s", code, logs)
	}
}

// TestMain lets the test binary stand in for the hub binary, so that the
// signal test exercises main's real signal handling in a child process.
func TestMain(m *testing.M) {
	if args := os.Getenv("CLIPFLEET_TEST_HUB_ARGS"); args != "" {
		var a []string
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			panic(err)
		}
		os.Args = append([]string{"hub"}, a...)
		main()
		return
	}
	os.Exit(m.Run())
}

func TestSIGTERMStopsGracefully(t *testing.T) {
	cfgPath, _ := setup(t, "")
	args, _ := json.Marshal([]string{"run", "--config", cfgPath, "--embedded-broker", "127.0.0.1:0"})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CLIPFLEET_TEST_HUB_ARGS="+string(args))
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitLog(t, logs, regexp.MustCompile(`msg="hub: active"`), 10*time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, logs)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no exit after SIGTERM:\n%s", logs)
	}
	waitLog(t, logs, regexp.MustCompile(`shutting down`), time.Second)
}
