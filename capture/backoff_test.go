package capture

import (
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	const lo, hi = 100 * time.Millisecond, time.Second
	tests := []struct {
		n    int
		r    float64
		want time.Duration
	}{
		{0, 0, 100 * time.Millisecond},
		{1, 0, 200 * time.Millisecond},
		{2, 0, 400 * time.Millisecond},
		{3, 0, 800 * time.Millisecond},
		{4, 0, time.Second}, // capped
		{50, 0, time.Second},
		{1 << 30, 0, time.Second}, // no overflow, no endless doubling
		{0, 0.5, 87500 * time.Microsecond},
		{4, 0.999999, 750000250 * time.Nanosecond}, // jitter only ever shortens, by at most a quarter
	}
	for _, tt := range tests {
		if got := backoffDelay(tt.n, lo, hi, tt.r); got != tt.want {
			t.Errorf("backoffDelay(%d, %s, %s, %g) = %s, want %s", tt.n, lo, hi, tt.r, got, tt.want)
		}
	}
	if got := backoffDelay(3, time.Duration(1<<62), time.Duration(1<<62), 0); got != time.Duration(1<<62) {
		t.Errorf("huge min: got %s", got)
	}
}
