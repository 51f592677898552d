package learner

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// ID identifies a class across the fleet. Named classes get the hash of
// their canonical name, so two devices that are taught "mug" independently
// agree on its ID without talking; classes nobody has named yet get a random
// ID with the top bit set, so they never collide with a name hash.
type ID uint64

// Background is the reserved "none of the above" class, present in every
// Labels at index 0 so a method can say "nothing I know".
const Background ID = 1

// unnamedBit marks IDs that were not derived from a name.
const unnamedBit = ID(1) << 63

// BackgroundName is the name of the Background class.
const BackgroundName = "background"

// String prints the ID in hex, the form used in tensor names and logs.
func (id ID) String() string { return strconv.FormatUint(uint64(id), 16) }

// ParseID is the inverse of ID.String.
func ParseID(s string) (ID, error) {
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil || v == 0 {
		return 0, fmt.Errorf("%w: %q", ErrInvalidID, s)
	}
	return ID(v), nil
}

// Unnamed reports whether the ID was allocated for a class without a name.
func (id ID) Unnamed() bool { return id&unnamedBit != 0 }

// CanonicalName is the form names are compared and hashed in: lower case,
// surrounding space trimmed, inner runs of space collapsed.
func CanonicalName(name string) string {
	return strings.Join(strings.Fields(strings.ToLower(name)), " ")
}

// IDFor returns the fleet-wide ID of a class name.
func IDFor(name string) ID {
	c := CanonicalName(name)
	if c == BackgroundName {
		return Background
	}
	sum := sha256.Sum256([]byte("clipfleet/label/" + c))
	id := ID(binary.LittleEndian.Uint64(sum[:8])) &^ unnamedBit
	if id < 2 { // keep 0 invalid and 1 for Background
		id += 2
	}
	return id
}

// LabelSet is an immutable view of the registry at one generation. Methods
// take one per Predict/Learn so a concurrent Add cannot change the class
// order under them.
type LabelSet struct {
	gen   uint64
	dim   int
	ids   []ID
	names []string
	text  [][]float32 // nil entry: no text embedding for that class
	index map[ID]int
	byNm  map[string]ID

	overlapOnce sync.Once
	overlap     []float32 // see TextOverlap; computed on first use
}

// Generation increases on every change, so methods can cache derived class
// vectors and rebuild them only when the set changed.
func (s *LabelSet) Generation() uint64 { return s.gen }

// Len is the number of classes, Background included.
func (s *LabelSet) Len() int { return len(s.ids) }

// Dim is the text embedding dimension.
func (s *LabelSet) Dim() int { return s.dim }

// ID returns the ID of the class at index i (Predict's logit order).
func (s *LabelSet) ID(i int) ID { return s.ids[i] }

// Name returns the name at index i ("" for an unnamed class).
func (s *LabelSet) Name(i int) string { return s.names[i] }

// Text returns the normalised text embedding at index i, nil if the class
// has none. The slice is shared: do not modify it.
func (s *LabelSet) Text(i int) []float32 { return s.text[i] }

// Index returns the logit index of id.
func (s *LabelSet) Index(id ID) (int, bool) {
	i, ok := s.index[id]
	return i, ok
}

// Lookup finds a class by name (any spelling with the same canonical form).
func (s *LabelSet) Lookup(name string) (ID, bool) {
	id, ok := s.byNm[CanonicalName(name)]
	return id, ok
}

// IDs returns a copy of the class IDs in logit order.
func (s *LabelSet) IDs() []ID { return append([]ID(nil), s.ids...) }

// Labels is the device's label registry: names ↔ stable IDs, in the order
// logits are produced, plus each class's text embedding. Safe for concurrent
// use; readers never block (copy-on-write).
type Labels struct {
	mu  sync.Mutex // serialises writers
	cur atomic.Pointer[LabelSet]
}

// NewLabels returns a registry of text-embedding dimension dim holding only
// Background.
func NewLabels(dim int) *Labels {
	l := &Labels{}
	s := &LabelSet{
		gen:   1,
		dim:   dim,
		ids:   []ID{Background},
		names: []string{BackgroundName},
		text:  [][]float32{nil},
		index: map[ID]int{Background: 0},
		byNm:  map[string]ID{BackgroundName: Background},
	}
	l.cur.Store(s)
	return l
}

// Current returns the current immutable view.
func (l *Labels) Current() *LabelSet { return l.cur.Load() }

// Len is Current().Len().
func (l *Labels) Len() int { return l.Current().Len() }

// Dim is the text embedding dimension.
func (l *Labels) Dim() int { return l.Current().dim }

// clone copies the slices that a writer changes; the maps are copied too so
// old views stay valid.
func (s *LabelSet) clone() *LabelSet {
	n := &LabelSet{
		gen:   s.gen + 1,
		dim:   s.dim,
		ids:   append([]ID(nil), s.ids...),
		names: append([]string(nil), s.names...),
		text:  append([][]float32(nil), s.text...),
		index: make(map[ID]int, len(s.index)+1),
		byNm:  make(map[string]ID, len(s.byNm)+1),
	}
	for k, v := range s.index {
		n.index[k] = v
	}
	for k, v := range s.byNm {
		n.byNm[k] = v
	}
	return n
}

// Add registers name (idempotent: an existing class with the same canonical
// name is returned) and returns its ID.
func (l *Labels) Add(name string) (ID, error) {
	c := CanonicalName(name)
	if c == "" {
		return 0, fmt.Errorf("learner: empty label name")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.Current()
	if id, ok := s.byNm[c]; ok {
		return id, nil
	}
	id := IDFor(c)
	if _, ok := s.index[id]; ok {
		// A hash collision between two different names: refuse rather
		// than silently merging two classes.
		return 0, fmt.Errorf("learner: label %q collides with existing id %v", c, id)
	}
	n := s.clone()
	n.add(id, c)
	l.cur.Store(n)
	return id, nil
}

// AddID registers a class by ID, e.g. one learned from a fleet delta or a
// restored checkpoint. name may be "" for an unnamed class. Re-adding an
// existing ID with the same (or empty) name is a no-op.
func (l *Labels) AddID(id ID, name string) error {
	if id == 0 {
		return ErrInvalidID
	}
	c := CanonicalName(name)
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.Current()
	if i, ok := s.index[id]; ok {
		if c == "" || c == s.names[i] {
			return nil
		}
		if s.names[i] == "" {
			if other, ok := s.byNm[c]; ok {
				return fmt.Errorf("learner: name %q already belongs to id %v", c, other)
			}
			return l.renameLocked(s, i, c)
		}
		return fmt.Errorf("learner: id %v is %q, not %q", id, s.names[i], c)
	}
	if c != "" {
		if other, ok := s.byNm[c]; ok {
			return fmt.Errorf("learner: name %q already belongs to id %v", c, other)
		}
	}
	n := s.clone()
	n.add(id, c)
	l.cur.Store(n)
	return nil
}

// AddUnnamed allocates a random ID for a class that has examples but no
// name yet (a "never-named" class); it can be named later with Rename.
func (l *Labels) AddUnnamed() (ID, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, fmt.Errorf("learner: random id: %w", err)
	}
	id := ID(binary.LittleEndian.Uint64(b[:])) | unnamedBit
	return id, l.AddID(id, "")
}

// Rename gives a class a (new) name, keeping its ID so learned state stays
// attached. The text embedding is dropped because it described the old name.
func (l *Labels) Rename(id ID, name string) error {
	c := CanonicalName(name)
	if c == "" {
		return fmt.Errorf("learner: empty label name")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.Current()
	i, ok := s.index[id]
	if !ok {
		return fmt.Errorf("%w: %v", ErrUnknownLabel, id)
	}
	if other, ok := s.byNm[c]; ok && other != id {
		return fmt.Errorf("learner: name %q already belongs to id %v", c, other)
	}
	return l.renameLocked(s, i, c)
}

func (l *Labels) renameLocked(s *LabelSet, i int, c string) error {
	n := s.clone()
	if old := n.names[i]; old != "" {
		delete(n.byNm, old)
	}
	n.names[i] = c
	n.byNm[c] = n.ids[i]
	n.text[i] = nil
	l.cur.Store(n)
	return nil
}

// SetText stores a (copied, normalised) text embedding for id.
func (l *Labels) SetText(id ID, emb []float32) error {
	if err := checkEmb(emb, l.Dim()); err != nil {
		return fmt.Errorf("learner: text embedding of %v: %w", id, err)
	}
	v, err := Normalized(emb)
	if err != nil {
		return fmt.Errorf("learner: text embedding of %v: %w", id, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.Current()
	i, ok := s.index[id]
	if !ok {
		return fmt.Errorf("%w: %v", ErrUnknownLabel, id)
	}
	n := s.clone()
	n.text[i] = v
	l.cur.Store(n)
	return nil
}

func (s *LabelSet) add(id ID, c string) {
	s.index[id] = len(s.ids)
	s.ids = append(s.ids, id)
	s.names = append(s.names, c)
	s.text = append(s.text, nil)
	if c != "" {
		s.byNm[c] = id
	}
}

// LabelInfo describes one class in a Delta or a labels snapshot.
type LabelInfo struct {
	ID   ID        `json:"id"`
	Name string    `json:"name,omitempty"`
	Text []float32 `json:"-"` // optional; shipped as a tensor, not JSON
}

// Info returns the class at index i as a LabelInfo (Text shared, read-only).
func (s *LabelSet) Info(i int) LabelInfo {
	return LabelInfo{ID: s.ids[i], Name: s.names[i], Text: s.text[i]}
}

// Ensure registers every class of infos that is missing and fills in text
// embeddings that are missing locally; existing local text is kept, because
// it came from this device's own encoder.
func (l *Labels) Ensure(infos []LabelInfo) error {
	for _, in := range infos {
		if err := l.AddID(in.ID, in.Name); err != nil {
			return err
		}
		if in.Text == nil {
			continue
		}
		s := l.Current()
		if i, _ := s.Index(in.ID); s.text[i] == nil {
			if err := l.SetText(in.ID, in.Text); err != nil {
				return err
			}
		}
	}
	return nil
}
