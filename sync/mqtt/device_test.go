package mqtt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/sync/mqtt/broker"
	"github.com/clipfleet/clipfleet/sync/outbox"
	"github.com/clipfleet/clipfleet/sync/synctest"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// fakeHub stands in for the hub: it receives deltas and answers with
// whatever acks a test scripts.
type fakeHub struct {
	t      testing.TB
	c      paho.Client
	topics Topics
	deltas chan *wire.Payload
	mu     sync.Mutex
	seq    uint64
	state  map[string][]byte // retained state/status messages by topic
}

func startFakeHub(t testing.TB, url string) *fakeHub {
	t.Helper()
	b := DefaultBroker()
	b.URL, b.MaxReconnectInterval = url, 200*time.Millisecond
	return startFakeHubWith(t, b, "fake-hub")
}

func newPahoClient(o *paho.ClientOptions) paho.Client { return paho.NewClient(o) }

func startFakeHubWith(t testing.TB, b Broker, clientID string) *fakeHub {
	t.Helper()
	f := &fakeHub{t: t, topics: Topics{Prefix: "clipfleet", Fleet: tFleet}, deltas: make(chan *wire.Payload, 100), state: map[string][]byte{}}
	devs := wire.NewKeyring(tFleet)
	for _, d := range []string{"d1", "d2"} {
		if err := devs.AddDevice(d, tPub(d)); err != nil {
			t.Fatal(err)
		}
	}
	o, err := b.ClientOptions(clientID)
	if err != nil {
		t.Fatal(err)
	}
	o.SetCleanSession(true)
	// Bounded waits throughout: a token that never completes (broker gone
	// for good) must fail the test, not hang it.
	o.SetOnConnectHandler(func(c paho.Client) {
		c.Subscribe(f.topics.AllDeltas(), 1, func(_ paho.Client, m paho.Message) {
			p, err := wire.Decode(m.Payload(), wire.Policy{Fleet: tFleet, Keys: devs})
			if err != nil {
				t.Errorf("fake hub: %v", err)
				return
			}
			f.deltas <- p
		}).WaitTimeout(5 * time.Second)
		c.Subscribe("clipfleet/"+tFleet+"/+/+", 1, func(_ paho.Client, m paho.Message) {
			f.mu.Lock()
			f.state[m.Topic()] = m.Payload()
			f.mu.Unlock()
		}).WaitTimeout(5 * time.Second)
	})
	f.c = paho.NewClient(o)
	if tok := f.c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("fake hub connect: %v", tok.Error())
	}
	t.Cleanup(func() { f.c.Disconnect(0) })
	return f
}

func (f *fakeHub) retained(topic string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state[topic]
}

func (f *fakeHub) next(timeout time.Duration) *wire.Payload {
	f.t.Helper()
	select {
	case p := <-f.deltas:
		return p
	case <-time.After(timeout):
		f.t.Fatalf("no delta within %v", timeout)
		return nil
	}
}

func (f *fakeHub) quiet(d time.Duration) {
	f.t.Helper()
	select {
	case p := <-f.deltas:
		f.t.Fatalf("unexpected delta seq %d", p.Seq)
	case <-time.After(d):
	}
}

func (f *fakeHub) ack(signer, dev string, seq uint64, code wire.RejectCode) {
	f.t.Helper()
	f.ackVersion(signer, dev, seq, code, 0)
}

// ackVersion acks with the hub's version.
func (f *fakeHub) ackVersion(signer, dev string, seq uint64, code wire.RejectCode, version uint64) {
	f.t.Helper()
	f.mu.Lock()
	f.seq++
	s := f.seq
	f.mu.Unlock()
	p := &wire.Payload{Kind: wire.KindAck, Fleet: tFleet, Device: signer, Seq: s, Version: version, CreatedAt: time.Now(), Ack: &wire.Ack{Device: dev, Seq: seq, Code: code}}
	b, err := wire.Encode(p, tKey(signer))
	if err != nil {
		f.t.Fatal(err)
	}
	f.publish(f.topics.Ack(dev), false, b)
}

func (f *fakeHub) publishGlobal(b []byte) {
	f.t.Helper()
	f.publish(f.topics.Global(), true, b)
}

func (f *fakeHub) publish(topic string, retain bool, b []byte) {
	f.t.Helper()
	if tok := f.c.Publish(topic, 1, retain, b); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		f.t.Fatalf("fake hub publish to %s: %v (or no PUBACK in time)", topic, tok.Error())
	}
}

func testDevice(t testing.TB, url, dev, stateDir string, app *fakeApplier, mut func(*DeviceOptions)) (*Device, *outbox.Outbox) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Fleet, cfg.Device, cfg.StateDir = tFleet, dev, filepath.Join(stateDir, "sync")
	cfg.Broker.URL, cfg.Broker.MaxReconnectInterval, cfg.Broker.KeepAlive = url, 200*time.Millisecond, 2*time.Second
	cfg.AckTimeout, cfg.ApplyTimeout = time.Second, 2*time.Second
	oc := outbox.DefaultConfig()
	oc.Dir = filepath.Join(stateDir, "outbox")
	ob, err := outbox.Open(oc, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := DeviceOptions{Config: cfg, Key: tKey(dev), HubKeys: hubRing("hub"), Outbox: ob, Applier: app}
	if mut != nil {
		mut(&o)
	}
	d, err := NewDevice(o)
	if err != nil {
		t.Fatal(err)
	}
	return d, ob
}

func run(t testing.TB, d *Device) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			buf := make([]byte, 1<<20)
			t.Errorf("device did not stop:\n%s", buf[:runtime.Stack(buf, true)])
		}
	}
	t.Cleanup(stop)
	return stop
}

func devPayload(base, id uint64) *wire.Payload {
	d := &learner.Delta{Method: "finetune", Dim: tDim, BaseVersion: base, ID: id, Examples: 2,
		Tensors: []learner.Tensor{{Name: "w", Shape: []int{tDim}, Data: []float32{1, 2, 3, float32(id)}}}}
	p, err := wire.FromDelta(d, wire.Compression{}, nil)
	if err != nil {
		panic(err)
	}
	return p
}

func reservePort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestDeviceSendsUntilHubAck: deltas put before any broker exists are
// delivered once it comes up, one at a time; an entry leaves the outbox
// only on the hub's signed ack — not on the broker's PUBACK, not on a
// transient refusal, not on an ack signed by anyone else — and an
// un-acked entry is sent again after the ack timeout.
func TestDeviceSendsUntilHubAck(t *testing.T) {
	addr := reservePort(t)
	d, ob := testDevice(t, "tcp://"+addr, "d1", t.TempDir(), &fakeApplier{}, nil)
	for id := uint64(1); id <= 2; id++ {
		if seq, err := d.Enqueue(devPayload(0, id)); err != nil || seq != id {
			t.Fatalf("enqueue: seq %d, %v", seq, err)
		}
	}
	run(t, d)
	time.Sleep(300 * time.Millisecond) // the device retries against nothing
	b, err := broker.Start(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	hub := startFakeHub(t, b.URL())

	p := hub.next(5 * time.Second)
	if p.Seq != 1 || p.DeltaID != 1 || p.Device != "d1" {
		t.Fatalf("first delta: seq %d id %d from %s", p.Seq, p.DeltaID, p.Device)
	}
	hub.quiet(300 * time.Millisecond) // seq 2 waits for the ack of 1
	if ob.Len() != 2 {
		t.Fatalf("outbox has %d entries after the PUBACK, want 2", ob.Len())
	}
	hub.ack("d1", "d1", 1, wire.Accepted) // signed by a device, not the hub
	hub.quiet(300 * time.Millisecond)
	eventually(t, 2*time.Second, "forged ack seen", func() bool { return d.Stats().BadAcks >= 1 })
	if ob.Len() != 2 || d.Stats().BadAcks != 1 {
		t.Fatalf("forged ack: outbox %d, stats %+v", ob.Len(), d.Stats())
	}
	// The forged ack did nothing, so seq 1 comes again after the timeout.
	if p := hub.next(3 * time.Second); p.Seq != 1 {
		t.Fatalf("re-send of seq %d, want 1", p.Seq)
	}
	hub.ack("hub", "d1", 1, wire.Accepted)
	if p := hub.next(3 * time.Second); p.Seq != 2 {
		t.Fatalf("after ack of 1 got seq %d", p.Seq)
	}
	eventually(t, 2*time.Second, "seq 1 removed", func() bool { return ob.Len() == 1 })
	hub.ack("hub", "d1", 2, wire.BadChecksum) // transient: keep and re-send
	if p := hub.next(3 * time.Second); p.Seq != 2 {
		t.Fatalf("after transient ack got seq %d", p.Seq)
	}
	if ob.Len() != 1 {
		t.Fatalf("transient ack removed the entry")
	}
	hub.ack("hub", "d1", 2, wire.Accepted)
	eventually(t, 2*time.Second, "outbox empty", func() bool { return ob.Len() == 0 })
	// The counter follows the removal from the outbox, on the client's
	// goroutine.
	eventually(t, 2*time.Second, "acks counted", func() bool { return d.Stats().Acks >= 2 })
	s := d.Stats()
	if s.Acks != 2 || s.TransientAcks != 1 || s.Resends < 2 || !s.Connected {
		t.Errorf("stats %+v", s)
	}
	eventually(t, 2*time.Second, "state published", func() bool {
		var st DeviceState
		return json.Unmarshal(hub.retained("clipfleet/"+tFleet+"/d1/state"), &st) == nil && st.OutboxEntries == 0 && st.Device == "d1"
	})
	if got := string(hub.retained("clipfleet/" + tFleet + "/d1/status")); got != "online" {
		t.Errorf("status %q", got)
	}
}

// TestDeviceResendsAfterBrokerRestart: an in-memory broker restart loses
// the delta in flight and every subscription; the device reconnects,
// subscribes again and re-sends. (Its re-send on reconnect can race the
// fake hub's own re-subscription and be lost like any message to nobody;
// the ack timeout then sends it once more.)
func TestDeviceResendsAfterBrokerRestart(t *testing.T) {
	b := synctest.StartMochi(t)
	addr := b.Addr()
	d, ob := testDevice(t, b.URL(), "d1", t.TempDir(), &fakeApplier{}, func(o *DeviceOptions) { o.Config.AckTimeout = 3 * time.Second })
	hub := startFakeHub(t, b.URL())
	run(t, d)
	if _, err := d.Enqueue(devPayload(0, 1)); err != nil {
		t.Fatal(err)
	}
	if p := hub.next(5 * time.Second); p.Seq != 1 {
		t.Fatalf("seq %d", p.Seq)
	}
	b.Close()
	time.Sleep(200 * time.Millisecond)
	b2, err := broker.Start(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	if p := hub.next(10 * time.Second); p.Seq != 1 {
		t.Fatalf("after restart: seq %d", p.Seq)
	}
	hub.ack("hub", "d1", 1, wire.Accepted)
	eventually(t, 5*time.Second, "outbox empty", func() bool { return ob.Len() == 0 })
	eventually(t, 2*time.Second, "ack counted", func() bool { return d.Stats().Acks >= 1 })
	if s := d.Stats(); s.Connects < 2 || s.Resends < 1 || s.Acks != 1 {
		t.Errorf("stats %+v", s)
	}
}

// TestDeviceRefusesBadGlobals (against Mosquitto): tampered, forged,
// expired, replayed and downgraded global adapters, and one failing its
// health check, leave the active adapter and the version floor alone —
// also across a restart with a learner that lost its state.
func TestDeviceRefusesBadGlobals(t *testing.T) {
	m := synctest.StartMosquitto(t, synctest.MosquittoOptions{})
	hub := startFakeHub(t, m.URL())
	app := &fakeApplier{}
	events := make(chan GlobalEvent, 32)
	onGlobal := func(o *DeviceOptions) { o.OnGlobal = func(e GlobalEvent) { events <- e } }
	state := t.TempDir()
	d, _ := testDevice(t, m.URL(), "d1", state, app, onGlobal)
	stop := run(t, d)
	eventually(t, 5*time.Second, "connected", func() bool { return d.Stats().Connected })

	now := time.Now()
	valid := func(v uint64) []byte { return globalPayload(t, "hub", v, now, now.Add(time.Hour)) }
	expect := func(what string, want error, code wire.RejectCode) {
		t.Helper()
		select {
		case e := <-events:
			if (want == nil) != (e.Err == nil) || want != nil && !errors.Is(e.Err, want) || wire.CodeOf(e.Err) != code {
				t.Fatalf("%s: event %+v, want %v / %v", what, e, want, code)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no event", what)
		}
	}
	for v := uint64(1); v <= 3; v++ {
		hub.publishGlobal(valid(v))
		expect(fmt.Sprintf("v%d", v), nil, wire.Accepted)
	}
	tampered := valid(4)
	tampered[40] ^= 1
	cases := []struct {
		name    string
		payload []byte
		want    error
		code    wire.RejectCode
	}{
		{"tampered", tampered, wire.ErrRejected, wire.BadChecksum},
		{"forged by a device key", func() []byte {
			b := globalPayload(t, "d1", 9, now, now.Add(time.Hour))
			return b
		}(), wire.ErrRejected, wire.UnknownKey},
		{"expired", globalPayload(t, "hub", 5, now.Add(-2*time.Hour), now.Add(-time.Hour)), wire.ErrRejected, wire.Expired},
		{"replayed", valid(2), ErrNotNewer, wire.Accepted},
		{"downgrade", globalPayload(t, "hub", 1, now.Add(time.Minute), now.Add(time.Hour)), ErrNotNewer, wire.Accepted},
	}
	for _, c := range cases {
		hub.publishGlobal(c.payload)
		expect(c.name, c.want, c.code)
	}
	app.mu.Lock()
	app.health = func(g *wire.Payload) error { return errors.New("accuracy dropped") }
	app.mu.Unlock()
	hub.publishGlobal(valid(6))
	expect("unhealthy", ErrUnhealthy, wire.Accepted)
	if active, committed, rollbacks := app.snapshot(); active != 3 || len(committed) != 3 || rollbacks != 1 || d.Floor() != 3 {
		t.Fatalf("active %d committed %v rollbacks %d floor %d", active, committed, rollbacks, d.Floor())
	}
	stop()

	// A restart with a learner that lost its state: the floor on disk
	// still refuses what is not newer than 3.
	app2 := &fakeApplier{}
	d2, _ := testDevice(t, m.URL(), "d1", state, app2, onGlobal)
	if d2.Floor() != 3 {
		t.Fatalf("floor after restart %d", d2.Floor())
	}
	run(t, d2)
	expect("retained v6 after restart", nil, wire.Accepted) // the unhealthy one is retained; a new run retries it
	hub.publishGlobal(valid(2))
	expect("downgrade after restart", ErrNotNewer, wire.Accepted)
	if active, _, _ := app2.snapshot(); active != 6 {
		t.Errorf("active after restart %d, want 6", active)
	}
}

// A delta larger than the wire limit the hub decodes under is refused at
// enqueue with an error that names both sizes, and nothing is queued.
func TestDeviceRefusesOversizeDelta(t *testing.T) {
	d, ob := testDevice(t, "tcp://127.0.0.1:1", "d1", t.TempDir(), &fakeApplier{}, func(o *DeviceOptions) {
		o.Config.Wire.MaxBytes = 1024
	})
	big := &learner.Delta{Method: "finetune", Dim: tDim, ID: 1, Examples: 1,
		Tensors: []learner.Tensor{{Name: "w", Shape: []int{512, tDim}, Data: make([]float32, 512*tDim)}}}
	for i := range big.Tensors[0].Data {
		big.Tensors[0].Data[i] = float32(i%7) - 3
	}
	p, err := wire.FromDelta(big, wire.Compression{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Enqueue(p)
	if !errors.Is(err, wire.ErrOversize) || !strings.Contains(err.Error(), "max_bytes 1024") {
		t.Fatalf("oversize delta: %v", err)
	}
	if ob.Len() != 0 {
		t.Fatalf("%d entries queued", ob.Len())
	}
	if _, err := d.Enqueue(devPayload(0, 2)); err != nil {
		t.Fatalf("a small delta after the refusal: %v", err)
	}
	if ob.Len() != 1 {
		t.Fatalf("%d entries queued, want 1", ob.Len())
	}
}
