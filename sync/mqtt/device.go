package mqtt

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/clipfleet/clipfleet/sync/outbox"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// DeviceOptions wires a Device to its identity, outbox and learner.
type DeviceOptions struct {
	Config  Config
	Key     ed25519.PrivateKey // signs this device's deltas
	HubKeys wire.Verifier      // hub keys: acks and global adapters
	Outbox  *outbox.Outbox     // the device's durable queue; Device only reads, Acks and (Enqueue) Puts
	Applier Applier            // installs verified global adapters

	// Global adapters must match these exactly; empty or 0 accepts any.
	Method, ModelID, PreprocessHash string
	Dim                             int

	// Callbacks run on the MQTT client's goroutines and must return
	// quickly.
	OnAck     func(AckEvent)
	OnGlobal  func(GlobalEvent)
	OnCommand func(payload []byte) // nil: the device does not subscribe to its cmd topic

	Log *slog.Logger     // nil: discard
	Now func() time.Time // nil: time.Now
}

// AckEvent reports one verified ack from the hub.
type AckEvent struct {
	Seq  uint64
	Code wire.RejectCode
	// HubVersion is the hub's fleet version when it acked: once this
	// device has applied every global adapter up to it, their Merged lists
	// tell whether the delta was included (see ReadyToExport).
	HubVersion uint64
	// Removed: the entry left the outbox (every code but the transient
	// ones, which are re-sent).
	Removed bool
}

// GlobalEvent reports one global adapter received: committed (Err nil) or
// why not.
type GlobalEvent struct {
	Version, BaseVersion uint64
	Merged               []uint64
	Err                  error
}

// DeviceState is the retained JSON on the device's state topic.
type DeviceState struct {
	Device        string    `json:"device"`
	ActiveVersion uint64    `json:"active_version"`
	Floor         uint64    `json:"floor"`
	OutboxEntries int       `json:"outbox_entries"`
	OutboxBytes   int64     `json:"outbox_bytes"`
	UpdatedAt     time.Time `json:"updated_at"`
	// Refused is the last global adapter this device would not apply
	// (health check, apply or commit failure, bad signature, wrong model),
	// so the fleet sees a bad push without logging in to each device.
	Refused *Refusal `json:"refused,omitempty"`
}

// Refusal is one global adapter a device refused, and why.
type Refusal struct {
	Version uint64    `json:"version"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
}

// DeviceStats are counters since NewDevice.
type DeviceStats struct {
	Connected      bool
	Connects       uint64 // successful (re)connections
	Publishes      uint64 // delta publishes, re-sends included
	Resends        uint64 // publishes of a seq already sent (timeout or reconnect)
	Acks           uint64 // verified acks that removed an entry
	TransientAcks  uint64 // verified acks with a transient code (entry kept)
	BadAcks        uint64 // acks that failed verification or named another device
	GlobalsApplied uint64
	GlobalsRefused uint64 // not newer, failed verification, or rolled back
}

// Device is the device side of fleet sync: it publishes the outbox to the
// hub one delta at a time and removes a delta only on the hub's signed
// ack, and it installs verified, strictly newer global adapters through the
// Applier.
//
// One delta is in flight at a time: the next is sent only once the hub has
// acked the previous one, so the hub sees each device's seqs in increasing
// order and a per-device high-water mark deduplicates exactly (see
// docs/sync.md).
type Device struct {
	cfg    Config
	opts   DeviceOptions
	topics Topics
	log    *slog.Logger
	now    func() time.Time
	floor  *Floor
	ackPol wire.Policy
	gloPol wire.Policy

	encMu sync.Mutex // Enqueue: NextSeq and Put together

	wake      chan struct{}
	connMu    sync.Mutex // orders the connection-lost handler against onConnect
	connected atomic.Bool
	reconnect atomic.Bool // set by OnConnect, consumed by the sender

	mu          sync.Mutex
	stats       DeviceStats
	lastAckVer  uint64
	pendingGlob map[globKey]*wire.Payload // verified, waiting for applyLoop
	refused     uint64                    // last version that failed its health check; not retried in this process
	lastRefusal *Refusal                  // reported in the retained state
	globWake    chan struct{}

	client paho.Client
	runCtx context.Context // Run's context, for the connect handler
}

// NewDevice validates the options and loads the version floor.
func NewDevice(o DeviceOptions) (*Device, error) {
	if err := o.Config.Validate(); err != nil {
		return nil, err
	}
	switch {
	case len(o.Key) != ed25519.PrivateKeySize:
		return nil, errors.New("mqtt: device needs its Ed25519 private key")
	case o.HubKeys == nil || o.Outbox == nil || o.Applier == nil:
		return nil, errors.New("mqtt: device needs HubKeys, Outbox and Applier")
	}
	d := &Device{
		cfg: o.Config, opts: o, topics: o.Config.Topics(), log: o.Log, now: o.Now,
		wake: make(chan struct{}, 1), globWake: make(chan struct{}, 1),
		pendingGlob: map[globKey]*wire.Payload{},
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.log = d.log.With("device", o.Config.Device)
	if d.now == nil {
		d.now = time.Now
	}
	fl, err := OpenFloor(o.Config.StateDir)
	if errors.Is(err, ErrCorruptFloor) {
		// Fail towards safety without bricking the device: the adapter
		// in use is the best known lower bound.
		d.log.Error("sync: version floor unreadable, using the active adapter's version", "err", err, "active", o.Applier.Active())
	} else if err != nil {
		return nil, err
	}
	d.floor = fl
	if act := o.Applier.Active(); act > fl.Version() {
		if err := fl.Raise(act); err != nil {
			return nil, err
		}
	}
	base := wire.Policy{Config: o.Config.Wire, Fleet: o.Config.Fleet, Keys: o.HubKeys, Now: d.now}
	d.ackPol = base
	d.ackPol.Kinds = []wire.Kind{wire.KindAck}
	d.gloPol = base
	d.gloPol.Kinds = []wire.Kind{wire.KindGlobalAdapter}
	d.gloPol.Method, d.gloPol.ModelID, d.gloPol.Dim, d.gloPol.PreprocessHash = o.Method, o.ModelID, o.Dim, o.PreprocessHash
	return d, nil
}

// Enqueue signs a device delta and stores it durably in the outbox; it
// fills in Fleet, Device, Seq (the outbox's next) and CreatedAt if zero.
// It works with or without a connection.
func (d *Device) Enqueue(p *wire.Payload) (uint64, error) {
	if p.Kind != wire.KindDeviceDelta {
		return 0, fmt.Errorf("mqtt: enqueue of a %v payload", p.Kind)
	}
	d.encMu.Lock()
	defer d.encMu.Unlock()
	p.Fleet, p.Device = d.cfg.Fleet, d.cfg.Device
	p.Seq = d.opts.Outbox.NextSeq()
	if p.CreatedAt.IsZero() {
		p.CreatedAt = d.now()
	}
	b, err := wire.Encode(p, d.opts.Key)
	if err != nil {
		return 0, err
	}
	if limit := d.cfg.Wire.MaxBytes; len(b) > limit {
		// The hub decodes under the same limit: queueing it would only
		// earn an oversize reject after the upload.
		return 0, fmt.Errorf("mqtt: delta of %d bytes exceeds wire.max_bytes %d; the hub would refuse it (raise max_bytes on the hub and every device): %w",
			len(b), limit, wire.ErrOversize)
	}
	if err := d.opts.Outbox.Put(p.Seq, b); err != nil {
		return 0, err
	}
	return p.Seq, nil
}

// Floor is the version of the last committed global adapter.
func (d *Device) Floor() uint64 { return d.floor.Version() }

// ReadyToExport reports whether the learner may export its next delta:
// nothing is waiting in the outbox and every global adapter up to the
// hub's version at the last ack has been committed, so the learner knows
// from their Merged lists whether its last export was included. Exporting
// earlier would make the learner (which remembers one export) count a
// merged export twice.
func (d *Device) ReadyToExport() bool {
	d.mu.Lock()
	v := d.lastAckVer
	d.mu.Unlock()
	return d.opts.Outbox.Len() == 0 && d.floor.Version() >= v
}

// Stats returns the counters.
func (d *Device) Stats() DeviceStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.stats
	s.Connected = d.connected.Load()
	return s
}

func (d *Device) count(f func(*DeviceStats)) {
	d.mu.Lock()
	f(&d.stats)
	d.mu.Unlock()
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Run connects (retrying until the broker is reachable), keeps the session
// up and serves until ctx is done; then it marks the device offline and
// disconnects. Deltas enqueued before or during Run are sent.
func (d *Device) Run(ctx context.Context) error {
	opts, err := d.cfg.Broker.ClientOptions(d.cfg.Device)
	if err != nil {
		return err
	}
	opts.SetBinaryWill(d.topics.Status(d.cfg.Device), []byte("offline"), 1, true)
	d.runCtx = ctx
	opts.SetOnConnectHandler(d.onConnect)
	// A persistent session delivers what was queued while the device was
	// away (acks, every global adapter it missed) right after CONNACK,
	// before onConnect subscribes again: route those too, or paho would
	// acknowledge and drop them.
	opts.SetDefaultPublishHandler(func(c paho.Client, m paho.Message) {
		if h := d.handlers()[m.Topic()]; h != nil {
			h(c, m)
		}
	})
	opts.SetConnectionLostHandler(func(c paho.Client, err error) {
		// paho runs this on a goroutine of its own, started as the
		// reconnection begins: it may run after the new connection's
		// onConnect, and must not mark that one down (the device would
		// stay silent until the next reconnect).
		d.connMu.Lock()
		if !c.IsConnectionOpen() {
			d.connected.Store(false)
		}
		d.connMu.Unlock()
		d.log.Warn("sync: connection lost", "err", err)
	})
	d.client = paho.NewClient(opts)
	d.client.Connect() // with ConnectRetry, completes only once connected

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); d.applyLoop(ctx) }()
	d.sendLoop(ctx)
	wg.Wait()

	if d.client.IsConnectionOpen() {
		// Best effort, and bounded: the will says the same.
		octx, cancel := context.WithTimeout(context.Background(), min(d.cfg.Broker.WriteTimeout, time.Second))
		_ = publish(octx, d.client, d.topics.Status(d.cfg.Device), true, []byte("offline"), d.cfg.Broker.WriteTimeout)
		cancel()
	}
	d.client.Disconnect(250)
	d.connected.Store(false)
	return nil
}

// handlers maps the device's subscriptions to their handlers.
func (d *Device) handlers() map[string]paho.MessageHandler {
	subs := map[string]paho.MessageHandler{
		d.topics.Ack(d.cfg.Device): d.onAck,
		d.topics.Global():          d.onGlobal,
		// A catch-up is a global adapter from this device's version to the
		// hub's, verified and applied exactly like the fleet's.
		d.topics.CatchUp(d.cfg.Device): d.onGlobal,
	}
	if d.opts.OnCommand != nil {
		subs[d.topics.Cmd(d.cfg.Device)] = func(_ paho.Client, m paho.Message) { d.opts.OnCommand(m.Payload()) }
	}
	return subs
}

func (d *Device) onConnect(c paho.Client) {
	// Subscribing every time, not only on a fresh session: a broker that
	// restarted without persistence forgot the subscriptions. Nothing is
	// sent before the ack subscription holds: it would only pile up
	// re-sends.
	if !SubscribeAll(d.runCtx, c, d.handlers(), d.cfg.Broker.WriteTimeout, d.log) {
		return
	}
	c.Publish(d.topics.Status(d.cfg.Device), 1, true, []byte("online"))
	d.count(func(s *DeviceStats) { s.Connects++ })
	d.connMu.Lock()
	d.connected.Store(c.IsConnectionOpen())
	d.connMu.Unlock()
	d.reconnect.Store(true)
	d.log.Info("sync: connected", "broker", d.cfg.Broker.URL, "outbox", d.opts.Outbox.Len(), "floor", d.floor.Version())
	signal(d.wake)
}

// sendLoop keeps exactly one outbox entry in flight: publish the oldest,
// wait for its ack (which removes it), and re-send it after AckTimeout or
// a reconnect.
func (d *Device) sendLoop(ctx context.Context) {
	tick := min(max(d.cfg.AckTimeout/4, 50*time.Millisecond), time.Second)
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	var (
		inflight uint64 // seq, 0 if none
		sentAt   time.Time
		sentOnce = map[uint64]bool{}
		lastSt   DeviceState
	)
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-d.opts.Outbox.Notify():
		case <-ticker.C:
		}
		if !d.connected.Load() {
			continue
		}
		if d.reconnect.Swap(false) {
			inflight = 0 // nothing in flight survives a reconnect for sure
			lastSt = DeviceState{}
		}
		if inflight != 0 && !slices.Contains(d.opts.Outbox.Seqs(), inflight) {
			delete(sentOnce, inflight)
			inflight = 0
		}
		if inflight != 0 && time.Since(sentAt) >= d.cfg.AckTimeout {
			d.log.Info("sync: no ack in time, sending again", "seq", inflight, "after", d.cfg.AckTimeout)
			inflight = 0
		}
		if inflight == 0 {
			e, err := d.opts.Outbox.Peek()
			switch {
			case errors.Is(err, outbox.ErrEmpty):
			case err != nil:
				d.log.Error("sync: outbox", "err", err)
			default:
				if err := publish(ctx, d.client, d.topics.Delta(d.cfg.Device), false, e.Data, d.cfg.Broker.WriteTimeout); err != nil {
					d.log.Warn("sync: publish failed; will retry", "seq", e.Seq, "err", err)
					break
				}
				inflight, sentAt = e.Seq, time.Now()
				resend := sentOnce[e.Seq]
				sentOnce[e.Seq] = true
				d.count(func(s *DeviceStats) {
					s.Publishes++
					if resend {
						s.Resends++
					}
				})
			}
		}
		if st := d.state(); st.ActiveVersion != lastSt.ActiveVersion || st.Floor != lastSt.Floor ||
			st.OutboxEntries != lastSt.OutboxEntries || st.Refused != lastSt.Refused || lastSt.Device == "" {
			if b, err := json.Marshal(st); err == nil {
				// Not recorded as sent unless the broker took it: the
				// next pass tries again.
				if err := publish(ctx, d.client, d.topics.State(d.cfg.Device), true, b, d.cfg.Broker.WriteTimeout); err == nil {
					lastSt = st
				}
			}
		}
	}
}

// publish sends at QoS 1 and waits for the PUBACK, for at most timeout and
// not past ctx. paho's Publish itself may block for its whole write
// timeout (a connection that just died, before paho noticed), so it runs
// on a goroutine of its own, which ends by then.
func publish(ctx context.Context, c paho.Client, topic string, retained bool, b []byte, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ch := make(chan paho.Token, 1)
	go func() { ch <- c.Publish(topic, 1, retained, b) }()
	select {
	case t := <-ch:
		return wait(ctx, t, timeout)
	case <-ctx.Done():
		if ctx.Err() == context.DeadlineExceeded {
			return errors.New("mqtt: no answer from the broker in time")
		}
		return ctx.Err()
	}
}

// wait waits for a paho token, for at most timeout and not past ctx.
func wait(ctx context.Context, t paho.Token, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return errors.New("mqtt: no answer from the broker in time")
	}
}

func (d *Device) state() DeviceState {
	s := d.opts.Outbox.Stats()
	d.mu.Lock()
	ref := d.lastRefusal
	d.mu.Unlock()
	return DeviceState{
		Device: d.cfg.Device, ActiveVersion: d.opts.Applier.Active(), Floor: d.floor.Version(),
		OutboxEntries: s.Entries, OutboxBytes: s.Bytes, UpdatedAt: d.now().UTC(), Refused: ref,
	}
}

// transient codes say the delta did not reach the hub intact or the hub
// cannot check it yet: keep it and send it again. Every other code is the
// hub's final word on that seq: StaleBase too, since the learner still
// holds that content and exports it again against the new base once
// ReadyToExport.
func transient(c wire.RejectCode) bool {
	switch c {
	case wire.Truncated, wire.BadChecksum, wire.BadSignature, wire.UnknownKey:
		return true
	}
	return false
}

func (d *Device) onAck(_ paho.Client, m paho.Message) {
	p, err := wire.Decode(m.Payload(), d.ackPol)
	if err == nil && p.Ack.Device != d.cfg.Device {
		err = fmt.Errorf("ack for device %q", p.Ack.Device)
	}
	if err != nil {
		d.count(func(s *DeviceStats) { s.BadAcks++ })
		d.log.Warn("sync: ack refused", "err", err)
		return
	}
	ev := AckEvent{Seq: p.Ack.Seq, Code: p.Ack.Code, HubVersion: p.Version}
	if transient(p.Ack.Code) {
		d.count(func(s *DeviceStats) { s.TransientAcks++ })
		d.log.Warn("sync: hub could not verify a delta; it will be sent again", "seq", ev.Seq, "code", ev.Code)
	} else {
		// The hub's version is recorded before the entry leaves the
		// outbox: ReadyToExport must never see an empty outbox with the
		// previous version, or the learner would export again before it
		// learnt from the global adapter whether this delta was merged,
		// and a merged export would be sent twice.
		d.mu.Lock()
		d.lastAckVer = max(d.lastAckVer, ev.HubVersion)
		d.mu.Unlock()
		if err := d.opts.Outbox.Ack(ev.Seq); err != nil {
			d.log.Error("sync: outbox ack", "seq", ev.Seq, "err", err)
			return
		}
		ev.Removed = true
		d.count(func(s *DeviceStats) { s.Acks++ })
		switch ev.Code {
		case wire.Accepted, wire.Replayed:
		case wire.StaleBase:
			d.log.Info("sync: delta against an old base not merged; the learner exports it again", "seq", ev.Seq, "hub_version", ev.HubVersion)
		default:
			d.log.Warn("sync: hub refused a delta for good", "seq", ev.Seq, "code", ev.Code)
		}
	}
	if d.opts.OnAck != nil {
		d.opts.OnAck(ev)
	}
	signal(d.wake)
}

// maxPendingGlobals bounds the verified adapters waiting to be applied
// (a reconnecting device receives every version its session queued).
const maxPendingGlobals = 256

// globKey identifies a queued adapter: a catch-up and the fleet's adapter
// may share a version but not a base.
type globKey struct{ version, base uint64 }

// onGlobal verifies a global adapter (the fleet's, or a catch-up sent to
// this device) and queues it for applyLoop; applying, with its health
// check, must not block the MQTT client.
func (d *Device) onGlobal(_ paho.Client, m paho.Message) {
	p, err := wire.Decode(m.Payload(), d.gloPol)
	if err != nil {
		d.refuse(GlobalEvent{Err: err})
		return
	}
	d.mu.Lock()
	if len(d.pendingGlob) >= maxPendingGlobals {
		delete(d.pendingGlob, slices.MinFunc(slices.Collect(maps.Keys(d.pendingGlob)), cmpGlobKey))
	}
	d.pendingGlob[globKey{p.Version, p.BaseVersion}] = p
	d.mu.Unlock()
	signal(d.globWake)
}

// cmpGlobKey orders by version, then base.
func cmpGlobKey(a, b globKey) int {
	return cmp.Or(cmp.Compare(a.version, b.version), cmp.Compare(a.base, b.base))
}

// nextGlobal picks the next adapter to apply. Each is a delta against its
// base version, so it prefers the one that reaches furthest from the
// active version (a catch-up beats the versions it spans); if none starts
// there, it takes the lowest version, as in-order delivery needs, and the
// Applier decides.
func (d *Device) nextGlobal() (*wire.Payload, uint64) {
	active := d.opts.Applier.Active()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.pendingGlob) == 0 {
		return nil, d.refused
	}
	keys := slices.Collect(maps.Keys(d.pendingGlob))
	k := slices.MinFunc(keys, cmpGlobKey)
	for _, c := range keys {
		if c.base == active && c.version > active && (k.base != active || c.version > k.version) {
			k = c
		}
	}
	g := d.pendingGlob[k]
	delete(d.pendingGlob, k)
	return g, d.refused
}

func (d *Device) refuse(ev GlobalEvent) {
	d.count(func(s *DeviceStats) { s.GlobalsRefused++ })
	switch {
	case errors.Is(ev.Err, ErrNotNewer) && ev.Version == d.floor.Version():
		// The retained copy of the adapter in use, on every reconnect.
		d.log.Debug("sync: global adapter already applied", "version", ev.Version)
	case errors.Is(ev.Err, ErrNotNewer),
		errors.Is(ev.Err, ErrApplyFailed) && ev.Version != 0 && ev.BaseVersion != d.opts.Applier.Active():
		// A version a catch-up already spanned, or one whose base this
		// device does not have yet (the versions before it or a
		// catch-up will come): nothing wrong with the adapter.
		d.log.Info("sync: global adapter not applicable now", "version", ev.Version, "base", ev.BaseVersion, "err", ev.Err)
	default:
		d.log.Warn("sync: global adapter refused", "version", ev.Version, "err", ev.Err)
		d.mu.Lock()
		// A re-delivery of the same version keeps its first report, so
		// the state is not republished every time.
		if d.lastRefusal == nil || d.lastRefusal.Version != ev.Version {
			d.lastRefusal = &Refusal{Version: ev.Version, Reason: ev.Err.Error(), At: d.now().UTC()}
		}
		d.mu.Unlock()
		signal(d.wake) // publish the state with the refusal
	}
	if d.opts.OnGlobal != nil {
		d.opts.OnGlobal(ev)
	}
}

func (d *Device) applyLoop(ctx context.Context) {
	for {
		g, refused := d.nextGlobal()
		if g == nil {
			select {
			case <-ctx.Done():
				return
			case <-d.globWake:
			}
			continue
		}
		if ctx.Err() != nil {
			return
		}
		ev := GlobalEvent{Version: g.Version, BaseVersion: g.BaseVersion, Merged: slices.Clone(g.Merged)}
		if g.Version == refused {
			ev.Err = fmt.Errorf("%w: version %d already failed its health check in this run", ErrUnhealthy, g.Version)
			d.refuse(ev)
			continue
		}
		ev.Err = applyGlobal(ctx, d.opts.Applier, d.floor, g, d.cfg.ApplyTimeout)
		if ev.Err != nil {
			// A bad adapter is not tried again on every re-delivery of the
			// retained copy; one that could not be applied yet (its base
			// is missing) may be, once the versions before it arrived.
			if errors.Is(ev.Err, ErrUnhealthy) {
				d.mu.Lock()
				d.refused = g.Version
				d.mu.Unlock()
			}
			d.refuse(ev)
			continue
		}
		d.count(func(s *DeviceStats) { s.GlobalsApplied++ })
		d.log.Info("sync: global adapter applied", "version", g.Version, "base", g.BaseVersion, "merged", len(g.Merged))
		if d.opts.OnGlobal != nil {
			d.opts.OnGlobal(ev)
		}
		signal(d.wake) // publish the new state
	}
}
