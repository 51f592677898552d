package boards

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clipfleet/clipfleet/capture"
)

// ThermalState is the thermal verdict for the daemon.
type ThermalState int

const (
	ThermalOK       ThermalState = iota // below the soft limit: full rate
	ThermalThrottle                     // above the soft limit: shed load
	ThermalCritical                     // above the hard limit: do the minimum
)

func (s ThermalState) String() string {
	switch s {
	case ThermalOK:
		return "ok"
	case ThermalThrottle:
		return "throttle"
	case ThermalCritical:
		return "critical"
	}
	return fmt.Sprintf("ThermalState(%d)", int(s))
}

// MarshalText makes the state read as its name in JSON and logs.
func (s ThermalState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Frame-rate factors: throttling ramps from throttleMaxFactor at the soft
// limit to throttleMinFactor at the hard one, so load falls as the heat
// rises instead of in one step; critical keeps a trickle of frames so the
// daemon still sees (and can report) what the robot sees.
const (
	throttleMaxFactor = 0.75
	throttleMinFactor = 0.25
	criticalFactor    = 0.1
)

// ThermalStatus is one evaluation of the sensors.
type ThermalStatus struct {
	State ThermalState `json:"state"`
	// MaxC is the hottest watched sensor's temperature, Hottest its zone
	// and type ("thermal_zone1 (gpu-thermal)").
	MaxC    float64 `json:"max_c"`
	Hottest string  `json:"hottest"`
	// FrameFactor is the suggested multiplier on the capture frame rate
	// (1 in ok, 0.25–0.75 in throttle, 0.1 in critical).
	FrameFactor float64   `json:"frame_factor"`
	Readings    []Reading `json:"readings"`
	At          time.Time `json:"at"`
}

// ErrNoThermalData is returned by Check when no watched sensor gave a
// usable reading; the state is then left as it was.
var ErrNoThermalData = errors.New("boards: no usable thermal reading")

// Thermal watches a board's sensors and turns them into a ThermalState.
// It is safe for concurrent use.
type Thermal struct {
	fsys   fs.FS
	limits ThermalLimits
	clock  capture.Clock
	log    *slog.Logger

	mu      sync.Mutex
	status  ThermalStatus
	failing string // sorted failing sensor files, logged when it changes
}

// NewThermal returns a monitor of the sensors under fsys against limits.
// clock and log may be nil (wall clock, no logging). limits must have
// 0 < SoftC < HardC (Config.Validate and Resolve ensure it).
func NewThermal(fsys fs.FS, limits ThermalLimits, clock capture.Clock, log *slog.Logger) *Thermal {
	if clock == nil {
		clock = capture.SystemClock()
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if limits.HysteresisC <= 0 {
		limits.HysteresisC = DefaultHysteresisC
	}
	return &Thermal{fsys: fsys, limits: limits, clock: clock, log: log,
		status: ThermalStatus{State: ThermalOK, FrameFactor: 1}}
}

// Status returns the last evaluation (state ok and factor 1 before the
// first Check).
func (t *Thermal) Status() ThermalStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status
}

// Check reads the sensors once, updates the state and logs a change of
// state (warn when heating up, info when cooling down) or of the set of
// sensors that fail to read.
func (t *Thermal) Check() (ThermalStatus, error) {
	readings, err := ReadSensors(t.fsys, t.limits)
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		return t.status, err
	}
	var errs []error
	var failing []string
	maxC, hottest, usable := 0.0, "", false
	for _, r := range readings {
		if !r.Watched {
			continue
		}
		if r.Err != nil {
			errs = append(errs, r.Err)
			failing = append(failing, r.Path)
			continue
		}
		if !usable || r.TempC > maxC {
			maxC, hottest, usable = r.TempC, r.Zone+" ("+r.Type+")", true
		}
	}
	sort.Strings(failing)
	if f := strings.Join(failing, ","); f != t.failing {
		if len(errs) > 0 {
			t.log.Warn("boards: thermal sensors unreadable", "err", errors.Join(errs...))
		} else {
			t.log.Info("boards: thermal sensors readable again")
		}
		t.failing = f
	}
	if !usable {
		errs = append([]error{ErrNoThermalData}, errs...)
		return t.status, errors.Join(errs...)
	}
	prev := t.status.State
	state := nextState(prev, maxC, t.limits)
	t.status = ThermalStatus{State: state, MaxC: maxC, Hottest: hottest,
		FrameFactor: frameFactor(state, maxC, t.limits), Readings: readings, At: now}
	if state != prev {
		attrs := []any{"from", prev, "to", state, "temp_c", maxC, "sensor", hottest,
			"soft_c", t.limits.SoftC, "hard_c", t.limits.HardC, "frame_factor", t.status.FrameFactor}
		if state > prev {
			t.log.Warn("boards: thermal state rising", attrs...)
		} else {
			t.log.Info("boards: thermal state falling", attrs...)
		}
	}
	return t.status, nil
}

// Run checks every interval until ctx ends, passing each successful status
// to notify (which may be nil). Read failures are logged by Check and do
// not stop it. It returns ctx's cause.
func (t *Thermal) Run(ctx context.Context, interval time.Duration, notify func(ThermalStatus)) error {
	if interval <= 0 {
		return fmt.Errorf("boards: thermal interval %s must be positive", interval)
	}
	tick := make(chan struct{}, 1)
	var timer capture.Timer
	for {
		if st, err := t.Check(); err == nil && notify != nil {
			notify(st)
		} else if err != nil && !errors.Is(err, ErrNoThermalData) {
			t.log.Warn("boards: thermal check failed", "err", err)
		}
		if timer == nil {
			timer = t.clock.AfterFunc(interval, func() { tick <- struct{}{} })
		} else {
			timer.Reset(interval)
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return context.Cause(ctx)
		case <-tick:
		}
	}
}

// nextState moves from prev toward the state temp calls for: straight up
// when heating, but down only once temp is HysteresisC below the limit
// that put it there.
func nextState(prev ThermalState, temp float64, l ThermalLimits) ThermalState {
	target := ThermalOK
	switch {
	case temp >= l.HardC:
		target = ThermalCritical
	case temp >= l.SoftC:
		target = ThermalThrottle
	}
	if target >= prev {
		return target
	}
	s := prev
	for s > target && temp < limitOf(s, l)-l.HysteresisC {
		s--
	}
	return s
}

func limitOf(s ThermalState, l ThermalLimits) float64 {
	if s == ThermalCritical {
		return l.HardC
	}
	return l.SoftC
}

func frameFactor(s ThermalState, temp float64, l ThermalLimits) float64 {
	switch s {
	case ThermalOK:
		return 1
	case ThermalCritical:
		return criticalFactor
	}
	f := throttleMaxFactor - (throttleMaxFactor-throttleMinFactor)*(temp-l.SoftC)/(l.HardC-l.SoftC)
	return min(max(f, throttleMinFactor), throttleMaxFactor)
}

// UnmarshalText parses a state name, so reports round-trip through JSON.
func (s *ThermalState) UnmarshalText(b []byte) error {
	for _, v := range []ThermalState{ThermalOK, ThermalThrottle, ThermalCritical} {
		if string(b) == v.String() {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("boards: unknown thermal state %q (want ok, throttle or critical)", b)
}
