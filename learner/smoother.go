package learner

// Smoother is majority voting over the top-1 labels of the last N frames,
// as in Coral's teachable machine: a single misclassified frame must not
// make the robot change its mind. Not safe for concurrent use; keep one per
// camera stream.
type Smoother struct {
	ring   []ID
	pos    int
	filled int
	counts map[ID]int
	last   map[ID]int // position of the latest vote, for tie-breaking
	tick   int
}

// NewSmoother returns a smoother over the last frames (at least 1) frames.
func NewSmoother(frames int) *Smoother {
	frames = max(frames, 1)
	return &Smoother{ring: make([]ID, frames), counts: map[ID]int{}, last: map[ID]int{}}
}

// Add records a frame's top-1 label and returns the majority label over the
// window and its share of the votes. Ties go to the label seen most recently.
func (s *Smoother) Add(id ID) (ID, float32) {
	if s.filled == len(s.ring) {
		old := s.ring[s.pos]
		s.counts[old]--
		if s.counts[old] == 0 {
			delete(s.counts, old)
			delete(s.last, old)
		}
	} else {
		s.filled++
	}
	s.ring[s.pos] = id
	s.pos = (s.pos + 1) % len(s.ring)
	s.counts[id]++
	s.tick++
	s.last[id] = s.tick
	var best ID
	bestN := -1
	for l, n := range s.counts {
		if n > bestN || (n == bestN && s.last[l] > s.last[best]) {
			best, bestN = l, n
		}
	}
	return best, float32(bestN) / float32(s.filled)
}

// Reset forgets the window, e.g. when the camera moves to another scene.
func (s *Smoother) Reset() {
	s.pos, s.filled = 0, 0
	clear(s.counts)
	clear(s.last)
}
