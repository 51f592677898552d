package capture

import "time"

// backoffJitter is the fraction of a reconnect delay that is randomised.
// Robots of a fleet that lose the same RTSP server at once should not all
// knock on it again in the same millisecond.
const backoffJitter = 0.25

// backoffDelay returns the wait before reopen attempt n (0-based): lo
// doubled n times, capped at hi, then shortened by up to backoffJitter of
// itself according to r in [0, 1). hi is therefore a hard ceiling.
func backoffDelay(n int, lo, hi time.Duration, r float64) time.Duration {
	d := lo
	for i := 0; i < n && d < hi; i++ {
		d *= 2
	}
	if d > hi || d <= 0 { // d <= 0: overflow of a huge lo
		d = hi
	}
	return d - time.Duration(float64(d)*backoffJitter*r)
}
