package tokenizer

import (
	"fmt"
	"testing"
)

// benchCorpus is what the daemon tokenizes: zero-shot prompt templates over
// class names (the vectors file is largely that) and free-form captions
// operators type.
func benchCorpus(tb testing.TB) []string {
	var texts []string
	for _, v := range readVectors(tb) {
		texts = append(texts, v.Text)
	}
	templates := []string{"a photo of a %s.", "a blurry photo of the %s.", "a low resolution image of a %s in the warehouse."}
	classes := []string{"forklift", "pallet jack", "person wearing a hi-vis vest", "spilled liquid", "cardboard box", "open dock door", "robot arm", "traffic cone"}
	for _, tpl := range templates {
		for _, c := range classes {
			texts = append(texts, fmt.Sprintf(tpl, c))
		}
	}
	texts = append(texts,
		"Two workers are loading crates onto a truck at loading bay 3 while a forklift waits behind them.",
		"Is there anyone standing within 2 m of the conveyor belt?",
		"A yellow autonomous mobile robot carrying shelves across the aisle, night shift, low light.",
		"Étiquette manquante sur le colis — café renversé près de l'entrée.",
		"倉庫の通路に段ボール箱が落ちている",
	)
	return texts
}

// benchEncode runs encode over texts; tokens/s counts the ids of the
// texts themselves (Encode), not framing or padding.
func benchEncode(b *testing.B, tok *Tokenizer, texts []string, encode func(string) []int32) {
	tokens := 0
	for _, s := range texts {
		tokens += len(tok.Encode(s))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, s := range texts {
			encode(s)
		}
	}
	b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(texts)), "ns/text")
}

// BenchmarkEncode is steady-state throughput on one goroutine: the word
// cache is warm, as it is in the daemon after the first prompts.
func BenchmarkEncode(b *testing.B) {
	tok := clipTokenizer(b)
	benchEncode(b, tok, benchCorpus(b), tok.Encode)
}

// BenchmarkEncodeContext77 is what the text encoder is fed.
func BenchmarkEncodeContext77(b *testing.B) {
	tok := clipTokenizer(b)
	benchEncode(b, tok, benchCorpus(b), func(s string) []int32 { return tok.EncodeContext(s, CLIPContextLength) })
}

// BenchmarkEncodeColdCache runs every word through BPE, the cost of text
// never seen before.
func BenchmarkEncodeColdCache(b *testing.B) {
	tok := clipTokenizer(b)
	benchEncode(b, tok, benchCorpus(b), func(s string) []int32 {
		tok.bpe.cache.reset()
		return tok.Encode(s)
	})
}

func BenchmarkEncodeParallel(b *testing.B) {
	tok := clipTokenizer(b)
	texts := benchCorpus(b)
	tokens := 0
	for _, s := range texts {
		tokens += len(tok.Encode(s))
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			for _, s := range texts {
				tok.Encode(s)
			}
		}
	})
	b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

func BenchmarkEncodeWordLevel(b *testing.B) {
	tok := wordLevelTokenizer(b)
	benchEncode(b, tok, benchCorpus(b), tok.Encode)
}

// BenchmarkLoad is the daemon's start-up cost for the merge list.
func BenchmarkLoad(b *testing.B) {
	path := sharedFile(b, "bpe_simple_vocab_16e6.txt.gz")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(path); err != nil {
			b.Fatal(err)
		}
	}
}
