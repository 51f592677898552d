package learner

import (
	"errors"
	"testing"
)

func TestStreamVote(t *testing.T) {
	for _, tc := range []struct {
		name   string
		window int
		frames []int
		want   []int
	}{
		{"window 1 follows every frame", 1, []int{0, -1, 2}, []int{0, -1, 2}},
		{"one odd frame does not flip", 3, []int{0, 0, -1, 0, 0}, []int{0, 0, 0, 0, 0}},
		{"a lasting change wins", 3, []int{0, 0, -1, -1, -1}, []int{0, 0, 0, -1, -1}},
		{"tie goes to the latest", 4, []int{1, 1, 2, 2}, []int{1, 1, 1, 2}},
		{"old frames leave the window", 2, []int{3, 3, 3, 5, 5}, []int{3, 3, 3, 5, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewStream(mustNew(t, testCfg("zeroshot", 4), NewLabels(4)), tc.window)
			if err != nil {
				t.Fatal(err)
			}
			for i, f := range tc.frames {
				if got := s.vote(f); got != tc.want[i] {
					t.Fatalf("frame %d: voted %d, want %d", i, got, tc.want[i])
				}
			}
			s.Reset()
			if got := s.vote(9); got != 9 {
				t.Fatalf("after Reset the first frame voted %d", got)
			}
		})
	}
}

// TestStreamSmoothsRouting: on a camera stream of one learned task, a
// single frame the selector would send to zero-shot still gets the task's
// head; a lasting change of scene switches to zero-shot.
func TestStreamSmoothsRouting(t *testing.T) {
	for _, name := range selectorMethods {
		t.Run(name, func(t *testing.T) {
			const dim = 32
			w := newCLWorld(t, 16, dim, 2, 4, 15, defaultCL)
			m := newSel(t, name, w.labels).(Routed)
			mustLearn(t, m, w.tasks[0].batch())
			in, out := w.tasks[0].test, w.tasks[1].test
			if r, _ := m.Route(out[0]); r.Seen {
				t.Fatalf("the out-of-task frame is claimed: %+v", r)
			}
			for _, x := range in[:3] {
				if r, _ := m.Route(x); !r.Seen {
					t.Fatalf("an in-task frame is not claimed: %+v", r)
				}
			}
			s, err := NewStream(m, 3)
			if err != nil {
				t.Fatal(err)
			}
			zs := mustNew(t, testCfg("zeroshot", dim), w.labels)
			frames := [][]float32{in[0], in[1], out[0], in[2], out[1], out[2], out[3]}
			wantSeen := []bool{true, true, true, true, false, false, false}
			for i, x := range frames {
				got, r, err := s.Predict(x, nil)
				if err != nil {
					t.Fatal(err)
				}
				if r.Seen != wantSeen[i] {
					t.Fatalf("frame %d: voted %+v, want seen=%v", i, r, wantSeen[i])
				}
				direct, _ := m.PredictRoute(x, r, nil)
				if d := maxAbsDiff([][]float32{got}, [][]float32{direct}); d != 0 {
					t.Fatalf("frame %d: stream logits differ from PredictRoute by %v", i, d)
				}
				if !r.Seen {
					z, _ := zs.Predict(x, nil)
					if d := maxAbsDiff([][]float32{got}, [][]float32{z}); d != 0 {
						t.Fatalf("frame %d: unseen logits differ from zero-shot by %v", i, d)
					}
				}
			}
		})
	}
}

func TestStreamPassesThroughOtherMethods(t *testing.T) {
	w := newWorld(t, 17, 8, 2, 3, true)
	m := mustNew(t, testCfg("ncm", 8), w.labels)
	s, err := NewStream(m, 3)
	if err != nil {
		t.Fatal(err)
	}
	got, r, err := s.Predict(w.test[0], nil)
	want, _ := m.Predict(w.test[0], nil)
	if err != nil || r.Seen || maxAbsDiff([][]float32{got}, [][]float32{want}) != 0 {
		t.Fatalf("pass-through: %v %+v", err, r)
	}
	if _, _, err := s.Predict(w.test[0][:2], nil); !errors.Is(err, ErrDim) {
		t.Fatalf("wrong dim: %v", err)
	}
	if _, err := NewStream(m, 0); err == nil {
		t.Fatal("window 0 accepted")
	}
	if _, err := NewStream(nil, 3); err == nil {
		t.Fatal("nil method accepted")
	}
}
