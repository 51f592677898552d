// Package capturetest provides fakes for testing code that uses capture:
// a Source played from a script of frames, errors, stalls and gates that
// counts its Opens and Closes (to assert a device is released), and a Clock
// that moves only when told, so watchdog and backoff behaviour is tested
// exactly rather than with sleeps.
package capturetest
