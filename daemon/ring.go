package daemon

import "sync"

const eventRingSize = 256

// eventRing keeps the most recent events for the debug API without letting
// a slow reader hold up the pipeline.
type eventRing struct {
	mu   sync.Mutex
	buf  [eventRingSize]Event
	next int
	n    int
}

func (r *eventRing) add(e Event) {
	e.Embedding = nil // the pipeline reuses that buffer
	r.mu.Lock()
	r.buf[r.next] = e
	r.next = (r.next + 1) % eventRingSize
	if r.n < eventRingSize {
		r.n++
	}
	r.mu.Unlock()
}

func (r *eventRing) last() (Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		return Event{}, false
	}
	return r.buf[(r.next-1+eventRingSize)%eventRingSize], true
}

// lastN returns up to n events, oldest first.
func (r *eventRing) lastN(n int) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n > r.n {
		n = r.n
	}
	out := make([]Event, n)
	for i := 0; i < n; i++ {
		out[i] = r.buf[(r.next-n+i+eventRingSize)%eventRingSize]
	}
	return out
}
