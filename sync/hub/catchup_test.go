package hub

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// decodeCatchUp verifies a catch-up message with the hub's key and checks
// where it goes.
func decodeCatchUp(t testing.TB, hubID, dev string, msgs []Message) *wire.Payload {
	t.Helper()
	if len(msgs) != 1 {
		t.Fatalf("%d catch-up messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Retain || m.Topic != "clipfleet/"+tFleet+"/"+dev+"/catchup" {
		t.Fatalf("catch-up on %s retained=%v", m.Topic, m.Retain)
	}
	ring := wire.NewKeyring(tFleet)
	if err := ring.AddHub(hubID, tPub(hubID)); err != nil {
		t.Fatal(err)
	}
	p, err := wire.Decode(m.Payload, wire.Policy{Fleet: tFleet, Keys: ring, Kinds: []wire.Kind{wire.KindGlobalAdapter},
		Now: func() time.Time { return time.Unix(1, 0) }})
	if err != nil {
		t.Fatalf("catch-up: %v", err)
	}
	return p
}

// ncmNode is a device learner following the merge contract for real.
type ncmNode struct {
	t      testing.TB
	dev    string
	m      learner.Method
	labels *learner.Labels
	seq    uint64
}

func newNCMNode(t testing.TB, dev string) *ncmNode {
	cfg := learner.DefaultConfig()
	cfg.Method, cfg.Dim, cfg.ModelID = "ncm", tDim, tModel
	labels := learner.NewLabels(tDim)
	m, err := learner.New(cfg, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &ncmNode{t: t, dev: dev, m: m, labels: labels}
}

// learn teaches k examples of a class named name.
func (n *ncmNode) learn(name string, k int) learner.ID {
	id, err := n.labels.Add(name)
	if err != nil {
		n.t.Fatal(err)
	}
	var batch []learner.Example
	for i := range k {
		emb := []float32{1, float32(i), float32(len(name)), -float32(i) / 3}
		batch = append(batch, learner.Example{Emb: emb, Label: id})
	}
	if err := n.m.Learn(batch); err != nil {
		n.t.Fatal(err)
	}
	return id
}

// export signs the learner's delta against its base, as mqtt.Device does.
func (n *ncmNode) export(now time.Time) []byte {
	d, err := n.m.Delta(n.m.BaseVersion())
	if err != nil {
		n.t.Fatal(err)
	}
	p, err := wire.FromDelta(d, wire.Compression{}, nil)
	if err != nil {
		n.t.Fatal(err)
	}
	n.seq++
	p.Fleet, p.Device, p.Seq, p.PreprocessHash, p.CreatedAt = tFleet, n.dev, n.seq, tHash, now
	b, err := wire.Encode(p, tKey(n.dev))
	if err != nil {
		n.t.Fatal(err)
	}
	return b
}

func (n *ncmNode) prototype(id learner.ID) ([]float32, int64) {
	return n.m.(*learner.NCM).Prototype(id)
}

func (n *ncmNode) apply(g *wire.Payload) {
	d, err := g.Delta()
	if err == nil {
		err = n.m.ApplyMerged(d)
	}
	if err != nil {
		n.t.Fatalf("%s: apply %d (base %d): %v", n.dev, g.Version, g.BaseVersion, err)
	}
}

// TestCatchUpMatchesInOrder: with real NCM learners, a device that missed
// versions for good and applies one catch-up ends with exactly the class
// statistics of a device that applied every version in order — its own
// merged export subtracted once (not double counted), its stale export
// kept for the next round — and a device that never synced starts from
// version 0.
func TestCatchUpMatchesInOrder(t *testing.T) {
	clock := newClock()
	cfg := testConfig(t, "hub-a")
	cfg.Model.Method = "ncm"
	h := openHub(t, cfg, clock, testRing("d1", "d2", "d3"))
	d1, d2, d3 := newNCMNode(t, "d1"), newNCMNode(t, "d2"), newNCMNode(t, "d3")
	fresh := newNCMNode(t, "d4") // never synced, learned nothing
	merge := func(online ...*ncmNode) *wire.Payload {
		t.Helper()
		g := globalOf(t, "hub-a", mustMerge(t, h))
		for _, n := range online {
			n.apply(g)
		}
		return g
	}

	cat := d1.learn("cat", 3)
	dog := d2.learn("dog", 2)
	mustHandle(t, h, in("d1", d1.export(clock.Now())), in("d2", d2.export(clock.Now())))
	merge(d1, d2, d3) // v1

	// d2's export against v1 is merged into v2, but d2 then loses its
	// session: it never sees v2 or v3.
	d2.learn("dog", 4)
	bird := d2.learn("bird", 1)
	mustHandle(t, h, in("d2", d2.export(clock.Now())))
	merge(d1, d3) // v2
	// d3 learns against v2 and falls behind too; its delta is stale
	// (against v2 while the hub is at v3) when it arrives.
	fox := d3.learn("fox", 2)
	staleDelta := d3.export(clock.Now())
	d1.learn("cat", 1)
	mustHandle(t, h, in("d1", d1.export(clock.Now())))
	merge(d1) // v3
	acks := decodeAcks(t, "hub-a", mustHandle(t, h, in("d3", staleDelta)))["d3"]
	if len(acks) != 1 || acks[0].Ack.Code != wire.StaleBase || acks[0].Version != 3 {
		t.Fatalf("stale delta ack %+v, want StaleBase at version 3", acks)
	}

	for _, c := range []struct {
		n    *ncmNode
		from uint64
	}{{d2, 1}, {d3, 2}, {fresh, 0}} {
		msgs, err := h.CatchUp(c.n.dev, c.n.m.BaseVersion())
		if err != nil {
			t.Fatal(err)
		}
		g := decodeCatchUp(t, "hub-a", c.n.dev, msgs)
		if g.BaseVersion != c.from || g.Version != 3 || g.Device != "hub-a" || g.ExpiresAt.Sub(clock.Now()) != cfg.GlobalTTL {
			t.Fatalf("%s: catch-up %d→%d by %s expiring %v", c.n.dev, g.BaseVersion, g.Version, g.Device, g.ExpiresAt)
		}
		c.n.apply(g)
	}
	for _, id := range []learner.ID{cat, dog, bird} {
		want, wn := d1.prototype(id)
		for _, n := range []*ncmNode{d2, d3, fresh} {
			if got, gn := n.prototype(id); gn != wn || !slices.Equal(got, want) {
				t.Errorf("%s: class %v has %d examples %v, in-order device %d %v", n.dev, id, gn, got, wn, want)
			}
		}
	}
	if _, n := d1.prototype(cat); n != 4 {
		t.Errorf("cat merged with %d examples, want 4", n)
	}
	// d3's stale fox is still its own, and its next export carries it.
	d, err := d3.m.Delta(3)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Classes) != 1 || d.Classes[0].Label != fox || d.Classes[0].Examples != 2 {
		t.Errorf("d3's next export %+v, want its 2 fox examples", d.Classes)
	}
	if s := h.Stats(); s.CatchUps != 3 || s.CatchUpsFailed != 0 || s.Stale != 1 {
		t.Errorf("stats %+v", s)
	}
	if msgs, err := h.CatchUp("d1", 3); msgs != nil || err != nil {
		t.Errorf("catch-up of a current device: %v %v", msgs, err)
	}
}

// TestCatchUpTensors: tensors compose as the sum of the increments as
// devices dequantised them (int8 global adapters), classes as sums; the
// Merged list is the first increment's.
func TestCatchUpTensors(t *testing.T) {
	clock := newClock()
	cfg := testConfig(t, "hub-a")
	cfg.Merge.Compression = wire.Compression{Int8: true}
	h := openHub(t, cfg, clock, testRing("d1", "d2"))
	var globals []*wire.Payload
	for v := uint64(1); v <= 4; v++ {
		mustHandle(t, h, in("d1", delta(t, "d1", v, v-1, 10*v, float32(v)/3, 2, clock.Now())),
			in("d2", delta(t, "d2", v, v-1, 10*v+1, -float32(v)/7, 1, clock.Now())))
		globals = append(globals, globalOf(t, "hub-a", mustMerge(t, h)))
	}
	for from := uint64(0); from < 4; from++ {
		g := decodeCatchUp(t, "hub-a", "d9", mustCatchUp(t, h, "d9", from))
		got, _ := g.Delta()
		want := make([]float64, 2*tDim)
		classes := map[learner.ID]float64{}
		for _, inc := range globals[from:] {
			d, _ := inc.Delta()
			for i, x := range d.Tensors[0].Data {
				want[i] += float64(x)
			}
			for _, c := range d.Classes {
				classes[c.Label] += c.Count
			}
		}
		for i, x := range got.Tensors[0].Data {
			if math.Abs(float64(x)-want[i]) > 1e-6 {
				t.Errorf("from %d: tensor[%d] = %v, want %v", from, i, x, want[i])
			}
		}
		if g.Tensors[0].DType != wire.Float32 {
			t.Errorf("from %d: catch-up tensors are %v, want exact float32", from, g.Tensors[0].DType)
		}
		if len(got.Classes) != len(classes) {
			t.Errorf("from %d: %d classes, want %d", from, len(got.Classes), len(classes))
		}
		for _, c := range got.Classes {
			if c.Count != classes[c.Label] {
				t.Errorf("from %d: class %v count %v, want %v", from, c.Label, c.Count, classes[c.Label])
			}
		}
		if !slices.Equal(got.Merged, globals[from].Merged) || len(got.Labels) != 2*int(4-from) {
			t.Errorf("from %d: merged %v (want %v), %d labels", from, got.Merged, globals[from].Merged, len(got.Labels))
		}
	}
}

// TestCatchUpCache: devices catching up from the same version share one
// composition until the version changes or half the adapter's lifetime
// passed (it must stay valid on arrival).
func TestCatchUpCache(t *testing.T) {
	clock := newClock()
	cfg := testConfig(t, "hub-a")
	h := openHub(t, cfg, clock, testRing("d1"))
	merge := func(v uint64) {
		mustHandle(t, h, in("d1", delta(t, "d1", v, v-1, v, 1, 1, clock.Now())))
		mustMerge(t, h)
	}
	merge(1)
	merge(2)
	a, b := mustCatchUp(t, h, "d2", 0)[0].Payload, mustCatchUp(t, h, "d3", 0)[0].Payload
	if !slices.Equal(a, b) {
		t.Error("second catch-up from 0 was composed again")
	}
	clock.Add(cfg.GlobalTTL/2 + time.Second)
	c := decodeCatchUp(t, "hub-a", "d2", mustCatchUp(t, h, "d2", 0))
	if !c.ExpiresAt.Equal(clock.Now().Add(cfg.GlobalTTL)) {
		t.Errorf("catch-up after half its lifetime expires %v, want %v", c.ExpiresAt, clock.Now().Add(cfg.GlobalTTL))
	}
	merge(3)
	if g := decodeCatchUp(t, "hub-a", "d2", mustCatchUp(t, h, "d2", 0)); g.Version != 3 {
		t.Errorf("catch-up after a merge reaches %d, want 3", g.Version)
	}
}

func mustCatchUp(t testing.TB, h *Hub, dev string, from uint64) []Message {
	t.Helper()
	msgs, err := h.CatchUp(dev, from)
	if err != nil {
		t.Fatalf("catch-up from %d: %v", from, err)
	}
	return msgs
}

// TestCatchUpFoldAndReopen: with max_versions, old increments are folded
// into one adapter from version 0: new devices still catch up, devices
// older than the kept history get ErrCatchUpUnavailable; all of it
// survives a restart.
func TestCatchUpFoldAndReopen(t *testing.T) {
	clock := newClock()
	cfg := testConfig(t, "hub-a")
	cfg.CatchUp.MaxVersions = 2
	ring := testRing("d1")
	h, err := Open(cfg, tKey("hub-a"), ring, nil, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	for v := uint64(1); v <= 5; v++ {
		mustHandle(t, h, in("d1", delta(t, "d1", v, v-1, v, float32(v), 1, clock.Now())))
		mustMerge(t, h)
	}
	check := func(h *Hub) {
		t.Helper()
		if oldest, zero := h.CatchUpRange(); oldest != 3 || !zero {
			t.Fatalf("range %d %v, want 3 true", oldest, zero)
		}
		g := decodeCatchUp(t, "hub-a", "d2", mustCatchUp(t, h, "d2", 0))
		d, _ := g.Delta()
		// Classes 1001..1005, one each; the tensor is Σ v·(i+1).
		if len(d.Classes) != 5 || g.BaseVersion != 0 || g.Version != 5 || !slices.Equal(d.Merged, []uint64{1}) {
			t.Errorf("from 0: %d classes, %d→%d, merged %v", len(d.Classes), g.BaseVersion, g.Version, d.Merged)
		}
		if x := d.Tensors[0].Data[1]; math.Abs(float64(x)-15*2) > 1e-5 {
			t.Errorf("from 0: tensor[1] = %v, want 30", x)
		}
		if _, err := h.CatchUp("d2", 2); !errors.Is(err, ErrCatchUpUnavailable) {
			t.Errorf("from 2 (folded): %v", err)
		}
		g = decodeCatchUp(t, "hub-a", "d2", mustCatchUp(t, h, "d2", 3))
		if d, _ := g.Delta(); len(d.Classes) != 2 || !slices.Equal(d.Merged, []uint64{4}) {
			t.Errorf("from 3: %d classes, merged %v", len(d.Classes), d.Merged)
		}
	}
	check(h)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	h2 := openHub(t, cfg, clock, ring)
	check(h2)
}

// TestCatchUpAfterGap: a standby that adopts a version whose base it never
// saw restarts its history there; a state file from before catch-up
// starts it at its version.
func TestCatchUpAfterGap(t *testing.T) {
	clock := newClock()
	ring := testRing("d1")
	a := openHub(t, testConfig(t, "hub-a"), clock, ring)
	for v := uint64(1); v <= 3; v++ {
		mustHandle(t, a, in("d1", delta(t, "d1", v, v-1, v, 1, 1, clock.Now())))
		mustMerge(t, a)
	}
	bcfg := testConfig(t, "hub-b")
	b := openHub(t, bcfg, clock, ring)
	if _, err := b.Adopt(a.Global()); err != nil {
		t.Fatal(err)
	}
	if oldest, zero := b.CatchUpRange(); oldest != 2 || zero {
		t.Fatalf("after a gap: range %d %v, want 2 false", oldest, zero)
	}
	if _, err := b.CatchUp("d1", 0); !errors.Is(err, ErrCatchUpUnavailable) {
		t.Errorf("from 0 after a gap: %v", err)
	}
	mustHandle(t, b, in("d1", delta(t, "d1", 4, 3, 4, 1, 1, clock.Now())))
	mustMerge(t, b)
	if g := decodeCatchUp(t, "hub-b", "d1", mustCatchUp(t, b, "d1", 2)); g.BaseVersion != 2 || g.Version != 4 || len(g.Classes) != 2 {
		t.Errorf("from 2: %d→%d, %d classes", g.BaseVersion, g.Version, len(g.Classes))
	}

	// An old state file: no history record at all.
	path := bcfg.StatePath
	b.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bHistory); err != nil {
			return err
		}
		if err := tx.Bucket(bMeta).Delete(kHistBase); err != nil {
			return err
		}
		return tx.Bucket(bMeta).Delete(kHistFrom)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	b2 := openHub(t, bcfg, clock, ring)
	if oldest, zero := b2.CatchUpRange(); oldest != 4 || zero {
		t.Errorf("old state file: range %d %v, want 4 false", oldest, zero)
	}
	if _, err := b2.CatchUp("d1", 3); !errors.Is(err, ErrCatchUpUnavailable) {
		t.Errorf("old state file, from 3: %v", err)
	}
}

// TestCatchUpQueue: a device is due only once its state showed the same
// old version for the delay; newer states reschedule or drop it; states
// that do not parse or name another device are ignored.
func TestCatchUpQueue(t *testing.T) {
	t0 := time.Unix(1000, 0)
	state := func(dev string, active, floor uint64) []byte {
		return fmt.Appendf(nil, `{"device":%q,"active_version":%d,"floor":%d}`, dev, active, floor)
	}
	q := newCatchUpQueue(time.Second)
	q.observe("a", state("a", 1, 1), 5, t0)
	q.observe("b", state("b", 5, 5), 5, t0)                           // current
	q.observe("c", state("x", 0, 0), 5, t0)                           // names another device
	q.observe("d", []byte("{"), 5, t0)                                // not JSON
	q.observe("e", state("e", 2, 2), 5, t0)                           // behind...
	q.observe("e", state("e", 3, 3), 5, t0.Add(900*time.Millisecond)) // ...but applying in order
	q.observe("a", state("a", 1, 1), 5, t0.Add(900*time.Millisecond)) // same version: keeps its first due time
	q.observe("f", state("f", 0, 6), 5, t0)                           // floor already past the hub
	if got := q.take(t0.Add(999*time.Millisecond), 5); len(got) != 0 {
		t.Fatalf("due before the delay: %v", got)
	}
	if got := q.take(t0.Add(time.Second), 5); !slices.Equal(got, []dueCatchUp{{"a", 1}}) {
		t.Fatalf("due at 1s: %v", got)
	}
	if got := q.take(t0.Add(3*time.Second), 5); !slices.Equal(got, []dueCatchUp{{"e", 3}}) {
		t.Fatalf("due at 3s: %v (a was taken already)", got)
	}
	q.observe("g", state("g", 1, 1), 5, t0)
	q.observe("g", state("g", 5, 5), 5, t0.Add(time.Millisecond))
	q.observe("h", state("h", 1, 1), 2, t0)
	if got := q.take(t0.Add(time.Hour), 1); len(got) != 0 {
		t.Fatalf("caught up or no longer behind, still due: %v", got)
	}
	off := newCatchUpQueue(0)
	off.observe("a", state("a", 0, 0), 5, t0)
	if got := off.take(t0.Add(time.Hour), 5); len(got) != 0 {
		t.Errorf("disabled queue: %v", got)
	}
}

func TestCatchUpConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cu CatchUp
		ok bool
	}{
		{DefaultConfig().CatchUp, true},
		{CatchUp{Delay: time.Millisecond, MaxVersions: 10}, true},
		{CatchUp{Disabled: true}, true},
		{CatchUp{}, false}, // no delay and not disabled: a config built without DefaultConfig
		{CatchUp{Delay: -time.Second}, false},
		{CatchUp{Delay: time.Second, MaxVersions: -1}, false},
	} {
		if err := c.cu.Validate(); (err == nil) != c.ok || err != nil && !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: %v, want ok=%v", c.cu, err, c.ok)
		}
	}
}
