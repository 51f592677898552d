package daemon

import "github.com/prometheus/client_golang/prometheus"

// fleetCollector exports FleetStatus at scrape time, so the figures are
// never stale and the sync path pays nothing per event.
type fleetCollector struct {
	f     *Fleet
	descs map[string]*prometheus.Desc
}

var fleetMetricHelp = map[string]string{
	"clipfleet_sync_connected":             "1 while the MQTT session to the fleet broker is up.",
	"clipfleet_sync_active_version":        "Fleet version the learner's state is based on.",
	"clipfleet_sync_version_floor":         "Version of the last committed global adapter; only newer ones are accepted (no rollback).",
	"clipfleet_sync_outbox_entries":        "Deltas waiting for the hub's ack.",
	"clipfleet_sync_outbox_bytes":          "Bytes of the waiting deltas.",
	"clipfleet_sync_outbox_dropped_total":  "Deltas evicted (outbox full) or expired before they were acked.",
	"clipfleet_sync_exports_total":         "Deltas exported by the learner and queued.",
	"clipfleet_sync_export_errors_total":   "Exports that failed.",
	"clipfleet_sync_acks_total":            "Hub acks that removed a delta from the outbox.",
	"clipfleet_sync_globals_applied_total": "Global adapters applied and committed.",
	"clipfleet_sync_globals_refused_total": "Global adapters refused: not newer, bad signature, failed health check, or not applicable.",
	"clipfleet_sync_residual_norm":         "L2 norm of the compression error not yet sent to the fleet.",
}

// Collector returns the Prometheus collector of the sync state; register
// it with Daemon.Register.
func (f *Fleet) Collector() prometheus.Collector {
	c := &fleetCollector{f: f, descs: map[string]*prometheus.Desc{}}
	for name, help := range fleetMetricHelp {
		c.descs[name] = prometheus.NewDesc(name, help, nil, prometheus.Labels{"fleet": f.cfg.Fleet, "device": f.cfg.Device})
	}
	return c
}

func (c *fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *fleetCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.f.Status()
	b := 0.0
	if st.Connected {
		b = 1
	}
	gauge := func(name string, v float64) {
		ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.GaugeValue, v)
	}
	counter := func(name string, v uint64) {
		ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.CounterValue, float64(v))
	}
	gauge("clipfleet_sync_connected", b)
	gauge("clipfleet_sync_active_version", float64(st.ActiveVersion))
	gauge("clipfleet_sync_version_floor", float64(st.Floor))
	gauge("clipfleet_sync_outbox_entries", float64(st.OutboxEntries))
	gauge("clipfleet_sync_outbox_bytes", float64(st.OutboxBytes))
	gauge("clipfleet_sync_residual_norm", st.ResidualNorm)
	counter("clipfleet_sync_outbox_dropped_total", st.OutboxDropped)
	counter("clipfleet_sync_exports_total", st.Exports)
	counter("clipfleet_sync_export_errors_total", st.ExportErrors)
	counter("clipfleet_sync_acks_total", st.Acks)
	counter("clipfleet_sync_globals_applied_total", st.GlobalsApplied)
	counter("clipfleet_sync_globals_refused_total", st.GlobalsRefused)
}
