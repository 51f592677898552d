package hub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"strings"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/clipfleet/clipfleet/sync/mqtt"
)

// Hub status values on Topics.HubStatus.
const (
	StatusActive  = "active"
	StatusStandby = "standby"
	StatusOffline = "offline"
)

type event struct {
	kind    int
	topic   string
	payload []byte
}

const (
	evConnected = iota
	evGlobal
	evPeer
	evBarrier
	evState
)

// Run connects the hub to the broker and serves until ctx is done:
//
//  1. On every connection it subscribes to the retained global adapter
//     and its peers' status, then publishes a barrier message to itself:
//     when it comes back, the broker has delivered the retained messages,
//     and a newer global adapter (another hub's) has been adopted.
//  2. A standby hub waits until no peer is active (a peer's last will sets
//     it offline the moment its connection dies).
//  3. Active: it (re)publishes its global adapter retained, subscribes to
//     every device's delta and state topics, stores deltas, merges on the
//     policy and publishes global adapters and acks; a device whose
//     retained state stays behind for CatchUp.Delay gets a catch-up
//     adapter (CatchUp).
//
// Run returns nil when ctx ends; the status is set offline on the way out.
func (h *Hub) Run(ctx context.Context) error {
	opts, err := h.cfg.Broker.ClientOptions(h.cfg.ClientID())
	if err != nil {
		return err
	}
	t := h.topics
	opts.SetBinaryWill(t.HubStatus(h.cfg.ID), []byte(StatusOffline), 1, true)
	events := make(chan event, 64)
	deltas := make(chan Incoming, 1024)
	var active atomic.Bool
	handler := func(_ paho.Client, m paho.Message) { h.route(ctx, m, events, deltas) }
	// Subscriptions are made on paho's connect goroutine, never on the
	// loop below, which must keep draining the channels the handlers
	// fill (paho delivers acks for subscriptions behind queued messages).
	opts.SetOnConnectHandler(func(c paho.Client) {
		subs := map[string]paho.MessageHandler{t.Global(): handler, t.HubBarrier(h.cfg.ID): handler}
		for _, topic := range peerTopics(h) {
			subs[topic] = handler
		}
		if active.Load() {
			maps.Copy(subs, h.activeSubs(handler))
		}
		if !mqtt.SubscribeAll(ctx, c, subs, h.cfg.Broker.WriteTimeout, h.log) {
			return // the connection closed; the next one starts over
		}
		b := nonce()
		h.log.Debug("hub: connected and subscribed", "barrier", b)
		if !active.Load() {
			c.Publish(t.HubStatus(h.cfg.ID), 1, true, []byte(StatusStandby))
		}
		// Queue the event before the barrier goes out: its echo lands in
		// the same channel and must find the loop expecting it.
		select {
		case events <- event{kind: evConnected, payload: []byte(b)}:
		case <-ctx.Done():
			return
		}
		c.Publish(t.HubBarrier(h.cfg.ID), 1, false, []byte(b))
	})
	opts.SetConnectionLostHandler(func(_ paho.Client, err error) {
		h.log.Warn("hub: connection lost", "err", err)
	})
	// Messages a previous incarnation subscribed to (persistent session)
	// may arrive before this one subscribes again: route them all.
	opts.SetDefaultPublishHandler(handler)
	c := paho.NewClient(opts)
	c.Connect()
	defer func() {
		if c.IsConnectionOpen() {
			c.Publish(t.HubStatus(h.cfg.ID), 1, true, []byte(StatusOffline)).WaitTimeout(min(h.cfg.Broker.WriteTimeout, time.Second))
		}
		c.Disconnect(250)
	}()

	var (
		synced  bool   // the barrier of the current connection came back
		barrier string // its nonce
		peers   = map[string]string{}
		behind  = newCatchUpQueue(h.cfg.CatchUp.Delay)
	)
	if h.cfg.CatchUp.Disabled {
		behind = newCatchUpQueue(0)
	}
	tick := time.NewTicker(min(max(h.cfg.Merge.Interval/8, 10*time.Millisecond), time.Second))
	defer tick.Stop()
	publish := func(msgs []Message) {
		for _, m := range msgs {
			c.Publish(m.Topic, 1, m.Retain, m.Payload)
		}
	}
	announce := func() {
		c.Publish(t.HubStatus(h.cfg.ID), 1, true, []byte(StatusActive))
		if g := h.Global(); g != nil {
			publish([]Message{{Topic: t.Global(), Payload: g, Retain: true}})
		}
	}
	becomeActive := func() {
		active.Store(true)
		announce()
		go mqtt.SubscribeAll(ctx, c, h.activeSubs(handler), h.cfg.Broker.WriteTimeout, h.log)
		h.log.Info("hub: active", "version", h.Version(), "pending", h.Stats().Pending)
	}
	canServe := func() bool {
		if !h.cfg.Standby {
			return true
		}
		for _, p := range h.cfg.Peers {
			if peers[p] == StatusActive {
				return false
			}
		}
		return true
	}
	batch := make([]Incoming, 0, 64)
	for {
		select {
		case <-ctx.Done():
			return nil
		case in := <-deltas:
			if !active.Load() {
				continue // a standby does not take deltas; devices re-send
			}
			batch = append(batch[:0], in)
		drain:
			for len(batch) < cap(batch) {
				select {
				case in := <-deltas:
					batch = append(batch, in)
				default:
					break drain
				}
			}
			msgs, err := h.HandleDeltas(batch)
			if err != nil {
				h.log.Error("hub: deltas not stored; devices will re-send", "err", err)
			}
			publish(msgs)
			if h.MergeDue() {
				h.mergeAndPublish(publish)
			}
		case <-tick.C:
			if !active.Load() {
				continue
			}
			if h.MergeDue() {
				h.mergeAndPublish(publish)
			}
			if msgs, err := h.Refresh(); err != nil {
				h.log.Error("hub: refresh global adapter", "err", err)
			} else {
				publish(msgs)
			}
			for _, d := range behind.take(h.now(), h.Version()) {
				msgs, err := h.CatchUp(d.dev, d.from)
				if err != nil {
					h.log.Warn("hub: device missed versions and cannot catch up", "device", d.dev, "version", d.from, "err", err)
				}
				publish(msgs)
			}
		case e := <-events:
			switch e.kind {
			case evConnected:
				synced, barrier = false, string(e.payload)
				if active.Load() {
					// The broker may have lost the retained adapter.
					announce()
				}
			case evBarrier:
				if string(e.payload) != barrier || synced {
					h.log.Debug("hub: stale barrier ignored", "got", string(e.payload), "want", barrier)
					continue
				}
				synced = true
				if !active.Load() && canServe() {
					becomeActive()
				} else if !active.Load() {
					h.log.Info("hub: standby, a peer is active", "peers", peers)
				}
			case evGlobal:
				msgs, err := h.Adopt(e.payload)
				if err != nil {
					h.log.Warn("hub: retained global adapter ignored", "err", err)
				}
				if active.Load() {
					publish(msgs)
				}
			case evState:
				if dev, ok := t.DeviceOf(e.topic, "state"); ok && active.Load() {
					behind.observe(dev, e.payload, h.Version(), h.now())
					h.noteState(dev, e.payload)
				}
			case evPeer:
				peer := peerOf(h, e.topic)
				peers[peer] = string(e.payload)
				h.log.Info("hub: peer status", "peer", peer, "status", peers[peer])
				if active.Load() && peers[peer] == StatusActive {
					h.log.Error("hub: another hub of this fleet is active; run one active hub per fleet", "peer", peer)
				}
				if !active.Load() && synced && canServe() {
					becomeActive()
				}
			}
		}
	}
}

func (h *Hub) mergeAndPublish(publish func([]Message)) {
	msgs, err := h.Merge()
	if err != nil {
		h.log.Error("hub: merge failed; pending deltas kept", "err", err)
	}
	publish(msgs)
}

func (h *Hub) route(ctx context.Context, m paho.Message, events chan<- event, deltas chan<- Incoming) {
	t := h.topics
	topic := m.Topic()
	var e event
	switch {
	case strings.HasSuffix(topic, "/delta"):
		select {
		case deltas <- Incoming{Topic: topic, Payload: m.Payload()}:
		case <-ctx.Done():
		}
		return
	case strings.HasSuffix(topic, "/state"):
		e = event{kind: evState}
	case topic == t.Global():
		e = event{kind: evGlobal}
	case topic == t.HubBarrier(h.cfg.ID):
		e = event{kind: evBarrier}
	case peerOf(h, topic) != "":
		e = event{kind: evPeer}
	default:
		return
	}
	e.topic, e.payload = topic, m.Payload()
	select {
	case events <- e:
	case <-ctx.Done():
	}
}

// activeSubs are the subscriptions of an active hub: every device's deltas
// (one wildcard) and the retained state of each enrolled device. The states
// are subscribed one exact topic per device rather than by a wildcard: a
// device enrolled later needs a hub restart anyway (keys are loaded at
// start), and mochi v2.7.9 (the embedded broker) reads retained-message
// bookkeeping without its lock when it matches a wildcard against retained
// topics, a data race with devices publishing their retained state.
func (h *Hub) activeSubs(handler paho.MessageHandler) map[string]paho.MessageHandler {
	t := h.topics
	subs := map[string]paho.MessageHandler{t.AllDeltas(): handler}
	for _, dev := range h.ring.Devices() {
		subs[t.State(dev)] = handler
	}
	return subs
}

func peerTopics(h *Hub) []string {
	var out []string
	for _, p := range h.cfg.Peers {
		out = append(out, h.topics.HubStatus(p))
	}
	return out
}

func peerOf(h *Hub, topic string) string {
	for _, p := range h.cfg.Peers {
		if topic == h.topics.HubStatus(p) {
			return p
		}
	}
	return ""
}

func nonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// String summarises the counters for logs.
func (s Stats) String() string {
	return fmt.Sprintf("version=%d pending=%d received=%d accepted=%d merged=%d merges=%d duplicates=%d replayed=%d stale=%d rejected=%d catchups=%d",
		s.Version, s.Pending, s.Received, s.Accepted, s.MergedDeltas, s.Merges, s.Duplicates, s.Replayed, s.Stale, s.Rejected, s.CatchUps)
}
