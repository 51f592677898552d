package hub

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The hub's durable state lives in one bbolt file. bbolt commits with
// fsync and a copy-on-write B+tree, so a transaction is either wholly on
// disk or not at all, whatever kills the process.
//
//	meta     "version" → u64 fleet version; "global" → the last global
//	         adapter as published (signed wire bytes)
//	seqs     device → u64 highest seq accepted (pending, merged or stale)
//	pending  device → u64 seq ‖ signed delta bytes, for the current version
//	merged   device → u64 seq ‖ u64 version of its last merged delta
//	history  big-endian u64 version → that version's global adapter as
//	         first published (the increment from version-1); see history.go
//
// meta also holds "hist_from" (u64: history holds the versions after it)
// and, once old versions are folded, "hist_base" (a signed adapter from
// version 0 to hist_from).
var (
	bMeta     = []byte("meta")
	bSeqs     = []byte("seqs")
	bPending  = []byte("pending")
	bMerged   = []byte("merged")
	bHistory  = []byte("history")
	kVersion  = []byte("version")
	kGlobal   = []byte("global")
	kHistFrom = []byte("hist_from")
	kHistBase = []byte("hist_base")
)

type pendingDelta struct {
	seq     uint64
	data    []byte
	arrived time.Time // in memory only: after a restart, the restart time
}

type mergedMark struct{ seq, version uint64 }

// state is the in-memory mirror of the file; every change is written in
// the same bbolt transaction that the caller commits, and the mirror is
// reloaded if a commit fails.
type state struct {
	version uint64
	global  []byte
	seqs    map[string]uint64
	pending map[string]pendingDelta
	merged  map[string]mergedMark
	// histFrom: history holds every version in (histFrom, version];
	// hasBase: hist_base covers (0, histFrom], so a catch-up from 0 works.
	histFrom uint64
	hasBase  bool
}

func openDB(path string) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("hub: state file %s is locked by another hub process", path)
		}
		return nil, fmt.Errorf("hub: open state: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bMeta, bSeqs, bPending, bMerged, bHistory} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return initHistory(tx)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("hub: init state: %w", err)
	}
	return db, nil
}

func loadState(db *bolt.DB, now time.Time) (*state, error) {
	s := &state{seqs: map[string]uint64{}, pending: map[string]pendingDelta{}, merged: map[string]mergedMark{}}
	err := db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		if v := m.Get(kVersion); v != nil {
			if len(v) != 8 {
				return errors.New("version record is not 8 bytes")
			}
			s.version = binary.LittleEndian.Uint64(v)
		}
		if g := m.Get(kGlobal); g != nil {
			s.global = append([]byte(nil), g...)
		}
		if v := m.Get(kHistFrom); len(v) == 8 {
			s.histFrom = binary.LittleEndian.Uint64(v)
		} else {
			return errors.New("hist_from record is not 8 bytes")
		}
		s.hasBase = s.histFrom == 0 || m.Get(kHistBase) != nil
		if err := tx.Bucket(bSeqs).ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("seq of %q is not 8 bytes", k)
			}
			s.seqs[string(k)] = binary.LittleEndian.Uint64(v)
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bPending).ForEach(func(k, v []byte) error {
			if len(v) < 8 {
				return fmt.Errorf("pending delta of %q too short", k)
			}
			s.pending[string(k)] = pendingDelta{seq: binary.LittleEndian.Uint64(v), data: append([]byte(nil), v[8:]...), arrived: now}
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(bMerged).ForEach(func(k, v []byte) error {
			if len(v) != 16 {
				return fmt.Errorf("merged mark of %q is not 16 bytes", k)
			}
			s.merged[string(k)] = mergedMark{binary.LittleEndian.Uint64(v), binary.LittleEndian.Uint64(v[8:])}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("hub: load state: %w", err)
	}
	return s, nil
}

func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func putSeq(tx *bolt.Tx, dev string, seq uint64) error {
	return tx.Bucket(bSeqs).Put([]byte(dev), u64(seq))
}

func putPending(tx *bolt.Tx, dev string, p pendingDelta) error {
	v := make([]byte, 8, 8+len(p.data))
	binary.LittleEndian.PutUint64(v, p.seq)
	return tx.Bucket(bPending).Put([]byte(dev), append(v, p.data...))
}

func delPending(tx *bolt.Tx, dev string) error { return tx.Bucket(bPending).Delete([]byte(dev)) }

func putMerged(tx *bolt.Tx, dev string, m mergedMark) error {
	return tx.Bucket(bMerged).Put([]byte(dev), append(u64(m.seq), u64(m.version)...))
}

func putVersion(tx *bolt.Tx, version uint64, global []byte) error {
	m := tx.Bucket(bMeta)
	if err := m.Put(kVersion, u64(version)); err != nil {
		return err
	}
	return m.Put(kGlobal, global)
}
