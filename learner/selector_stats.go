package learner

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
)

// Additive statistics that are not one D-vector per class (a task's
// covariance sums, the analytic head's Gram matrix) travel in
// Delta.Classes as chunks of D float64 values, each under a key ID of its
// own. Delta.Tensors cannot carry them: tensors are averaged (FedAvg),
// rounded to float32 and may be quantised on the wire, while class sums are
// added exactly in float64 by MergeDeltas and by the hub. Chunks are D long
// because the wire format requires every class sum to have the delta's
// dimension.
//
// Keys never collide with real classes in practice: structural keys have the
// top bit clear (unlike unnamed IDs) and a fixed 15-bit tag, and both they
// and derived keys would have to equal a SHA-256-derived name ID (odds 2⁻⁶³
// per pair). Chunk counts and weights live inside Sum; Count and Examples
// of a chunk are zero, so undo (negative changes) still passes the wire's
// non-negative count check.

const (
	statTagShift   = 48
	statOwnerShift = 24
	statChunkMask  = 1<<statOwnerShift - 1
	statOwnerMask  = 1<<(statTagShift-statOwnerShift) - 1
	// MaxTaskID is the largest task id whose statistics fit a chunk key.
	MaxTaskID = statOwnerMask

	statTagSelector uint64 = 0x51C7 // per-task Gaussian of the selector
	statTagGram     uint64 = 0x6A3D // analytic head's Gram matrix
)

// statKey is the structural key of chunk of the vector (tag, owner).
func statKey(tag uint64, owner int, chunk int) ID {
	return ID(tag<<statTagShift | uint64(owner)<<statOwnerShift | uint64(chunk))
}

// parseStatKey inverts statKey for keys with the given tag.
func parseStatKey(id ID, tag uint64) (owner, chunk int, ok bool) {
	v := uint64(id)
	if v>>statTagShift != tag {
		return 0, 0, false
	}
	return int(v >> statOwnerShift & statOwnerMask), int(v & statChunkMask), true
}

// classChunkKey is the key of chunk j of a class's vector: the class itself
// for chunk 0, so a delta lists the classes it taught, and a hash of (class,
// j) for the rest.
func classChunkKey(class ID, j int) ID {
	if j == 0 {
		return class
	}
	sum := sha256.Sum256([]byte("clipfleet/stat/" + class.String() + "/" + strconv.Itoa(j)))
	id := ID(binary.LittleEndian.Uint64(sum[:8])) &^ unnamedBit
	if id < 2 {
		id += 2
	}
	return id
}

func chunkCount(n, dim int) int { return (n + dim - 1) / dim }

// appendChunks splits v into dim-long chunks (the last zero-padded) and
// appends the non-zero ones to dst under key(j). A missing chunk means "no
// change", which keeps deltas of sparse changes small.
func appendChunks(dst []ClassStats, v []float64, dim int, key func(int) ID) []ClassStats {
	for j := 0; j < chunkCount(len(v), dim); j++ {
		part := v[j*dim : min(len(v), (j+1)*dim)]
		zero := true
		for _, x := range part {
			if x != 0 {
				zero = false
				break
			}
		}
		if zero {
			continue
		}
		sum := make([]float64, dim)
		copy(sum, part)
		dst = append(dst, ClassStats{Label: key(j), Sum: sum})
	}
	return dst
}

// chunkSet indexes a merged delta's chunks for decoding; every chunk must
// be claimed by some statistic, else the delta is not this method's.
type chunkSet struct {
	dim  int
	cs   []ClassStats
	byID map[ID]int
	used []bool
}

func newChunkSet(cs []ClassStats, dim int) (*chunkSet, error) {
	c := &chunkSet{dim: dim, cs: cs, byID: make(map[ID]int, len(cs)), used: make([]bool, len(cs))}
	for i, s := range cs {
		if len(s.Sum) != dim {
			return nil, fmt.Errorf("%w: statistics chunk %v has %d values, want %d", ErrDim, s.Label, len(s.Sum), dim)
		}
		if _, dup := c.byID[s.Label]; dup {
			return nil, fmt.Errorf("%w: statistics chunk %v twice", ErrIncompatible, s.Label)
		}
		c.byID[s.Label] = i
	}
	return c, nil
}

// vector assembles the n-long vector whose chunks have keys key(j); absent
// chunks are zero. ok reports whether any chunk was present.
func (c *chunkSet) vector(n int, key func(int) ID) (v []float64, ok bool) {
	for j := 0; j < chunkCount(n, c.dim); j++ {
		i, found := c.byID[key(j)]
		if !found {
			continue
		}
		if v == nil {
			v = make([]float64, n)
		}
		copy(v[j*c.dim:min(n, (j+1)*c.dim)], c.cs[i].Sum)
		c.used[i] = true
	}
	return v, v != nil
}

// owners lists the owners of structural keys with tag, in first-seen order.
func (c *chunkSet) owners(tag uint64) []int {
	var out []int
	seen := map[int]bool{}
	for _, s := range c.cs {
		if o, _, ok := parseStatKey(s.Label, tag); ok && !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out
}

// unclaimed returns an error naming a chunk no statistic claimed.
func (c *chunkSet) unclaimed() error {
	for i, u := range c.used {
		if !u {
			return fmt.Errorf("%w: unexpected statistics %v", ErrIncompatible, c.cs[i].Label)
		}
	}
	return nil
}
