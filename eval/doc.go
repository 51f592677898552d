// Package eval is the continual-learning evaluation harness: it runs a
// world scenario through a real (frozen) encoder once, caches the
// embeddings on disk per (model, scenario), and then replays the tasks into
// any registered learner method, task by task, reporting the MTIL-style
// accuracy matrix and scores (learner/metrics), zero-shot retention on the
// scenario's held-out sets, the never-named few-shot accuracy, update cost
// and memory, and a TiC-style accuracy-over-time curve for drift tasks.
//
// Accuracy on a task is measured over that task's own classes (the task's
// label set is known at test time, as in MTIL), so a method that has not
// learned a task yet is scored on its zero-shot ability there.
//
// Task boundaries. The harness knows where tasks start, so a method that
// implements learner.TaskBoundary is told (BeginTask) before every task
// after the first; the fresh method is already at the start of the first.
//
// Training budget. Every task's training set is fed to Learn in its own
// order, in mini-batches of Config.BatchSize, Config.Epochs times (default
// 5 passes of 16-example batches) — the same budget for every method that
// trains by gradient steps (finetune, zscl, modx, sit, moe, cllclip); the
// steps each Learn call takes are the method's own configuration
// (learner.Config: finetune.steps for finetune/zscl/modx/sit, moe.steps,
// cllclip's options). Passes are not shuffled, so a drift task's days stay
// in order. Methods in Config.SinglePass (zeroshot, ncm, knn, analytic,
// coleclip) accumulate sufficient statistics or store examples and see
// each example exactly once: a second pass would count it twice rather than
// train longer. One pass (Epochs 1) left the adapter heads under-trained:
// finetune's accuracy on the tasks it had just learned stayed near
// zero-shot.
//
// Never-named few-shot. Config.FewShot examples per class (default 10) of
// the scenario's first new_classes task — shapes whose names the text
// encoder never saw — are taught to a fresh instance of the method with the
// same budget, and the accuracy on that task's test set is reported
// (never_named_10shot), with the accuracy on each class's test pictures
// (never_named_per_class). Which ten pictures a device happens to be shown
// moves that accuracy by twenty points, so the figure is the mean over
// Config.FewShotDraws selections (default 30: the first ten of each class
// in training order, then seeded random ones), with the lowest and highest
// draw (never_named_min, never_named_max).
// Teach-time augmentation: with Config.TeachAugment.Views = K each taught
// picture is followed by K augmented views of it (package augment), still
// FewShot pictures per class; the views are rendered, augmented and
// encoded when the dataset is built and cached with it (under a key of
// their own). Off by default: eval/README.md has the measurement.
//
// Joint upper bound. The row named joint is Config.JointMethod (the
// analytic head) trained offline on the union of all tasks at once. It is
// given everything the sequential learner has — each example's task, for
// an order-free method with task identities — plus what it lacks: each
// task's test set is scored with that task's route
// (learner.Routed.PredictRoute) instead of the selector's guess. For the order-free analytic head the joint state
// equals the sequential one, so joint minus sequential is exactly the cost
// of routing by the selector (not guaranteed to be ≥ 0 input by input —
// another task's classes can happen to help — but it is on every task of
// the measured scenario, eval/README.md).
//
// Update cost is learning time over the distinct examples taught (all
// passes included), in µs per example; memory is the final state's
// learner.Footprint. eval/README.md has a measured table and how to
// reproduce it.
package eval
