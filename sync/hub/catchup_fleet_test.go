package hub_test

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/clipfleet/clipfleet/sync/synctest"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// catchUpScenario: device 0 syncs, goes offline and loses its broker
// session (loseSession) while it keeps learning and the fleet merges
// several versions; device n-1 joins only after those merges, having
// learned offline from version 0. Neither can receive the versions it
// missed; both must be caught up by the hub, re-send what they learned
// (their old-base deltas are dropped StaleBase) and end with exactly the
// fleet's state. Then forged and tampered catch-ups are refused.
func catchUpScenario(t *testing.T, url string, loseSession func()) {
	const n = 4
	cfg := hubConfig("hub-a", url, filepath.Join(t.TempDir(), "hub.db"))
	cfg.CatchUp.Delay = 300 * time.Millisecond
	h := runHub(t, cfg, fleetRing(n))
	f := newFleet(t, n, url, deviceTiming{ackTimeout: time.Second, tensor: []int{4, fDim}})
	for _, d := range f.devs {
		d.allowGaps = true
	}
	away, late := f.devs[0], f.devs[n-1]
	for _, d := range f.devs[:n-1] {
		d.start()
	}
	f.drive(60, 1, 30*time.Millisecond)
	waitFor(t, 10*time.Second, "device 0 applied a version", func() bool { return away.Active() >= 1 })
	away.stop()
	loseSession()
	// Everything device 0 received (applied, or still queued in its
	// mqtt.Device) came before its connection closed: at most version v0.
	v0 := h.Version()
	// It must find the broker's retained adapter at v0+2 or later when it
	// returns: that is against v0+1 at least, which only its lost session
	// or a catch-up could give it. The hub's version is not enough: it
	// counts a merge before its adapter reaches the broker, and a device
	// returning in between finds the previous one retained, based on its
	// own version (seen under load). The broker's copy only moves forward.
	// Devices 1 and 2 keep learning until then, whatever the drive loop's
	// pace.
	published := watchGlobal(t, url)
	waitFor(t, 15*time.Second, "two versions published without devices 0 and 3", func() bool {
		for _, d := range f.devs[1 : n-1] {
			if d.settled() {
				d.learn(1)
			}
		}
		return published() >= v0+2
	})
	if late.Active() != 0 {
		t.Fatalf("setup: late device at %d before it started", late.Active())
	}
	away.start()
	late.start()
	f.waitSettled(30 * time.Second)
	f.stopDriving()
	v := f.checkExactlyOnce()
	s := h.Stats()
	// The late device's first delta is against version 0: StaleBase.
	// Device 0's may have reached the hub before it went away (merged,
	// then re-sent and Replayed), or not (StaleBase).
	if s.Version != v || s.CatchUps < 2 || s.CatchUpsFailed != 0 || s.Stale < 1 || s.Rejected != 0 {
		t.Errorf("hub: %v; catch-ups %d (failed %d)", s, s.CatchUps, s.CatchUpsFailed)
	}
	for _, d := range []*simDevice{away, late} {
		if !d.jumped() {
			t.Errorf("%s never applied a catch-up (it received every version?)", d.id)
		}
	}
	t.Logf("hub: %v", s)

	// Forged and tampered catch-ups on device 0's own topic change
	// nothing.
	before := away.dev.Stats().GlobalsRefused
	floor := away.dev.Floor()
	c, err := rawClient(t, url, "forger", "", "")
	if err != nil {
		t.Fatal(err)
	}
	topic := "clipfleet/" + fFleet + "/" + away.id + "/catchup"
	good, err := h.CatchUp(away.id, 0) // valid, but not newer
	if err != nil || len(good) != 1 {
		t.Fatalf("catch-up from 0: %v", err)
	}
	tampered := append([]byte(nil), good[0].Payload...)
	tampered[60] ^= 1
	for _, b := range [][]byte{
		forgedAdapter(t, "hub-a", away.id, v, v+5), // claims the hub, signed by the device
		forgedAdapter(t, away.id, away.id, v, v+5), // a device key signing an adapter
		tampered,
	} {
		c.Publish(topic, 1, false, b).Wait()
	}
	waitFor(t, 5*time.Second, "three refusals", func() bool { return away.dev.Stats().GlobalsRefused >= before+3 })
	if away.Active() != v || away.dev.Floor() != floor {
		t.Errorf("after forged catch-ups: active %d floor %d, want %d %d", away.Active(), away.dev.Floor(), v, floor)
	}
}

// forgedAdapter is a catch-up from base to version claiming sender, signed
// with signer's device key.
func forgedAdapter(t testing.TB, sender, signer string, base, version uint64) []byte {
	t.Helper()
	p, err := wire.Decode(signedDelta(t, signer, signer, 1, 0, 999), wire.Policy{Fleet: fFleet, Keys: fleetRing(4)})
	if err != nil {
		t.Fatal(err)
	}
	p.Kind, p.Device, p.BaseVersion, p.Version, p.Merged = wire.KindGlobalAdapter, sender, base, version, []uint64{1}
	p.ExpiresAt = time.Now().Add(time.Hour)
	b, err := wire.Encode(p, fKey(signer))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFleetCatchUp (embedded broker): device 0's session is discarded
// while it is offline by a clean-session connection with its client id
// (mochi drops the subscriptions whether or not it has yet seen the
// device's own disconnect: a live connection is taken over).
func TestFleetCatchUp(t *testing.T) {
	b := synctest.StartMochi(t)
	catchUpScenario(t, b.URL(), func() {
		c, err := rawClient(t, b.URL(), devName(0), "", "")
		if err != nil {
			t.Fatal(err)
		}
		c.Disconnect(0)
	})
}

// TestMosquittoCatchUp: the broker is killed and restarted without
// persistence while device 0 is offline, so every session and retained
// message is lost (the others reconnect; the hub re-publishes).
func TestMosquittoCatchUp(t *testing.T) {
	m := synctest.StartMosquitto(t, synctest.MosquittoOptions{})
	catchUpScenario(t, m.URL(), func() {
		m.Kill()
		time.Sleep(200 * time.Millisecond)
		m.Restart()
	})
}

// watchGlobal returns the version of the latest fleet adapter the broker
// delivered to a subscriber of the global topic. The subscription is to
// the exact topic: mochi 2.7.9 reads retained-message bookkeeping without
// its lock when it matches a wildcard filter, a data race with concurrent
// retained publishes (seen under -race).
func watchGlobal(t testing.TB, url string) func() uint64 {
	t.Helper()
	pol := wire.Policy{Fleet: fFleet, Keys: fleetRing(0, "hub-a"), Kinds: []wire.Kind{wire.KindGlobalAdapter}}
	var v atomic.Uint64
	o := paho.NewClientOptions().AddBroker(url).SetClientID("global-watcher-" + fmt.Sprint(randID())).SetCleanSession(true).
		SetAutoReconnect(true).SetMaxReconnectInterval(250 * time.Millisecond)
	o.SetOnConnectHandler(func(c paho.Client) {
		c.Subscribe("clipfleet/"+fFleet+"/global", 1, func(_ paho.Client, m paho.Message) {
			p, err := wire.Decode(m.Payload(), pol)
			if err != nil {
				t.Errorf("global watcher: %v", err)
				return
			}
			v.Store(max(v.Load(), p.Version))
		})
	})
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("global watcher: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return v.Load
}
