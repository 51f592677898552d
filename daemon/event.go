package daemon

import "time"

// Event is what the daemon reports for each processed frame.
type Event struct {
	FrameSeq   uint64    `json:"frame"`       // the source's sequence number
	CapturedAt time.Time `json:"captured_at"` // when the source read the frame
	EmittedAt  time.Time `json:"emitted_at"`  // when the event was produced
	Norm       float32   `json:"norm"`        // L2 norm of the embedding (1 when healthy)
	PreprocMs  float64   `json:"preprocess_ms"`
	EncodeMs   float64   `json:"encode_ms"`
	LatencyMs  float64   `json:"latency_ms"` // capture to event
	Dropped    uint64    `json:"dropped"`    // frames the grabber overwrote so far
	Labels     []Label   `json:"labels,omitempty"`
	Embedding  []float32 `json:"-"` // owned by the pipeline; copy to keep
}

// Label is one scored class name.
type Label struct {
	Name string  `json:"name"`
	Prob float32 `json:"prob"`
}
