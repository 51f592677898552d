package wire

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Verifier finds the public key that must have signed a payload. It must
// return a hub key only for hub kinds (Kind.FromHub) and a device key only
// for KindDeviceDelta, so a device key can never forge a global adapter.
// An unknown sender is reported with an error wrapping ErrUnknownKey; any
// other error is treated as an operational failure, not a rejection.
type Verifier interface {
	PublicKey(fleet, sender string, kind Kind) (ed25519.PublicKey, error)
}

// SeqStore knows the last sequence number accepted from each sender.
// Decode only reads it: the caller records a payload's Seq once it has
// durably processed the payload (a hub that crashes between Decode and
// storing the delta must accept the device's re-send).
type SeqStore interface {
	// LastSeq returns the highest accepted Seq of sender in fleet, 0 if none.
	LastSeq(fleet, sender string) (uint64, error)
}

// Policy is what a receiver accepts. Zero limits in Config take
// DefaultConfig's values (MaxNorm 0 stays unbounded); empty Method, ModelID
// and PreprocessHash and a zero Dim accept any value. Fleet and Keys are
// required.
type Policy struct {
	Config
	Fleet string // required: payloads of other fleets are refused
	Kinds []Kind // accepted kinds; empty accepts all
	Keys  Verifier
	Seqs  SeqStore // nil disables the replay check (tests, offline tools)

	// Content checks, for device deltas and global adapters: a set field
	// must match exactly (a payload without a model id or preprocessing
	// hash is refused by a policy that names one).
	Method         string
	ModelID        string
	Dim            int
	PreprocessHash string

	Now func() time.Time // nil: time.Now
}

func (p *Policy) limits() (maxBytes, maxElems int) {
	d := DefaultConfig()
	maxBytes, maxElems = p.MaxBytes, p.MaxElements
	if maxBytes <= 0 {
		maxBytes = d.MaxBytes
	}
	if maxElems <= 0 {
		maxElems = d.MaxElements
	}
	return maxBytes, maxElems
}

func (p *Policy) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Policy) acceptsKind(k Kind) bool { return len(p.Kinds) == 0 || slices.Contains(p.Kinds, k) }

// Keyring is an in-memory Verifier for one fleet.
type Keyring struct {
	fleet   string
	mu      sync.RWMutex
	devices map[string]ed25519.PublicKey
	hubs    map[string]ed25519.PublicKey
}

// NewKeyring returns an empty keyring for fleet.
func NewKeyring(fleet string) *Keyring {
	return &Keyring{fleet: fleet, devices: map[string]ed25519.PublicKey{}, hubs: map[string]ed25519.PublicKey{}}
}

func checkKey(id string, pub ed25519.PublicKey) error {
	if !ValidID(id) {
		return fmt.Errorf("wire: invalid key id %q", id)
	}
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("wire: key of %q has %d bytes, want %d", id, len(pub), ed25519.PublicKeySize)
	}
	return nil
}

// AddDevice trusts pub for device deltas from id.
func (k *Keyring) AddDevice(id string, pub ed25519.PublicKey) error {
	if err := checkKey(id, pub); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.devices[id] = slices.Clone(pub)
	return nil
}

// AddHub trusts pub for global adapters and acks from hub id.
func (k *Keyring) AddHub(id string, pub ed25519.PublicKey) error {
	if err := checkKey(id, pub); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.hubs[id] = slices.Clone(pub)
	return nil
}

// Devices lists the devices with a key, sorted.
func (k *Keyring) Devices() []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return slices.Sorted(maps.Keys(k.devices))
}

// RemoveDevice revokes a device's key.
func (k *Keyring) RemoveDevice(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.devices, id)
}

// PublicKey implements Verifier.
func (k *Keyring) PublicKey(fleet, sender string, kind Kind) (ed25519.PublicKey, error) {
	if fleet != k.fleet {
		return nil, fmt.Errorf("%w: keyring is for fleet %q, not %q", ErrUnknownKey, k.fleet, fleet)
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	m, role := k.devices, "device"
	if kind.FromHub() {
		m, role = k.hubs, "hub"
	}
	pub, ok := m[sender]
	if !ok {
		return nil, fmt.Errorf("%w: no %s key for %q", ErrUnknownKey, role, sender)
	}
	return pub, nil
}

// MemSeqStore is an in-memory SeqStore; Commit records accepted payloads.
type MemSeqStore struct {
	mu   sync.Mutex
	last map[[2]string]uint64
}

// NewMemSeqStore returns an empty store.
func NewMemSeqStore() *MemSeqStore { return &MemSeqStore{last: map[[2]string]uint64{}} }

// LastSeq implements SeqStore.
func (s *MemSeqStore) LastSeq(fleet, sender string) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last[[2]string{fleet, sender}], nil
}

// Commit records seq as accepted (a lower seq than the stored one is ignored).
func (s *MemSeqStore) Commit(fleet, sender string, seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{fleet, sender}
	s.last[k] = max(s.last[k], seq)
}

// errors.Is helper kept here so Decode reads simply.
func isUnknownKey(err error) bool { return errors.Is(err, ErrUnknownKey) }
