package tokenizer

import (
	"compress/gzip"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// referenceBPE is a literal port of simple_tokenizer.py's bpe(): symbols
// are strings, and each round merges every occurrence of the lowest-ranked
// pair, scanning left to right. It is quadratic, which is why the package
// uses a heap, and it is here to check that the heap does the same merges.
func referenceBPE(word []string, ranks map[[2]string]int) []string {
	word = slices.Clone(word)
	for len(word) > 1 {
		best, bestRank := [2]string{}, -1
		for i := 0; i+1 < len(word); i++ {
			if r, ok := ranks[[2]string{word[i], word[i+1]}]; ok && (bestRank < 0 || r < bestRank) {
				best, bestRank = [2]string{word[i], word[i+1]}, r
			}
		}
		if bestRank < 0 {
			break
		}
		var next []string
		for i := 0; i < len(word); {
			if i+1 < len(word) && word[i] == best[0] && word[i+1] == best[1] {
				next = append(next, best[0]+best[1])
				i += 2
			} else {
				next = append(next, word[i])
				i++
			}
		}
		word = next
	}
	return word
}

// toyModel builds a BPE model over the alphabet "abcd" from a merge list
// given as string pairs, with the same id and rank conventions as
// parseMerges, and returns it with the id → string table.
func toyModel(merges [][2]string) (*bpeModel, []string, map[[2]string]int) {
	var vocab []string
	ids := map[string]int32{}
	add := func(s string) {
		if _, ok := ids[s]; !ok {
			ids[s] = int32(len(vocab))
			vocab = append(vocab, s)
		}
	}
	for _, c := range "abcd" {
		add(string(c))
		add(string(c) + endOfWord)
	}
	for _, m := range merges {
		add(m[0])
		add(m[1])
		add(m[0] + m[1])
	}
	bm := &bpeModel{merges: map[uint64]mergeRule{}}
	for _, c := range "abcd" {
		bm.byteID[c] = ids[string(c)]
		bm.byteEndID[c] = ids[string(c)+endOfWord]
	}
	ranks := map[[2]string]int{}
	for r, m := range merges {
		bm.merges[pairKey(ids[m[0]], ids[m[1]])] = mergeRule{rank: int32(r), merged: ids[m[0]+m[1]]}
		ranks[m] = r // later duplicates win in both, as in Python's dict()
	}
	return bm, vocab, ranks
}

func wordSymbols(word string) []string {
	syms := strings.Split(word, "")
	syms[len(syms)-1] += endOfWord
	return syms
}

// TestBPEAgainstReference runs random merge lists, including ill-formed
// ones (a merge ranked before the merges that create its symbols,
// duplicates), over random words, where batching occurrences of a pair
// matters.
func TestBPEAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		syms := []string{"a", "b", "c", "d", "a</w>", "b</w>", "c</w>", "d</w>"}
		var merges [][2]string
		for range 4 + rng.IntN(30) {
			x := syms[rng.IntN(len(syms))]
			if strings.HasSuffix(x, endOfWord) {
				continue // nothing follows an end-of-word symbol
			}
			y := syms[rng.IntN(len(syms))]
			merges = append(merges, [2]string{x, y})
			syms = append(syms, x+y)
		}
		if trial%2 == 1 {
			rng.Shuffle(len(merges), func(i, j int) { merges[i], merges[j] = merges[j], merges[i] })
		}
		bm, vocab, ranks := toyModel(merges)
		for range 50 {
			var w strings.Builder
			for range 1 + rng.IntN(40) {
				w.WriteByte("abcd"[rng.IntN(4)])
			}
			word := w.String()
			want := referenceBPE(wordSymbols(word), ranks)
			var got []string
			for _, id := range bm.bpe(nil, []byte(word)) {
				got = append(got, vocab[id])
			}
			if !slices.Equal(got, want) {
				t.Fatalf("trial %d, merges %q, word %q:\n got %q\nwant %q", trial, merges, word, got, want)
			}
		}
	}
}

// TestBPELongWord checks a word far beyond what the quadratic reference
// could do quickly, against the reference on a slice of it that merges the
// same way, and that the cache does not keep it.
func TestBPELongWord(t *testing.T) {
	tok := clipTokenizer(t)
	unit := "forklift"
	one := tok.Encode(unit)
	long := strings.Repeat(unit, 20000) // one 160 kB letter run
	got := tok.Encode(long)
	if len(got) == 0 || len(got) > len(long) {
		t.Fatalf("Encode of a %d-byte word gave %d ids", len(long), len(got))
	}
	for _, id := range got {
		if id < 0 || int(id) >= tok.VocabSize() {
			t.Fatalf("id %d outside [0, %d)", id, tok.VocabSize())
		}
	}
	if slices.Equal(got, one) {
		t.Fatalf("160 kB word encoded like %q", unit)
	}
	if _, ok := tok.bpe.cache.get([]byte(long)); ok {
		t.Error("a 160 kB word was cached")
	}
}

// TestBPEMatchesReferenceOnCLIP compares heap and reference on words with
// the real merge list, read independently of parseMerges, including long
// repetitive words where a pair overlaps itself ("aaaa").
func TestBPEMatchesReferenceOnCLIP(t *testing.T) {
	tok := clipTokenizer(t)
	f, err := os.Open(sharedFile(t, "bpe_simple_vocab_16e6.txt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	order, char := bytesToUnicode()
	var vocab []string
	for _, b := range order {
		vocab = append(vocab, string(char[b]))
	}
	for _, b := range order {
		vocab = append(vocab, string(char[b])+endOfWord)
	}
	ranks := map[[2]string]int{}
	for r, line := range strings.Split(string(raw), "\n")[1 : 1+clipMerges] {
		a, b, _ := strings.Cut(line, " ")
		ranks[[2]string{a, b}] = r
		vocab = append(vocab, a+b)
	}
	words := []string{"aaaaaaaaaaaaaaaaaaaaa", "abababababababab", "hello", "zzzzzzzzz", "antidisestablishmentarianism", "ssssss", "mississippi"}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		var w strings.Builder
		for range 1 + rng.IntN(30) {
			w.WriteByte("aeiostnrlxyz"[rng.IntN(12)])
		}
		words = append(words, w.String())
	}
	for _, word := range words {
		syms := make([]string, len(word))
		for i := range len(word) {
			syms[i] = string(char[word[i]])
		}
		syms[len(syms)-1] += endOfWord
		want := referenceBPE(syms, ranks)
		var got []string
		for _, id := range tok.bpe.bpe(nil, []byte(word)) {
			got = append(got, vocab[id])
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q:\n got %q\nwant %q", word, got, want)
		}
	}
}

func TestWordCacheBounded(t *testing.T) {
	var c wordCache
	for i := range 3 * cacheGeneration {
		c.put([]byte(strings.Repeat("x", i%50)+string(rune('a'+i%26))+strconv.Itoa(i)), []int32{int32(i)})
	}
	if n := len(c.cur) + len(c.old); n > 2*cacheGeneration {
		t.Errorf("cache holds %d words, bound is %d", n, 2*cacheGeneration)
	}
	// A word hit in the old generation survives the next rotation.
	c = wordCache{}
	c.put([]byte("keep"), []int32{7})
	for i := range cacheGeneration {
		c.put([]byte(strconv.Itoa(i)), nil)
	}
	if _, ok := c.get([]byte("keep")); !ok {
		t.Fatal("word lost after one rotation")
	}
	for i := range cacheGeneration - 1 {
		c.put([]byte("y"+strconv.Itoa(i)), nil)
	}
	if ids, ok := c.get([]byte("keep")); !ok || !slices.Equal(ids, []int32{7}) {
		t.Errorf("recently used word evicted: %v %v", ids, ok)
	}
}
