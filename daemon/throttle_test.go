package daemon

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/capture/capturetest"
)

// instantFrames hands over a new frame at once, as a grabber does when the
// camera is ahead of the pipeline.
type instantFrames struct{ seq uint64 }

func (f *instantFrames) Next(ctx context.Context, dst *capture.Frame) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.seq++
	dst.Seq = f.seq
	return nil
}

// nextAsync runs th.Next on its own goroutine.
func nextAsync(ctx context.Context, th *Throttle) <-chan error {
	done := make(chan error, 1)
	go func() {
		var f capture.Frame
		done <- th.Next(ctx, &f)
	}()
	return done
}

// warmUp takes frames every period at factor 1, so the throttle measures
// period as the natural one.
func warmUp(t *testing.T, th *Throttle, clk *capturetest.Clock, period time.Duration, n int) {
	t.Helper()
	var f capture.Frame
	for i := 0; i < n; i++ {
		if err := th.Next(context.Background(), &f); err != nil {
			t.Fatal(err)
		}
		clk.Advance(period)
	}
}

func TestThrottlePacesToFactorOfMeasuredPeriod(t *testing.T) {
	const natural = 80 * time.Millisecond
	for _, tc := range []struct {
		factor float64
		// consumer is the time the pipeline spends on the frame before
		// asking for the next one.
		consumer time.Duration
	}{
		{0.5, natural},
		{0.25, natural},
		{0.1, 10 * time.Millisecond},
		{0.75, 0},
	} {
		clk := capturetest.NewClock(time.Unix(1000, 0))
		// A wrong hint shows that the measurement, not the hint, counts.
		th := NewThrottle(&instantFrames{}, time.Second, clk)
		warmUp(t, th, clk, natural, 4)
		if got := th.Stats().Period; got != natural {
			t.Fatalf("measured period %v, want %v", got, natural)
		}
		// The last warm-up Advance counts as the consumer's time; take one
		// more frame to start from a known hand-over.
		var f capture.Frame
		if err := th.Next(context.Background(), &f); err != nil {
			t.Fatal(err)
		}
		th.SetFactor(tc.factor)
		clk.Advance(tc.consumer)
		done := nextAsync(context.Background(), th)
		if err := clk.WaitPending(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		want := time.Duration(float64(natural)/tc.factor) - tc.consumer
		if p := clk.Pending(); len(p) != 1 || p[0] != want {
			t.Fatalf("factor %g: pending waits %v, want [%v]", tc.factor, p, want)
		}
		clk.Advance(want)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		st := th.Stats()
		if st.Paced != 1 || st.Waited != want || st.Factor != tc.factor {
			t.Fatalf("factor %g: stats %+v, want 1 paced frame and %v waited", tc.factor, st, want)
		}
		// Paced intervals must not feed the estimate.
		if st.Period != natural {
			t.Fatalf("factor %g: period drifted to %v", tc.factor, st.Period)
		}
	}
}

func TestThrottleUsesHintUntilMeasuredAndFactorOneNeverWaits(t *testing.T) {
	clk := capturetest.NewClock(time.Unix(1000, 0))
	th := NewThrottle(&instantFrames{}, 50*time.Millisecond, clk)
	var f capture.Frame
	for i := 0; i < 3; i++ { // no clock movement: would block if it waited
		if err := th.Next(context.Background(), &f); err != nil {
			t.Fatal(err)
		}
	}
	if st := th.Stats(); st.Paced != 0 || st.Waited != 0 {
		t.Fatalf("factor 1 paced: %+v", st)
	}

	clk2 := capturetest.NewClock(time.Unix(1000, 0))
	th2 := NewThrottle(&instantFrames{}, 50*time.Millisecond, clk2)
	th2.SetFactor(0.5)
	if err := th2.Next(context.Background(), &f); err != nil { // first frame: nothing to pace against
		t.Fatal(err)
	}
	done := nextAsync(context.Background(), th2)
	if err := clk2.WaitPending(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if p := clk2.Pending(); len(p) != 1 || p[0] != 100*time.Millisecond {
		t.Fatalf("pending %v, want the hint's 50ms / 0.5", p)
	}
	clk2.Advance(100 * time.Millisecond)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestThrottleClampsFactorAndStopsOnCancel(t *testing.T) {
	clk := capturetest.NewClock(time.Unix(1000, 0))
	th := NewThrottle(&instantFrames{}, 10*time.Millisecond, clk)
	for _, tc := range []struct{ in, want float64 }{{2, 1}, {0, 0.01}, {-1, 0.01}, {0.3, 0.3}} {
		th.SetFactor(tc.in)
		if got := th.Stats().Factor; got != tc.want {
			t.Fatalf("SetFactor(%g) = %g, want %g", tc.in, got, tc.want)
		}
	}
	var f capture.Frame
	if err := th.Next(context.Background(), &f); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := nextAsync(ctx, th)
	if err := clk.WaitPending(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Next after cancel = %v, want context.Canceled", err)
	}
	if len(clk.Pending()) != 0 {
		t.Fatalf("timer left armed after cancel: %v", clk.Pending())
	}
}
