// Package fleetdemo plays fleet sync end to end on one machine, for `make
// run` and its test: an embedded MQTT broker, a hub, and simulated robots
// whose cameras look at the procedural world (package world). Each robot
// is the daemon's real learner with real fleet sync (daemon.Fleet: durable
// outbox, signed deltas, A/B apply with health check); only the cameras
// are simulated, and the robots share one encoder.
//
// The story: robot 1 is taught two shapes the model cannot name; the hub
// merges its delta and the other online robots name them too, never
// having been taught; the last robot, out of coverage, was taught the
// third shape meanwhile, and once back online its delta reaches everyone.
package fleetdemo
