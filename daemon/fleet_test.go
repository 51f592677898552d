package daemon

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/sync/hub"
	"github.com/clipfleet/clipfleet/sync/mqtt"
	"github.com/clipfleet/clipfleet/sync/mqtt/broker"
	"github.com/clipfleet/clipfleet/sync/wire"
)

const testFleet = "fleet-t"

// fleetRig is a real embedded broker, hub keys and device keys on disk.
type fleetRig struct {
	t          *testing.T
	dir        string
	url        string
	hubKey     ed25519.PrivateKey
	hubKeysDir string
	devKeysDir string
}

func newFleetRig(t *testing.T) *fleetRig {
	t.Helper()
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	r := &fleetRig{t: t, dir: t.TempDir(), url: b.URL()}
	r.hubKeysDir, r.devKeysDir = filepath.Join(r.dir, "hubs"), filepath.Join(r.dir, "devices")
	for _, d := range []string{r.hubKeysDir, r.devKeysDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := mqtt.GenerateKeyPair(filepath.Join(r.dir, "hub-a.key"), filepath.Join(r.hubKeysDir, "hub-a.pub")); err != nil {
		t.Fatal(err)
	}
	if r.hubKey, err = mqtt.LoadPrivateKey(filepath.Join(r.dir, "hub-a.key")); err != nil {
		t.Fatal(err)
	}
	return r
}

// startHub runs a hub that merges every 200 ms.
func (r *fleetRig) startHub(devices ...string) *hub.Hub {
	r.t.Helper()
	ring := wire.NewKeyring(testFleet)
	for _, d := range devices {
		pub, err := mqtt.LoadPublicKey(filepath.Join(r.devKeysDir, d+".pub"))
		if err != nil {
			r.t.Fatal(err)
		}
		if err := ring.AddDevice(d, pub); err != nil {
			r.t.Fatal(err)
		}
	}
	if err := ring.AddHub("hub-a", r.hubKey.Public().(ed25519.PublicKey)); err != nil {
		r.t.Fatal(err)
	}
	c := hub.DefaultConfig()
	c.ID, c.Fleet, c.StatePath = "hub-a", testFleet, filepath.Join(r.dir, "hub.db")
	c.KeyFile, c.DeviceKeysDir = "unused", "unused"
	c.Broker.URL, c.Broker.KeepAlive, c.Broker.MaxReconnectInterval = r.url, 2*time.Second, 250*time.Millisecond
	c.Model = hub.Model{Method: "ncm", ModelID: learnInfo.ID, Dim: learnDim}
	c.Merge.Interval = 200 * time.Millisecond
	h, err := hub.Open(c, r.hubKey, ring, nil, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.Run(ctx) }()
	r.t.Cleanup(func() { cancel(); <-done; _ = h.Close() })
	return h
}

// device opens a learner and its fleet sync (keys generated), not running.
func (r *fleetRig) device(name string) (*Learner, *Fleet) {
	r.t.Helper()
	dir := filepath.Join(r.dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		r.t.Fatal(err)
	}
	key := filepath.Join(dir, "device.key")
	if _, err := mqtt.GenerateKeyPair(key, filepath.Join(r.devKeysDir, name+".pub")); err != nil {
		r.t.Fatal(err)
	}
	l := openTestLearner(r.t, filepath.Join(dir, "learner"), func(o *LearnerOptions) { o.Config.Method = "ncm" })
	c := DefaultSyncConfig()
	c.Enabled, c.Fleet, c.Device = true, testFleet, name
	c.Broker.URL, c.Broker.KeepAlive, c.Broker.MaxReconnectInterval = r.url, 2*time.Second, 250*time.Millisecond
	c.AckTimeout, c.ApplyTimeout = 3*time.Second, 5*time.Second
	c.KeyFile, c.HubKeysDir, c.ExportInterval = key, r.hubKeysDir, 100*time.Millisecond
	f, err := OpenFleet(FleetOptions{Config: c, StateDir: dir, Learner: l, Info: learnInfo})
	if err != nil {
		r.t.Fatal(err)
	}
	return l, f
}

func runFleet(t *testing.T, f *Fleet) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = f.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// retainedState reads a device's retained state from the broker.
func retainedState(t *testing.T, url, topic string) mqtt.DeviceState {
	t.Helper()
	got := make(chan []byte, 1)
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("state-reader"))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal("connect", tok.Error())
	}
	defer c.Disconnect(100)
	c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) {
		select {
		case got <- m.Payload():
		default:
		}
	}).WaitTimeout(5 * time.Second)
	var st mqtt.DeviceState
	select {
	case b := <-got:
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
	}
	return st
}

func teachN(t *testing.T, l *Learner, rng *rand.Rand, name string, center []float32, n int) {
	t.Helper()
	embs := make([][]float32, n)
	for i := range embs {
		embs[i] = near(rng, center, 0.2)
	}
	if _, err := l.Teach(name, embs); err != nil {
		t.Fatal(err)
	}
}

// What one device is taught reaches the other through the hub, and the
// learning of both ends up in one fleet version on both.
func TestFleetSyncSharesWhatOneDeviceLearns(t *testing.T) {
	r := newFleetRig(t)
	la, fa := r.device("dev-a")
	lb, fb := r.device("dev-b")
	h := r.startHub("dev-a", "dev-b")
	rng := rand.New(rand.NewPCG(1, 2))
	crescent, bolt := randVec(rng), randVec(rng)
	// Taught before the first connection: the outbox holds it.
	teachN(t, la, rng, "crescent", crescent, 8)
	runFleet(t, fa)
	runFleet(t, fb)
	teachN(t, lb, rng, "bolt", bolt, 8)

	ca, cb := la.ClassifyFunc(nil), lb.ClassifyFunc(nil)
	if got := top(t, cb, near(rng, crescent, 0.2)); got == "crescent" {
		t.Fatal("dev-b knows crescent before any sync")
	}
	waitFor(t, "dev-b to recognise crescent and dev-a bolt", 30*time.Second, func() bool {
		return top(t, cb, near(rng, crescent, 0.2)) == "crescent" && top(t, ca, near(rng, bolt, 0.2)) == "bolt"
	})
	waitFor(t, "both devices at the hub's version with empty outboxes", 30*time.Second, func() bool {
		sa, sb := fa.Status(), fb.Status()
		v := h.Version()
		return v > 0 && sa.ActiveVersion == v && sb.ActiveVersion == v && sa.OutboxEntries == 0 && sb.OutboxEntries == 0 &&
			sa.Floor == v && sb.Floor == v
	})
	sa, sb := fa.Status(), fb.Status()
	if sa.Exports == 0 || sb.Exports == 0 || sa.GlobalsApplied == 0 || sb.GlobalsApplied == 0 {
		t.Fatalf("status a %+v b %+v", sa, sb)
	}
	// The metrics say the same as the status.
	reg := prometheus.NewRegistry()
	if err := reg.Register(fb.Collector()); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		m := mf.GetMetric()[0]
		got[mf.GetName()] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
	}
	if got["clipfleet_sync_active_version"] != float64(h.Version()) || got["clipfleet_sync_connected"] != 1 ||
		got["clipfleet_sync_exports_total"] < 1 || got["clipfleet_sync_outbox_entries"] != 0 || len(got) != len(fleetMetricHelp) {
		t.Fatalf("metrics %v", got)
	}

	// Nothing learned since: no further export, whatever the ticks.
	exports := sa.Exports
	time.Sleep(400 * time.Millisecond)
	if got := fa.Status().Exports; got != exports {
		t.Fatalf("dev-a exported %d more deltas with nothing learned", got-exports)
	}
	// The fleet's learning survives a restart (it was checkpointed on
	// commit), taught on one device and merged into the other.
	lb2 := openTestLearner(t, filepath.Join(r.dir, "dev-b", "learner"), func(o *LearnerOptions) { o.Config.Method = "ncm" })
	if got := top(t, lb2.ClassifyFunc(nil), near(rng, crescent, 0.2)); got != "crescent" {
		t.Fatalf("restarted dev-b sees %q for a crescent", got)
	}
	if lb2.Active() != h.Version() {
		t.Fatalf("restarted dev-b at version %d, hub at %d", lb2.Active(), h.Version())
	}
}

// A signed adapter that would make the device forget what it was taught is
// rolled back by the health check; state, predictions and floor stay; a
// sound adapter of the next version is then applied.
func TestFleetSyncRollsBackAnUnhealthyAdapter(t *testing.T) {
	r := newFleetRig(t)
	la, fa := r.device("dev-a")
	rng := rand.New(rand.NewPCG(3, 4))
	cat, dog := randVec(rng), randVec(rng)
	teachN(t, la, rng, "cat", cat, 10)
	teachN(t, la, rng, "dog", dog, 10)
	runFleet(t, fa)
	ca := la.ClassifyFunc(nil)
	probe := near(rng, cat, 0.2)
	if got := top(t, ca, probe); got != "cat" {
		t.Fatalf("before: %q", got)
	}
	catID := learner.IDFor("cat")
	poison := make([]float64, learnDim)
	for i, v := range cat {
		poison[i] = -500 * float64(v) // 500 "cat" examples opposite to cats
	}
	publish := func(base, version uint64, classes []learner.ClassStats) {
		p := &wire.Payload{Kind: wire.KindGlobalAdapter, Fleet: testFleet, Device: "hub-a", Seq: version,
			BaseVersion: base, Version: version, Method: "ncm", ModelID: learnInfo.ID, Dim: learnDim,
			Examples: 500, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour), Classes: classes}
		b, err := wire.Encode(p, r.hubKey)
		if err != nil {
			t.Fatal(err)
		}
		o := paho.NewClientOptions().AddBroker(r.url).SetClientID("pub-test")
		c := paho.NewClient(o)
		if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal("connect", tok.Error())
		}
		defer c.Disconnect(100)
		topic := mqtt.Topics{Prefix: "clipfleet", Fleet: testFleet}.Global()
		if tok := c.Publish(topic, 1, true, b); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal("publish", tok.Error())
		}
	}
	publish(0, 1, []learner.ClassStats{{Label: catID, Count: 500, Examples: 500, Sum: poison}})
	waitFor(t, "the poisoned adapter to be refused", 20*time.Second, func() bool { return fa.Status().GlobalsRefused > 0 })
	st := fa.Status()
	if st.ActiveVersion != 0 || st.Floor != 0 || !strings.Contains(st.LastRefusal, "health") {
		t.Fatalf("after refusal: %+v", st)
	}
	if got := top(t, ca, probe); got != "cat" {
		t.Fatalf("after rollback a cat is %q", got)
	}
	// The refusal is in the device's retained state, for the hub and
	// operators to see.
	stateTopic := mqtt.Topics{Prefix: "clipfleet", Fleet: testFleet}.State("dev-a")
	waitFor(t, "the refusal in the retained state", 10*time.Second, func() bool {
		st := retainedState(t, r.url, stateTopic)
		return st.Refused != nil && st.Refused.Version == 1 && strings.Contains(st.Refused.Reason, "health check")
	})
	// Learning works again once the trial is over (the gate was released).
	teachN(t, la, rng, "cat", cat, 2)

	// A sound adapter (another device's cow) is applied. A version that
	// failed its check is not retried in this run, so it comes as 2,
	// against the version the device still has.
	cow := randVec(rng)
	sum := make([]float64, learnDim)
	for i, v := range cow {
		sum[i] = 5 * float64(v)
	}
	publish(0, 2, []learner.ClassStats{{Label: learner.IDFor("cow"), Count: 5, Examples: 5, Sum: sum}})
	waitFor(t, "the sound adapter to be applied", 20*time.Second, func() bool { return fa.Status().ActiveVersion == 2 })
	if got := top(t, ca, near(rng, cow, 0.1)); got != learner.IDFor("cow").String() && got != "cow" {
		t.Fatalf("a cow is %q after the fleet taught it", got)
	}
	if got := top(t, ca, probe); got != "cat" {
		t.Fatalf("after the sound adapter a cat is %q", got)
	}
}

// With a snapshot-undo method (finetune), neither an export nor a merged
// adapter can be undone by restoring an older snapshot: the fleet would
// count the shipped action twice or lose the merge.
func TestFleetSyncEndsSnapshotUndo(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	l := openTestLearner(t, t.TempDir(), func(o *LearnerOptions) { o.Config.Method = "finetune" })
	teachN(t, l, rng, "cat", randVec(rng), 4)
	if len(l.Status().History) != 1 {
		t.Fatalf("history %v", l.Status().History)
	}
	d, err := l.ExportDelta()
	if err != nil || d == nil {
		t.Fatalf("export: %v %v", d, err)
	}
	if _, err := l.Undo(1); !errors.Is(err, learner.ErrNothingToUndo) {
		t.Fatalf("undo after export = %v, want ErrNothingToUndo", err)
	}
	teachN(t, l, rng, "dog", randVec(rng), 4)
	g := &wire.Payload{Kind: wire.KindGlobalAdapter, BaseVersion: 0, Version: 1, Method: "finetune", ModelID: learnInfo.ID, Dim: learnDim}
	health, err := l.Apply(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	if err := health(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Undo(1); !errors.Is(err, learner.ErrNothingToUndo) || l.Active() != 1 {
		t.Fatalf("undo after a merge = %v (version %d), want ErrNothingToUndo at version 1", err, l.Active())
	}
}
