//go:build race

package tinyclip_test

const raceEnabled = true
