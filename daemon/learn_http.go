package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/clipfleet/clipfleet/augment"
	"github.com/clipfleet/clipfleet/learner"
)

// maxTeachBody bounds a teach request: 256 embeddings of 1024 floats in
// JSON fit with room to spare.
const maxTeachBody = 8 << 20

// TeachRequest is the body of POST /api/v1/teach: either Frames (teach the
// next N frames the camera sees) or Embeddings (encoded by the caller with
// the same model, named by ModelID).
type TeachRequest struct {
	Label      string      `json:"label"`
	Frames     int         `json:"frames,omitempty"`
	Embeddings [][]float32 `json:"embeddings,omitempty"`
	ModelID    string      `json:"model_id,omitempty"`
	// Views augmented views of each frame are taught after it, made with
	// the augment preset Augment ("camera" when empty; "shape" also turns
	// and recolours, for labels that survive that). Frames only.
	Views   int    `json:"views,omitempty"`
	Augment string `json:"augment,omitempty"`
}

// maxTeachViews bounds the views per taught frame: each costs an encode on
// the frame path.
const maxTeachViews = 64

// viewConfig is the augmentation a request asks for (Views 0: none).
func (r TeachRequest) viewConfig() (augment.Config, error) {
	if r.Views == 0 && r.Augment == "" {
		return augment.Config{}, nil
	}
	if r.Views < 1 || r.Views > maxTeachViews {
		return augment.Config{}, fmt.Errorf("daemon: views %d outside [1,%d]", r.Views, maxTeachViews)
	}
	if r.Frames < 1 {
		return augment.Config{}, fmt.Errorf("daemon: views are made of frames; embeddings cannot have views")
	}
	aug, err := augment.PresetViews(r.Augment, r.Views)
	if err != nil {
		return augment.Config{}, fmt.Errorf("daemon: augment: %w", err)
	}
	return aug, nil
}

// TeachResponse is the reply to a teach.
type TeachResponse struct {
	Action learner.Action `json:"action"`
	Error  string         `json:"error,omitempty"`
}

// UndoRequest is the body of POST /api/v1/undo.
type UndoRequest struct {
	N int `json:"n"` // 0 means 1
}

// UndoResponse lists the actions undone, newest first.
type UndoResponse struct {
	Undone []learner.Action `json:"undone"`
	Error  string           `json:"error,omitempty"`
}

// WithLearner adds the learner endpoints to the daemon's debug API:
// POST /api/v1/teach, POST /api/v1/undo, GET /api/v1/learner. Like the rest
// of the debug API it must only be served on loopback (HTTPConfig).
func WithLearner(base http.Handler, l *Learner) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", base)
	mux.HandleFunc("GET /api/v1/learner", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, l.Status()) })
	mux.HandleFunc("POST /api/v1/teach", l.serveTeach)
	mux.HandleFunc("POST /api/v1/undo", l.serveUndo)
	return mux
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxTeachBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("daemon: request body: %w", err)
	}
	return nil
}

func (l *Learner) serveTeach(w http.ResponseWriter, r *http.Request) {
	var req TeachRequest
	if err := decodeBody(w, r, &req); err != nil {
		writeJSONStatus(w, http.StatusBadRequest, TeachResponse{Error: err.Error()})
		return
	}
	var (
		act learner.Action
		err error
	)
	aug, augErr := req.viewConfig()
	switch {
	case augErr != nil:
		err = augErr
	case (req.Frames > 0) == (len(req.Embeddings) > 0):
		err = fmt.Errorf("daemon: give frames > 0 or embeddings, not both or neither")
	case learner.CanonicalName(req.Label) == "":
		err = fmt.Errorf("daemon: empty label")
	case len(req.Embeddings) > 0 && req.ModelID != l.cfg.ModelID:
		err = fmt.Errorf("%w: embeddings from model %q, daemon runs %q", ErrStateMismatch, req.ModelID, l.cfg.ModelID)
	case req.Frames > 0:
		act, err = l.TeachFramesWithViews(r.Context(), req.Label, req.Frames, aug)
	default:
		act, err = l.Teach(req.Label, req.Embeddings)
	}
	resp := TeachResponse{Action: act}
	if err != nil {
		resp.Error = err.Error()
	}
	writeJSONStatus(w, learnStatus(err), resp)
}

func (l *Learner) serveUndo(w http.ResponseWriter, r *http.Request) {
	var req UndoRequest
	if err := decodeBody(w, r, &req); err != nil {
		writeJSONStatus(w, http.StatusBadRequest, UndoResponse{Error: err.Error()})
		return
	}
	if req.N == 0 {
		req.N = 1
	}
	done, err := l.Undo(req.N)
	resp := UndoResponse{Undone: done}
	if err != nil {
		resp.Error = err.Error()
	}
	writeJSONStatus(w, learnStatus(err), resp)
}

// learnStatus maps learner errors to HTTP statuses.
func learnStatus(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, learner.ErrClassFull), errors.Is(err, learner.ErrNothingToUndo), errors.Is(err, ErrStateMismatch):
		return http.StatusConflict
	case errors.Is(err, ErrTeachTimeout):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

func writeJSONStatus(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
