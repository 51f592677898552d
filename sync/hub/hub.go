package hub

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/sync/mqtt"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// Message is one MQTT publication the hub asks its transport to send, QoS 1.
type Message struct {
	Topic   string
	Payload []byte
	Retain  bool
}

// Incoming is one MQTT message received on a delta topic.
type Incoming struct {
	Topic   string
	Payload []byte
}

// Stats are counters since Open plus the current version and backlog.
type Stats struct {
	Version uint64
	Pending int

	Received   uint64 // messages on delta topics
	Accepted   uint64 // new deltas stored as pending
	Duplicates uint64 // re-sends of a pending delta (acked by the merge)
	Replayed   uint64 // seqs at or below the device's high-water mark
	Stale      uint64 // deltas against an older base version: acked StaleBase, not merged
	Superseded uint64 // pending deltas replaced by a newer one of the same device
	Rejected   uint64 // refused by wire.Decode (other than Replayed)
	Errors     uint64 // operational failures (no ack: the device re-sends)
	ByCode     map[wire.RejectCode]uint64

	Merges       uint64
	MergedDeltas uint64
	Clipped      uint64 // deltas scaled down by merge.clip_norm
	Adopted      uint64 // newer global adapters taken over from the broker
	Refreshed    uint64 // global adapters re-signed before expiry

	CatchUps       uint64 // catch-up adapters sent to devices that missed versions
	CatchUpsFailed uint64 // catch-ups that could not be composed (ErrCatchUpUnavailable, ...)
	Refusals       uint64 // refusals of global adapters reported by devices (their retained state)
}

// Hub is the fleet's merge logic and durable state, independent of the
// transport: the caller feeds it delta messages and publishes what it
// returns. Run connects it to MQTT. Methods are safe for concurrent use
// (they serialise).
type Hub struct {
	cfg    Config
	topics mqtt.Topics
	log    *slog.Logger
	now    func() time.Time
	priv   ed25519.PrivateKey
	db     *bolt.DB

	deltaPol, storedPol, adoptPol wire.Policy

	mu           sync.Mutex
	st           *state
	lastSeq      uint64
	firstPending time.Time
	stats        Stats
	cuCache      map[uint64]cachedCatchUp // by from-version, for the current version
	refusedBy    map[string]mqtt.Refusal  // device → its latest reported refusal (refusals.go)
	ring         *wire.Keyring
}

// Open loads (or creates) the hub's state. ring must hold every enrolled
// device's key and the keys of the fleet's other hubs; the hub's own
// public key is added. log may be nil; now nil is time.Now.
func Open(cfg Config, priv ed25519.PrivateKey, ring *wire.Keyring, log *slog.Logger, now func() time.Time) (*Hub, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(priv) != ed25519.PrivateKeySize || ring == nil {
		return nil, errors.New("hub: needs its private key and a keyring")
	}
	if err := ring.AddHub(cfg.ID, priv.Public().(ed25519.PublicKey)); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	db, err := openDB(cfg.StatePath)
	if err != nil {
		return nil, err
	}
	st, err := loadState(db, now())
	if err != nil {
		db.Close()
		return nil, err
	}
	h := &Hub{cfg: cfg, ring: ring, topics: cfg.Topics(), log: log.With("hub", cfg.ID, "fleet", cfg.Fleet), now: now, priv: priv, db: db, st: st,
		cuCache: map[uint64]cachedCatchUp{}}
	h.stats.ByCode = map[wire.RejectCode]uint64{}
	base := wire.Policy{
		Config: cfg.Wire, Fleet: cfg.Fleet, Keys: ring, Now: now,
		Method: cfg.Model.Method, ModelID: cfg.Model.ModelID, Dim: cfg.Model.Dim, PreprocessHash: cfg.Model.PreprocessHash,
	}
	h.deltaPol = base
	h.deltaPol.Kinds = []wire.Kind{wire.KindDeviceDelta}
	h.deltaPol.Seqs = seqView{h}
	// Stored deltas were verified on arrival; re-decoding them at merge
	// time re-checks the signature and expiry but not the replay mark,
	// which they set themselves.
	h.storedPol = h.deltaPol
	h.storedPol.Seqs = nil
	// A retained adapter is adopted for its version even if it expired:
	// versions must never go back.
	h.adoptPol = base
	h.adoptPol.Kinds = []wire.Kind{wire.KindGlobalAdapter}
	h.adoptPol.Now = func() time.Time { return time.Unix(1, 0) }
	if len(st.pending) > 0 {
		h.firstPending = now()
	}
	h.log.Info("hub: state loaded", "path", cfg.StatePath, "version", st.version, "pending", len(st.pending), "devices", len(st.seqs),
		"catch_up_from", st.histFrom, "catch_up_from_zero", st.hasBase)
	return h, nil
}

// Close closes the state file.
func (h *Hub) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.db.Close()
}

// seqView is the wire.SeqStore over the hub's per-device high-water marks.
type seqView struct{ h *Hub }

// LastSeq implements wire.SeqStore; called with h.mu held.
func (s seqView) LastSeq(fleet, dev string) (uint64, error) {
	if fleet != s.h.cfg.Fleet {
		return 0, nil
	}
	return s.h.st.seqs[dev], nil
}

// Version is the current fleet version (0 before the first merge).
func (h *Hub) Version() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.st.version
}

// Global returns the current global adapter as published (nil if none).
func (h *Hub) Global() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.st.global)
}

// Stats returns the counters.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.stats
	s.ByCode = maps.Clone(h.stats.ByCode)
	s.Version, s.Pending = h.st.version, len(h.st.pending)
	return s
}

// MergedSeq returns the seq of device's last merged delta and the version
// that merged it (0, 0 if none).
func (h *Hub) MergedSeq(device string) (seq, version uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.st.merged[device]
	return m.seq, m.version
}

// nextSeq numbers the hub's own payloads: above every earlier one and at
// least the clock in microseconds, so they keep increasing across restarts
// without a write per ack.
func (h *Hub) nextSeq() uint64 {
	h.lastSeq = max(h.lastSeq+1, uint64(h.now().UnixMicro()))
	return h.lastSeq
}

func (h *Hub) ack(dev string, seq uint64, code wire.RejectCode, version uint64) (Message, error) {
	p := &wire.Payload{
		Kind: wire.KindAck, Fleet: h.cfg.Fleet, Device: h.cfg.ID, Seq: h.nextSeq(), Version: version,
		CreatedAt: h.now(), Ack: &wire.Ack{Device: dev, Seq: seq, Code: code},
	}
	b, err := wire.Encode(p, h.priv)
	if err != nil {
		return Message{}, fmt.Errorf("hub: encode ack: %w", err)
	}
	return Message{Topic: h.topics.Ack(dev), Payload: b}, nil
}

// update runs fn in one bbolt transaction; if it fails, the in-memory
// mirror (which fn may have changed) is reloaded from the file, so memory
// never claims what the disk does not hold.
func (h *Hub) update(fn func(tx *bolt.Tx) error) error {
	err := h.db.Update(fn)
	if err != nil {
		st, lerr := loadState(h.db, h.now())
		if lerr != nil {
			return errors.Join(err, lerr)
		}
		h.st = st
	}
	return err
}

// HandleDeltas processes delta messages in one transaction and returns the
// acks to publish once it committed. A new delta is stored as pending and
// acked only when merged; refused, replayed and stale ones are acked at
// once. On an error nothing is acked: the devices re-send.
func (h *Hub) HandleDeltas(in []Incoming) ([]Message, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Message
	err := h.update(func(tx *bolt.Tx) error {
		out = out[:0]
		for _, m := range in {
			if err := h.handleOne(tx, m, &out); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		h.stats.Errors++
		return nil, fmt.Errorf("hub: store deltas: %w", err)
	}
	return out, nil
}

func (h *Hub) handleOne(tx *bolt.Tx, in Incoming, out *[]Message) error {
	dev, ok := h.topics.DeviceOf(in.Topic, "delta")
	if !ok {
		return nil
	}
	h.stats.Received++
	send := func(dev string, seq uint64, code wire.RejectCode) error {
		m, err := h.ack(dev, seq, code, h.st.version)
		if err == nil {
			*out = append(*out, m)
		}
		return err
	}
	p, err := wire.Decode(in.Payload, h.deltaPol)
	var re *wire.RejectError
	switch {
	case errors.As(err, &re):
		return h.rejected(dev, in.Payload, re, send)
	case err != nil:
		h.stats.Errors++
		h.log.Error("hub: cannot check a delta", "device", dev, "err", err)
		return nil
	case p.Device != dev:
		// Signed by one device, published on another's topic: an ACL
		// hole or a confused client. Not accepted.
		h.stats.Rejected++
		h.stats.ByCode[wire.Malformed]++
		h.log.Warn("hub: delta published on another device's topic", "topic_device", dev, "signer", p.Device, "seq", p.Seq)
		return send(p.Device, p.Seq, wire.Malformed)
	}
	if err := putSeq(tx, dev, p.Seq); err != nil {
		return err
	}
	h.st.seqs[dev] = p.Seq
	if p.BaseVersion != h.st.version {
		// The device had not applied the latest global adapter when it
		// exported. Its learner keeps what this delta holds (its export
		// is in no Merged list) and sends it again against the new base.
		h.stats.Stale++
		h.log.Info("hub: stale delta dropped", "device", dev, "seq", p.Seq, "base", p.BaseVersion, "version", h.st.version)
		return send(dev, p.Seq, wire.StaleBase)
	}
	if old, ok := h.st.pending[dev]; ok {
		// Each export holds everything learned since its base, so the
		// newer one replaces the older (learner.Delta's contract).
		h.stats.Superseded++
		if err := send(dev, old.seq, wire.Accepted); err != nil {
			return err
		}
	}
	pd := pendingDelta{seq: p.Seq, data: slices.Clone(in.Payload), arrived: h.now()}
	if err := putPending(tx, dev, pd); err != nil {
		return err
	}
	if len(h.st.pending) == 0 {
		h.firstPending = pd.arrived
	}
	h.st.pending[dev] = pd
	h.stats.Accepted++
	return nil
}

func (h *Hub) rejected(dev string, payload []byte, re *wire.RejectError, send func(string, uint64, wire.RejectCode) error) error {
	if re.Device == "" {
		// Not authenticated: answer on the topic's device with the seq
		// the message claims, so that the device keeps re-sending
		// (transient codes) or drops what can never verify. A forger
		// cannot use this: the ack goes to the topic's owner, whom the
		// broker ACL lets alone publish there.
		claimed, seq, ok := peekSender(payload)
		h.stats.Rejected++
		h.stats.ByCode[re.Code]++
		h.log.Warn("hub: delta refused before authentication", "device", dev, "code", re.Code, "err", re)
		if !ok || claimed != dev || seq == 0 {
			return nil
		}
		return send(dev, seq, re.Code)
	}
	if re.Code == wire.Replayed {
		if pd, ok := h.st.pending[re.Device]; ok && pd.seq == re.Seq {
			h.stats.Duplicates++
			return nil // the merge will ack it
		}
		h.stats.Replayed++
		h.log.Debug("hub: replayed delta", "device", re.Device, "seq", re.Seq)
		return send(re.Device, re.Seq, wire.Replayed)
	}
	h.stats.Rejected++
	h.stats.ByCode[re.Code]++
	h.log.Warn("hub: delta refused", "device", re.Device, "seq", re.Seq, "code", re.Code, "err", re)
	return send(re.Device, re.Seq, re.Code)
}

// peekSender reads the unauthenticated sender fields of an envelope
// (fleet, device, seq follow the 12-byte header; see sync/wire).
func peekSender(b []byte) (device string, seq uint64, ok bool) {
	r := b
	if len(r) < 12 {
		return "", 0, false
	}
	r = r[12:]
	str := func() (string, bool) {
		if len(r) < 2 {
			return "", false
		}
		n := int(binary.LittleEndian.Uint16(r))
		if len(r) < 2+n {
			return "", false
		}
		s := string(r[2 : 2+n])
		r = r[2+n:]
		return s, true
	}
	if _, ok := str(); !ok {
		return "", 0, false
	}
	device, ok = str()
	if !ok || len(r) < 8 {
		return "", 0, false
	}
	return device, binary.LittleEndian.Uint64(r), true
}

// MergeDue reports whether the merge policy asks for a merge now.
func (h *Hub) MergeDue() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := len(h.st.pending)
	switch {
	case n == 0:
		return false
	case h.cfg.Merge.EveryDeltas > 0 && n >= h.cfg.Merge.EveryDeltas:
		return true
	}
	return h.now().Sub(h.firstPending) >= h.cfg.Merge.Interval
}

// Merge merges every pending delta into the next global adapter, commits
// it with the new version, and returns the retained global adapter and
// the acks to publish. Nothing pending: nothing to do.
func (h *Hub) Merge() ([]Message, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.st.pending) == 0 {
		return nil, nil
	}
	now := h.now()
	next := h.st.version + 1
	devs := slices.Sorted(maps.Keys(h.st.pending))
	var (
		deltas []*learner.Delta
		used   []string
		out    []Message
		drop   []string
	)
	for _, dev := range devs {
		pd := h.st.pending[dev]
		p, err := wire.Decode(pd.data, h.storedPol)
		var d *learner.Delta
		if err == nil {
			d, err = p.Delta()
		}
		if err != nil {
			// Expired while pending, or the key was revoked.
			h.log.Warn("hub: pending delta no longer valid", "device", dev, "seq", pd.seq, "err", err)
			code := wire.CodeOf(err)
			if code == wire.Accepted {
				code = wire.Malformed
			}
			m, aerr := h.ack(dev, pd.seq, code, h.st.version)
			if aerr != nil {
				return nil, aerr
			}
			out = append(out, m)
			drop = append(drop, dev)
			continue
		}
		deltas = append(deltas, d)
		used = append(used, dev)
	}
	var global []byte
	if len(deltas) > 0 {
		merged, clipped, err := aggregate(next, deltas, h.cfg.Merge)
		if err != nil {
			h.stats.Errors++
			return nil, err
		}
		gp, err := wire.FromDelta(merged, h.cfg.Merge.Compression, nil)
		if err != nil {
			return nil, fmt.Errorf("hub: global adapter: %w", err)
		}
		gp.Fleet, gp.Device, gp.Seq = h.cfg.Fleet, h.cfg.ID, h.nextSeq()
		gp.PreprocessHash, gp.CreatedAt, gp.ExpiresAt = h.cfg.Model.PreprocessHash, now, now.Add(h.cfg.GlobalTTL)
		if gp.ModelID == "" {
			gp.ModelID = h.cfg.Model.ModelID
		}
		if global, err = wire.Encode(gp, h.priv); err != nil {
			return nil, fmt.Errorf("hub: global adapter: %w", err)
		}
		h.stats.Clipped += uint64(clipped)
	}
	err := h.update(func(tx *bolt.Tx) error {
		for _, dev := range drop {
			if err := delPending(tx, dev); err != nil {
				return err
			}
		}
		if global == nil {
			return nil
		}
		if err := putVersion(tx, next, global); err != nil {
			return err
		}
		if err := h.recordHistory(tx, h.st.version, next, global); err != nil {
			return err
		}
		for _, dev := range used {
			if err := delPending(tx, dev); err != nil {
				return err
			}
			if err := putMerged(tx, dev, mergedMark{h.st.pending[dev].seq, next}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		h.stats.Errors++
		return nil, fmt.Errorf("hub: commit merge: %w", err)
	}
	for _, dev := range drop {
		delete(h.st.pending, dev)
	}
	if global == nil {
		return out, nil
	}
	h.st.version, h.st.global = next, global
	msgs := []Message{{Topic: h.topics.Global(), Payload: global, Retain: true}}
	for _, dev := range used {
		pd := h.st.pending[dev]
		h.st.merged[dev] = mergedMark{pd.seq, next}
		delete(h.st.pending, dev)
		m, err := h.ack(dev, pd.seq, wire.Accepted, next)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	h.stats.Merges++
	h.stats.MergedDeltas += uint64(len(used))
	h.log.Info("hub: merged", "version", next, "deltas", len(used), "bytes", len(global))
	return append(msgs, out...), nil
}

// Adopt takes over a newer global adapter found on the broker (published
// by another hub of the fleet, e.g. before a failover): its version
// becomes this hub's, and pending deltas against the older base are acked
// StaleBase. An older or equal version is ignored. The adapter joins the
// catch-up history (which restarts at its base if versions are missing).
func (h *Hub) Adopt(global []byte) ([]Message, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p, err := wire.Decode(global, h.adoptPol)
	if err != nil {
		return nil, fmt.Errorf("hub: retained global adapter refused: %w", err)
	}
	if p.Version <= h.st.version {
		return nil, nil
	}
	var out []Message
	devs := slices.Sorted(maps.Keys(h.st.pending))
	for _, dev := range devs {
		m, err := h.ack(dev, h.st.pending[dev].seq, wire.StaleBase, p.Version)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	err = h.update(func(tx *bolt.Tx) error {
		for _, dev := range devs {
			if err := delPending(tx, dev); err != nil {
				return err
			}
		}
		if err := h.recordHistory(tx, p.BaseVersion, p.Version, global); err != nil {
			return err
		}
		return putVersion(tx, p.Version, global)
	})
	if err != nil {
		return nil, fmt.Errorf("hub: adopt: %w", err)
	}
	h.log.Info("hub: adopted a newer global adapter", "version", p.Version, "from", p.Device, "was", h.st.version, "stale_pending", len(devs))
	clear(h.st.pending)
	h.st.version, h.st.global = p.Version, slices.Clone(global)
	h.stats.Adopted++
	return out, nil
}

// Refresh re-signs the current global adapter with a new expiry once half
// of its lifetime has passed, so devices that join later can still verify
// it. Devices that have it see the same version and ignore it.
func (h *Hub) Refresh() ([]Message, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.st.global == nil {
		return nil, nil
	}
	p, err := wire.Decode(h.st.global, h.adoptPol)
	if err != nil {
		return nil, fmt.Errorf("hub: stored global adapter: %w", err)
	}
	now := h.now()
	if !p.ExpiresAt.IsZero() && p.ExpiresAt.Sub(now) > h.cfg.GlobalTTL/2 {
		return nil, nil
	}
	p.Device, p.Seq, p.CreatedAt, p.ExpiresAt = h.cfg.ID, h.nextSeq(), now, now.Add(h.cfg.GlobalTTL)
	b, err := wire.Encode(p, h.priv)
	if err != nil {
		return nil, fmt.Errorf("hub: refresh: %w", err)
	}
	if err := h.update(func(tx *bolt.Tx) error { return putVersion(tx, h.st.version, b) }); err != nil {
		return nil, fmt.Errorf("hub: refresh: %w", err)
	}
	h.st.global = b
	h.stats.Refreshed++
	return []Message{{Topic: h.topics.Global(), Payload: b, Retain: true}}, nil
}
