package hub

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/sync/wire"
)

func mustHandle(t *testing.T, h *Hub, ins ...Incoming) []Message {
	t.Helper()
	msgs, err := h.HandleDeltas(ins)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func mustMerge(t *testing.T, h *Hub) []Message {
	t.Helper()
	msgs, err := h.Merge()
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// TestMergeFedAvg: deltas are acked only once merged; the global adapter
// is the example-weighted mean of the tensors and the exact sum of the
// class statistics, equal to learner.MergeDeltas on the same deltas.
func TestMergeFedAvg(t *testing.T) {
	clock := newClock()
	h := openHub(t, testConfig(t, "hub-a"), clock, testRing("d1", "d2"))
	b1 := delta(t, "d1", 1, 0, 11, 1, 3, clock.Now())
	b2 := delta(t, "d2", 1, 0, 22, -2, 1, clock.Now())
	if msgs := mustHandle(t, h, in("d1", b1), in("d2", b2)); len(msgs) != 0 {
		t.Fatalf("acked before the merge: %d messages", len(msgs))
	}
	if s := h.Stats(); s.Pending != 2 || s.Accepted != 2 {
		t.Fatalf("stats %v", s)
	}
	msgs := mustMerge(t, h)
	g := globalOf(t, "hub-a", msgs)
	if g == nil || g.Version != 1 || g.BaseVersion != 0 || g.Device != "hub-a" {
		t.Fatalf("global %+v", g)
	}
	if g.ExpiresAt.Sub(clock.Now()) != DefaultConfig().GlobalTTL || g.PreprocessHash != tHash || g.ModelID != tModel {
		t.Errorf("global header: expires %v, hash %q, model %q", g.ExpiresAt, g.PreprocessHash, g.ModelID)
	}
	acks := decodeAcks(t, "hub-a", msgs)
	for _, dev := range []string{"d1", "d2"} {
		a := acks[dev]
		if len(a) != 1 || a[0].Ack.Seq != 1 || a[0].Ack.Code != wire.Accepted || a[0].Version != 1 {
			t.Errorf("%s acks: %+v", dev, a)
		}
	}
	// Reference: the learner's merge of the decoded deltas.
	var ds []*learner.Delta
	for _, b := range [][]byte{b1, b2} {
		p, err := wire.Decode(b, h.storedPol)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := p.Delta()
		ds = append(ds, d)
	}
	want, err := learner.MergeDeltas(1, ds...)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := g.Delta()
	if !slices.Equal(got.Tensors[0].Data, want.Tensors[0].Data) {
		t.Errorf("tensor %v, want %v", got.Tensors[0].Data, want.Tensors[0].Data)
	}
	// (3·1 + 1·(-2)) / 4 = 0.25 times the position.
	if v := got.Tensors[0].Data[3]; math.Abs(float64(v)-0.25*4) > 1e-6 {
		t.Errorf("weighted mean at 3 = %v, want 1", v)
	}
	if len(got.Classes) != 2 || got.Examples != 4 || !slices.Equal(got.Merged, []uint64{11, 22}) || len(got.Labels) != 2 {
		t.Errorf("merged classes %d examples %v merged %v labels %d", len(got.Classes), got.Examples, got.Merged, len(got.Labels))
	}
	if s := h.Stats(); s.Pending != 0 || s.Version != 1 || s.MergedDeltas != 2 || s.Merges != 1 {
		t.Errorf("stats %v", s)
	}
	if seq, v := h.MergedSeq("d2"); seq != 1 || v != 1 {
		t.Errorf("merged mark of d2 = %d@%d", seq, v)
	}
	if msgs := mustMerge(t, h); msgs != nil {
		t.Errorf("merge of nothing published %d messages", len(msgs))
	}
}

// TestDuplicatesAndReplays: a re-send of a pending delta is silent (the
// merge acks it); after the merge it is acked as Replayed.
func TestDuplicatesAndReplays(t *testing.T) {
	clock := newClock()
	h := openHub(t, testConfig(t, "hub-a"), clock, testRing("d1"))
	b := delta(t, "d1", 5, 0, 1, 1, 1, clock.Now())
	mustHandle(t, h, in("d1", b))
	if msgs := mustHandle(t, h, in("d1", b)); len(msgs) != 0 {
		t.Fatalf("duplicate of a pending delta answered: %v", decodeAcks(t, "hub-a", msgs))
	}
	mustMerge(t, h)
	acks := decodeAcks(t, "hub-a", mustHandle(t, h, in("d1", b)))["d1"]
	if len(acks) != 1 || acks[0].Ack.Code != wire.Replayed || acks[0].Ack.Seq != 5 {
		t.Fatalf("replay after merge: %+v", acks)
	}
	// An older seq is a replay too.
	old := delta(t, "d1", 4, 0, 2, 1, 1, clock.Now())
	if a := decodeAcks(t, "hub-a", mustHandle(t, h, in("d1", old)))["d1"]; len(a) != 1 || a[0].Ack.Code != wire.Replayed {
		t.Fatalf("older seq: %+v", a)
	}
	if s := h.Stats(); s.Duplicates != 1 || s.Replayed != 2 || s.MergedDeltas != 1 {
		t.Errorf("stats %v", s)
	}
}

// TestStaleAndSuperseded: a delta against an old base is acked StaleBase with the
// hub's version and never merged; a newer delta of the same device for
// the current base replaces its pending one.
func TestStaleAndSuperseded(t *testing.T) {
	clock := newClock()
	h := openHub(t, testConfig(t, "hub-a"), clock, testRing("d1", "d2"))
	mustHandle(t, h, in("d2", delta(t, "d2", 1, 0, 9, 1, 1, clock.Now())))
	mustMerge(t, h) // version 1
	stale := decodeAcks(t, "hub-a", mustHandle(t, h, in("d1", delta(t, "d1", 1, 0, 1, 1, 1, clock.Now()))))["d1"]
	if len(stale) != 1 || stale[0].Ack.Code != wire.StaleBase || stale[0].Version != 1 {
		t.Fatalf("stale ack %+v", stale)
	}
	sup := decodeAcks(t, "hub-a", mustHandle(t, h,
		in("d1", delta(t, "d1", 2, 1, 2, 1, 1, clock.Now())),
		in("d1", delta(t, "d1", 3, 1, 3, 1, 1, clock.Now()))))["d1"]
	if len(sup) != 1 || sup[0].Ack.Seq != 2 || sup[0].Ack.Code != wire.Accepted {
		t.Fatalf("superseded ack %+v", sup)
	}
	g := globalOf(t, "hub-a", mustMerge(t, h))
	if !slices.Equal(g.Merged, []uint64{3}) || g.Version != 2 || g.BaseVersion != 1 {
		t.Errorf("version %d base %d merged %v, want 2, 1, [3]", g.Version, g.BaseVersion, g.Merged)
	}
	if s := h.Stats(); s.Stale != 1 || s.Superseded != 1 {
		t.Errorf("stats %v", s)
	}
}

// TestRejections: each refused delta is acked with its code, to the
// device that can act on it.
func TestRejections(t *testing.T) {
	clock := newClock()
	good := func() []byte { return delta(t, "d1", 7, 0, 1, 1, 1, clock.Now()) }
	tamper := func(b []byte, i int) []byte { b = slices.Clone(b); b[i] ^= 0x40; return b }
	wrongModel := func() []byte {
		p, err := wire.Decode(good(), wire.Policy{Fleet: tFleet, Keys: testRing("d1")})
		if err != nil {
			t.Fatal(err)
		}
		p.ModelID = "other-model"
		b, err := wire.Encode(p, tKey("d1"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name     string
		topicDev string
		payload  []byte
		ackDev   string // "" = no ack
		code     wire.RejectCode
	}{
		{"body bit flip", "d1", tamper(good(), 60), "d1", wire.BadChecksum},
		{"signature bit flip", "d1", tamper(good(), len(good())-5), "d1", wire.BadSignature},
		{"unknown device", "d9", delta(t, "d9", 1, 0, 1, 1, 1, clock.Now()), "d9", wire.UnknownKey},
		{"wrong model", "d1", wrongModel(), "d1", wire.WrongModel},
		{"on another device's topic", "d2", good(), "d1", wire.Malformed},
		{"garbage", "d1", []byte("hello"), "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := openHub(t, testConfig(t, "hub-a"), clock, testRing("d1", "d2"))
			acks := decodeAcks(t, "hub-a", mustHandle(t, h, in(c.topicDev, c.payload)))
			if c.ackDev == "" {
				if len(acks) != 0 {
					t.Fatalf("acked %v", acks)
				}
			} else if a := acks[c.ackDev]; len(a) != 1 || a[0].Ack.Code != c.code || a[0].Ack.Seq == 0 {
				t.Fatalf("acks %+v, want one %v to %s", acks, c.code, c.ackDev)
			}
			if s := h.Stats(); s.Pending != 0 || s.Accepted != 0 {
				t.Errorf("refused delta stored: %v", s)
			}
		})
	}
}

// TestStateSurvivesReopen: version, pending deltas and replay marks come
// back from the file.
func TestStateSurvivesReopen(t *testing.T) {
	clock := newClock()
	cfg := testConfig(t, "hub-a")
	ring := testRing("d1", "d2")
	h, err := Open(cfg, tKey("hub-a"), ring, nil, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	merged := delta(t, "d1", 1, 0, 1, 1, 1, clock.Now())
	mustHandle(t, h, in("d1", merged))
	mustMerge(t, h)
	pending := delta(t, "d2", 1, 1, 2, 1, 1, clock.Now())
	mustHandle(t, h, in("d2", pending))
	global := h.Global()
	h.Close()

	h2 := openHub(t, cfg, clock, ring)
	if s := h2.Stats(); s.Version != 1 || s.Pending != 1 {
		t.Fatalf("after reopen: %v", s)
	}
	if !slices.Equal(h2.Global(), global) {
		t.Error("global adapter not restored")
	}
	if a := decodeAcks(t, "hub-a", mustHandle(t, h2, in("d1", merged)))["d1"]; len(a) != 1 || a[0].Ack.Code != wire.Replayed {
		t.Errorf("replay after reopen: %+v", a)
	}
	if msgs := mustHandle(t, h2, in("d2", pending)); len(msgs) != 0 {
		t.Errorf("pending duplicate after reopen answered")
	}
	g := globalOf(t, "hub-a", mustMerge(t, h2))
	if g.Version != 2 || !slices.Equal(g.Merged, []uint64{2}) {
		t.Errorf("merge after reopen: version %d merged %v", g.Version, g.Merged)
	}
	if _, err := Open(cfg, tKey("hub-a"), ring, nil, clock.Now); err == nil {
		t.Error("a second hub opened the same state file")
	}
}

// TestAdopt: a standby takes over the newer version another hub retained;
// its pending deltas against the old base are acked StaleBase.
func TestAdopt(t *testing.T) {
	clock := newClock()
	ring := testRing("d1", "d2")
	a := openHub(t, testConfig(t, "hub-a"), clock, ring)
	mustHandle(t, a, in("d1", delta(t, "d1", 1, 0, 1, 1, 1, clock.Now())))
	mustMerge(t, a)
	mustHandle(t, a, in("d1", delta(t, "d1", 2, 1, 2, 1, 1, clock.Now())))
	mustMerge(t, a) // version 2

	b := openHub(t, testConfig(t, "hub-b"), clock, ring)
	mustHandle(t, b, in("d2", delta(t, "d2", 1, 0, 3, 1, 1, clock.Now())))
	msgs, err := b.Adopt(a.Global())
	if err != nil {
		t.Fatal(err)
	}
	if a := decodeAcks(t, "hub-b", msgs)["d2"]; len(a) != 1 || a[0].Version != 2 || a[0].Ack.Code != wire.StaleBase {
		t.Fatalf("stale ack on adoption: %+v", a)
	}
	if s := b.Stats(); s.Version != 2 || s.Pending != 0 || s.Adopted != 1 {
		t.Fatalf("after adoption: %v", s)
	}
	// Older or equal versions change nothing.
	if msgs, err := b.Adopt(a.Global()); err != nil || msgs != nil || b.Stats().Adopted != 1 {
		t.Errorf("re-adoption: %v %v", msgs, err)
	}
	mustHandle(t, b, in("d2", delta(t, "d2", 2, 2, 4, 1, 1, clock.Now())))
	if g := globalOf(t, "hub-b", mustMerge(t, b)); g.Version != 3 || g.BaseVersion != 2 {
		t.Errorf("next version %d base %d", g.Version, g.BaseVersion)
	}
	// A forged adapter (signed by a device key) is refused.
	forged, err := wire.Decode(a.Global(), a.adoptPol)
	if err != nil {
		t.Fatal(err)
	}
	forged.Version = 99
	fb, _ := wire.Encode(forged, tKey("d1"))
	if _, err := b.Adopt(fb); wire.CodeOf(err) != wire.BadSignature {
		t.Errorf("forged adapter: %v", err)
	}
}

// TestMergeDueAndRefresh: the merge policy's count and interval triggers,
// and re-signing the global adapter after half its lifetime.
func TestMergeDueAndRefresh(t *testing.T) {
	clock := newClock()
	cfg := testConfig(t, "hub-a")
	cfg.Merge.EveryDeltas, cfg.Merge.Interval, cfg.GlobalTTL = 2, 10*time.Second, time.Hour
	h := openHub(t, cfg, clock, testRing("d1", "d2"))
	if h.MergeDue() {
		t.Fatal("due with nothing pending")
	}
	mustHandle(t, h, in("d1", delta(t, "d1", 1, 0, 1, 1, 1, clock.Now())))
	clock.Add(9 * time.Second)
	if h.MergeDue() {
		t.Fatal("due before the interval with 1 of 2 deltas")
	}
	clock.Add(time.Second)
	if !h.MergeDue() {
		t.Fatal("not due after the interval")
	}
	mustMerge(t, h)
	mustHandle(t, h, in("d1", delta(t, "d1", 2, 1, 2, 1, 1, clock.Now())), in("d2", delta(t, "d2", 1, 1, 3, 1, 1, clock.Now())))
	if !h.MergeDue() {
		t.Fatal("not due with every_deltas pending")
	}
	mustMerge(t, h)

	if msgs, err := h.Refresh(); err != nil || msgs != nil {
		t.Fatalf("refreshed a fresh adapter: %v %v", msgs, err)
	}
	before := globalOf(t, "hub-a", []Message{{Topic: "clipfleet/" + tFleet + "/global", Payload: h.Global(), Retain: true}})
	clock.Add(31 * time.Minute)
	msgs, err := h.Refresh()
	if err != nil {
		t.Fatal(err)
	}
	after := globalOf(t, "hub-a", msgs)
	if after == nil || after.Version != before.Version || !after.ExpiresAt.Equal(clock.Now().Add(time.Hour)) || after.Seq <= before.Seq {
		t.Fatalf("refresh: %+v", after)
	}
	if !slices.Equal(after.Merged, before.Merged) || len(after.Tensors) != len(before.Tensors) {
		t.Error("refresh changed the content")
	}
}
