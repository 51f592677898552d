package daemon

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/accel/acceltest"
	"github.com/clipfleet/clipfleet/boards"
	"github.com/clipfleet/clipfleet/capture/capturetest"
)

func TestThermalMetricsOnDaemonEndpoint(t *testing.T) {
	g := startGrabber(t, capturetest.New("cam", capturetest.Frames(1<<30, 8, 8)), false)
	d, err := New(Options{Frames: g, Encoder: acceltest.New(acceltest.Config{ID: "fake-v1"})})
	if err != nil {
		t.Fatal(err)
	}
	th := NewThrottle(g, time.Second/30, nil)
	m := NewThermalMetrics(th)
	if err := d.Register(m); err != nil {
		t.Fatal(err)
	}
	if err := d.Register(NewThermalMetrics(nil)); err == nil {
		t.Fatal("registering the thermal gauges twice succeeded")
	}
	srv := httptest.NewServer(d.Handler())
	defer srv.Close()

	steps := []struct {
		st   boards.ThermalStatus
		want []string
		gone []string
	}{
		{
			st: boards.ThermalStatus{State: boards.ThermalThrottle, FrameFactor: 0.5, Readings: []boards.Reading{
				{Zone: "thermal_zone0", Type: "cpu-thermal", TempC: 88.5, Watched: true},
				{Zone: "thermal_zone2", Type: "cv0-thermal", Err: errors.New("off")},
			}},
			want: []string{
				"clipfleet_thermal_state 1", "clipfleet_thermal_frame_factor 0.5",
				`clipfleet_thermal_temperature_celsius{type="cpu-thermal",watched="true",zone="thermal_zone0"} 88.5`,
				"clipfleet_thermal_paced_frames_total 0", "clipfleet_thermal_throttle_wait_seconds_total 0",
			},
			gone: []string{"cv0-thermal"},
		},
		{
			st: boards.ThermalStatus{State: boards.ThermalCritical, FrameFactor: 0.1, Readings: []boards.Reading{
				{Zone: "thermal_zone0", Type: "cpu-thermal", Err: errors.New("gone"), Watched: true},
			}},
			want: []string{"clipfleet_thermal_state 2", "clipfleet_thermal_frame_factor 0.1"},
			// A sensor that stops reading loses its stale value.
			gone: []string{"cpu-thermal"},
		},
	}
	for i, s := range steps {
		m.Update(s.st)
		_, body := get(t, srv.URL+"/metrics")
		for _, w := range s.want {
			if !strings.Contains(body, w) {
				t.Fatalf("step %d: /metrics lacks %q", i, w)
			}
		}
		for _, g := range s.gone {
			if strings.Contains(body, g) {
				t.Fatalf("step %d: /metrics still has %q", i, g)
			}
		}
	}
}
