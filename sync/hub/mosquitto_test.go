package hub_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/clipfleet/clipfleet/internal/testutil"
	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/sync/hub"
	"github.com/clipfleet/clipfleet/sync/synctest"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// TestMosquittoBrokerKilled (a): the broker is SIGKILLed and restarted
// twice while devices sync (no broker persistence: sessions, queued
// messages and the retained adapter are lost); every label is still
// merged exactly once.
func TestMosquittoBrokerKilled(t *testing.T) {
	m := synctest.StartMosquitto(t, synctest.MosquittoOptions{})
	const n = 5
	cfg := hubConfig("hub-a", m.URL(), filepath.Join(t.TempDir(), "hub.db"))
	// Merge when every device delivered: no merge can overtake a device
	// still reconnecting, so every device applies every version in order
	// (gaps are errors here). Merges that do overtake a device whose
	// session was lost are TestMosquittoCatchUp's subject.
	cfg.Merge.EveryDeltas, cfg.Merge.Interval = n, 2*time.Second
	h := runHub(t, cfg, fleetRing(n))
	f := newFleet(t, n, m.URL(), deviceTiming{ackTimeout: time.Second, tensor: []int{4, fDim}})
	f.startAll()
	f.drive(80, 1, 30*time.Millisecond)
	for range 2 {
		f.waitProgress(f.version()+1, false, 10*time.Second)
		m.Kill()
		time.Sleep(300 * time.Millisecond)
		m.Restart()
	}
	f.waitSettled(20 * time.Second)
	f.stopDriving()
	v := f.checkExactlyOnce()
	s := h.Stats()
	if s.Version != v || s.Rejected != 0 {
		t.Errorf("hub %v", s)
	}
	t.Logf("hub: %v", s)
}

// TestMosquittoOfflineDevice (b): a device offline for its whole learning
// phase (its persistent session queues the global adapters meanwhile)
// delivers everything after it reconnects.
func TestMosquittoOfflineDevice(t *testing.T) {
	m := synctest.StartMosquitto(t, synctest.MosquittoOptions{})
	const n = 4
	cfg := hubConfig("hub-a", m.URL(), filepath.Join(t.TempDir(), "hub.db"))
	h := runHub(t, cfg, fleetRing(n))
	f := newFleet(t, n, m.URL(), deviceTiming{ackTimeout: time.Second})
	f.startAll()
	off := f.devs[0]
	waitFor(t, 5*time.Second, "device online", func() bool { return off.dev.Stats().Connected })
	off.stop()
	f.drive(40, 1, 30*time.Millisecond)
	// The others progress several versions without it.
	waitFor(t, 15*time.Second, "fleet progress", func() bool {
		for _, d := range f.devs[1:] {
			if !d.settled() {
				return false
			}
		}
		return f.learning.Load() == 0 && f.version() >= 2
	})
	if off.Active() != 0 || off.ob.Len() != 1 {
		t.Fatalf("offline device: active %d, outbox %d (want 0, 1)", off.Active(), off.ob.Len())
	}
	vOff := h.Version()
	off.start()
	f.waitSettled(15 * time.Second)
	f.stopDriving()
	v := f.checkExactlyOnce()
	if v <= vOff {
		t.Errorf("the offline device's labels never made a new version (%d ≤ %d)", v, vOff)
	}
	if s := h.Stats(); s.Stale < 1 {
		// Its first delta was against version 0, long merged past.
		t.Errorf("hub saw no stale delta: %v", s)
	}
}

// rawClient is a bare MQTT client for crafted messages.
func rawClient(t testing.TB, url, id, user, pass string) (paho.Client, error) {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(url).SetClientID(id).SetCleanSession(true).
		SetAutoReconnect(false).SetConnectTimeout(3 * time.Second).SetUsername(user).SetPassword(pass)
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		return nil, tok.Error()
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c, nil
}

// signedDelta is a delta of device dev with one label.
func signedDelta(t testing.TB, dev string, signer string, seq, base, id uint64) []byte {
	t.Helper()
	sum := make([]float64, fDim)
	sum[0] = 1
	d := &learner.Delta{Method: fMethod, Dim: fDim, ModelID: fModel, BaseVersion: base, ID: id, Examples: 1,
		Classes: []learner.ClassStats{{Label: learner.ID(id), Count: 1, Examples: 1, Sum: sum}}}
	p, err := wire.FromDelta(d, wire.Compression{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Fleet, p.Device, p.Seq, p.CreatedAt = fFleet, dev, seq, time.Now()
	b, err := wire.Encode(p, fKey(signer))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func deltaTopic(dev string) string { return "clipfleet/" + fFleet + "/" + dev + "/delta" }

// TestMosquittoHubRejects (c, hub side): tampered, replayed, mis-signed and
// unknown deltas are refused with the code the device needs.
func TestMosquittoHubRejects(t *testing.T) {
	m := synctest.StartMosquitto(t, synctest.MosquittoOptions{})
	cfg := hubConfig("hub-a", m.URL(), filepath.Join(t.TempDir(), "hub.db"))
	cfg.Merge.Interval = 200 * time.Millisecond
	h := runHub(t, cfg, fleetRing(2))
	c, err := rawClient(t, m.URL(), "attacker", "", "")
	if err != nil {
		t.Fatal(err)
	}
	acks := make(chan *wire.Payload, 16)
	ring := fleetRing(0, "hub-a")
	c.Subscribe("clipfleet/"+fFleet+"/+/ack", 1, func(_ paho.Client, msg paho.Message) {
		p, err := wire.Decode(msg.Payload(), wire.Policy{Fleet: fFleet, Keys: ring, Kinds: []wire.Kind{wire.KindAck}})
		if err != nil {
			t.Errorf("ack does not verify: %v", err)
			return
		}
		acks <- p
	}).Wait()
	waitFor(t, 5*time.Second, "hub active", func() bool { return watchStatus(t, m.URL(), "hub-a") == hub.StatusActive })
	expect := func(what, dev string, seq uint64, code wire.RejectCode) {
		t.Helper()
		select {
		case a := <-acks:
			if a.Ack.Device != dev || a.Ack.Seq != seq || a.Ack.Code != code {
				t.Fatalf("%s: ack %s seq %d %v, want %s seq %d %v", what, a.Ack.Device, a.Ack.Seq, a.Ack.Code, dev, seq, code)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no ack", what)
		}
	}
	good := signedDelta(t, "dev-000", "dev-000", 1, 0, 101)
	c.Publish(deltaTopic("dev-000"), 1, false, good).Wait()
	expect("valid delta (acked after the merge)", "dev-000", 1, wire.Accepted)
	c.Publish(deltaTopic("dev-000"), 1, false, good).Wait()
	expect("replay", "dev-000", 1, wire.Replayed)
	flipped := slices.Clone(signedDelta(t, "dev-000", "dev-000", 2, 1, 102))
	flipped[len(flipped)-100] ^= 0x10
	c.Publish(deltaTopic("dev-000"), 1, false, flipped).Wait()
	expect("tampered body", "dev-000", 2, wire.BadChecksum)
	badSig := slices.Clone(signedDelta(t, "dev-000", "dev-000", 3, 1, 103))
	badSig[len(badSig)-1] ^= 1
	c.Publish(deltaTopic("dev-000"), 1, false, badSig).Wait()
	expect("tampered signature", "dev-000", 3, wire.BadSignature)
	c.Publish(deltaTopic("dev-000"), 1, false, signedDelta(t, "dev-000", "dev-001", 4, 1, 104)).Wait()
	expect("signed with another device's key", "dev-000", 4, wire.BadSignature)
	c.Publish(deltaTopic("dev-999"), 1, false, signedDelta(t, "dev-999", "dev-999", 1, 1, 105)).Wait()
	expect("unknown device", "dev-999", 1, wire.UnknownKey)
	c.Publish(deltaTopic("dev-001"), 1, false, signedDelta(t, "dev-000", "dev-000", 5, 1, 106)).Wait()
	expect("on another device's topic", "dev-000", 5, wire.Malformed)
	if s := h.Stats(); s.MergedDeltas != 1 || s.Pending != 0 || s.Replayed != 1 || s.Rejected != 5 {
		t.Errorf("hub %v %v", s, s.ByCode)
	}
}

// watchStatus reads a hub's retained status once.
func watchStatus(t testing.TB, url, hubID string) string {
	t.Helper()
	w := watch(t, url, "", "")
	defer w.c.Disconnect(0)
	topic := "clipfleet/" + fFleet + "/hub/" + hubID + "/status"
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if s := w.get(topic); s != "" {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	return ""
}

// TestMosquittoACL (d): with the example ACL of configs/mosquitto, device
// A cannot publish as device B nor forge the global adapter, reads its own
// catch-up topic but not B's, and a wrong password is refused.
func TestMosquittoACL(t *testing.T) {
	acl, err := os.ReadFile(testutil.RepoPath(t, "configs", "mosquitto", "acl.conf"))
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]string{"dev-000": "pw-a", "dev-001": "pw-b", "hub-a": "pw-hub"}
	m := synctest.StartMosquitto(t, synctest.MosquittoOptions{Users: users, ACL: string(acl)})
	cfg := hubConfig("hub-a", m.URL(), filepath.Join(t.TempDir(), "hub.db"))
	cfg.Broker.Username, cfg.Broker.Password = "hub-a", users["hub-a"]
	h := runHub(t, cfg, fleetRing(2))
	w := watch(t, m.URL(), "hub-a", users["hub-a"])
	waitFor(t, 5*time.Second, "hub active", func() bool {
		return w.get("clipfleet/"+fFleet+"/hub/hub-a/status") == hub.StatusActive
	})

	if _, err := rawClient(t, m.URL(), "dev-000", "dev-000", "wrong"); err == nil {
		t.Fatal("wrong password accepted")
	}
	a, err := rawClient(t, m.URL(), "dev-000", "dev-000", users["dev-000"])
	if err != nil {
		t.Fatal(err)
	}
	// A publishes a delta validly signed by itself, and one it signed as
	// B, on B's topic: the broker drops both (MQTT 3.1.1 still PUBACKs).
	a.Publish(deltaTopic("dev-001"), 1, false, signedDelta(t, "dev-000", "dev-000", 1, 0, 201)).Wait()
	a.Publish(deltaTopic("dev-001"), 1, false, signedDelta(t, "dev-001", "dev-000", 1, 0, 202)).Wait()
	// And a forged retained global adapter.
	a.Publish("clipfleet/"+fFleet+"/global", 1, true, []byte("forged")).Wait()
	// A's own topic works: this one reaches the hub.
	a.Publish(deltaTopic("dev-000"), 1, false, signedDelta(t, "dev-000", "dev-000", 2, 0, 203)).Wait()
	waitFor(t, 5*time.Second, "A's own delta at the hub", func() bool { return h.Stats().Received >= 1 })
	time.Sleep(300 * time.Millisecond) // anything dropped would have arrived by now
	if s := h.Stats(); s.Received != 1 || s.Accepted != 1 {
		t.Errorf("hub received %d deltas (accepted %d), want only A's own", s.Received, s.Accepted)
	}
	if g := w.get("clipfleet/" + fFleet + "/global"); g == "forged" {
		t.Error("a device overwrote the global adapter")
	}
	if !slices.Contains([]string{"", "online"}, w.get("clipfleet/"+fFleet+"/dev-001/status")) {
		t.Error("unexpected status of B")
	}

	// A reads its own catch-up topic but not B's.
	got := make(chan string, 4)
	catchUp := func(dev string) string { return "clipfleet/" + fFleet + "/" + dev + "/catchup" }
	for _, dev := range []string{"dev-001", "dev-000"} {
		a.Subscribe(catchUp(dev), 1, func(_ paho.Client, m paho.Message) { got <- m.Topic() }).WaitTimeout(5 * time.Second)
	}
	pub, err := rawClient(t, m.URL(), "hub-a-test", "hub-a", users["hub-a"])
	if err != nil {
		t.Fatal(err)
	}
	pub.Publish(catchUp("dev-001"), 1, false, []byte("for B")).Wait()
	pub.Publish(catchUp("dev-000"), 1, false, []byte("for A")).Wait()
	select {
	case topic := <-got:
		if topic != catchUp("dev-000") {
			t.Errorf("A received %s", topic)
		}
	case <-time.After(5 * time.Second):
		t.Error("A did not receive its own catch-up")
	}
	select {
	case topic := <-got:
		t.Errorf("A also received %s", topic)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestMosquittoFailover (e): the active hub (a separate process) is
// SIGKILLed mid-sync; the standby, seeing its last will, takes over from
// the retained global adapter without losing or double-merging a delta.
func TestMosquittoFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	m := synctest.StartMosquitto(t, synctest.MosquittoOptions{})
	const n = 5
	w := watch(t, m.URL(), "", "")
	status := func(id string) string { return w.get("clipfleet/" + fFleet + "/hub/" + id + "/status") }

	cfgA := hubConfig("hub-a", m.URL(), filepath.Join(t.TempDir(), "a.db"))
	cfgA.Merge.EveryDeltas = n
	pa := startHubProcess(t, childSpec{Config: cfgA, Devices: n, Hubs: []string{"hub-b"}})
	waitFor(t, 10*time.Second, "hub-a active", func() bool { return status("hub-a") == hub.StatusActive })

	cfgB := hubConfig("hub-b", m.URL(), filepath.Join(t.TempDir(), "b.db"))
	cfgB.Merge.EveryDeltas, cfgB.Standby, cfgB.Peers = n, true, []string{"hub-a"}
	hb := runHub(t, cfgB, fleetRing(n, "hub-a"))
	waitFor(t, 5*time.Second, "hub-b standby", func() bool { return status("hub-b") == hub.StatusStandby })

	f := newFleet(t, n, m.URL(), deviceTiming{ackTimeout: time.Second, tensor: []int{4, fDim}})
	f.startAll()
	f.drive(80, 1, 30*time.Millisecond)
	f.waitProgress(2, false, 10*time.Second)
	if s := hb.Stats(); s.Received != 0 || s.Merges != 0 {
		t.Fatalf("the standby served while hub-a was active: %v", s)
	}
	pa.kill()
	vKill := f.version()
	waitFor(t, 5*time.Second, "hub-b active", func() bool { return status("hub-b") == hub.StatusActive })
	f.waitSettled(20 * time.Second)
	f.stopDriving()
	v := f.checkExactlyOnce()
	s := hb.Stats()
	if s.Merges == 0 || v <= vKill {
		t.Errorf("the standby merged nothing after the failover (version %d at the kill, %d at the end): %v", vKill, v, s)
	}
	t.Logf("failover at version %d, final %d; standby: %v", vKill, v, s)
}
