package tokenizer

import (
	"strings"
	"sync"
)

// CLIPContextLength is the sequence length CLIP's text encoders take.
const CLIPContextLength = 77

// Tokenizer turns text into token ids. Make one with Load or LoadReader;
// it is safe for concurrent use.
type Tokenizer struct {
	vocabSize int

	// One of bpe and words is set.
	bpe   *bpeModel
	words *wordLevelModel

	// specials maps the literal special-token strings that CLIP's pattern
	// recognises in text ("<|startoftext|>", "<|endoftext|>") to their ids.
	specials map[string]int32

	// prefix and suffix frame a sequence in EncodeContext ([start] and
	// [end] for CLIP); pad fills the rest.
	prefix, suffix []int32
	pad            int32
}

// wordLevelModel is Hugging Face's WordLevel model: whole words looked up
// in a vocabulary, unknown ones mapped to unk.
type wordLevelModel struct {
	vocab map[string]int32
	unk   int32
	steps []wordPreTokenizer
	added []addedToken // matched in the raw text before cleaning, longest first
}

type addedToken struct {
	content string
	id      int32
}

// VocabSize is one more than the largest id the tokenizer can produce.
func (t *Tokenizer) VocabSize() int { return t.vocabSize }

// Encode returns the ids of text without start or end tokens, padding or
// truncation. The result is never nil.
func (t *Tokenizer) Encode(text string) []int32 {
	sp := scratchPool.Get().(*[]int32)
	ids := t.encode((*sp)[:0], text, -1)
	out := make([]int32, len(ids))
	copy(out, ids)
	putScratch(sp, ids)
	return out
}

// EncodeContext returns exactly n ids (none if n < 1) the way CLIP's
// tokenize(context_length=n, truncate=True) does: the start token, the ids
// of text, the end token; if that is longer than n it is cut to n and the
// last id replaced by the end token; then it is padded to n. CLIP's
// context77 is EncodeContext(text, 77).
//
// The start, end and pad tokens come from the vocabulary file (see the
// package documentation); a file that declares several tokens before or
// after the sequence gets all of them, and on truncation the trailing ones
// are kept at the end.
func (t *Tokenizer) EncodeContext(text string, n int) []int32 {
	if n < 1 {
		return nil
	}
	sp := scratchPool.Get().(*[]int32)
	seq := append((*sp)[:0], t.prefix...)
	// Ids past n are cut anyway; since pre-tokens are encoded independently
	// and left to right, the encoder may stop once it has enough.
	seq = t.encode(seq, text, n)
	seq = append(seq, t.suffix...)
	out := make([]int32, n)
	copy(out, seq)
	if len(seq) > n {
		k := min(len(t.suffix), n)
		copy(out[n-k:], t.suffix[len(t.suffix)-k:])
	}
	for i := len(seq); i < n; i++ {
		out[i] = t.pad
	}
	putScratch(sp, seq)
	return out
}

// scratchPool holds id buffers so that encoding allocates only its result.
var scratchPool = sync.Pool{New: func() any { s := make([]int32, 0, 256); return &s }}

func putScratch(sp *[]int32, s []int32) {
	if cap(s) > 1<<16 {
		return // from a huge text; let it go rather than pin it
	}
	*sp = s[:0]
	scratchPool.Put(sp)
}

var cleanPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// encode appends the ids of text to dst, stopping once len(dst) >= limit
// when limit >= 0.
func (t *Tokenizer) encode(dst []int32, text string, limit int) []int32 {
	if t.words != nil {
		return t.words.encode(dst, text, limit)
	}
	bp := cleanPool.Get().(*[]byte)
	b := cleanText((*bp)[:0], text, true)
	for i := 0; i < len(b) && (limit < 0 || len(dst) < limit); {
		start, end := nextCLIPToken(b, i)
		if start == end {
			break
		}
		i = end
		tok := b[start:end]
		if tok[0] == '<' && len(t.specials) > 0 {
			if id, ok := t.specials[string(tok)]; ok {
				dst = append(dst, id)
				continue
			}
		}
		dst = t.bpe.encodeWord(dst, tok)
	}
	if cap(b) <= 1<<20 {
		*bp = b
		cleanPool.Put(bp)
	}
	return dst
}

// wordScratch is the WordLevel encoder's reusable memory.
type wordScratch struct {
	buf    []byte
	pieces [][2]int
	tmp    [2][][2]int
	next   []int
}

var wordScratchPool = sync.Pool{New: func() any { return new(wordScratch) }}

func (m *wordLevelModel) encode(dst []int32, text string, limit int) []int32 {
	text = toValidUTF8(text)
	ws := wordScratchPool.Get().(*wordScratch)
	defer func() {
		if cap(ws.buf) <= 1<<20 && cap(ws.pieces) <= 1<<16 {
			wordScratchPool.Put(ws) // but not the memory of a huge text
		}
	}()
	// next[k] is where added token k next occurs at or after pos (-1: never
	// again), so each token's occurrences are searched for once in all.
	next := ws.next[:0]
	for _, a := range m.added {
		next = append(next, strings.Index(text, a.content))
	}
	ws.next = next
	for pos := 0; pos < len(text) && (limit < 0 || len(dst) < limit); {
		best := -1
		for k, at := range next {
			// Strictly earlier wins, so among tokens starting at the same
			// place the first in m.added, the longest, does.
			if at >= 0 && (best < 0 || at < next[best]) {
				best = k
			}
		}
		end, resume := len(text), len(text)
		if best >= 0 {
			end = next[best]
			resume = end + len(m.added[best].content)
		}
		ws.buf = cleanText(ws.buf[:0], text[pos:end], false)
		ws.pieces = splitWords(ws.pieces[:0], ws.buf, m.steps, &ws.tmp)
		for _, p := range ws.pieces {
			if id, ok := m.vocab[string(ws.buf[p[0]:p[1]])]; ok {
				dst = append(dst, id)
			} else {
				dst = append(dst, m.unk)
			}
		}
		if best < 0 {
			break
		}
		dst = append(dst, m.added[best].id)
		pos = resume
		for k, at := range next {
			if at >= 0 && at < pos {
				if i := strings.Index(text[pos:], m.added[k].content); i >= 0 {
					next[k] = pos + i
				} else {
					next[k] = -1
				}
			}
		}
	}
	return dst
}
