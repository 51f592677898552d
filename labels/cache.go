package labels

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/clipfleet/clipfleet/internal/atomicfile"
)

// maxCacheFileBytes bounds what loadCache reads.
const maxCacheFileBytes = 256 << 20

// cacheKey identifies one label embedding: the model, its dimension and
// the exact token ids of every prompt in order. Keying on ids rather than
// on names, templates and tokenizer file makes every input that can change
// the result part of the key, and nothing else: a renamed tokenizer file
// with the same vocabulary still hits.
func cacheKey(modelID string, dim int, ids [][]int32) [keyLen]byte {
	b := make([]byte, 0, 64+len(modelID)+len(ids)*64)
	b = append(b, "clipfleet/label-embedding/v1\x00"...)
	b = append(b, modelID...)
	b = binary.LittleEndian.AppendUint32(b, uint32(dim))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(ids)))
	for _, seq := range ids {
		// Sequences are mostly padding: write the length, the trailing run
		// of the last id as a count, then the ids before it. Still
		// injective, and hashing a quarter of the bytes.
		n := len(seq)
		run := 0
		for run < n && seq[n-1-run] == seq[n-1] {
			run++
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(n))
		b = binary.LittleEndian.AppendUint32(b, uint32(run))
		for _, id := range seq[:n-run] {
			b = binary.LittleEndian.AppendUint32(b, uint32(id))
		}
		if n > 0 {
			b = binary.LittleEndian.AppendUint32(b, uint32(seq[n-1]))
		}
	}
	return sha256.Sum256(b)
}

// cache holds the label embeddings of one model, by key.
type cache struct {
	modelID string
	dim     int
	entries map[[keyLen]byte]binEntry
}

func newCache(modelID string, dim int) *cache {
	return &cache{modelID: modelID, dim: dim, entries: map[[keyLen]byte]binEntry{}}
}

// cacheLoad says what loadCache found.
type cacheLoad int

const (
	cacheMissing cacheLoad = iota // no file: a first start
	cacheOK                       // entries usable
	cacheForeign                  // another model or dimension: start over
	cacheCorrupt                  // damaged: start over (err says how)
)

// loadCache reads the cache file at path for a model. It never fails the
// caller: a missing, foreign or damaged cache yields an empty one, with the
// reason in the returned state and error.
func loadCache(path, modelID string, dim int) (*cache, cacheLoad, error) {
	c := newCache(modelID, dim)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, cacheMissing, nil
	}
	if err != nil {
		return c, cacheCorrupt, fmt.Errorf("labels: cache: %w", err)
	}
	defer f.Close()
	data, err := readAtMost(f, maxCacheFileBytes)
	if err != nil {
		return c, cacheCorrupt, errorf(ErrInvalidEmbeddings, "labels: cache %s: %w", path, err)
	}
	id, d, entries, err := decodeBinary(data, kindCache)
	if err != nil {
		return c, cacheCorrupt, errorf(ErrInvalidEmbeddings, "labels: cache %s: %w", path, err)
	}
	if id != modelID || d != dim {
		return c, cacheForeign, nil
	}
	for _, e := range entries {
		if normalize(e.vec) != nil {
			return newCache(modelID, dim), cacheCorrupt, errorf(ErrInvalidEmbeddings, "labels: cache %s: entry %q is not a usable vector", path, e.name)
		}
		c.entries[e.key] = e
	}
	return c, cacheOK, nil
}

func (c *cache) get(key [keyLen]byte) ([]float32, bool) {
	e, ok := c.entries[key]
	return e.vec, ok
}

func (c *cache) put(key [keyLen]byte, name string, vec []float32) {
	c.entries[key] = binEntry{name: name, key: key, vec: vec}
}

// save writes the cache crash-safely, entries in the given key order so the
// file is reproducible.
func (c *cache) save(path string, order [][keyLen]byte) error {
	entries := make([]binEntry, 0, len(order))
	for _, k := range order {
		if e, ok := c.entries[k]; ok {
			entries = append(entries, e)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("labels: cache: %w", err)
	}
	if err := atomicfile.WriteFile(path, encodeBinary(kindCache, c.modelID, c.dim, entries), 0o644); err != nil {
		return fmt.Errorf("labels: cache: %w", err)
	}
	return nil
}
