package learner

import "fmt"

// Routed is a Method whose prediction for an input depends on a task
// selector's decision: a learned task's head, or zero-shot CLIP for inputs
// no task claims. Stream uses it to vote the decision over frames.
type Routed interface {
	Method
	// Route is the selector's decision for emb alone.
	Route(emb []float32) (Route, error)
	// PredictRoute is Predict with the decision given instead of taken
	// from emb; a Route with Seen false gives zero-shot logits.
	PredictRoute(emb []float32, r Route, dst []float32) ([]float32, error)
}

// Stream is the per-camera view of a Routed method: it votes the selector's
// decision over the last Window frames, so one odd frame does not flip the
// robot between its learned head and zero-shot, while Method.Predict stays
// per-frame. A method that is not Routed is passed through. Not safe for
// concurrent use: keep one per camera stream.
type Stream struct {
	m      Method
	routed Routed
	ring   []int // task of each frame, -1 for unseen
	pos    int
	filled int
	tick   int
	seenAt []int // tick of each ring slot, for tie-breaking
}

// NewStream wraps m with a vote over window (>= 1) frames.
func NewStream(m Method, window int) (*Stream, error) {
	if m == nil {
		return nil, fmt.Errorf("learner: stream of a nil method")
	}
	if window < 1 {
		return nil, fmt.Errorf("%w: stream window %d < 1", ErrInvalidConfig, window)
	}
	r, _ := m.(Routed)
	return &Stream{m: m, routed: r, ring: make([]int, window), seenAt: make([]int, window)}, nil
}

// Predict returns the logits for emb under the voted route, and that route.
// The route's Score is this frame's own score for the voted task (+Inf if
// the frame alone did not consider that task).
func (s *Stream) Predict(emb, dst []float32) ([]float32, Route, error) {
	if s.routed == nil {
		out, err := s.m.Predict(emb, dst)
		return out, unseen, err
	}
	r, err := s.routed.Route(emb)
	if err != nil {
		return dst, unseen, err
	}
	voted := s.vote(key(r))
	if voted != key(r) {
		r = Route{Task: voted, Seen: voted >= 0, Score: r.Score}
		if voted < 0 {
			r.Score = unseen.Score
		}
	}
	out, err := s.routed.PredictRoute(emb, r, dst)
	return out, r, err
}

func key(r Route) int {
	if !r.Seen {
		return -1
	}
	return r.Task
}

// vote records this frame's task and returns the majority of the window;
// ties go to the task voted for most recently.
func (s *Stream) vote(task int) int {
	s.tick++
	s.ring[s.pos], s.seenAt[s.pos] = task, s.tick
	s.pos = (s.pos + 1) % len(s.ring)
	s.filled = min(s.filled+1, len(s.ring))
	best, bestN, bestAt := task, 0, 0
	for i := 0; i < s.filled; i++ {
		t := s.ring[i]
		n, at := 0, 0
		for j := 0; j < s.filled; j++ {
			if s.ring[j] == t {
				n++
				at = max(at, s.seenAt[j])
			}
		}
		if n > bestN || (n == bestN && at > bestAt) {
			best, bestN, bestAt = t, n, at
		}
	}
	return best
}

// Reset forgets the window, e.g. when the camera moves to another scene.
func (s *Stream) Reset() { s.pos, s.filled = 0, 0 }
