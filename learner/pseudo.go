package learner

// Verdict is the pseudo-labeller's state for one track after an observation.
type Verdict struct {
	Label      ID      // majority label in the window (0 if none yet)
	Attempts   int     // observations in the window
	Agreement  float32 // share of the window voting for Label
	Confidence float32 // mean top-1 probability of those votes
	Trusted    bool    // consensus reached: examples were emitted
}

type observation struct {
	label ID
	conf  float32
	emb   []float32
}

type track struct {
	obs      []observation
	lastSeen uint64
}

// PseudoLabeler decides when the device may learn from its own predictions.
// A track (one object followed across frames, keyed by the caller) is
// trusted only after at least MinAttempts observations of which at least
// MinAgreement vote for the same label, with a mean confidence of those
// votes of at least MinConfidence. The Background class is never
// pseudo-labelled: "nothing" is the easiest mistake to reinforce. Not safe
// for concurrent use (Trainer serialises it).
type PseudoLabeler struct {
	cfg    PseudoConfig
	tracks map[string]*track
	clock  uint64
}

// NewPseudoLabeler returns a labeller; cfg should have passed Validate.
func NewPseudoLabeler(cfg PseudoConfig) *PseudoLabeler {
	return &PseudoLabeler{cfg: cfg, tracks: map[string]*track{}}
}

// Observe records that the model predicted label with top-1 probability
// confidence for emb on track key. When the track reaches consensus it
// returns the agreeing observations as Pseudo examples (weight cfg.Weight)
// and starts the track afresh, so the same frames are never emitted twice.
func (p *PseudoLabeler) Observe(key string, emb []float32, label ID, confidence float32) (Verdict, []Example) {
	p.clock++
	t, ok := p.tracks[key]
	if !ok {
		if len(p.tracks) >= p.cfg.MaxTracks {
			p.evictOldest()
		}
		t = &track{}
		p.tracks[key] = t
	}
	t.lastSeen = p.clock
	if len(t.obs) == p.cfg.Window {
		copy(t.obs, t.obs[1:])
		t.obs = t.obs[:len(t.obs)-1]
	}
	t.obs = append(t.obs, observation{label: label, conf: confidence, emb: append([]float32(nil), emb...)})

	v := tally(t.obs)
	if v.Attempts < p.cfg.MinAttempts || v.Label == 0 || v.Label == Background ||
		v.Agreement < p.cfg.MinAgreement || v.Confidence < p.cfg.MinConfidence {
		return v, nil
	}
	v.Trusted = true
	var out []Example
	for _, o := range t.obs {
		if o.label == v.Label {
			out = append(out, Example{Emb: o.emb, Label: o.label, Weight: p.cfg.Weight, Source: Pseudo})
		}
	}
	t.obs = t.obs[:0]
	return v, out
}

// Forget drops a track, e.g. when the tracker loses the object.
func (p *PseudoLabeler) Forget(key string) { delete(p.tracks, key) }

// Tracks is the number of tracks followed.
func (p *PseudoLabeler) Tracks() int { return len(p.tracks) }

func (p *PseudoLabeler) evictOldest() {
	var oldest string
	var at uint64
	first := true
	for k, t := range p.tracks {
		if first || t.lastSeen < at {
			oldest, at, first = k, t.lastSeen, false
		}
	}
	delete(p.tracks, oldest)
}

// tally finds the majority label of a window (ties: the label voted last).
func tally(obs []observation) Verdict {
	votes := map[ID]int{}
	conf := map[ID]float64{}
	last := map[ID]int{}
	for i, o := range obs {
		votes[o.label]++
		conf[o.label] += float64(o.conf)
		last[o.label] = i
	}
	var v Verdict
	v.Attempts = len(obs)
	best := -1
	for l, n := range votes {
		if n > best || (n == best && last[l] > last[v.Label]) {
			v.Label, best = l, n
		}
	}
	if best > 0 {
		v.Agreement = float32(best) / float32(len(obs))
		v.Confidence = float32(conf[v.Label] / float64(best))
	}
	return v
}
