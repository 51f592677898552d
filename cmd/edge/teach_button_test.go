package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/clipfleet/clipfleet/augment"
	"github.com/clipfleet/clipfleet/boards"
	"github.com/clipfleet/clipfleet/learner"
)

// blockingTeacher records teach requests and holds each until released.
type blockingTeacher struct {
	calls   chan string
	release chan struct{}
	views   atomic.Int64 // of the last request
}

func (b *blockingTeacher) TeachFramesWithViews(ctx context.Context, name string, n int, aug augment.Config) (learner.Action, error) {
	b.views.Store(int64(aug.Views))
	b.calls <- name
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return learner.Action{Accepted: n}, nil
}

func TestTeachButtonTeachesTheConfiguredLabel(t *testing.T) {
	pin := &gpiotest.Pin{N: "CLIPFLEET_TEST_TEACH", EdgesChan: make(chan gpio.Level), Clock: clockwork.NewRealClock()}
	if err := gpioreg.Register(pin); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gpioreg.Unregister(pin.N) })
	teacher := &blockingTeacher{calls: make(chan string, 4), release: make(chan struct{})}
	g := boards.GPIOConfig{ButtonLabel: "dock", ButtonFrames: 3, ButtonViews: 2, ButtonAugment: "shape"}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	stop := startTeachButton(context.Background(), g, pin.N, teacher, nil, log)
	defer stop()

	press := func() {
		pin.EdgesChan <- gpio.Low // active low: pressed
		pin.EdgesChan <- gpio.High
	}
	press()
	select {
	case name := <-teacher.calls:
		if name != "dock" || teacher.views.Load() != 2 {
			t.Fatalf("taught %q with %d views, want dock with 2", name, teacher.views.Load())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a press taught nothing")
	}
	// Pressed again while that teach waits for frames: ignored.
	press()
	select {
	case name := <-teacher.calls:
		t.Fatalf("a press during a teach started another (%q)", name)
	case <-time.After(200 * time.Millisecond):
	}
	teacher.release <- struct{}{}
	// Done: the next press teaches again.
	deadline := time.After(5 * time.Second)
	for taught := false; !taught; {
		press()
		select {
		case <-teacher.calls:
			taught = true
			teacher.release <- struct{}{}
		case <-deadline:
			t.Fatal("the button stayed busy after the teach ended")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestTeachButtonNeedsLabelAndLearner(t *testing.T) {
	teacher := &blockingTeacher{calls: make(chan string, 1)}
	for _, tc := range []struct {
		g    boards.GPIOConfig
		pin  string
		t    frameTeacher
		want string
	}{
		{boards.GPIOConfig{}, "NO_SUCH_PIN", teacher, "button_label names nothing"},
		{boards.GPIOConfig{ButtonLabel: "dock"}, "NO_SUCH_PIN", nil, "learning is off"},
		{boards.GPIOConfig{ButtonLabel: "dock"}, "NO_SUCH_PIN", teacher, "teach button unavailable"},
		{boards.GPIOConfig{ButtonLabel: "dock"}, boards.PinNone, teacher, ""},
	} {
		var logs strings.Builder
		log := slog.New(slog.NewTextHandler(&logs, nil))
		startTeachButton(context.Background(), tc.g, tc.pin, tc.t, nil, log)()
		if tc.want == "" && logs.Len() != 0 || !strings.Contains(logs.String(), tc.want) {
			t.Errorf("%+v on %q: logged %q, want %q", tc.g, tc.pin, logs.String(), tc.want)
		}
	}
}
