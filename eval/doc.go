// Package eval is the continual-learning evaluation harness: it runs a
// world scenario through a real (frozen) encoder once, caches the
// embeddings on disk per (model, scenario), and then replays the tasks into
// any registered learner method, task by task, reporting the MTIL-style
// accuracy matrix and scores (learner/metrics), zero-shot retention on the
// scenario's held-out sets, learning time and memory per task, and a
// TiC-style accuracy-over-time curve for drift tasks.
//
// Accuracy on a task is measured over that task's own classes (the task's
// label set is known at test time, as in MTIL), so a method that has not
// learned a task yet is scored on its zero-shot ability there.
package eval
