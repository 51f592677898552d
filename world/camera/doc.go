// Package camera plays a world stream as the synthetic camera: it adapts
// world.Stream to the render callback of capture/synthetic,
//
//	render, _, err := camera.New(camera.DefaultConfig())
//	src := synthetic.New(cfg, render)
//
// It lives apart from package world so that the world itself does not
// depend on capture.
package camera
