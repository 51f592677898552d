// Package camera plays a world stream as the synthetic camera: it adapts
// world.Stream to the render callback of capture/synthetic,
//
//	render, _, err := camera.New(camera.DefaultConfig())
//	src := synthetic.New(cfg, render)
//
// and registers the capture source kind "world" (capture.KindWorld), so a
// program that imports it can play the world from configuration alone:
//
//	capture: {source: world, scenario: default, task: shapes-day, width: 224, height: 224}
//
// The daemon's default source is this one. Frame Seq k shows the stream's
// Sample(k), the ground truth a test can compare labels with.
//
// It lives apart from package world so that the world itself does not
// depend on capture.
package camera
