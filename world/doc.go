// Package world is clipfleet's procedural testbed: a deterministic renderer of
// small RGB scenes (coloured shapes on textured backgrounds) seen under
// several domains (day, night, fog, rain, glare) and a slow day-by-day drift,
// with template captions and YAML scenarios that turn the world into a
// sequence of continual-learning tasks.
//
// No real CLIP weights or image data sets can be used in this project's
// development environment, so the world stands in for both: the tiny CLIP in
// models/tinyclip is trained on pictures exported from this package (Export,
// run by scripts/tinyclip/build.sh through world/cmd/worldgen), and the
// synthetic camera plays scenarios from it (Stream, and the capture adapter
// in world/camera).
//
// Scenarios (ParseScenario, Builtin, LoadScenario) are strict YAML: unknown
// keys are errors naming their path ("tasks[2].domian: unknown key"). Each
// task or zero-shot set resolves to Items, whose Sample(i) is a pure
// function of the scenario and i.
//
// The deliberate gaps that give continual learning real work — colour–shape
// pairs never captioned in training, shapes whose names are absent from the
// text vocabulary, domains rare or absent in training — are all defined in
// catalog.go, which both the training export and the scenarios read. So is
// the reverse of a gap: fifteen pre-training-only shapes that training
// captions name and no task uses, because a real CLIP has seen and named far
// more than any deployment asks about.
//
// Rendering is a pure function of a Scene and an output size: the same seed
// and parameters give identical bytes on a given architecture. (Go may fuse
// multiply-adds on arm64, so a pixel on an anti-aliased edge can differ by one
// level between amd64 and arm64; nothing here depends on cross-architecture
// bit equality.)
package world
