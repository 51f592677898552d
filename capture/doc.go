// Package capture turns cameras, streams, files and generators into a steady
// supply of RGB frames for the rest of the daemon.
//
// It is pure Go: the OpenCV-backed sources live in capture/cv and the
// procedural one in capture/synthetic, and each registers its source kinds
// from init, the way database/sql drivers do. A daemon therefore blank-imports
// the kinds it wants and builds sources from configuration with New:
//
//	import (
//		_ "github.com/clipfleet/clipfleet/capture/cv"
//		_ "github.com/clipfleet/clipfleet/capture/synthetic"
//	)
//
//	src, err := capture.New(cfg, log)
//
// A Grabber runs a Source on its own goroutine under a latest-frame policy:
// a robot wants to look at what is in front of it now, so frames the
// consumer could not keep up with are dropped (and counted) rather than
// queued. Its watchdog reopens live sources that stall, fail or end, with
// exponential backoff, and releases the device on Close or context cancel.
package capture
