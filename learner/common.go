package learner

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
)

// stateVersion is the layout version of the baselines' snapshots; bump it
// when a layout changes so old checkpoints are refused, not misread.
const stateVersion = 1

// checkBatch validates a whole batch before any state changes, so Learn is
// all-or-nothing.
func checkBatch(batch []Example, dim int, s *LabelSet) error {
	for i, e := range batch {
		if err := checkEmb(e.Emb, dim); err != nil {
			return fmt.Errorf("learner: example %d: %w", i, err)
		}
		if e.Label == 0 {
			return fmt.Errorf("learner: example %d: %w", i, ErrInvalidID)
		}
		if _, ok := s.Index(e.Label); !ok {
			return fmt.Errorf("learner: example %d: %w: %v", i, ErrUnknownLabel, e.Label)
		}
		if w := e.Weight; w < 0 || math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
			return fmt.Errorf("learner: example %d: weight %v", i, w)
		}
		if norm(e.Emb) == 0 {
			return fmt.Errorf("learner: example %d: %w: zero norm", i, ErrBadEmbedding)
		}
	}
	return nil
}

// syncBase is the fleet bookkeeping every method shares.
type syncBase struct {
	version  uint64 // fleet base version
	exportID uint64 // ID of the last Delta exported against version, 0 if none
}

func (s *syncBase) checkBase(base uint64) error {
	if base != s.version {
		return fmt.Errorf("%w: asked for delta against %d, state is at %d", ErrBaseMismatch, base, s.version)
	}
	return nil
}

// newExport allocates a fresh export ID for a Delta.
func (s *syncBase) newExport() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on Linux; fall back to a counter so
		// the ID stays nonzero and distinct from the previous one.
		s.exportID++
		return s.exportID
	}
	id := binary.LittleEndian.Uint64(b[:]) | 1
	s.exportID = id
	return id
}

// startExport checks that a delta is asked for against the state's base
// and opens a device export of it with a fresh export ID, by which a later
// merge tells whether it included this export.
func (s *syncBase) startExport(base uint64, method string, dim int, modelID string) (*Delta, error) {
	if err := s.checkBase(base); err != nil {
		return nil, err
	}
	return &Delta{Method: method, Dim: dim, ModelID: modelID, BaseVersion: base, ID: s.newExport()}, nil
}

// checkMerged validates a merged delta against the method; it returns
// whether it includes this device's last export.
func (s *syncBase) checkMerged(d *Delta, method string, dim int, modelID string) (bool, error) {
	if err := d.compatible(method, dim, modelID); err != nil {
		return false, err
	}
	if d.BaseVersion != s.version {
		return false, fmt.Errorf("%w: merged delta is against %d, state is at %d", ErrBaseMismatch, d.BaseVersion, s.version)
	}
	if d.Version <= d.BaseVersion {
		return false, fmt.Errorf("learner: merged delta version %d not above base %d", d.Version, d.BaseVersion)
	}
	return d.includes(s.exportID), nil
}

// syncMeta is the part of every snapshot's meta that carries syncBase.
type syncMeta struct {
	BaseVersion uint64 `json:"base_version"`
	ExportID    uint64 `json:"export_id"`
}

func (s *syncBase) meta() syncMeta     { return syncMeta{s.version, s.exportID} }
func (s *syncBase) setMeta(m syncMeta) { s.version, s.exportID = m.BaseVersion, m.ExportID }
func bytesF32(n int) int64             { return int64(n) * 4 }
func bytesF64(n int) int64             { return int64(n) * 8 }
func sqrt(x float64) float64           { return math.Sqrt(x) }

// sortedIDs returns m's keys in ID order, so snapshots and deltas are
// deterministic.
func sortedIDs[V any](m map[ID]V) []ID {
	ids := make([]ID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
