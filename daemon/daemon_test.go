package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/accel/acceltest"
	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/capture/capturetest"
)

// startGrabber runs a scripted source behind the real latest-frame grabber.
func startGrabber(t *testing.T, src capture.Source, finite bool) *capture.Grabber {
	t.Helper()
	cfg := capture.DefaultConfig()
	cfg.Source = capture.KindFile
	cfg.Path = "scripted"
	cfg.Loop = !finite
	g, err := capture.NewGrabber(context.Background(), src, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return g
}

// schedules are the pipeline's capture schedules; the stage tests run under
// each.
var schedules = []struct {
	name string
	set  func(*Options)
}{
	{"just_in_time", func(*Options) {}},
	{"eager", func(o *Options) { o.EagerCapture = true }},
	{"inline", func(o *Options) { o.InlineCapture = true }},
}

func forEachSchedule(t *testing.T, f func(t *testing.T, sch func(Options) Options)) {
	for _, s := range schedules {
		t.Run(s.name, func(t *testing.T) {
			f(t, func(o Options) Options { s.set(&o); return o })
		})
	}
}

func TestRunStopsAtMaxFramesWithOrderedEvents(t *testing.T) {
	forEachSchedule(t, func(t *testing.T, sch func(Options) Options) {
		src := capturetest.New("cam", capturetest.Frames(1<<30, 64, 48))
		g := startGrabber(t, src, false)
		enc := acceltest.New(acceltest.Config{Dim: 32})
		var events []Event
		d, err := New(sch(Options{Frames: g, Encoder: enc, SourceStats: g.Stats, MaxFrames: 7,
			OnEvent: func(e Event) { events = append(events, e) }}))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Run(context.Background()); !errors.Is(err, ErrStopped) {
			t.Fatalf("Run = %v, want ErrStopped", err)
		}
		if len(events) != 7 || enc.ImageCalls() != 7 {
			t.Fatalf("got %d events and %d encoder calls, want 7 of each", len(events), enc.ImageCalls())
		}
		for i, e := range events {
			if i > 0 && e.FrameSeq <= events[i-1].FrameSeq {
				t.Fatalf("event %d frame %d not after %d", i, e.FrameSeq, events[i-1].FrameSeq)
			}
			if e.Norm < 0.999 || e.Norm > 1.001 {
				t.Fatalf("event %d norm %v, want unit", i, e.Norm)
			}
			if e.LatencyMs < e.EncodeMs || e.EmittedAt.Before(e.CapturedAt) {
				t.Fatalf("event %d times inconsistent: %+v", i, e)
			}
		}
		if st := d.Status(); st.Processed != 7 || st.Last == nil || st.Last.FrameSeq != events[6].FrameSeq {
			t.Fatalf("status %+v does not reflect the run", st)
		}
	})
}

func TestRunEndsCleanlyWhenFiniteSourceEnds(t *testing.T) {
	forEachSchedule(t, func(t *testing.T, sch func(Options) Options) {
		g := startGrabber(t, capturetest.New("clip", capturetest.Frames(3, 32, 32)), true)
		n := 0
		d, err := New(sch(Options{Frames: g, Encoder: acceltest.New(acceltest.Config{}), OnEvent: func(Event) { n++ }}))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Run(context.Background()); err != nil {
			t.Fatalf("Run = %v, want nil at end of stream", err)
		}
		if n == 0 || n > 3 {
			t.Fatalf("%d events from a 3-frame source", n)
		}
	})
}

func TestRunReportsEncoderFailure(t *testing.T) {
	forEachSchedule(t, func(t *testing.T, sch func(Options) Options) {
		g := startGrabber(t, capturetest.New("cam", capturetest.Frames(1<<30, 32, 32)), false)
		enc := acceltest.New(acceltest.Config{})
		boom := errors.New("accelerator fell off the bus")
		enc.FailAfter(2, boom)
		d, err := New(sch(Options{Frames: g, Encoder: enc}))
		if err != nil {
			t.Fatal(err)
		}
		err = d.Run(context.Background())
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "daemon: encode frame") {
			t.Fatalf("Run = %v, want the encoder error naming the frame", err)
		}
	})
}

func TestRunStopsOnCancel(t *testing.T) {
	forEachSchedule(t, func(t *testing.T, sch func(Options) Options) {
		g := startGrabber(t, capturetest.New("cam", capturetest.Frames(1<<30, 16, 16)), false)
		ctx, cancel := context.WithCancel(context.Background())
		seen := make(chan struct{}, 1)
		d, err := New(sch(Options{Frames: g, Encoder: acceltest.New(acceltest.Config{}), OnEvent: func(Event) {
			select {
			case seen <- struct{}{}:
			default:
			}
		}}))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		<-seen
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Run after cancel = %v, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	})
}

func TestHTTPAPI(t *testing.T) {
	g := startGrabber(t, capturetest.New("cam", capturetest.Frames(1<<30, 40, 30)), false)
	d, err := New(Options{Frames: g, Encoder: acceltest.New(acceltest.Config{ID: "fake-v1"}), SourceName: "fake:cam", SourceStats: g.Stats, MaxFrames: 5})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.Handler())
	defer srv.Close()

	if code, _ := get(t, srv.URL+"/healthz"); code != http.StatusServiceUnavailable {
		t.Fatalf("healthz before any frame = %d, want 503", code)
	}
	if code, _ := get(t, srv.URL+"/api/v1/frame.jpg"); code != http.StatusServiceUnavailable {
		t.Fatalf("frame.jpg before any frame = %d, want 503", code)
	}
	if err := d.Run(context.Background()); !errors.Is(err, ErrStopped) {
		t.Fatal(err)
	}

	if code, body := get(t, srv.URL+"/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("healthz = %d %q", code, body)
	}
	_, body := get(t, srv.URL+"/metrics")
	for _, want := range []string{"clipfleet_frames_processed_total 5", `clipfleet_model_info{backend="fake",dim="64",id="fake-v1"} 1`, "clipfleet_encode_seconds_count 5"} {
		if !strings.Contains(body, want) {
			t.Fatalf("/metrics lacks %q", want)
		}
	}
	_, body = get(t, srv.URL+"/api/v1/status")
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if st.Processed != 5 || st.Model.ID != "fake-v1" || st.Source != "fake:cam" {
		t.Fatalf("status = %+v", st)
	}
	_, body = get(t, srv.URL+"/api/v1/events?n=2")
	var evs []Event
	if err := json.Unmarshal([]byte(body), &evs); err != nil || len(evs) != 2 || evs[1].FrameSeq != st.Last.FrameSeq {
		t.Fatalf("events = %s (err %v), want the last 2 ending at frame %d", body, err, st.Last.FrameSeq)
	}
	for _, bad := range []string{"0", "x", "100000"} {
		if code, _ := get(t, srv.URL+"/api/v1/events?n="+bad); code != http.StatusBadRequest {
			t.Fatalf("events?n=%s = %d, want 400", bad, code)
		}
	}
	code, body := get(t, srv.URL+"/api/v1/frame.jpg")
	img, err := jpeg.Decode(bytes.NewReader([]byte(body)))
	if code != 200 || err != nil || img.Bounds().Dx() != 40 || img.Bounds().Dy() != 30 {
		t.Fatalf("frame.jpg = %d, decode err %v", code, err)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEventRing(t *testing.T) {
	var r eventRing
	if _, ok := r.last(); ok {
		t.Fatal("empty ring has a last event")
	}
	for i := 1; i <= eventRingSize+10; i++ {
		r.add(Event{FrameSeq: uint64(i), Embedding: []float32{1}})
	}
	got := r.lastN(3)
	if len(got) != 3 || got[0].FrameSeq != eventRingSize+8 || got[2].FrameSeq != eventRingSize+10 || got[2].Embedding != nil {
		t.Fatalf("lastN(3) = %+v", got)
	}
	if n := len(r.lastN(eventRingSize * 2)); n != eventRingSize {
		t.Fatalf("lastN beyond capacity returned %d", n)
	}
}
