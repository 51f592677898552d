// Package daemon wires the edge pipeline together: a capture source behind a
// latest-frame grabber, CLIP preprocessing, the accelerator encoder, and the
// event sinks (JSON lines, Prometheus metrics, a localhost-only debug API).
//
// The stages run in their own goroutines joined by one-slot hand-offs, so
// capture and preprocessing of frame n+1 overlap the encoding of frame n and
// the encoder — the expensive stage — never waits on the others.
package daemon
