package world

import (
	"fmt"
	"strings"
	"sync"
)

// Config says what a world stream (the synthetic camera) plays.
type Config struct {
	// Scenario is a built-in scenario name ("default") or a YAML file path.
	Scenario string `yaml:"scenario"`
	// Task is a task or zero-shot set name; empty plays every task of the
	// scenario in order.
	Task string `yaml:"task"`
	// Split is train (the stream a robot learns from) or test.
	Split Split `yaml:"split"`
}

// DefaultConfig plays the default scenario's training stream, task by task.
func DefaultConfig() Config { return Config{Scenario: "default", Split: TrainSplit} }

// Validate checks the config without reading the scenario.
func (c Config) Validate() error {
	if strings.TrimSpace(c.Scenario) == "" {
		return fmt.Errorf("world: config: scenario is required")
	}
	if c.Split != TrainSplit && c.Split != TestSplit {
		return fmt.Errorf("world: config: split %q (want train or test)", c.Split)
	}
	return nil
}

// Stream is an endless, seekable sequence of labelled pictures: the
// selected task splits one after another, looping. Frame seq is always the
// same picture. It is safe for concurrent use.
type Stream struct {
	name  string
	parts []*Items
	total uint64
	pool  sync.Pool
}

// OpenStream loads the configured scenario and builds its stream.
func OpenStream(cfg Config) (*Stream, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sc, err := LoadScenario(cfg.Scenario)
	if err != nil {
		return nil, err
	}
	return NewStream(sc, cfg)
}

// NewStream builds the stream cfg selects from an already loaded scenario
// (cfg.Scenario is then only used in the stream's name).
func NewStream(sc *Scenario, cfg Config) (*Stream, error) {
	if cfg.Split == "" {
		cfg.Split = TrainSplit
	}
	var names []string
	if cfg.Task != "" {
		names = []string{cfg.Task}
	} else {
		for _, t := range sc.Tasks {
			names = append(names, t.Name)
		}
	}
	st := &Stream{pool: sync.Pool{New: func() any { return new(Renderer) }}}
	for _, n := range names {
		it, err := sc.Items(n, cfg.Split)
		if err != nil {
			return nil, err
		}
		st.parts = append(st.parts, it)
		st.total += uint64(it.N)
	}
	task := cfg.Task
	if task == "" {
		task = "*"
	}
	st.name = fmt.Sprintf("world:%s/%s/%s", sc.Name, task, cfg.Split)
	return st, nil
}

// Name identifies the stream for logs ("world:default/night/train").
func (st *Stream) Name() string { return st.name }

// Len is the number of frames before the stream loops.
func (st *Stream) Len() uint64 { return st.total }

// Sample returns the labelled picture at frame seq.
func (st *Stream) Sample(seq uint64) Sample {
	i := seq % st.total
	for _, p := range st.parts {
		if i < uint64(p.N) {
			return p.Sample(int(i))
		}
		i -= uint64(p.N)
	}
	panic("unreachable: stream parts do not add up to its length")
}

// Render draws frame seq at w×h into dst and returns what it shows.
func (st *Stream) Render(seq uint64, w, h int, dst []byte) (Sample, error) {
	s := st.Sample(seq)
	rd := st.pool.Get().(*Renderer)
	defer st.pool.Put(rd)
	return s, rd.Render(&s.Scene, w, h, dst)
}
