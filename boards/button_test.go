package boards

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/clipfleet/clipfleet/capture/capturetest"
)

// handshakePin announces each WaitForEdge before it blocks, so the test
// knows the button has finished with the previous edge.
type handshakePin struct {
	*gpiotest.Pin
	waiting chan struct{}
}

func (p *handshakePin) WaitForEdge(d time.Duration) bool {
	p.waiting <- struct{}{}
	return p.Pin.WaitForEdge(d)
}

type buttonRig struct {
	t       *testing.T
	pin     *handshakePin
	clk     *capturetest.Clock
	presses chan time.Time
	cancel  context.CancelFunc
	done    chan error
	idle    bool // the handshake for the current wait was received
}

func startButton(t *testing.T, activeHigh bool, heldAtStart bool) *buttonRig {
	t.Helper()
	gp := &gpiotest.Pin{N: "TEACH", Num: 27, EdgesChan: make(chan gpio.Level), Clock: clockwork.NewRealClock()}
	pin := &handshakePin{Pin: gp, waiting: make(chan struct{})}
	clk := capturetest.NewClock(time.Unix(100, 0))
	b, err := NewButton(pin, activeHigh, 50*ms, clk)
	if err != nil {
		t.Fatal(err)
	}
	wantPull := gpio.PullUp
	if activeHigh {
		wantPull = gpio.PullDown
	}
	if gp.Pull() != wantPull {
		t.Fatalf("pull %s, want %s", gp.Pull(), wantPull)
	}
	if heldAtStart {
		gp.Out(gpio.Level(activeHigh))
	}
	// Long enough that no poll timeout fires during the test: every
	// return from WaitForEdge is an edge the test sent.
	b.Poll = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	r := &buttonRig{t: t, pin: pin, clk: clk, presses: make(chan time.Time, 16), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- b.Run(ctx, func() { r.presses <- clk.Now() }) }()
	t.Cleanup(r.stop)
	return r
}

// idleWait waits until the button has handled the last edge and waits
// for the next one.
func (r *buttonRig) idleWait() {
	r.t.Helper()
	if r.idle {
		return
	}
	select {
	case <-r.pin.waiting:
		r.idle = true
	case <-time.After(10 * time.Second):
		r.t.Fatal("button never waited for an edge")
	}
}

// edge moves the clock by after once the button is idle, then delivers an
// edge to level l.
func (r *buttonRig) edge(after time.Duration, l gpio.Level) {
	r.t.Helper()
	r.idleWait()
	r.clk.Advance(after)
	r.idle = false
	r.pin.EdgesChan <- l
}

// count returns the presses so far, once the last edge is handled.
func (r *buttonRig) count() int {
	r.t.Helper()
	r.idleWait()
	return len(r.presses)
}

func (r *buttonRig) stop() {
	r.cancel()
	for {
		select {
		case err := <-r.done:
			if !errors.Is(err, context.Canceled) {
				r.t.Errorf("Run = %v, want context.Canceled", err)
			}
			return
		case <-r.pin.waiting:
		case r.pin.EdgesChan <- r.pin.Read(): // wake WaitForEdge without a change
		case <-time.After(10 * time.Second):
			r.t.Fatal("Run did not stop")
			return
		}
	}
}

const (
	low  = gpio.Low
	high = gpio.High
)

func TestButtonPresses(t *testing.T) {
	t.Run("active low press and release", func(t *testing.T) {
		r := startButton(t, false, false)
		r.edge(time.Second, low) // press
		if n := r.count(); n != 1 {
			t.Fatalf("%d presses after pressing, want 1", n)
		}
		r.edge(300*ms, high) // release
		if n := r.count(); n != 1 {
			t.Fatalf("%d presses after releasing, want still 1", n)
		}
		r.edge(time.Second, low)
		if n := r.count(); n != 2 {
			t.Fatalf("%d presses after the second press, want 2", n)
		}
		if at := <-r.presses; !at.Equal(time.Unix(101, 0)) {
			t.Fatalf("first press at %v, want when its edge came", at)
		}
	})
	t.Run("bounce on press and release is one press", func(t *testing.T) {
		r := startButton(t, false, false)
		for _, e := range []struct {
			after time.Duration
			l     gpio.Level
		}{
			{time.Second, low}, {2 * ms, high}, {3 * ms, low}, {1 * ms, high}, {2 * ms, low}, // press, bouncing
			{400 * ms, high}, {4 * ms, low}, {5 * ms, high}, // release, bouncing
		} {
			r.edge(e.after, e.l)
		}
		if n := r.count(); n != 1 {
			t.Fatalf("%d presses, want 1", n)
		}
	})
	t.Run("quick second press within debounce is bounce", func(t *testing.T) {
		r := startButton(t, false, false)
		r.edge(time.Second, low)
		r.edge(100*ms, high)
		r.edge(20*ms, low) // 20 ms after the release: bounce
		r.edge(100*ms, high)
		r.edge(60*ms, low) // 60 ms after the release: a press
		if n := r.count(); n != 2 {
			t.Fatalf("%d presses, want 2", n)
		}
	})
	t.Run("active high", func(t *testing.T) {
		r := startButton(t, true, false)
		r.edge(time.Second, low) // released already: not a press
		r.edge(time.Second, high)
		if n := r.count(); n != 1 {
			t.Fatalf("%d presses, want 1", n)
		}
	})
	t.Run("held at start is not a press", func(t *testing.T) {
		r := startButton(t, false, true)
		r.edge(time.Second, low) // still held: no transition
		if n := r.count(); n != 0 {
			t.Fatalf("%d presses while held since start, want 0", n)
		}
		r.edge(time.Second, high)
		r.edge(time.Second, low)
		if n := r.count(); n != 1 {
			t.Fatalf("%d presses, want 1 after release and press", n)
		}
	})
}

func TestButtonStopsOnCancelWhilePolling(t *testing.T) {
	gp := &gpiotest.Pin{N: "TEACH", EdgesChan: make(chan gpio.Level), Clock: clockwork.NewRealClock()}
	b, err := NewButton(gp, false, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Poll = 5 * ms
	ctx, cancel := context.WithTimeout(context.Background(), 50*ms)
	defer cancel()
	if err := b.Run(ctx, func() { t.Error("pressed without an edge") }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v", err)
	}
}

func TestOpenButtonByName(t *testing.T) {
	_, err := OpenButton("GPIO27", false, DefaultDebounce, nil)
	if !errors.Is(err, ErrNoPin) || !strings.Contains(err.Error(), `"GPIO27" (teach button)`) {
		t.Fatalf("err = %v, want ErrNoPin naming GPIO27", err)
	}
	// gpiotest refuses edge detection without an edge channel; the error
	// must name the pin.
	if err := gpioreg.Register(&gpiotest.Pin{N: "TEST_BTN_6", Num: 6}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gpioreg.Unregister("TEST_BTN_6") })
	if _, err := OpenButton("TEST_BTN_6", false, DefaultDebounce, nil); err == nil || !strings.Contains(err.Error(), "button TEST_BTN_6(6)") {
		t.Fatalf("err = %v, want the In error naming the pin", err)
	}
	if err := gpioreg.Register(&gpiotest.Pin{N: "TEST_BTN_7", Num: 7, EdgesChan: make(chan gpio.Level)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gpioreg.Unregister("TEST_BTN_7") })
	b, err := OpenButton("TEST_BTN_7", false, DefaultDebounce, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Pressed() {
		t.Fatal("pulled-up active-low button reads pressed")
	}
}

func TestHostDriversLoadOnce(t *testing.T) {
	host.Lock()
	load, done, summary, loadErr := host.load, host.done, host.summary, host.err
	host.load, host.done, host.summary, host.err = nil, false, "", nil
	host.Unlock()
	t.Cleanup(func() {
		host.Lock()
		host.load, host.done, host.summary, host.err = load, done, summary, loadErr
		host.Unlock()
	})

	calls := 0
	RegisterHostDrivers(func() (string, error) {
		calls++
		return "", errors.New("no /dev/gpiomem")
	})
	for range 2 {
		_, err := LookupPin("GPIO4", "status LED")
		if !errors.Is(err, ErrNoPin) || !strings.Contains(err.Error(), "host drivers failed to load: no /dev/gpiomem") {
			t.Fatalf("err = %v", err)
		}
	}
	if calls != 1 {
		t.Fatalf("drivers loaded %d times, want once", calls)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("second RegisterHostDrivers did not panic")
		}
	}()
	RegisterHostDrivers(func() (string, error) { return "", nil })
}
