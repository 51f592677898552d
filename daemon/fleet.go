package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/internal/atomicfile"
	"github.com/clipfleet/clipfleet/sync/mqtt"
	"github.com/clipfleet/clipfleet/sync/outbox"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// FleetOptions wire fleet sync to a learner.
type FleetOptions struct {
	Config SyncConfig
	// StateDir is the daemon's state directory; sync state lives in
	// <StateDir>/sync unless the config names other directories.
	StateDir string
	Learner  *Learner
	Info     accel.ModelInfo
	Log      *slog.Logger
}

// Fleet ships the learner's local learning to the fleet hub and applies
// the fleet's merged adapters to it (see docs/sync.md): every
// export_interval, once the previous export is settled, the learner's delta
// is signed into the durable outbox, which the MQTT device drains as the
// link allows; verified global adapters go through the learner's A/B
// apply.
type Fleet struct {
	cfg    SyncConfig
	l      *Learner
	info   accel.ModelInfo
	log    *slog.Logger
	dev    *mqtt.Device
	ob     *outbox.Outbox
	ef     *wire.ErrorFeedback
	efPath string

	mu sync.Mutex
	st FleetStatus
}

// FleetStatus is what GET /api/v1/sync reports.
type FleetStatus struct {
	Fleet          string    `json:"fleet"`
	Device         string    `json:"device"`
	Connected      bool      `json:"connected"`
	ActiveVersion  uint64    `json:"active_version"`
	Floor          uint64    `json:"floor"`
	OutboxEntries  int       `json:"outbox_entries"`
	OutboxBytes    int64     `json:"outbox_bytes"`
	OutboxDropped  uint64    `json:"outbox_dropped"` // evicted (full) or expired, never sent
	Exports        uint64    `json:"exports"`
	LastExportSeq  uint64    `json:"last_export_seq"`
	LastExportAt   time.Time `json:"last_export_at,omitzero"`
	ExportErrors   uint64    `json:"export_errors"`
	Acks           uint64    `json:"acks"`
	GlobalsApplied uint64    `json:"globals_applied"`
	GlobalsRefused uint64    `json:"globals_refused"`
	LastRefusal    string    `json:"last_refusal,omitempty"`
	ResidualNorm   float64   `json:"residual_norm"` // compression error not yet sent
}

// OpenFleet loads the device key and the hubs' keys, opens the outbox and
// the error-feedback state, and builds the MQTT device. Nothing connects
// until Run.
func OpenFleet(o FleetOptions) (*Fleet, error) {
	if o.Learner == nil {
		return nil, errors.New("daemon: fleet sync needs the learner (learn.enabled)")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	cfg := o.Config.resolve(o.StateDir)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	key, err := mqtt.LoadPrivateKey(cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("sync.key_file: %w", err)
	}
	hubKeys, err := mqtt.LoadKeyDir(cfg.HubKeysDir)
	if err != nil {
		return nil, fmt.Errorf("sync.hub_keys_dir: %w", err)
	}
	if len(hubKeys) == 0 {
		return nil, fmt.Errorf("sync.hub_keys_dir %s: no <hub>.pub file: nothing the device receives could be verified", cfg.HubKeysDir)
	}
	ring := wire.NewKeyring(cfg.Fleet)
	for id, pub := range hubKeys {
		if err := ring.AddHub(id, pub); err != nil {
			return nil, fmt.Errorf("sync.hub_keys_dir: %s: %w", id, err)
		}
	}
	o.Learner.mu.Lock()
	o.Learner.health = cfg.Health
	o.Learner.mu.Unlock()
	f := &Fleet{cfg: cfg, l: o.Learner, info: o.Info, log: o.Log.With("component", "sync"),
		efPath: filepath.Join(cfg.StateDir, "feedback.bin")}
	f.st.Fleet, f.st.Device = cfg.Fleet, cfg.Device
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("sync.state_dir: %w", err)
	}
	f.ef = wire.NewErrorFeedback()
	switch b, err := os.ReadFile(f.efPath); {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("daemon: sync error feedback: %w", err)
	default:
		if err := f.ef.UnmarshalBinary(b); err != nil {
			// Losing residuals loses a little precision, never a delta.
			f.log.Warn("sync error-feedback state unreadable; starting without residuals", "file", f.efPath, "err", err)
			f.ef.Reset()
		}
	}
	if f.ob, err = outbox.Open(cfg.Outbox, f.log); err != nil {
		return nil, err
	}
	f.dev, err = mqtt.NewDevice(mqtt.DeviceOptions{
		Config: cfg.Config, Key: key, HubKeys: ring, Outbox: f.ob, Applier: o.Learner,
		Method: o.Learner.Method(), ModelID: o.Info.ID, Dim: o.Info.EmbeddingDim, PreprocessHash: o.Info.PreprocessHash,
		OnAck:    f.onAck,
		OnGlobal: f.onGlobal,
		Log:      f.log,
	})
	if err != nil {
		_ = f.ob.Close()
		return nil, err
	}
	f.log.Info("fleet sync ready", "fleet", cfg.Fleet, "device", cfg.Device, "broker", cfg.Broker.URL,
		"hubs", len(hubKeys), "active_version", o.Learner.Active(), "outbox_entries", f.ob.Len())
	return f, nil
}

// Run connects and serves until ctx ends: the MQTT device in the
// background, exports every export_interval. It closes the outbox when it
// returns.
func (f *Fleet) Run(ctx context.Context) error {
	defer f.ob.Close()
	devDone := make(chan error, 1)
	go func() { devDone <- f.dev.Run(ctx) }()
	t := time.NewTicker(f.cfg.ExportInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if _, err := f.Export(); err != nil {
				f.log.Error("fleet export failed", "err", err)
			}
		case err := <-devDone:
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// Export queues the learner's delta if the previous export is settled and
// something was learned since; it returns the delta's sequence number (0:
// nothing queued).
func (f *Fleet) Export() (uint64, error) {
	if !f.dev.ReadyToExport() {
		return 0, nil
	}
	seq, err := f.export()
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		f.st.ExportErrors++
		return 0, err
	}
	if seq != 0 {
		f.st.Exports++
		f.st.LastExportSeq, f.st.LastExportAt = seq, time.Now()
	}
	return seq, nil
}

func (f *Fleet) export() (uint64, error) {
	d, err := f.l.ExportDelta()
	if err != nil || d == nil {
		return 0, err
	}
	p, err := wire.FromDelta(d, f.cfg.Wire.Compression, f.ef)
	if err != nil {
		return 0, fmt.Errorf("daemon: export: %w", err)
	}
	p.PreprocessHash = f.info.PreprocessHash
	seq, err := f.dev.Enqueue(p)
	if err != nil {
		return 0, fmt.Errorf("daemon: export: %w", err)
	}
	f.saveFeedback()
	f.log.Info("fleet delta queued", "seq", seq, "base", d.BaseVersion, "classes", len(d.Classes),
		"tensors", len(d.Tensors), "samples", len(d.Samples), "examples", d.Examples)
	return seq, nil
}

func (f *Fleet) saveFeedback() {
	b, err := f.ef.MarshalBinary()
	if err == nil {
		err = atomicfile.WriteFile(f.efPath, b, 0o600)
	}
	if err != nil {
		f.log.Warn("sync error-feedback state not saved", "err", err)
	}
}

func (f *Fleet) onAck(ev mqtt.AckEvent) {
	f.log.Debug("fleet ack", "seq", ev.Seq, "code", ev.Code, "hub_version", ev.HubVersion)
}

func (f *Fleet) onGlobal(ev mqtt.GlobalEvent) {
	if ev.Err != nil {
		f.mu.Lock()
		f.st.LastRefusal = fmt.Sprintf("version %d: %v", ev.Version, ev.Err)
		f.mu.Unlock()
		f.log.Warn("fleet adapter refused", "version", ev.Version, "base", ev.BaseVersion, "err", ev.Err)
		return
	}
	included := f.ef.ApplyMerged(ev.Merged)
	f.saveFeedback()
	f.log.Info("fleet adapter applied", "version", ev.Version, "base", ev.BaseVersion, "merged_exports", len(ev.Merged),
		"includes_ours", included)
}

// Status reports the sync state.
func (f *Fleet) Status() FleetStatus {
	ds := f.dev.Stats()
	f.mu.Lock()
	st := f.st
	f.mu.Unlock()
	st.Connected, st.Acks, st.GlobalsApplied, st.GlobalsRefused = ds.Connected, ds.Acks, ds.GlobalsApplied, ds.GlobalsRefused
	st.ActiveVersion, st.Floor = f.l.Active(), f.dev.Floor()
	os := f.ob.Stats()
	st.OutboxEntries, st.OutboxBytes, st.OutboxDropped = os.Entries, os.Bytes, os.Dropped+os.Expired
	st.ResidualNorm = f.ef.Norm()
	return st
}

// WithFleet adds GET /api/v1/sync (FleetStatus) and POST /api/v1/sync/export
// (export now, if the previous export is settled) to the debug API.
func WithFleet(base http.Handler, f *Fleet) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", base)
	mux.HandleFunc("GET /api/v1/sync", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, f.Status()) })
	mux.HandleFunc("POST /api/v1/sync/export", func(w http.ResponseWriter, r *http.Request) {
		seq, err := f.Export()
		if err != nil {
			writeJSONStatus(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, map[string]uint64{"queued_seq": seq})
	})
	return mux
}
