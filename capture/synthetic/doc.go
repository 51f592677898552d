// Package synthetic is a capture source that needs no hardware: it draws
// frames procedurally, so the daemon, its benchmarks and CI can run on any
// machine, and two runs with the same seed see exactly the same pixels.
//
// The drawing sits behind the Renderer function type. Scene, the default,
// paints a gradient with a few bouncing shapes; a richer world simulation
// plugs in its own renderer with New(cfg, world.Render).
//
// Importing the package registers the "synthetic" kind with capture.New.
package synthetic
