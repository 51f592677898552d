package daemon

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics lives on its own registry: libraries must not touch the global
// default one, and tests can run several daemons in one process.
type metrics struct {
	reg        *prometheus.Registry
	frames     prometheus.Counter
	dropped    prometheus.CounterFunc
	reconnects prometheus.CounterFunc
	errors     *prometheus.CounterVec
	preprocess prometheus.Histogram
	encode     prometheus.Histogram
	latency    prometheus.Histogram
	norm       prometheus.Gauge
	modelInfo  *prometheus.GaugeVec
}

func newMetrics(stats func() (dropped, reconnects uint64)) *metrics {
	buckets := prometheus.ExponentialBuckets(0.0005, 2, 14) // 0.5 ms .. ~4 s
	m := &metrics{
		reg: prometheus.NewRegistry(),
		frames: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clipfleet_frames_processed_total", Help: "Frames encoded and reported as events.",
		}),
		dropped: prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "clipfleet_frames_dropped_total", Help: "Frames the latest-frame grabber overwrote before the pipeline took them.",
		}, func() float64 { d, _ := stats(); return float64(d) }),
		reconnects: prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "clipfleet_capture_reconnects_total", Help: "Times the capture watchdog reopened the source.",
		}, func() float64 { _, r := stats(); return float64(r) }),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clipfleet_pipeline_errors_total", Help: "Pipeline errors by stage.",
		}, []string{"stage"}),
		preprocess: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "clipfleet_preprocess_seconds", Help: "Time to turn a frame into the model's input tensor.", Buckets: buckets,
		}),
		encode: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "clipfleet_encode_seconds", Help: "Image encoder inference time.", Buckets: buckets,
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "clipfleet_frame_latency_seconds", Help: "Capture to event latency.", Buckets: buckets,
		}),
		norm: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "clipfleet_embedding_norm", Help: "L2 norm of the last embedding (1 when the encoder is healthy).",
		}),
		modelInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "clipfleet_model_info", Help: "The loaded model (value 1).",
		}, []string{"id", "backend", "dim"}),
	}
	m.reg.MustRegister(m.frames, m.dropped, m.reconnects, m.errors, m.preprocess, m.encode, m.latency, m.norm, m.modelInfo,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
