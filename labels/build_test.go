package labels

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/accel/acceltest"
	"github.com/clipfleet/clipfleet/tokenizer"
)

// testBuilder builds with the fake encoder and the WordLevel tokenizer,
// whose words give the fake distinct, repeatable embeddings.
func testBuilder(t *testing.T, enc *acceltest.Fake, tok *tokenizer.Tokenizer, cache string, logs *logBuffer) *Builder {
	t.Helper()
	return &Builder{Info: enc.Info(), Encoder: enc, Tokenizer: tok, Templates: []string{"a photo of a {}.", "a photo of the {}."},
		CachePath: cache, Log: logs.logger()}
}

func build(t *testing.T, b *Builder, v *Vocabulary) (*Set, []Status, BuildStats) {
	t.Helper()
	set, st, stats, err := b.Build(context.Background(), v)
	if err != nil {
		t.Fatal(err)
	}
	return set, st, stats
}

func sources(st []Status) string {
	var parts []string
	for _, s := range st {
		parts = append(parts, s.Name+"="+s.Source.String())
	}
	return strings.Join(parts, " ")
}

func TestBuildCache(t *testing.T) {
	tok := wordLevel(t)
	cache := filepath.Join(t.TempDir(), CacheFile)
	var logs logBuffer
	enc := acceltest.New(acceltest.Config{Dim: 16})
	v := mustVocab(t, "cat", "dog", "robot")

	set1, st, stats := build(t, testBuilder(t, enc, tok, cache, &logs), v)
	if sources(st) != "cat=fresh dog=fresh robot=fresh" || enc.TextCalls() != 1 || stats.Prompts != 6 || stats.Cache != "saved" {
		t.Fatalf("first build: %s, %d EncodeText calls, %+v", sources(st), enc.TextCalls(), stats)
	}
	for i := 0; i < set1.Len(); i++ {
		if n := norm(set1.Vector(i)); n < 0.99999 || n > 1.00001 {
			t.Fatalf("%s has norm %v", set1.Name(i), n)
		}
	}

	t.Run("unchanged: cache hit, no encoder call", func(t *testing.T) {
		calls := enc.TextCalls()
		set2, st, stats := build(t, testBuilder(t, enc, tok, cache, &logs), v)
		if sources(st) != "cat=cached dog=cached robot=cached" || enc.TextCalls() != calls || stats.Cache != "unchanged" {
			t.Fatalf("%s, %d new EncodeText calls, cache %s", sources(st), enc.TextCalls()-calls, stats.Cache)
		}
		for i := 0; i < set2.Len(); i++ {
			for d, x := range set2.Vector(i) {
				if x != set1.Vector(i)[d] {
					t.Fatalf("cached %s differs from the computed one", set2.Name(i))
				}
			}
		}
	})

	t.Run("one label's templates change: only it is encoded", func(t *testing.T) {
		w := v.Clone()
		w.Labels[1].Templates = []string{"a dog {} near the wall."}
		calls := enc.TextCalls()
		_, st, stats := build(t, testBuilder(t, enc, tok, cache, &logs), w)
		if sources(st) != "cat=cached dog=fresh robot=cached" || enc.TextCalls() != calls+1 || stats.Prompts != 1 {
			t.Fatalf("%s, prompts %d", sources(st), stats.Prompts)
		}
	})

	t.Run("set templates change: all recomputed", func(t *testing.T) {
		b := testBuilder(t, enc, tok, cache, &logs)
		b.Templates = []string{"a red {} at night."}
		_, st, stats := build(t, b, v)
		if sources(st) != "cat=fresh dog=fresh robot=fresh" || stats.Prompts != 3 {
			t.Fatalf("%s, prompts %d", sources(st), stats.Prompts)
		}
	})

	t.Run("model id changes: all recomputed", func(t *testing.T) {
		build(t, testBuilder(t, enc, tok, cache, &logs), v) // back to the first key set
		other := acceltest.New(acceltest.Config{Dim: 16, ID: "fake-clip-v2"})
		_, st, _ := build(t, testBuilder(t, other, tok, cache, &logs), v)
		if sources(st) != "cat=fresh dog=fresh robot=fresh" || other.TextCalls() != 1 {
			t.Fatalf("new model: %s", sources(st))
		}
		if !strings.Contains(logs.String(), "for another model") {
			t.Fatalf("foreign cache not logged:\n%s", logs.String())
		}
	})

	t.Run("context length changes: all recomputed", func(t *testing.T) {
		build(t, testBuilder(t, enc, tok, cache, &logs), v)
		short := acceltest.New(acceltest.Config{Dim: 16, ContextLength: 16})
		_, st, _ := build(t, testBuilder(t, short, tok, cache, &logs), v)
		if sources(st) != "cat=fresh dog=fresh robot=fresh" {
			t.Fatalf("new context length: %s", sources(st))
		}
	})

	t.Run("removed labels are pruned from the file", func(t *testing.T) {
		build(t, testBuilder(t, enc, tok, cache, &logs), v)
		_, _, stats := build(t, testBuilder(t, enc, tok, cache, &logs), mustVocab(t, "robot"))
		c, state, err := loadCache(cache, enc.Info().ID, 16)
		if err != nil || state != cacheOK || len(c.entries) != 1 || stats.Cache != "saved" {
			t.Fatalf("after pruning: %d entries, state %v, %v, cache %s", len(c.entries), state, err, stats.Cache)
		}
	})
}

func TestBuildCorruptCache(t *testing.T) {
	tok := wordLevel(t)
	enc := acceltest.New(acceltest.Config{Dim: 16})
	v := mustVocab(t, "cat", "dog")
	damage := map[string]func([]byte) []byte{
		"flipped bit": func(b []byte) []byte { b[len(b)/2] ^= 1; return b },
		"truncated":   func(b []byte) []byte { return b[:len(b)-10] },
		"empty":       func([]byte) []byte { return nil },
		"garbage":     func([]byte) []byte { return []byte("not a cache at all, just text\n") },
		"wrong kind":  func([]byte) []byte { return encodeBinary(kindEmbeddings, enc.Info().ID, 16, nil) },
		"zero vector": func([]byte) []byte {
			return encodeBinary(kindCache, enc.Info().ID, 16, []binEntry{{name: "x", vec: make([]float32, 16)}})
		},
		"future": func(b []byte) []byte { b[8] = 9; return appendChecksum(b[:len(b)-4]) },
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			cache := filepath.Join(t.TempDir(), CacheFile)
			var logs logBuffer
			build(t, testBuilder(t, enc, tok, cache, &logs), v)
			data, err := os.ReadFile(cache)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(cache, f(data), 0o644); err != nil {
				t.Fatal(err)
			}
			set, st, stats := build(t, testBuilder(t, enc, tok, cache, &logs), v)
			if set.Len() != 2 || sources(st) != "cat=fresh dog=fresh" || stats.Cache != "saved" {
				t.Fatalf("build over a damaged cache: %s, cache %s", sources(st), stats.Cache)
			}
			if !strings.Contains(logs.String(), "cache unusable") {
				t.Fatalf("damage not logged:\n%s", logs.String())
			}
			_, st, _ = build(t, testBuilder(t, enc, tok, cache, &logs), v)
			if sources(st) != "cat=cached dog=cached" {
				t.Fatalf("cache not rebuilt: %s", sources(st))
			}
		})
	}
}

// The label embedding is the normalised mean of the normalised prompt
// embeddings, recomputed here straight from the encoder.
func TestBuildPromptEnsemble(t *testing.T) {
	tok := wordLevel(t)
	enc := acceltest.New(acceltest.Config{Dim: 16})
	tpls := []string{"a photo of a {}.", "a red {} near the wall.", "{} at night!"}
	v := &Vocabulary{Labels: []Label{{Name: "Forklift", Templates: tpls}, {Name: "box"}}}
	b := testBuilder(t, enc, tok, "", &logBuffer{})
	set, st, _ := build(t, b, v)
	if st[0].TemplatesFrom != TemplatesLabel || st[1].TemplatesFrom != TemplatesConfig || st[0].ID != ID("forklift") {
		t.Fatalf("statuses %+v", st)
	}
	ids := make([][]int32, len(tpls))
	for i, tp := range tpls {
		ids[i] = tok.EncodeContext(strings.ReplaceAll(tp, "{}", "forklift"), 77)
	}
	embs, err := enc.EncodeText(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, 16)
	for _, e := range embs {
		for d := range want {
			want[d] += e[d] / float32(len(embs))
		}
	}
	if err := accel.Normalize(want, want); err != nil {
		t.Fatal(err)
	}
	if c := accel.Cosine(set.Vector(0), want); c < 0.999999 {
		t.Fatalf("ensemble cosine to the hand-computed mean %v", c)
	}
	if c := accel.Cosine(set.Vector(0), embs[0]); c > 0.9999 {
		t.Fatalf("ensemble equals the first prompt alone (cos %v): templates not averaged", c)
	}
}

func TestBuildWithoutTextEncoder(t *testing.T) {
	enc := acceltest.New(acceltest.Config{Dim: 3, NoText: true, ID: "testclip-random-v1"})
	file := sampleEmbeddings()
	if err := file.Validate(); err != nil {
		t.Fatal(err)
	}
	b := &Builder{Info: enc.Info(), Encoder: enc, File: file, Templates: DefaultTemplates(), CachePath: filepath.Join(t.TempDir(), CacheFile)}
	set, st, _ := build(t, b, mustVocab(t, "circle", "mug", "三角形"))
	if sources(st) != "circle=from-file mug=unavailable 三角形=from-file" || set.Len() != 2 || enc.TextCalls() != 0 {
		t.Fatalf("%s, set of %d, %d text calls", sources(st), set.Len(), enc.TextCalls())
	}
	if !strings.Contains(st[1].Reason, "no text encoder") {
		t.Fatalf("reason %q", st[1].Reason)
	}
	if _, err := os.Stat(b.CachePath); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a device without a text encoder wrote a cache")
	}
}

func TestBuildEncoderFailure(t *testing.T) {
	enc := acceltest.New(acceltest.Config{Dim: 16})
	boom := errors.New("npu reset")
	enc.Fail(boom)
	_, _, _, err := testBuilder(t, enc, wordLevel(t), "", &logBuffer{}).Build(context.Background(), mustVocab(t, "cat"))
	if !errors.Is(err, boom) {
		t.Fatalf("encoder failure: %v", err)
	}
}

func TestBuildPlanOnly(t *testing.T) {
	enc := acceltest.New(acceltest.Config{Dim: 16})
	tok := wordLevel(t)
	cache := filepath.Join(t.TempDir(), CacheFile)
	build(t, testBuilder(t, enc, tok, cache, &logBuffer{}), mustVocab(t, "cat"))
	before, _ := os.ReadFile(cache)
	plan := &Builder{Info: enc.Info(), Tokenizer: tok, Templates: []string{"a photo of a {}.", "a photo of the {}."}, CachePath: cache}
	set, st, _ := build(t, plan, mustVocab(t, "dog", "cat"))
	if sources(st) != "dog=pending cat=cached" || set.Len() != 1 || !strings.Contains(st[0].Reason, "not cached") {
		t.Fatalf("plan: %s, %d in set, %+v", sources(st), set.Len(), st[0])
	}
	after, _ := os.ReadFile(cache)
	if string(before) != string(after) {
		t.Fatal("a plan without an encoder rewrote the cache")
	}
	plan.Tokenizer, plan.NoTokenizerReason = nil, "labels need a tokenizer"
	_, st, _ = build(t, plan, mustVocab(t, "cat"))
	if st[0].Source != SourceUnavailable || st[0].Reason != "labels need a tokenizer" {
		t.Fatalf("no tokenizer: %+v", st[0])
	}
}
