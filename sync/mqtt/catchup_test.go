package mqtt

import (
	"errors"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/sync/mqtt/broker"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// TestDeviceStaleBaseAndCatchUp: a StaleBase ack removes the entry but
// keeps the device from exporting until it reached the hub's version; the
// hub's catch-up on the device's own topic gets it there through the
// Applier, and a forged one does nothing.
func TestDeviceStaleBaseAndCatchUp(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	hub := startFakeHub(t, b.URL())
	app := &fakeApplier{}
	acks, globals := make(chan AckEvent, 8), make(chan GlobalEvent, 8)
	d, ob := testDevice(t, b.URL(), "d1", t.TempDir(), app, func(o *DeviceOptions) {
		o.OnAck = func(e AckEvent) { acks <- e }
		o.OnGlobal = func(e GlobalEvent) { globals <- e }
	})
	if _, err := d.Enqueue(devPayload(0, 7)); err != nil {
		t.Fatal(err)
	}
	run(t, d)
	if p := hub.next(5 * time.Second); p.Seq != 1 {
		t.Fatalf("delta seq %d", p.Seq)
	}
	hub.ackVersion("hub", "d1", 1, wire.StaleBase, 3)
	select {
	case e := <-acks:
		if e.Code != wire.StaleBase || !e.Removed || e.HubVersion != 3 {
			t.Fatalf("ack event %+v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no ack event")
	}
	if ob.Len() != 0 || d.ReadyToExport() {
		t.Fatalf("after StaleBase: outbox %d, ready %v (want 0, false: version 3 not reached)", ob.Len(), d.ReadyToExport())
	}
	now := time.Now()
	topic := hub.topics.CatchUp("d1")
	// Forged: a catch-up signed by the device's own key.
	hub.publish(topic, false, adapterPayload(t, "d1", 0, 3, now, now.Add(time.Hour)))
	if e := nextGlobalEvent(t, globals); wire.CodeOf(e.Err) != wire.UnknownKey {
		t.Fatalf("forged catch-up: %+v", e)
	}
	// Another device's catch-up topic is not this device's business (it
	// would be applied first, as version 4).
	hub.publish(hub.topics.CatchUp("d2"), false, adapterPayload(t, "hub", 0, 4, now, now.Add(time.Hour)))
	hub.publish(topic, false, adapterPayload(t, "hub", 0, 3, now, now.Add(time.Hour)))
	if e := nextGlobalEvent(t, globals); e.Err != nil || e.Version != 3 || e.BaseVersion != 0 {
		t.Fatalf("catch-up: %+v", e)
	}
	if active, committed, _ := app.snapshot(); active != 3 || len(committed) != 1 || d.Floor() != 3 || !d.ReadyToExport() {
		t.Fatalf("after catch-up: active %d committed %v floor %d ready %v", active, committed, d.Floor(), d.ReadyToExport())
	}
	// The fleet's adapter of the same version is not newer.
	hub.publishGlobal(globalPayload(t, "hub", 3, now, now.Add(time.Hour)))
	if e := nextGlobalEvent(t, globals); !errors.Is(e.Err, ErrNotNewer) {
		t.Fatalf("fleet adapter 3 after the catch-up: %+v", e)
	}
}

func nextGlobalEvent(t testing.TB, ch <-chan GlobalEvent) GlobalEvent {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no global event")
	}
	return GlobalEvent{}
}

// TestNextGlobalOrder: the queued adapter that starts at the active
// version and reaches furthest goes first (a catch-up beats the versions
// it spans); without one, the lowest version.
func TestNextGlobalOrder(t *testing.T) {
	app := &fakeApplier{active: 2}
	d, _ := testDevice(t, "tcp://127.0.0.1:1", "d1", t.TempDir(), app, nil)
	queue := func(keys ...globKey) {
		for _, k := range keys {
			d.pendingGlob[k] = &wire.Payload{Version: k.version, BaseVersion: k.base}
		}
	}
	take := func() globKey {
		g, _ := d.nextGlobal()
		if g == nil {
			return globKey{}
		}
		return globKey{g.Version, g.BaseVersion}
	}
	queue(globKey{3, 2}, globKey{4, 3}, globKey{5, 2}, globKey{9, 8}, globKey{1, 0})
	for _, c := range []struct {
		active uint64
		want   globKey
	}{
		{2, globKey{5, 2}}, // the catch-up from 2
		{2, globKey{3, 2}}, // then the next fitting one
		{5, globKey{1, 0}}, // nothing starts at 5: lowest (refused as not newer)
		{5, globKey{4, 3}},
		{5, globKey{9, 8}},
		{5, globKey{}},
	} {
		app.mu.Lock()
		app.active = c.active
		app.mu.Unlock()
		if got := take(); got != c.want {
			t.Fatalf("active %d: took %+v, want %+v", c.active, got, c.want)
		}
	}
}
