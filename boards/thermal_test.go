package boards

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/clipfleet/clipfleet/capture/capturetest"
)

func profileOf(t *testing.T, fsys fs.FS) Profile {
	t.Helper()
	d, err := Detect(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return d.Profile
}

func TestReadSensorsFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		zones   int
		watched []string // types that count
		errs    int      // readings with errors
		maxC    float64
		hottest string
	}{
		{"jetson-orin-nano", 9, []string{"cpu-thermal", "gpu-thermal", "soc0-thermal", "soc1-thermal", "soc2-thermal", "tj-thermal"}, 3, 48.531, "thermal_zone0 (cpu-thermal)"},
		{"jetson-nano", 6, []string{"AO-therm", "CPU-therm", "GPU-therm", "PLL-therm"}, 0, 40.5, "thermal_zone0 (AO-therm)"},
		{"jetson-xavier-nx", 6, []string{"CPU-therm", "GPU-therm", "AUX-therm", "AO-therm"}, 0, 41.5, "thermal_zone0 (CPU-therm)"},
		{"coral-dev-board", 2, []string{"cpu-thermal", "edgetpu"}, 0, 45, "thermal_zone0 (cpu-thermal)"},
		{"coral-usb-on-x86", 4, []string{"acpitz", "x86_pkg_temp", "pch_cannonlake"}, 0, 52, "thermal_zone2 (x86_pkg_temp)"},
		{"raspberry-pi-5", 1, []string{"cpu-thermal"}, 0, 55.1, "thermal_zone0 (cpu-thermal)"},
		{"generic-x86_64", 2, []string{"acpitz", "x86_pkg_temp"}, 0, 45, "thermal_zone1 (x86_pkg_temp)"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			fsys := fixture(t, tt.fixture)
			p := profileOf(t, fsys)
			rs, err := ReadSensors(fsys, p.Thermal)
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != tt.zones {
				t.Fatalf("%d readings, want %d: %+v", len(rs), tt.zones, rs)
			}
			var watched []string
			errs := 0
			for _, r := range rs {
				if r.Watched {
					watched = append(watched, r.Type)
				}
				if r.Err != nil {
					errs++
					// The error names the file and the reading is not
					// watched, so it does not count.
					if !strings.Contains(r.Err.Error(), "/"+r.Path) || r.Watched {
						t.Errorf("reading %+v: error %v", r, r.Err)
					}
				}
			}
			if strings.Join(watched, ",") != strings.Join(tt.watched, ",") {
				t.Errorf("watched %v, want %v", watched, tt.watched)
			}
			if errs != tt.errs {
				t.Errorf("%d errors, want %d", errs, tt.errs)
			}
			st, err := NewThermal(fsys, p.Thermal, nil, nil).Check()
			if err != nil {
				t.Fatal(err)
			}
			if st.State != ThermalOK || st.MaxC != tt.maxC || st.Hottest != tt.hottest || st.FrameFactor != 1 {
				t.Errorf("status %s max %g at %s factor %g; want ok max %g at %s factor 1", st.State, st.MaxC, st.Hottest, st.FrameFactor, tt.maxC, tt.hottest)
			}
		})
	}
}

func TestReadSensorsMalformed(t *testing.T) {
	const temp = "sys/class/thermal/thermal_zone0/temp"
	tests := []struct {
		name, value string
		wantErr     string // "" = valid
		wantC       float64
	}{
		{"millidegrees", "48500\n", "", 48.5},
		{"negative", "-5000\n", "", -5},
		{"not a number", "n/a\n", `"n/a" is not an integer`, 0},
		{"empty", "", `"" is not an integer`, 0},
		{"decimal degrees", "48.5\n", `"48.5" is not an integer`, 0},
		{"sensor off", "-256000\n", "-256 °C is outside", 0},
		{"saturated", "511000\n", "511 °C is outside", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := fstest.MapFS{
				"sys/class/thermal/thermal_zone0/type": file("cpu-thermal\n"),
				temp:                                   file(tt.value),
			}
			rs, err := ReadSensors(m, ThermalLimits{})
			if err != nil || len(rs) != 1 {
				t.Fatalf("ReadSensors = %+v, %v", rs, err)
			}
			r := rs[0]
			if tt.wantErr == "" {
				if r.Err != nil || r.TempC != tt.wantC {
					t.Fatalf("reading %+v, want %g °C", r, tt.wantC)
				}
				return
			}
			if r.Err == nil || !errors.Is(r.Err, ErrBadSensor) || !strings.Contains(r.Err.Error(), "/"+temp) || !strings.Contains(r.Err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want ErrBadSensor naming /%s and %q", r.Err, temp, tt.wantErr)
			}
		})
	}
}

func TestReadSensorsOrderAndMissingFiles(t *testing.T) {
	m := fstest.MapFS{"sys/class/thermal/cooling_device0/type": file("Processor\n")}
	for _, n := range []int{10, 2, 0} {
		m[fmt.Sprintf("sys/class/thermal/thermal_zone%d/type", n)] = file(fmt.Sprintf("z%d\n", n))
		m[fmt.Sprintf("sys/class/thermal/thermal_zone%d/temp", n)] = file(fmt.Sprintf("%d000\n", 30+n))
	}
	delete(m, "sys/class/thermal/thermal_zone2/temp")
	rs, err := ReadSensors(m, ThermalLimits{Extra: []Sensor{{Name: "edgetpu", Path: "sys/class/apex/apex_0/temp"}}})
	if err != nil {
		t.Fatal(err)
	}
	var zones []string
	for _, r := range rs {
		zones = append(zones, r.Zone)
	}
	// Numeric order (not "10" before "2"); cooling devices and the absent
	// optional Edge TPU sensor are left out.
	if strings.Join(zones, ",") != "thermal_zone0,thermal_zone2,thermal_zone10" {
		t.Fatalf("zones %v", zones)
	}
	if rs[1].Err == nil || !errors.Is(rs[1].Err, fs.ErrNotExist) || !strings.Contains(rs[1].Err.Error(), "thermal_zone2/temp") {
		t.Fatalf("missing temp file: %v", rs[1].Err)
	}
	if rs, err := ReadSensors(fstest.MapFS{}, ThermalLimits{}); err != nil || len(rs) != 0 {
		t.Fatalf("no thermal class: %v, %v; want no readings and no error", rs, err)
	}
}

func TestWatches(t *testing.T) {
	l := ThermalLimits{Watch: []string{"cpu-*", "tj-thermal"}, Ignore: []string{"cpu-fake"}}
	for typ, want := range map[string]bool{"cpu-thermal": true, "tj-thermal": true, "gpu-thermal": false, "cpu-fake": false} {
		if got := l.watches(typ); got != want {
			t.Errorf("watches(%q) = %v, want %v", typ, got, want)
		}
	}
	if !(ThermalLimits{}).watches("anything") {
		t.Error("empty Watch must watch every zone")
	}
}

func TestNextState(t *testing.T) {
	l := ThermalLimits{SoftC: 80, HardC: 90, HysteresisC: 3}
	tests := []struct {
		prev ThermalState
		temp float64
		want ThermalState
	}{
		{ThermalOK, 79.9, ThermalOK},
		{ThermalOK, 80, ThermalThrottle},
		{ThermalOK, 95, ThermalCritical}, // straight up
		{ThermalThrottle, 79, ThermalThrottle},
		{ThermalThrottle, 77.1, ThermalThrottle},
		{ThermalThrottle, 76.9, ThermalOK},
		{ThermalCritical, 88, ThermalCritical},
		{ThermalCritical, 86.9, ThermalThrottle},
		{ThermalCritical, 78, ThermalThrottle}, // below soft, within its hysteresis
		{ThermalCritical, 70, ThermalOK},       // both steps at once
		{ThermalThrottle, 91, ThermalCritical},
	}
	for _, tt := range tests {
		if got := nextState(tt.prev, tt.temp, l); got != tt.want {
			t.Errorf("nextState(%s, %g) = %s, want %s", tt.prev, tt.temp, got, tt.want)
		}
	}
}

func TestFrameFactor(t *testing.T) {
	l := ThermalLimits{SoftC: 80, HardC: 90}
	tests := []struct {
		state ThermalState
		temp  float64
		want  float64
	}{
		{ThermalOK, 50, 1},
		{ThermalThrottle, 80, 0.75},
		{ThermalThrottle, 85, 0.5},
		{ThermalThrottle, 89.9, 0.255},
		{ThermalThrottle, 78, 0.75}, // held by hysteresis below soft
		{ThermalThrottle, 95, 0.25}, // clamped
		{ThermalCritical, 95, 0.1},
	}
	for _, tt := range tests {
		if got := frameFactor(tt.state, tt.temp, l); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("frameFactor(%s, %g) = %g, want %g", tt.state, tt.temp, got, tt.want)
		}
	}
}

// zoneFS is a one-zone tree whose temperature a test changes between checks.
func zoneFS(milli string) fstest.MapFS {
	return fstest.MapFS{
		"sys/class/thermal/thermal_zone0/type": file("cpu-thermal\n"),
		"sys/class/thermal/thermal_zone0/temp": file(milli + "\n"),
	}
}

func TestThermalCheckSequence(t *testing.T) {
	log, buf := newTestLogger(slog.LevelInfo)
	clk := capturetest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	m := zoneFS("50000")
	th := NewThermal(m, ThermalLimits{SoftC: 80, HardC: 90}, clk, log)
	steps := []struct {
		milli  string
		state  ThermalState
		factor float64
	}{
		{"50000", ThermalOK, 1},
		{"85000", ThermalThrottle, 0.5},
		{"92000", ThermalCritical, 0.1},
		{"88000", ThermalCritical, 0.1}, // within hysteresis of 90
		{"86000", ThermalThrottle, 0.45},
		{"78000", ThermalThrottle, 0.75},
		{"60000", ThermalOK, 1},
	}
	for i, s := range steps {
		m["sys/class/thermal/thermal_zone0/temp"] = file(s.milli + "\n")
		clk.Advance(time.Second)
		st, err := th.Check()
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if st.State != s.state || math.Abs(st.FrameFactor-s.factor) > 1e-9 || !st.At.Equal(clk.Now()) {
			t.Fatalf("step %d (%s m°C): %s factor %g at %v; want %s factor %g at %v", i, s.milli, st.State, st.FrameFactor, st.At, s.state, s.factor, clk.Now())
		}
		if th.Status().State != s.state {
			t.Fatalf("Status disagrees with Check")
		}
	}
	out := buf.String()
	// One line per change of state, warnings going up, info coming down.
	for _, want := range []string{
		`level=WARN msg="boards: thermal state rising" from=ok to=throttle temp_c=85`,
		`level=WARN msg="boards: thermal state rising" from=throttle to=critical temp_c=92`,
		`level=INFO msg="boards: thermal state falling" from=critical to=throttle temp_c=86`,
		`level=INFO msg="boards: thermal state falling" from=throttle to=ok temp_c=60`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s\n%s", want, out)
		}
	}
	if n := strings.Count(out, "thermal state"); n != 4 {
		t.Errorf("%d state lines, want 4:\n%s", n, out)
	}
}

func TestThermalCheckErrors(t *testing.T) {
	log, buf := newTestLogger(slog.LevelInfo)
	m := zoneFS("85000")
	th := NewThermal(m, ThermalLimits{SoftC: 80, HardC: 90}, nil, log)
	if st, err := th.Check(); err != nil || st.State != ThermalThrottle {
		t.Fatalf("Check = %s, %v", st.State, err)
	}
	m["sys/class/thermal/thermal_zone0/temp"] = file("garbage\n")
	for range 2 {
		st, err := th.Check()
		if !errors.Is(err, ErrNoThermalData) || !errors.Is(err, ErrBadSensor) || !strings.Contains(err.Error(), "thermal_zone0/temp") {
			t.Fatalf("err = %v, want ErrNoThermalData and ErrBadSensor naming the file", err)
		}
		if st.State != ThermalThrottle {
			t.Fatalf("state %s after a failed read, want the previous throttle", st.State)
		}
	}
	m["sys/class/thermal/thermal_zone0/temp"] = file("50000\n")
	if st, err := th.Check(); err != nil || st.State != ThermalOK {
		t.Fatalf("Check = %s, %v", st.State, err)
	}
	out := buf.String()
	// The failure is logged once while it persists, and its end once.
	if strings.Count(out, "thermal sensors unreadable") != 1 || strings.Count(out, "thermal sensors readable again") != 1 {
		t.Errorf("want one unreadable and one readable-again line:\n%s", out)
	}

	// A partly broken set still gives a state from the sensors that work.
	m["sys/class/thermal/thermal_zone1/type"] = file("gpu-thermal\n")
	m["sys/class/thermal/thermal_zone1/temp"] = file("x\n")
	if st, err := th.Check(); err != nil || st.MaxC != 50 {
		t.Fatalf("Check with one bad sensor = %+v, %v", st, err)
	}
}

func TestThermalRun(t *testing.T) {
	clk := capturetest.NewClock(time.Unix(0, 0))
	m := zoneFS("50000")
	th := NewThermal(m, ThermalLimits{SoftC: 80, HardC: 90}, clk, nil)
	ctx, cancel := context.WithCancelCause(context.Background())
	statuses := make(chan ThermalStatus, 10)
	done := make(chan error, 1)
	go func() { done <- th.Run(ctx, 5*time.Second, func(s ThermalStatus) { statuses <- s }) }()

	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	next := func() ThermalStatus {
		select {
		case s := <-statuses:
			return s
		case <-wctx.Done():
			t.Fatal("no status")
		}
		return ThermalStatus{}
	}
	if s := next(); s.State != ThermalOK || !s.At.Equal(time.Unix(0, 0)) {
		t.Fatalf("first status %+v, want ok at start", s)
	}
	if err := clk.WaitPending(wctx, 1); err != nil {
		t.Fatal(err)
	}
	// Changed while Run waits on the timer, which orders it before the
	// next read.
	m["sys/class/thermal/thermal_zone0/temp"] = file("95000\n")
	clk.Advance(5 * time.Second)
	if s := next(); s.State != ThermalCritical || !s.At.Equal(time.Unix(5, 0)) {
		t.Fatalf("second status %+v, want critical 5 s later", s)
	}
	if err := clk.WaitPending(wctx, 1); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("test over")
	cancel(stop)
	if err := <-done; !errors.Is(err, stop) {
		t.Fatalf("Run = %v, want the cancel cause", err)
	}
	if p := clk.Pending(); len(p) != 0 {
		t.Fatalf("Run left timers armed: %v", p)
	}
	if err := th.Run(context.Background(), 0, nil); err == nil {
		t.Fatal("Run accepted a zero interval")
	}
}

func TestThermalStateText(t *testing.T) {
	for _, s := range []ThermalState{ThermalOK, ThermalThrottle, ThermalCritical} {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back ThermalState
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Fatalf("%s → %q → %s, %v", s, b, back, err)
		}
	}
	var s ThermalState
	if err := s.UnmarshalText([]byte("hot")); err == nil || !strings.Contains(err.Error(), `"hot"`) {
		t.Fatalf("UnmarshalText(hot) = %v", err)
	}
}
