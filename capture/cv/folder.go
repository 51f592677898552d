package cv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gocv.io/x/gocv"

	"github.com/clipfleet/clipfleet/capture"
)

// folderSource plays the .jpg/.jpeg/.png files of a folder in name order
// (zero-pad numbers: "frame10" sorts before "frame9").
type folderSource struct {
	dir   string
	loop  bool
	log   *slog.Logger
	pacer *capture.Pacer

	files     []string // listed at Open, so images added later play after a reopen
	next      int
	open      bool
	scratch   gocv.Mat // RGB conversion target, from Open to Close
	seq       uint64
	passReads int
}

// NewFolder returns an image folder source, paced to cfg.FPS (0 = as fast
// as images decode) and starting over at the end if cfg.Loop. Images that
// fail to decode are skipped with a warning.
func NewFolder(cfg capture.Config, log *slog.Logger) (capture.Source, error) {
	if cfg.Path == "" {
		return nil, errors.New("capture/cv: folder: no path")
	}
	s := &folderSource{dir: cfg.Path, loop: cfg.Loop, log: orDiscard(log)}
	if cfg.FPS > 0 {
		s.pacer = capture.NewPacer(cfg.FPS, nil)
	}
	return s, nil
}

func (s *folderSource) Name() string { return "folder:" + s.dir }

func (s *folderSource) Open(ctx context.Context) error {
	if s.open {
		return fmt.Errorf("capture/cv: open folder %s: already open", s.dir)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("capture/cv: open folder %s: %w", s.dir, err)
	}
	entries, err := os.ReadDir(s.dir) // sorted by name
	if err != nil {
		return fmt.Errorf("capture/cv: open folder %s: %w", s.dir, err)
	}
	s.files = s.files[:0]
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".jpg", ".jpeg", ".png":
			if !e.IsDir() {
				s.files = append(s.files, filepath.Join(s.dir, e.Name()))
			}
		}
	}
	if len(s.files) == 0 {
		return fmt.Errorf("capture/cv: open folder %s: no .jpg or .png images", s.dir)
	}
	s.next, s.passReads, s.open = 0, 0, true
	s.scratch = gocv.NewMat()
	if s.pacer != nil {
		s.pacer.Reset()
	}
	return nil
}

func (s *folderSource) Read(ctx context.Context, dst *capture.Frame) error {
	if !s.open {
		return fmt.Errorf("capture/cv: read folder %s: %w", s.dir, ErrNotOpen)
	}
	if s.pacer != nil {
		if err := s.pacer.Wait(ctx); err != nil {
			return err
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.next >= len(s.files) {
			if s.passReads == 0 {
				return fmt.Errorf("capture/cv: read folder %s: none of its %d images decodes", s.dir, len(s.files))
			}
			if !s.loop {
				return fmt.Errorf("capture/cv: folder %s: %w", s.dir, capture.ErrEndOfStream)
			}
			s.next, s.passReads = 0, 0
		}
		path := s.files[s.next]
		s.next++
		m := gocv.IMRead(path, gocv.IMReadColor)
		err := matToFrame(&m, &s.scratch, dst)
		m.Close()
		if err != nil {
			s.log.Warn("capture/cv: skipping image", "path", path, "err", err)
			continue
		}
		s.seq++
		s.passReads++
		dst.Seq, dst.Time = s.seq, time.Now()
		return nil
	}
}

func (s *folderSource) Close() error {
	if s.open {
		s.scratch.Close()
		s.open = false
	}
	return nil
}
