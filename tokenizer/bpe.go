package tokenizer

import "sync"

// mergeRule is what one entry of the merge list does to an adjacent pair.
type mergeRule struct {
	rank   int32 // position in the merge list: lower merges first
	merged int32 // id of the concatenated symbol
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// bpeModel is CLIP's byte-level BPE over the GPT-2 byte-to-unicode alphabet.
type bpeModel struct {
	byteID    [256]int32 // symbol of a byte inside a word
	byteEndID [256]int32 // symbol of a byte ending a word (with the end-of-word suffix)
	merges    map[uint64]mergeRule
	cache     wordCache
}

// encodeWord appends the ids of one pre-token (raw UTF-8 bytes) to dst.
func (m *bpeModel) encodeWord(dst []int32, word []byte) []int32 {
	if ids, ok := m.cache.get(word); ok {
		return append(dst, ids...)
	}
	start := len(dst)
	dst = m.bpe(dst, word)
	m.cache.put(word, dst[start:])
	return dst
}

// bpe runs the merges over word and appends the resulting ids to dst.
//
// The reference (CLIP's simple_tokenizer.bpe) repeatedly picks the adjacent
// pair with the lowest rank and merges all its occurrences left to right,
// which is quadratic in the word length; a single 100 kB "word" would stall
// the caller. This does the same merges in the same order with a heap keyed
// by (rank, position) over a linked list of symbols, in O(n log n).
// Occurrences of one pair are merged as a batch before any pair created by
// those merges is considered, which matches the reference even for merge
// lists where a merge creates a pair of lower rank than itself.
func (m *bpeModel) bpe(dst []int32, word []byte) []int32 {
	n := len(word)
	if n == 0 {
		return dst
	}
	if n == 1 {
		return append(dst, m.byteEndID[word[0]])
	}
	w := bpeWorkPool.Get().(*bpeWork)
	defer func() {
		if cap(w.syms) <= 1<<16 {
			bpeWorkPool.Put(w) // but not the memory of a huge word
		}
	}()
	w.reset(n)
	syms := w.syms
	for i, c := range word {
		syms[i] = symbol{id: m.byteID[c], prev: int32(i - 1), next: int32(i + 1)}
	}
	syms[n-1].id = m.byteEndID[word[n-1]]
	syms[n-1].next = -1
	for i := 0; i+1 < n; i++ {
		w.pushPair(m, int32(i), syms[i].id, syms[i+1].id)
	}
	for len(w.heap) > 0 {
		rank := w.heap[0].rank
		w.pending = w.pending[:0]
		for len(w.heap) > 0 && w.heap[0].rank == rank {
			c := w.pop()
			l := &syms[c.pos]
			if l.id != c.left || l.next < 0 || syms[l.next].id != c.right {
				continue // stale: one side was merged into something else
			}
			r := &syms[l.next]
			l.id = c.merged
			r.id = -1
			l.next = r.next
			if r.next >= 0 {
				syms[r.next].prev = c.pos
			}
			if l.prev >= 0 {
				w.pending = append(w.pending, candidate{pos: l.prev, left: syms[l.prev].id, right: l.id})
			}
			if l.next >= 0 {
				w.pending = append(w.pending, candidate{pos: c.pos, left: l.id, right: syms[l.next].id})
			}
		}
		for _, p := range w.pending {
			w.pushPair(m, p.pos, p.left, p.right)
		}
	}
	for i := int32(0); i >= 0; i = syms[i].next {
		dst = append(dst, syms[i].id)
	}
	return dst
}

type symbol struct {
	id         int32 // -1 once merged into its left neighbour
	prev, next int32 // indices in syms, -1 at the ends
}

// candidate is an adjacent pair with a merge rule, waiting in the heap.
type candidate struct {
	rank, pos   int32 // heap order
	left, right int32 // the pair's ids when it was pushed, to detect staleness
	merged      int32
}

type bpeWork struct {
	syms    []symbol
	heap    []candidate
	pending []candidate
}

var bpeWorkPool = sync.Pool{New: func() any { return new(bpeWork) }}

func (w *bpeWork) reset(n int) {
	// No branch on the pooled capacity: it depends on earlier calls, and
	// the fuzzer wants coverage to depend on the input alone.
	w.syms = append(w.syms[:0], make([]symbol, n)...)
	w.heap = w.heap[:0]
}

func (w *bpeWork) pushPair(m *bpeModel, pos, left, right int32) {
	rule, ok := m.merges[pairKey(left, right)]
	if !ok {
		return
	}
	c := candidate{rank: rule.rank, pos: pos, left: left, right: right, merged: rule.merged}
	h := append(w.heap, c)
	// Sift up.
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h[i].less(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	w.heap = h
}

func (w *bpeWork) pop() candidate {
	h := w.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	// Sift down.
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		m := l
		if r := l + 1; r < len(h) && h[r].less(h[l]) {
			m = r
		}
		if !h[m].less(h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	w.heap = h
	return top
}

func (c candidate) less(d candidate) bool {
	return c.rank < d.rank || c.rank == d.rank && c.pos < d.pos
}

// wordCache remembers the ids of recent words. It keeps two generations of
// at most cacheGeneration entries: a hit in the old one moves the word to the
// current one, and a full current generation replaces the old one. That
// approximates LRU with bounded memory and no per-entry bookkeeping.
type wordCache struct {
	mu       sync.Mutex
	cur, old map[string][]int32
}

const (
	cacheGeneration = 1 << 14
	// cacheMaxWord keeps pathological long words (which are rarely
	// repeated) from filling the cache.
	cacheMaxWord = 64
)

func (c *wordCache) get(word []byte) ([]int32, bool) {
	if len(word) > cacheMaxWord {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ids, ok := c.cur[string(word)]; ok {
		return ids, true
	}
	if ids, ok := c.old[string(word)]; ok {
		c.insertLocked(string(word), ids)
		return ids, true
	}
	return nil, false
}

func (c *wordCache) put(word []byte, ids []int32) {
	if len(word) > cacheMaxWord {
		return
	}
	own := make([]int32, len(ids))
	copy(own, ids)
	c.mu.Lock()
	c.insertLocked(string(word), own)
	c.mu.Unlock()
}

// reset empties the cache.
func (c *wordCache) reset() {
	c.mu.Lock()
	c.cur, c.old = nil, nil
	c.mu.Unlock()
}

func (c *wordCache) insertLocked(word string, ids []int32) {
	if len(c.cur) >= cacheGeneration {
		c.old, c.cur = c.cur, nil
	}
	if c.cur == nil {
		c.cur = make(map[string][]int32)
	}
	c.cur[word] = ids
}
