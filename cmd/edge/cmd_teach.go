package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/daemon"
	"github.com/clipfleet/clipfleet/preprocess"
)

func init() {
	register(command{name: "teach", summary: "teach a label from image files or the next camera frames", run: runTeach})
}

// teachUsage documents where a teach goes.
const teachUsage = `usage: edge teach LABEL [--frames N [--views K [--augment P]] | IMAGE...] [--daemon URL|off] [--config FILE] [--set key=value]

Teaches LABEL ("background" is the none class) to the learner.
  --frames N   the next N frames of the running daemon's camera
  --views K    also K augmented views of each of those frames (preset P:
               camera, or shape — any turn and any hue, only for labels
               that stay true when turned and recoloured, like a shape).
               Measured to help the analytic head with shape views (never-
               named shapes from 10 frames: 78% -> 84%), not ncm, and not
               with camera views (eval/README.md)
  IMAGE...     PNG or JPEG files, encoded here with the configured model

Where it goes: to the daemon's debug API when --daemon URL is given, or when
a daemon answers at http.listen; otherwise (or with --daemon off) into the
state directory's learner checkpoint, which the daemon loads at start. Do
not teach a state directory offline while a daemon without a debug API runs
on it: its next checkpoint would overwrite the change. Prints the action as
JSON; undo it with ` + "`edge undo`" + `.

`

func runTeach(ctx context.Context, env *cliEnv, args []string) int {
	fs := flag.NewFlagSet("edge teach", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	var cf configFlags
	cf.register(fs)
	frames := fs.Int("frames", 0, "teach the next N frames of the running daemon")
	views := fs.Int("views", 0, "augmented views taught with each of those frames")
	augPreset := fs.String("augment", "", "preset of those views: camera (default) or shape")
	daemonURL := fs.String("daemon", "", "debug API of the running daemon (default: http.listen if it answers; \"off\": the state directory)")
	fs.Usage = func() { fmt.Fprint(env.stderr, teachUsage); fs.PrintDefaults() }
	// LABEL comes first, flags may follow it.
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(env.stderr, "edge teach: no label given")
		return 2
	}
	label := fs.Arg(0)
	if err := fs.Parse(fs.Args()[1:]); err != nil {
		return 2
	}
	images := fs.Args()
	if (*frames > 0) == (len(images) > 0) {
		fmt.Fprintln(env.stderr, "edge teach: give --frames N or image files (one of them)")
		return 2
	}
	if strings.TrimSpace(label) == "" {
		fmt.Fprintln(env.stderr, "edge teach: empty label")
		return 2
	}
	cfg, err := cf.load(env)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge teach:", err)
		return 2
	}
	base, err := findDaemon(ctx, cfg, *daemonURL)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge teach:", err)
		return 1
	}
	if (*views != 0 || *augPreset != "") && *frames == 0 {
		fmt.Fprintln(env.stderr, "edge teach: --views and --augment need --frames")
		return 2
	}
	req := daemon.TeachRequest{Label: label, Frames: *frames, Views: *views, Augment: *augPreset}
	if *frames > 0 {
		if base == "" {
			fmt.Fprintln(env.stderr, "edge teach: --frames needs a running daemon with its debug API (edge run; see --daemon)")
			return 1
		}
		return postTeach(ctx, env, base, req, cfg.Learn.TeachTimeout+10*time.Second)
	}
	log := quietLogger(env.stderr, cfg.Log)
	enc, err := accel.Open(ctx, cfg.Accel, log)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge teach:", err)
		return 1
	}
	defer enc.Close()
	if req.Embeddings, err = encodeFiles(ctx, enc, images); err != nil {
		fmt.Fprintln(env.stderr, "edge teach:", err)
		return 1
	}
	req.ModelID = enc.Info().ID
	if base != "" {
		return postTeach(ctx, env, base, req, 30*time.Second)
	}
	lrn, err := openLearner(cfg, enc.Info(), env.lookupEnv, log)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge teach:", err)
		return 1
	}
	act, terr := lrn.Teach(label, req.Embeddings)
	resp := daemon.TeachResponse{Action: act}
	if terr != nil {
		resp.Error = terr.Error()
	} else if _, err := lrn.Save(false); err != nil {
		fmt.Fprintln(env.stderr, "edge teach: saving state:", err)
		return 1
	}
	_ = json.NewEncoder(env.stdout).Encode(resp)
	if terr != nil {
		fmt.Fprintln(env.stderr, "edge teach:", terr)
		return 1
	}
	return 0
}

// encodeFiles embeds image files with enc.
func encodeFiles(ctx context.Context, enc accel.Encoder, files []string) ([][]float32, error) {
	info := enc.Info()
	pre, err := preprocess.NewPreprocessor(info.Image)
	if err != nil {
		return nil, err
	}
	var t preprocess.Tensor
	out := make([][]float32, 0, len(files))
	for _, f := range files {
		rgb, w, h, err := readRGB(f)
		if err != nil {
			return nil, err
		}
		if err := pre.Image(&t, rgb, w, h); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		emb := make([]float32, info.EmbeddingDim)
		if err := enc.EncodeImage(ctx, &t, emb); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, emb)
	}
	return out, nil
}

// findDaemon returns the base URL of a running daemon's debug API, or ""
// to work on the state directory. An explicit URL must answer.
func findDaemon(ctx context.Context, cfg daemon.Config, flagURL string) (string, error) {
	switch flagURL {
	case "off":
		return "", nil
	case "":
		if cfg.HTTP.Listen == "" {
			return "", nil
		}
		base := "http://" + cfg.HTTP.Listen
		if probeLearner(ctx, base) == nil {
			return base, nil
		}
		return "", nil
	}
	base := strings.TrimRight(flagURL, "/")
	if err := probeLearner(ctx, base); err != nil {
		return "", fmt.Errorf("daemon at %s: %w", base, err)
	}
	return base, nil
}

func probeLearner(ctx context.Context, base string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/learner", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /api/v1/learner: %s (is learning enabled?)", resp.Status)
	}
	return nil
}

// postJSON posts body to base+path and decodes the JSON reply into out; a
// non-2xx reply is returned as an error (out is still filled).
func postJSON(ctx context.Context, base, path string, body, out any, timeout time.Duration) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s%s: %s: %w", base, path, resp.Status, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s%s: %s", base, path, resp.Status)
	}
	return nil
}

func postTeach(ctx context.Context, env *cliEnv, base string, req daemon.TeachRequest, timeout time.Duration) int {
	var resp daemon.TeachResponse
	err := postJSON(ctx, base, "/api/v1/teach", req, &resp, timeout)
	if err != nil && resp.Error == "" {
		fmt.Fprintln(env.stderr, "edge teach:", err)
		return 1
	}
	_ = json.NewEncoder(env.stdout).Encode(resp)
	if resp.Error != "" {
		fmt.Fprintln(env.stderr, "edge teach:", resp.Error)
		return 1
	}
	return 0
}
