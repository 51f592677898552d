package main

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/clipfleet/clipfleet/augment"
	"github.com/clipfleet/clipfleet/boards"
	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/learner"
)

// frameTeacher is the part of daemon.Learner the teach button uses.
type frameTeacher interface {
	TeachFramesWithViews(ctx context.Context, name string, n int, aug augment.Config) (learner.Action, error)
}

// defaultButtonFrames is how many frames one press teaches.
const defaultButtonFrames = 5

// startTeachButton wires the board's teach button (pin; "" or "none":
// none) to the learner: each press teaches the next button_frames frames
// as boards.gpio.button_label, each with button_views augmented views. A press while a teach is running is ignored
// (the frames it would name are the same ones). Nothing here stops the
// daemon: a missing pin or label is logged. stop waits for the button and
// any running teach.
func startTeachButton(ctx context.Context, g boards.GPIOConfig, pin string, t frameTeacher, clock capture.Clock, log *slog.Logger) (stop func()) {
	noop := func() {}
	switch {
	case pin == "" || pin == boards.PinNone:
		return noop
	case t == nil:
		log.Info("teach button ignored: learning is off (learn.enabled)", "pin", pin)
		return noop
	case g.ButtonLabel == "":
		log.Info("teach button ignored: boards.gpio.button_label names nothing to teach", "pin", pin)
		return noop
	}
	btn, err := boards.OpenButton(pin, g.ButtonActiveHigh, g.Debounce, clock)
	if err != nil {
		log.Warn("teach button unavailable; teach with `edge teach` or POST /api/v1/teach", "err", err)
		return noop
	}
	frames := g.ButtonFrames
	if frames <= 0 {
		frames = defaultButtonFrames
	}
	aug, err := g.ButtonViewConfig()
	if err != nil { // Validate refuses this config; a caller that skipped it gets no views
		log.Warn("teach button: no views", "err", err)
		aug = augment.Config{}
	}
	ctx, cancel := context.WithCancel(ctx)
	var busy atomic.Bool
	var teaches sync.WaitGroup
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = btn.Run(ctx, func() {
			if !busy.CompareAndSwap(false, true) {
				log.Info("teach button pressed during a teach; ignored")
				return
			}
			teaches.Add(1)
			go func() {
				defer teaches.Done()
				defer busy.Store(false)
				act, err := t.TeachFramesWithViews(ctx, g.ButtonLabel, frames, aug)
				if err != nil {
					log.Warn("teach button: teach failed", "label", g.ButtonLabel, "err", err)
					return
				}
				log.Info("teach button: taught", "label", g.ButtonLabel, "accepted", act.Accepted, "dropped", act.Dropped)
			}()
		})
	}()
	log.Info("teach button ready", "pin", pin, "label", g.ButtonLabel, "frames", frames, "views", aug.Views)
	return func() {
		cancel()
		<-done
		teaches.Wait()
	}
}
