package learner

import (
	"fmt"
	"sort"
)

// Task boundaries of the selector-based methods (moe, analytic). They
// implement TaskBoundary's BeginTask(), which opens a new task numbered
// after every task they know, and BeginTaskID(id), for a caller that can
// name tasks consistently across a fleet (per-task state merges by id).
// Until either is called everything is task 0.

// taskTracker is the task bookkeeping of the selector-based methods: the
// current task, and how many examples of each label each task learned
// here, so that Unlearn removes an example from the task it was learned in
// even after the task changed.
type taskTracker struct {
	cur    int
	counts map[int]map[ID]int64
}

func newTaskTracker() taskTracker { return taskTracker{counts: map[int]map[ID]int64{}} }

// next is the id BeginTask opens: one above every task known here.
func (t *taskTracker) next(known []int) (int, error) {
	n := t.cur + 1
	for task := range t.counts {
		n = max(n, task+1)
	}
	for _, task := range known {
		n = max(n, task+1)
	}
	if err := checkTask(n); err != nil {
		return 0, err
	}
	return n, nil
}

// forUnlearn picks the task an example of label is removed from: the
// current one if it learned that label here, else the lowest task that did.
func (t *taskTracker) forUnlearn(label ID) (int, bool) {
	if t.counts[t.cur][label] > 0 {
		return t.cur, true
	}
	tasks := make([]int, 0, len(t.counts))
	for task, c := range t.counts {
		if c[label] > 0 {
			tasks = append(tasks, task)
		}
	}
	if len(tasks) == 0 {
		return 0, false
	}
	sort.Ints(tasks)
	return tasks[0], true
}

func (t *taskTracker) add(task int, label ID, n int64) {
	c := t.counts[task]
	if c == nil {
		c = map[ID]int64{}
		t.counts[task] = c
	}
	c[label] += n
	if c[label] <= 0 {
		delete(c, label)
		if len(c) == 0 {
			delete(t.counts, task)
		}
	}
}

// planUnlearn assigns each example of batch to a task, refusing a batch
// that removes more examples of a label than this device learned.
func (t *taskTracker) planUnlearn(batch []Example) ([]int, error) {
	left := map[int]map[ID]int64{}
	for task, c := range t.counts {
		left[task] = map[ID]int64{}
		for id, n := range c {
			left[task][id] = n
		}
	}
	out := make([]int, len(batch))
	for i, e := range batch {
		tt := taskTracker{cur: t.cur, counts: left}
		task, ok := tt.forUnlearn(e.Label)
		if !ok {
			return nil, fmt.Errorf("learner: unlearn example %d of %v, which was not learned here", i, e.Label)
		}
		left[task][e.Label]--
		out[i] = task
	}
	return out, nil
}

type taskCount struct {
	Task  int   `json:"task"`
	Label ID    `json:"label"`
	N     int64 `json:"n"`
}

type taskMeta struct {
	Task   int         `json:"task"`
	Counts []taskCount `json:"counts,omitempty"`
}

func (t *taskTracker) meta() taskMeta {
	m := taskMeta{Task: t.cur}
	for _, task := range sortedInts(t.counts) {
		for _, id := range sortedIDs(t.counts[task]) {
			m.Counts = append(m.Counts, taskCount{task, id, t.counts[task][id]})
		}
	}
	return m
}

func taskTrackerFrom(m taskMeta) (taskTracker, error) {
	t := newTaskTracker()
	if err := checkTask(m.Task); err != nil {
		return t, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	t.cur = m.Task
	for _, c := range m.Counts {
		if err := checkTask(c.Task); err != nil || c.N <= 0 {
			return t, fmt.Errorf("%w: task count %+v", ErrCorrupt, c)
		}
		t.add(c.Task, c.Label, c.N)
	}
	return t, nil
}
