package learner

// TaskBoundary is implemented by methods whose regularisers or per-task
// state refer to "the start of the current task" (anchors, old-model
// copies, weight averages, per-task routers and selectors). The device has
// no task IDs: a method calls it on its own when a class it has never
// learned shows up (if so configured), and the daemon or a benchmark (the
// eval harness) calls it when it knows a new task or domain starts.
type TaskBoundary interface {
	BeginTask()
}
