package learner

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// taskClasses records which classes each task of a selector-based head was
// taught, as weighted example counts per (task, class): fleet base, learned
// here since base, and the last export. The analytic head conditions its
// fusion on it, so the counts must merge across devices like every other
// statistic: they travel as one chunk per (task, class) whose first value is
// the count.
type taskClasses struct {
	base, local, exp map[int]map[ID]float64
}

func newTaskClasses() taskClasses {
	return taskClasses{base: map[int]map[ID]float64{}, local: map[int]map[ID]float64{}}
}

func addTaskClass(m map[int]map[ID]float64, task int, id ID, n float64) {
	c := m[task]
	if c == nil {
		c = map[ID]float64{}
		m[task] = c
	}
	c[id] += n
	if math.Abs(c[id]) < 0.5 { // counts are whole numbers of examples
		delete(c, id)
		if len(c) == 0 {
			delete(m, task)
		}
	}
}

// has reports whether task was taught id (fleet or here).
func (tc *taskClasses) has(task int, id ID) bool {
	return tc.base[task][id]+tc.local[task][id] > 0.5
}

// empty reports whether no task is known to have been taught anything,
// e.g. state restored from a snapshot written before tasks were recorded.
func (tc *taskClasses) empty() bool { return len(tc.base) == 0 && len(tc.local) == 0 }

func (tc *taskClasses) tasks() []int {
	seen := map[int]bool{}
	for _, m := range []map[int]map[ID]float64{tc.base, tc.local} {
		for t := range m {
			seen[t] = true
		}
	}
	return sortedInts(seen)
}

// taskClassKey is the chunk key of (task, class): a hash, with the top bit
// clear like every derived key (see selector_stats.go).
func taskClassKey(task int, id ID) ID {
	sum := sha256.Sum256([]byte("clipfleet/taskclass/" + strconv.Itoa(task) + "/" + id.String()))
	k := ID(binary.LittleEndian.Uint64(sum[:8])) &^ unnamedBit
	if k < 2 {
		k += 2
	}
	return k
}

// appendDelta adds what was learned here since base to d and remembers it
// as exported.
func (tc *taskClasses) appendDelta(d *Delta, dim int) {
	tc.exp = map[int]map[ID]float64{}
	for _, t := range sortedInts(tc.local) {
		for _, id := range sortedIDs(tc.local[t]) {
			n := tc.local[t][id]
			sum := make([]float64, dim)
			sum[0] = n
			d.Classes = append(d.Classes, ClassStats{Label: taskClassKey(t, id), Sum: sum})
			addTaskClass(tc.exp, t, id, n)
		}
	}
}

// decodeMerged claims the (task, class) chunks of a merged delta for the
// candidate tasks and classes.
func (tc *taskClasses) decodeMerged(cs *chunkSet, tasks []int, classes []ID) (map[int]map[ID]float64, error) {
	out := map[int]map[ID]float64{}
	for _, t := range tasks {
		for _, id := range classes {
			v, ok := cs.vector(1, func(int) ID { return taskClassKey(t, id) })
			if !ok {
				continue
			}
			if math.IsNaN(v[0]) || math.IsInf(v[0], 0) || v[0] != math.Round(v[0]) {
				return nil, fmt.Errorf("%w: task %d class %v count %v", ErrIncompatible, t, id, v[0])
			}
			addTaskClass(out, t, id, v[0])
		}
	}
	return out, nil
}

// applyMerged: base += merged; local -= exported if the merge included it.
func (tc *taskClasses) applyMerged(merged map[int]map[ID]float64, included bool) {
	for t, c := range merged {
		for id, n := range c {
			addTaskClass(tc.base, t, id, n)
		}
	}
	if included {
		for t, c := range tc.exp {
			for id, n := range c {
				addTaskClass(tc.local, t, id, -n)
			}
		}
	}
	tc.exp = nil
}

type taskClassCount struct {
	Task  int     `json:"task"`
	Label ID      `json:"label"`
	N     float64 `json:"n"`
}

type taskClassesMeta struct {
	Base   []taskClassCount `json:"base,omitempty"`
	Local  []taskClassCount `json:"local,omitempty"`
	Exp    []taskClassCount `json:"exported,omitempty"`
	HasExp bool             `json:"has_exported,omitempty"`
}

func taskClassList(m map[int]map[ID]float64) []taskClassCount {
	var out []taskClassCount
	for _, t := range sortedInts(m) {
		for _, id := range sortedIDs(m[t]) {
			out = append(out, taskClassCount{t, id, m[t][id]})
		}
	}
	return out
}

func (tc *taskClasses) meta() taskClassesMeta {
	return taskClassesMeta{Base: taskClassList(tc.base), Local: taskClassList(tc.local),
		Exp: taskClassList(tc.exp), HasExp: tc.exp != nil}
}

func taskClassesFrom(m taskClassesMeta) (taskClasses, error) {
	tc := newTaskClasses()
	if m.HasExp {
		tc.exp = map[int]map[ID]float64{}
	}
	for _, part := range []struct {
		dst  map[int]map[ID]float64
		list []taskClassCount
	}{{tc.base, m.Base}, {tc.local, m.Local}, {tc.exp, m.Exp}} {
		for _, c := range part.list {
			if checkTask(c.Task) != nil || math.IsNaN(c.N) || math.IsInf(c.N, 0) || part.dst == nil {
				return tc, fmt.Errorf("%w: task class count %+v", ErrCorrupt, c)
			}
			addTaskClass(part.dst, c.Task, c.Label, c.N)
		}
	}
	return tc, nil
}

func (tc *taskClasses) footprint() int64 {
	var n int64
	for _, m := range []map[int]map[ID]float64{tc.base, tc.local, tc.exp} {
		for _, c := range m {
			n += int64(len(c)) * 16
		}
	}
	return n
}
