package eval

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/internal/atomicfile"
	"github.com/clipfleet/clipfleet/learner/checkpoint"
	"github.com/clipfleet/clipfleet/world"
)

// cacheVersion changes whenever the Dataset layout or how items are
// rendered and embedded changes, so an old cache is rebuilt, not misread.
const cacheVersion = 1

// CacheStatus says what happened to the embedding cache.
type CacheStatus string

const (
	CacheOff     CacheStatus = "off"     // no cache directory
	CacheHit     CacheStatus = "hit"     // loaded, no encoder call
	CacheMiss    CacheStatus = "miss"    // absent: built and written
	CacheCorrupt CacheStatus = "corrupt" // unreadable or of another key: rebuilt and replaced
)

// CacheKey identifies the embeddings of a scenario under a model: the
// model id, its preprocessing, the scenario (re-encoded, so comments and
// key order do not matter) and the prompt templates.
func CacheKey(info accel.ModelInfo, sc *world.Scenario, templates []string) (string, error) {
	y, err := yaml.Marshal(sc)
	if err != nil {
		return "", fmt.Errorf("eval: hashing scenario: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "clipfleet-eval-cache/v%d\x00%s\x00%s\x00%s\x00%d\x00", cacheVersion, info.ID, info.Variant, info.PreprocessHash, info.EmbeddingDim)
	h.Write(y)
	h.Write([]byte{0})
	h.Write([]byte(strings.Join(templates, "\x00")))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// viewsKey extends key with the teach-time views cfg asks for (their
// augmentation and the pictures they are made of); without views the key
// is unchanged, so caches written before views existed stay valid.
func viewsKey(key string, cfg Config) (string, error) {
	if cfg.TeachAugment.Views < 1 || cfg.FewShot < 1 {
		return key, nil
	}
	y, err := yaml.Marshal(cfg.TeachAugment)
	if err != nil {
		return "", fmt.Errorf("eval: hashing teach_augment: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00views\x00%d\x00", key, cfg.FewShot)
	if cfg.FewShotDraws > 1 {
		// Later draws teach (and so need views of) more pictures.
		fmt.Fprintf(h, "draws\x00%d\x00", cfg.FewShotDraws)
	}
	h.Write(y)
	return hex.EncodeToString(h.Sum(nil)), nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// CachePath is the file a dataset with key is cached in under dir.
func CachePath(dir, modelID, scenario, key string) string {
	name := unsafeName.ReplaceAllString(modelID+"-"+scenario, "_")
	return filepath.Join(dir, fmt.Sprintf("%s-%s.v%d.emb", name, key[:16], cacheVersion))
}

// errCacheKey reports a cache file that decodes but belongs to another key
// (a hash-prefix collision or a hand-copied file).
var errCacheKey = errors.New("eval: cache holds another scenario or model")

func loadCache(path, key string) (*Dataset, error) {
	ds, err := readCache(path)
	if err != nil {
		return nil, err
	}
	if ds.Key != key {
		return nil, errCacheKey
	}
	return ds, nil
}

// readCache decodes and checks a cache file whatever its key.
func readCache(path string) (*Dataset, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	_, payload, err := checkpoint.Decode(b)
	if err != nil {
		return nil, err
	}
	var ds Dataset
	if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&ds); err != nil {
		return nil, fmt.Errorf("eval: cache %s: %w", path, err)
	}
	if err := ds.check(); err != nil {
		return nil, err
	}
	return &ds, nil
}

func saveCache(path string, ds *Dataset) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(ds); err != nil {
		return fmt.Errorf("eval: encoding cache: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("eval: cache dir: %w", err)
	}
	// Framed with the checkpoint header so truncation and bit rot are
	// caught by its checksum; written atomically so a crash leaves the old
	// file or none.
	if err := atomicfile.WriteFile(path, checkpoint.Encode(cacheVersion, buf.Bytes()), 0o644); err != nil {
		return fmt.Errorf("eval: writing cache: %w", err)
	}
	return nil
}

// check validates shapes, so a cache that decodes but is inconsistent is
// rebuilt rather than indexed out of range.
func (ds *Dataset) check() error {
	if ds.Dim < 1 {
		return fmt.Errorf("eval: dataset dim %d", ds.Dim)
	}
	for _, group := range [][]Set{ds.Tasks, ds.ZeroShot} {
		for _, s := range group {
			for _, sp := range []Split{s.Train, s.Test} {
				if len(sp.Emb) != sp.Len()*ds.Dim || len(sp.Day) != sp.Len() {
					return fmt.Errorf("eval: set %s: inconsistent split", s.Name)
				}
				for _, c := range sp.Class {
					if c < 0 || int(c) >= len(s.Classes) {
						return fmt.Errorf("eval: set %s: class %d out of range", s.Name, c)
					}
				}
			}
		}
	}
	if tv := ds.Views; tv != nil {
		j := slices.IndexFunc(ds.Tasks, func(s Set) bool { return s.Name == tv.Task })
		if j < 0 || tv.Views < 1 || len(tv.Emb) != len(tv.Items)*tv.Views*ds.Dim {
			return fmt.Errorf("eval: inconsistent teach views")
		}
		for _, i := range tv.Items {
			if i < 0 || int(i) >= ds.Tasks[j].Train.Len() {
				return fmt.Errorf("eval: teach view of item %d out of range", i)
			}
		}
	}
	for n, v := range ds.Text {
		if len(v) != ds.Dim {
			return fmt.Errorf("eval: text of %q has dim %d", n, len(v))
		}
	}
	return nil
}
