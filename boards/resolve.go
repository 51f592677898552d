package boards

import (
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
)

// Resolve validates cfg, detects the board under cfg.Root (or takes the
// one cfg.Board names), lays cfg's thermal and GPIO overrides over its
// profile, and logs the outcome: the chosen board and its evidence at info
// level with the names of the boards skipped, each skipped board's reason
// at debug level, and a warning when a board set in the config does not
// match what detection finds.
func Resolve(cfg Config, log *slog.Logger) (Detection, error) {
	if err := cfg.Validate(); err != nil {
		return Detection{}, err
	}
	root := cfg.root()
	st, err := os.Stat(root)
	if err != nil {
		return Detection{}, fmt.Errorf("boards: root: %w", err)
	}
	if !st.IsDir() {
		return Detection{}, fmt.Errorf("boards: root %s is not a directory", root)
	}
	return resolveFS(cfg, os.DirFS(root), All(), log)
}

func resolveFS(cfg Config, fsys fs.FS, bs []Board, log *slog.Logger) (Detection, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	forced := ""
	if cfg.Board != "" && cfg.Board != Auto {
		forced = cfg.Board
	}
	d, err := detect(fsys, bs, forced)
	if err != nil {
		for _, c := range d.Candidates {
			log.Debug("boards: board skipped", "board", c.Board, "reason", c.Evidence)
		}
		return d, err
	}
	if d.Profile, err = cfg.apply(d.Profile); err != nil {
		return d, err
	}
	var skipped []string
	for _, c := range d.Skipped() {
		skipped = append(skipped, c.Board)
		reason := c.Evidence
		if c.Note != "" {
			reason = c.Note + " (" + c.Evidence + ")"
		}
		log.Debug("boards: board skipped", "board", c.Board, "reason", reason)
	}
	attrs := []any{"board", d.Board, "host", d.Host, "evidence", d.Evidence, "skipped", skipped}
	if d.Forced {
		log.Info("boards: board set by config", attrs...)
		for _, c := range d.Candidates {
			if c.Board == d.Board && !c.Matched {
				log.Warn("boards: the configured board does not match this system", "board", d.Board, "evidence", c.Evidence)
			}
		}
	} else {
		log.Info("boards: board detected", attrs...)
	}
	return d, nil
}
