package labels

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/tokenizer"
)

// ManagerOptions are what a Manager needs besides its Config.
type ManagerOptions struct {
	// Encoder computes text embeddings; nil makes a planning-only manager
	// (Info must then describe the model) that never encodes or writes.
	// Watch calls EncodeText while the daemon calls EncodeImage, so it must
	// be safe for concurrent use, as the onnx and tflite backends are.
	Encoder accel.Encoder
	Info    accel.ModelInfo // used when Encoder is nil
	TopK    int             // labels per classification (≥ 1)
	Log     *slog.Logger    // nil: discard
	Getenv  func(string) string
}

// Manager owns a device's label vocabulary: it resolves the state
// directory, tokenizer and embeddings file, builds the Set, keeps the
// Classifier's Set current and reloads it when the files change.
type Manager struct {
	cfg       Config
	log       *slog.Logger
	info      accel.ModelInfo
	enc       accel.Encoder
	dir       string
	vocabPath string
	tok       *tokenizer.Tokenizer
	tokFrom   string // where the tokenizer path came from, "" if none
	noTok     string // why there is no tokenizer
	clf       *Classifier

	mu        sync.Mutex // serialises Reload and guards the fields below
	file      *Embeddings
	fileStamp os.FileInfo
	vocStamp  os.FileInfo
	statuses  []Status
	empty     bool // the last set was empty and that was logged
}

// NewManager resolves the configuration. A configured tokenizer or
// embeddings file that cannot be read, or embeddings made for another
// model, are errors: they are deployment mistakes best caught at start.
// Nothing is built until Reload.
func NewManager(cfg Config, o ManagerOptions) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.TopK < 1 {
		o.TopK = 1
	}
	m := &Manager{cfg: cfg, log: o.Log, enc: o.Encoder, info: o.Info}
	if o.Encoder != nil {
		m.info = o.Encoder.Info()
	}
	dir, err := cfg.ResolveDir(o.Getenv)
	if err != nil {
		return nil, err
	}
	m.dir, m.vocabPath = dir, filepath.Join(dir, VocabularyFile)

	if m.info.HasText {
		path, from := cfg.ResolveTokenizer(m.info.Tokenizer, o.Getenv)
		if m.info.Tokenizer != "" && cfg.Tokenizer != "" && cfg.Tokenizer != m.info.Tokenizer {
			m.log.Warn("labels.tokenizer ignored: the model's manifest names the tokenizer it was trained with",
				"model", m.info.ID, "manifest_tokenizer", m.info.Tokenizer, "labels.tokenizer", cfg.Tokenizer)
		}
		if path == "" {
			m.noTok = fmt.Sprintf("labels need a tokenizer: model %s's manifest names none; set labels.tokenizer "+
				"(or CLIPFLEET_VOCAB) to a vocabulary such as OpenAI's bpe_simple_vocab_16e6.txt.gz", m.info.ID)
		} else {
			tok, err := tokenizer.Load(path)
			if err != nil {
				return nil, fmt.Errorf("labels: tokenizer from %s: %w", from, err)
			}
			m.tok, m.tokFrom = tok, from
		}
	} else {
		m.noTok = fmt.Sprintf("model %s has no text encoder", m.info.ID)
	}

	if cfg.EmbeddingsFile != "" {
		if err := m.readEmbeddingsFile(); err != nil {
			return nil, err
		}
	}
	m.clf = NewClassifier(m.info.EmbeddingDim, m.info.LogitScale, o.TopK)
	return m, nil
}

// readEmbeddingsFile (re)reads labels.embeddings_file and checks it
// against the model. Called with mu held or before the manager is shared.
func (m *Manager) readEmbeddingsFile() error {
	st, err := os.Stat(m.cfg.EmbeddingsFile)
	if err != nil {
		return fmt.Errorf("labels: embeddings_file: %w", err)
	}
	e, err := ReadEmbeddingsFile(m.cfg.EmbeddingsFile)
	if err != nil {
		return err
	}
	if err := e.Check(m.info.ID, m.info.EmbeddingDim); err != nil {
		return errorf(ErrModelMismatch, "labels: embeddings_file %s: %w", m.cfg.EmbeddingsFile, err)
	}
	m.file, m.fileStamp = e, st
	return nil
}

// Classifier is the classifier whose Set Reload keeps current.
func (m *Manager) Classifier() *Classifier { return m.clf }

// Info describes the model the manager builds label sets for.
func (m *Manager) Info() accel.ModelInfo { return m.info }

// Dir is the resolved state directory.
func (m *Manager) Dir() string { return m.dir }

// VocabularyPath is the label file's path.
func (m *Manager) VocabularyPath() string { return m.vocabPath }

// CachePath is the embedding cache's path.
func (m *Manager) CachePath() string { return filepath.Join(m.dir, CacheFile) }

// Tokenizer returns the tokenizer and where its path came from, or nil and
// why there is none.
func (m *Manager) Tokenizer() (tok *tokenizer.Tokenizer, from string) {
	if m.tok == nil {
		return nil, m.noTok
	}
	return m.tok, m.tokFrom
}

// Vocabulary reads the label file, or the configured default when there is
// none (fromFile false).
func (m *Manager) Vocabulary() (v *Vocabulary, fromFile bool, err error) {
	return LoadOrDefault(m.vocabPath, m.cfg.Default)
}

// SaveVocabulary writes v as the label file.
func (m *Manager) SaveVocabulary(v *Vocabulary) error { return SaveVocabulary(m.vocabPath, v) }

// Statuses returns the per-label statuses of the last Reload.
func (m *Manager) Statuses() []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.statuses
}

// Build embeds v without making it current; used by `edge classify
// --labels` and `edge labels list|export`. It encodes and updates the
// cache only when the manager has an encoder.
func (m *Manager) Build(ctx context.Context, v *Vocabulary) (*Set, []Status, BuildStats, error) {
	m.mu.Lock()
	file := m.file
	m.mu.Unlock()
	b := Builder{
		Info: m.info, Encoder: m.enc, Tokenizer: m.tok, File: file,
		Templates: m.cfg.Templates, CachePath: m.CachePath(), Log: m.log, NoTokenizerReason: m.noTok,
	}
	return b.Build(ctx, v)
}

// Reload rebuilds the Set from the label file (or the default vocabulary)
// and the embeddings file, and makes it current. On error the previous Set
// stays current.
func (m *Manager) Reload(ctx context.Context) (BuildStats, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reloadLocked(ctx)
}

func (m *Manager) reloadLocked(ctx context.Context) (BuildStats, error) {
	if m.cfg.EmbeddingsFile != "" && changed(m.cfg.EmbeddingsFile, m.fileStamp) {
		if err := m.readEmbeddingsFile(); err != nil {
			return BuildStats{}, err
		}
	}
	vocStamp, _ := os.Stat(m.vocabPath) // before reading, so a write during the read is seen next time
	v, fromFile, err := m.Vocabulary()
	if err != nil {
		return BuildStats{}, err
	}
	b := Builder{
		Info: m.info, Encoder: m.enc, Tokenizer: m.tok, File: m.file,
		Templates: m.cfg.Templates, CachePath: m.CachePath(), Log: m.log, NoTokenizerReason: m.noTok,
	}
	t0 := time.Now()
	set, statuses, st, err := b.Build(ctx, v)
	if err != nil {
		return st, err
	}
	if err := m.clf.Store(set); err != nil {
		return st, err
	}
	m.vocStamp, m.statuses = vocStamp, statuses
	m.logResult(v, fromFile, set, statuses, st, time.Since(t0))
	return st, nil
}

func (m *Manager) logResult(v *Vocabulary, fromFile bool, set *Set, statuses []Status, st BuildStats, took time.Duration) {
	vocab := "labels.default"
	if fromFile {
		vocab = m.vocabPath
	}
	var missing []string
	reason := ""
	for _, s := range statuses {
		if s.Source == SourceUnavailable || s.Source == SourcePending {
			missing = append(missing, s.Name)
			reason = s.Reason
		}
	}
	if set.Len() == 0 {
		if !m.empty {
			msg := "no labels: events carry none"
			if len(v.Labels) == 0 {
				reason = fmt.Sprintf("the vocabulary (%s) is empty; add labels with `edge labels add NAME`", vocab)
			}
			m.log.Warn(msg, "reason", reason)
			m.empty = true
		}
		return
	}
	m.empty = false
	m.log.Info("labels ready", "labels", set.Len(), "vocabulary", vocab, "from_file", st.FromFile,
		"cached", st.Cached, "encoded", st.Encoded, "prompts_encoded", st.Prompts,
		"took", took.Round(time.Millisecond), "cache", st.Cache)
	if len(missing) > 0 {
		m.log.Warn("labels left out: no embedding", "labels", strings.Join(missing, ", "), "reason", reason)
	}
}

// Watch polls the label and embeddings files every cfg.ReloadInterval and
// reloads when either changes, until ctx ends. A failed reload is logged
// and keeps the previous Set. It returns at once if reloading is disabled.
func (m *Manager) Watch(ctx context.Context) {
	if m.cfg.ReloadInterval <= 0 {
		return
	}
	t := time.NewTicker(m.cfg.ReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m.mu.Lock()
		due := changed(m.vocabPath, m.vocStamp) ||
			m.cfg.EmbeddingsFile != "" && changed(m.cfg.EmbeddingsFile, m.fileStamp)
		if due {
			m.log.Info("label files changed; reloading", "vocabulary", m.vocabPath)
			if _, err := m.reloadLocked(ctx); err != nil && ctx.Err() == nil {
				m.log.Error("label reload failed; keeping the previous labels", "err", err)
				// Remember this version so a broken file is reported once.
				m.vocStamp, _ = os.Stat(m.vocabPath)
				if m.cfg.EmbeddingsFile != "" {
					m.fileStamp, _ = os.Stat(m.cfg.EmbeddingsFile)
				}
			}
		}
		m.mu.Unlock()
	}
}

// changed reports whether path differs from the stamp taken earlier (nil:
// it did not exist). Atomic rewrites replace the inode, so SameFile catches
// them even within one mtime tick.
func changed(path string, old os.FileInfo) bool {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return old != nil
	}
	if err != nil || old == nil {
		return true
	}
	return !os.SameFile(st, old) || !st.ModTime().Equal(old.ModTime()) || st.Size() != old.Size()
}
