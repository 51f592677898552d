package hub_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/sync/hub"
	"github.com/clipfleet/clipfleet/sync/mqtt"
	"github.com/clipfleet/clipfleet/sync/outbox"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// The fleet harness: simulated devices that follow the learner's merge
// contract on top of the real transport (mqtt.Device, outbox) and a real
// hub. Each device learns "labels" (one class statistic of count 1 each);
// an export holds every label not yet known to be merged; a global adapter
// whose Merged list holds the device's last export settles those labels.
// At the end, summing the class counts over the chain of adapters each
// device applied (fleet versions or catch-ups) must give exactly 1 for
// every label learned anywhere: 0 is a lost delta, 2 a double merge.

const (
	fFleet  = "fleet-x"
	fMethod = "ncm"
	fModel  = "testclip"
	fDim    = 8
)

func fKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("clipfleet/sync/hub/fleet/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func fPub(name string) ed25519.PublicKey { return fKey(name).Public().(ed25519.PublicKey) }

func devName(i int) string { return fmt.Sprintf("dev-%03d", i) }

// appliedAdapter is what one committed adapter did.
type appliedAdapter struct {
	base    uint64
	classes []learner.ClassStats
}

// fleetRing trusts n devices and the given hubs.
func fleetRing(n int, hubs ...string) *wire.Keyring {
	r := wire.NewKeyring(fFleet)
	for i := range n {
		if err := r.AddDevice(devName(i), fPub(devName(i))); err != nil {
			panic(err)
		}
	}
	for _, h := range hubs {
		if err := r.AddHub(h, fPub(h)); err != nil {
			panic(err)
		}
	}
	return r
}

// hubConfig is a hub of the test fleet with fast timings.
func hubConfig(id, url, statePath string) hub.Config {
	c := hub.DefaultConfig()
	c.ID, c.Fleet, c.StatePath = id, fFleet, statePath
	c.KeyFile, c.DeviceKeysDir = "unused", "unused"
	c.Broker.URL, c.Broker.KeepAlive, c.Broker.MaxReconnectInterval = url, 2*time.Second, 250*time.Millisecond
	c.Model = hub.Model{Method: fMethod, ModelID: fModel, Dim: fDim}
	c.Merge.Interval = 300 * time.Millisecond
	return c
}

type simDevice struct {
	t   testing.TB
	id  string
	idx int
	dev *mqtt.Device
	ob  *outbox.Outbox

	mu       sync.Mutex
	active   uint64
	staged   *wire.Payload
	local    map[learner.ID]bool // learned, not known to be merged
	exported []learner.ID
	exportID uint64
	learned  []learner.ID
	applied  map[uint64]appliedAdapter // version → the adapter that reached it
	problems []string
	// allowGaps: an adapter against another base is refused quietly (a
	// device that missed versions sees the retained one before its
	// catch-up); otherwise it is a problem.
	allowGaps bool
	gaps      int
	next      int // label counter
	bytes     int64
	exports   int

	cancel context.CancelFunc
	done   chan struct{}
}

type deviceTiming struct {
	ackTimeout time.Duration
	tensor     []int // adapter tensor shape in each export; nil: none
}

func newSimDevice(t testing.TB, idx int, url, dir string, tm deviceTiming) *simDevice {
	t.Helper()
	s := &simDevice{t: t, id: devName(idx), idx: idx, local: map[learner.ID]bool{}, applied: map[uint64]appliedAdapter{}}
	cfg := mqtt.DefaultConfig()
	cfg.Fleet, cfg.Device, cfg.StateDir = fFleet, s.id, filepath.Join(dir, s.id, "sync")
	cfg.Broker.URL, cfg.Broker.KeepAlive, cfg.Broker.MaxReconnectInterval = url, 2*time.Second, 250*time.Millisecond
	cfg.AckTimeout = tm.ackTimeout
	cfg.ApplyTimeout = 5 * time.Second
	oc := outbox.DefaultConfig()
	oc.Dir = filepath.Join(dir, s.id, "outbox")
	ob, err := outbox.Open(oc, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.ob = ob
	ring := wire.NewKeyring(fFleet)
	for _, h := range []string{"hub-a", "hub-b"} {
		if err := ring.AddHub(h, fPub(h)); err != nil {
			t.Fatal(err)
		}
	}
	s.dev, err = mqtt.NewDevice(mqtt.DeviceOptions{
		Config: cfg, Key: fKey(s.id), HubKeys: ring, Outbox: ob, Applier: s,
		Method: fMethod, ModelID: fModel, Dim: fDim,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// start runs the transport; stop ends it (the MQTT session persists).
func (s *simDevice) start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go func() { defer close(s.done); s.dev.Run(ctx) }()
}

func (s *simDevice) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
	s.cancel = nil
}

func (s *simDevice) problem(format string, args ...any) {
	s.mu.Lock()
	s.problems = append(s.problems, fmt.Sprintf(s.id+": "+format, args...))
	s.mu.Unlock()
}

// Applier: A/B with a gap check (a learner applies merged deltas in order).
func (s *simDevice) Active() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

func (s *simDevice) Apply(_ context.Context, g *wire.Payload) (mqtt.HealthCheck, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.BaseVersion != s.active {
		err := fmt.Errorf("gap: global %d is against %d, device at %d", g.Version, g.BaseVersion, s.active)
		if s.allowGaps {
			s.gaps++
		} else {
			s.problems = append(s.problems, s.id+": "+err.Error())
		}
		return nil, err
	}
	s.staged = g
	return nil, nil
}

func (s *simDevice) Commit(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.staged
	s.staged = nil
	s.applied[g.Version] = appliedAdapter{base: s.active, classes: g.Classes}
	s.active = g.Version
	if s.exportID != 0 && slices.Contains(g.Merged, s.exportID) {
		for _, l := range s.exported {
			delete(s.local, l)
		}
		s.exported, s.exportID = nil, 0
	}
	return nil
}

func (s *simDevice) Rollback(context.Context) error {
	s.mu.Lock()
	s.staged = nil
	s.mu.Unlock()
	return nil
}

// learn adds n new labels.
func (s *simDevice) learn(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.next++
		l := learner.ID(1<<40 | uint64(s.idx)<<20 | uint64(s.next))
		s.local[l] = true
		s.learned = append(s.learned, l)
	}
}

func randID() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) | 1
}

// exportIfReady enqueues a delta with every unsettled label when the
// transport says the previous export is settled.
func (s *simDevice) exportIfReady(tensor []int) bool {
	if !s.dev.ReadyToExport() {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.local) == 0 {
		return false
	}
	labels := make([]learner.ID, 0, len(s.local))
	for l := range s.local {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	d := &learner.Delta{Method: fMethod, Dim: fDim, ModelID: fModel, BaseVersion: s.active, ID: randID(), Examples: float64(len(labels))}
	for _, l := range labels {
		sum := make([]float64, fDim)
		sum[int(l)%fDim] = 1
		d.Classes = append(d.Classes, learner.ClassStats{Label: l, Count: 1, Examples: 1, Sum: sum})
	}
	if tensor != nil {
		n := 1
		for _, x := range tensor {
			n *= x
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32((i+s.idx)%17) / 17
		}
		d.Tensors = []learner.Tensor{{Name: "adapter.w", Shape: tensor, Data: data}}
	}
	p, err := wire.FromDelta(d, wire.Compression{Int8: true}, nil)
	if err != nil {
		s.t.Error(err)
		return false
	}
	if _, err := s.dev.Enqueue(p); err != nil {
		s.problems = append(s.problems, fmt.Sprintf("%s: enqueue: %v", s.id, err))
		return false
	}
	st := s.ob.Stats()
	s.bytes, s.exports = s.bytes+st.Bytes-32, s.exports+1
	s.exported, s.exportID = labels, d.ID
	return true
}

func (s *simDevice) settled() bool {
	s.mu.Lock()
	n := len(s.local)
	s.mu.Unlock()
	return n == 0 && s.ob.Len() == 0
}

// fleet drives simulated devices: each learns perRound labels every period
// until it learned total, exporting whenever it may.
type fleet struct {
	t        testing.TB
	devs     []*simDevice
	tm       deviceTiming
	wg       sync.WaitGroup
	cancel   context.CancelFunc
	learning atomic.Int64 // devices still learning
}

func newFleet(t testing.TB, n int, url string, tm deviceTiming) *fleet {
	f := &fleet{t: t, tm: tm}
	dir := t.TempDir()
	for i := range n {
		f.devs = append(f.devs, newSimDevice(t, i, url, dir, tm))
	}
	t.Cleanup(func() {
		f.stopDriving()
		for _, d := range f.devs {
			d.stop()
		}
	})
	return f
}

// version is the highest version any device applied.
func (f *fleet) version() uint64 {
	var v uint64
	for _, d := range f.devs {
		v = max(v, d.Active())
	}
	return v
}

func (f *fleet) startAll() {
	for _, d := range f.devs {
		d.start()
	}
}

// drive makes every device learn total labels, perRound every period.
func (f *fleet) drive(total, perRound int, period time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.learning.Add(int64(len(f.devs)))
	for _, d := range f.devs {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			tick := time.NewTicker(period)
			defer tick.Stop()
			learned := 0
			for {
				if learned < total {
					k := min(perRound, total-learned)
					d.learn(k)
					if learned += k; learned == total {
						f.learning.Add(-1)
					}
				}
				d.exportIfReady(f.tm.tensor)
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
		}()
	}
}

func (f *fleet) stopDriving() {
	if f.cancel != nil {
		f.cancel()
		f.wg.Wait()
		f.cancel = nil
	}
}

// waitSettled waits until every device's labels are merged and every
// device applied the latest version.
func (f *fleet) waitSettled(timeout time.Duration) {
	f.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n, v := 0, f.version()
		for _, d := range f.devs {
			if d.settled() && d.Active() == v {
				n++
			}
		}
		if n == len(f.devs) && f.learning.Load() == 0 {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("only %d of %d devices settled after %v:\n%s", n, len(f.devs), timeout, f.dump())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dump describes every device, for failure messages.
func (f *fleet) dump() string {
	var detail []string
	for _, d := range f.devs {
		d.mu.Lock()
		detail = append(detail, fmt.Sprintf("%s: active %d local %d outbox %d stats %+v problems %v",
			d.id, d.active, len(d.local), d.ob.Len(), d.dev.Stats(), d.problems))
		d.mu.Unlock()
	}
	return joinLines(detail)
}

// waitProgress waits until the fleet's version passes v, or (if
// orLearned) every device finished learning.
func (f *fleet) waitProgress(v uint64, orLearned bool, timeout time.Duration) {
	f.t.Helper()
	deadline := time.Now().Add(timeout)
	for f.version() <= v && !(orLearned && f.learning.Load() == 0) {
		if time.Now().After(deadline) {
			f.t.Fatalf("fleet stuck at version %d for %v:\n%s", f.version(), timeout, f.dump())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func joinLines(xs []string) string {
	out := ""
	for _, x := range xs {
		out += "  " + x + "\n"
	}
	return out
}

// checkExactlyOnce: every device reached the same version V through a
// chain of adapters from 0, and over each device's chain every learned
// label has a total count of exactly 1. It returns V.
func (f *fleet) checkExactlyOnce() uint64 {
	f.t.Helper()
	var maxV uint64
	for _, d := range f.devs {
		d.mu.Lock()
		for _, p := range d.problems {
			f.t.Error(p)
		}
		maxV = max(maxV, d.active)
		d.mu.Unlock()
	}
	if maxV == 0 {
		f.t.Fatal("no device applied any global adapter")
	}
	learned := map[learner.ID]string{}
	for _, d := range f.devs {
		d.mu.Lock()
		for _, l := range d.learned {
			learned[l] = d.id
		}
		d.mu.Unlock()
	}
	for _, d := range f.devs {
		d.mu.Lock()
		if d.active != maxV {
			f.t.Errorf("%s at version %d, fleet at %d", d.id, d.active, maxV)
		}
		counts := map[learner.ID]float64{}
		hops := 0
		for v := d.active; v > 0; hops++ {
			a, ok := d.applied[v]
			if !ok {
				f.t.Errorf("%s: no adapter reached version %d", d.id, v)
				break
			}
			for _, c := range a.classes {
				counts[c.Label] += c.Count
			}
			v = a.base
		}
		for l, who := range learned {
			if c := counts[l]; c != 1 {
				f.t.Errorf("%s sees %s's label %x merged %v times", d.id, who, uint64(l), c)
			}
			delete(counts, l)
		}
		for l, c := range counts {
			f.t.Errorf("%s: label %x merged %v times but learned nowhere", d.id, uint64(l), c)
		}
		if hops < int(d.active) {
			f.t.Logf("%s reached version %d in %d steps (catch-up)", d.id, d.active, hops)
		}
		d.mu.Unlock()
	}
	f.t.Logf("%d labels from %d devices merged exactly once over %d versions", len(learned), len(f.devs), maxV)
	return maxV
}

// jumped reports whether d applied an adapter spanning several versions.
func (d *simDevice) jumped() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for v, a := range d.applied {
		if v-a.base > 1 {
			return true
		}
	}
	return false
}

// watcher records the last retained payload of every topic of the fleet.
type watcher struct {
	mu   sync.Mutex
	last map[string]string
	c    paho.Client
}

func watch(t testing.TB, url string, user, pass string) *watcher {
	t.Helper()
	w := &watcher{last: map[string]string{}}
	o := paho.NewClientOptions().AddBroker(url).SetClientID("watcher-" + fmt.Sprint(randID())).SetCleanSession(true).
		SetAutoReconnect(true).SetMaxReconnectInterval(250 * time.Millisecond).SetUsername(user).SetPassword(pass)
	o.SetOnConnectHandler(func(c paho.Client) {
		c.Subscribe("clipfleet/"+fFleet+"/#", 1, func(_ paho.Client, m paho.Message) {
			w.mu.Lock()
			w.last[m.Topic()] = string(m.Payload())
			w.mu.Unlock()
		}).WaitTimeout(5 * time.Second)
	})
	w.c = paho.NewClient(o)
	if tok := w.c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("watcher: %v", tok.Error())
	}
	t.Cleanup(func() { w.c.Disconnect(0) })
	return w
}

func (w *watcher) get(topic string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last[topic]
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runHub runs a hub in this process until the test ends.
func runHub(t testing.TB, cfg hub.Config, ring *wire.Keyring) *hub.Hub {
	t.Helper()
	h, err := hub.Open(cfg, fKey(cfg.ID), ring, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		h.Close()
	})
	return h
}
