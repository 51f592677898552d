package daemon

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clipfleet/clipfleet/boards"
)

// Register adds collectors to the daemon's /metrics registry, for parts
// the daemon does not own (thermal monitor, throttle).
func (d *Daemon) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := d.metrics.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// ThermalMetrics exports a board's thermal status and the frame throttle
// it drives. Register it on the daemon with Daemon.Register and call
// Update with every status the monitor reports.
type ThermalMetrics struct {
	temp   *prometheus.GaugeVec
	state  prometheus.Gauge
	factor prometheus.Gauge
	waited prometheus.CounterFunc
	paced  prometheus.CounterFunc
}

// NewThermalMetrics builds the gauges; throttle may be nil when frames are
// not throttled.
func NewThermalMetrics(throttle *Throttle) *ThermalMetrics {
	m := &ThermalMetrics{
		temp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "clipfleet_thermal_temperature_celsius", Help: "Last reading of each board temperature sensor.",
		}, []string{"zone", "type", "watched"}),
		state: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "clipfleet_thermal_state", Help: "Thermal state: 0 ok, 1 throttle, 2 critical.",
		}),
		factor: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "clipfleet_thermal_frame_factor", Help: "Fraction of the natural frame rate the pipeline runs at because of heat.",
		}),
	}
	m.factor.Set(1)
	if throttle != nil {
		m.waited = prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "clipfleet_thermal_throttle_wait_seconds_total", Help: "Time the capture stage waited to lower the frame rate because of heat.",
		}, func() float64 { return throttle.Stats().Waited.Seconds() })
		m.paced = prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "clipfleet_thermal_paced_frames_total", Help: "Frames taken late to lower the frame rate because of heat.",
		}, func() float64 { return float64(throttle.Stats().Paced) })
	}
	return m
}

// Describe implements prometheus.Collector.
func (m *ThermalMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *ThermalMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

func (m *ThermalMetrics) collectors() []prometheus.Collector {
	cs := []prometheus.Collector{m.temp, m.state, m.factor}
	if m.waited != nil {
		cs = append(cs, m.waited, m.paced)
	}
	return cs
}

// Update records a thermal status. A sensor that failed to read loses its
// gauge rather than keeping a stale temperature.
func (m *ThermalMetrics) Update(st boards.ThermalStatus) {
	m.state.Set(float64(st.State))
	m.factor.Set(st.FrameFactor)
	for _, r := range st.Readings {
		watched := "false"
		if r.Watched {
			watched = "true"
		}
		if r.Err != nil {
			m.temp.DeleteLabelValues(r.Zone, r.Type, watched)
			continue
		}
		m.temp.WithLabelValues(r.Zone, r.Type, watched).Set(r.TempC)
	}
}
