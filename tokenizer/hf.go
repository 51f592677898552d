package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Hugging Face tokenizer.json, only the parts this package interprets.
type hfFile struct {
	AddedTokens   []hfAddedToken  `json:"added_tokens"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Padding       *struct {
		PadID *int64 `json:"pad_id"`
	} `json:"padding"`
	Model *hfModel `json:"model"`
}

type hfAddedToken struct {
	ID      *int64 `json:"id"`
	Content string `json:"content"`
}

type hfModel struct {
	Type                    string          `json:"type"`
	Vocab                   json.RawMessage `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
	UnkToken                *string         `json:"unk_token"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
}

// maxID bounds ids so that VocabSize stays meaningful for a corrupt file;
// real vocabularies are far smaller.
const maxID = 1 << 24

// hfVocab is the id space of a tokenizer.json: the model's vocabulary plus
// the added tokens.
type hfVocab struct {
	model map[string]int32
	added map[string]int32
	size  int
}

func (v *hfVocab) lookup(s string) (int32, bool) {
	if id, ok := v.added[s]; ok {
		return id, true
	}
	id, ok := v.model[s]
	return id, ok
}

func (v *hfVocab) checkID(what string, id int64) (int32, error) {
	if id < 0 || id >= int64(v.size) {
		return 0, fmt.Errorf("%s id %d outside the vocabulary [0, %d)", what, id, v.size)
	}
	return int32(id), nil
}

func parseHFJSON(data []byte) (*Tokenizer, error) {
	var f hfFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parsing JSON: %w", err)
	}
	if f.Model == nil {
		return nil, errors.New("tokenizer.json has no \"model\"")
	}
	m := f.Model
	typ := m.Type
	if typ == "" {
		// Old files omit the tag; Hugging Face then guesses from the fields.
		typ = "WordLevel"
		if len(m.Merges) > 0 {
			typ = "BPE"
		}
	}
	if typ != "BPE" && typ != "WordLevel" {
		return nil, fmt.Errorf("model type %q not supported (want BPE or WordLevel)", typ)
	}
	v, err := parseHFVocab(m.Vocab, f.AddedTokens)
	if err != nil {
		return nil, err
	}
	t := &Tokenizer{vocabSize: v.size}
	if typ == "BPE" {
		if t.bpe, err = parseHFBPE(m, v); err != nil {
			return nil, err
		}
		// CLIP's pattern cuts these out of the text; give them their ids
		// rather than byte-pair encoding them.
		for _, s := range []string{startOfText, endOfText} {
			if id, ok := v.lookup(s); ok {
				if t.specials == nil {
					t.specials = make(map[string]int32)
				}
				t.specials[s] = id
			}
		}
	} else {
		if t.words, err = parseHFWordLevel(m, v, f.AddedTokens, f.PreTokenizer); err != nil {
			return nil, err
		}
	}
	if t.prefix, t.suffix, err = parsePostProcessor(f.PostProcessor, v); err != nil {
		return nil, err
	}
	if f.Padding != nil && f.Padding.PadID != nil {
		if t.pad, err = v.checkID("padding pad_id", *f.Padding.PadID); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func parseHFVocab(raw json.RawMessage, added []hfAddedToken) (*hfVocab, error) {
	var vocab map[string]int64
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, errors.New("model has no \"vocab\"")
	}
	if err := json.Unmarshal(raw, &vocab); err != nil {
		return nil, fmt.Errorf("model vocab must map tokens to integer ids: %w", err)
	}
	if len(vocab) == 0 {
		return nil, errors.New("model vocab is empty")
	}
	v := &hfVocab{model: make(map[string]int32, len(vocab)), added: make(map[string]int32)}
	maxSeen := int64(-1)
	check := func(what string, id int64) error {
		if id < 0 || id >= maxID {
			return fmt.Errorf("%s has id %d outside [0, %d)", what, id, maxID)
		}
		maxSeen = max(maxSeen, id)
		return nil
	}
	for s, id := range vocab {
		if err := check(fmt.Sprintf("vocab entry %q", s), id); err != nil {
			return nil, err
		}
		v.model[s] = int32(id)
	}
	for i, a := range added {
		if a.ID == nil {
			return nil, fmt.Errorf("added_tokens[%d] (%q) has no id", i, a.Content)
		}
		if err := check(fmt.Sprintf("added token %q", a.Content), *a.ID); err != nil {
			return nil, err
		}
		v.added[a.Content] = int32(*a.ID)
	}
	v.size = int(maxSeen) + 1
	return v, nil
}

func parseHFBPE(m *hfModel, v *hfVocab) (*bpeModel, error) {
	switch {
	case m.ByteFallback:
		return nil, errors.New("BPE byte_fallback is not supported (CLIP's BPE is byte-level)")
	case m.IgnoreMerges:
		return nil, errors.New("BPE ignore_merges is not supported")
	case m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "":
		return nil, fmt.Errorf("BPE continuing_subword_prefix %q is not supported", *m.ContinuingSubwordPrefix)
	}
	pairs, err := parseHFMerges(m.Merges)
	if err != nil {
		return nil, err
	}
	suffix := ""
	if m.EndOfWordSuffix != nil {
		suffix = *m.EndOfWordSuffix
	}
	unk, hasUnk := int32(0), false
	if m.UnkToken != nil {
		id, ok := v.model[*m.UnkToken]
		if !ok {
			return nil, fmt.Errorf("unk_token %q is not in the vocab", *m.UnkToken)
		}
		unk, hasUnk = id, true
	}
	bm := &bpeModel{}
	_, char := bytesToUnicode()
	for b := 0; b < 256; b++ {
		for _, sym := range []struct {
			s   string
			dst *int32
		}{{string(char[b]), &bm.byteID[b]}, {string(char[b]) + suffix, &bm.byteEndID[b]}} {
			id, ok := v.model[sym.s]
			switch {
			case ok:
				*sym.dst = id
			case hasUnk:
				*sym.dst = unk
			default:
				return nil, fmt.Errorf("byte symbol %q is not in the vocab and there is no unk_token", sym.s)
			}
		}
	}
	bm.merges = make(map[uint64]mergeRule, len(pairs))
	for rank, p := range pairs {
		a, okA := v.model[p[0]]
		b, okB := v.model[p[1]]
		merged, okM := v.model[p[0]+p[1]]
		if !okA || !okB || !okM {
			return nil, fmt.Errorf("merges[%d] %q %q: symbol or concatenation not in the vocab", rank, p[0], p[1])
		}
		bm.merges[pairKey(a, b)] = mergeRule{rank: int32(rank), merged: merged}
	}
	return bm, nil
}

// parseHFMerges accepts both spellings Hugging Face has used: "a b"
// strings, and [a, b] arrays (which allow spaces inside symbols).
func parseHFMerges(raw json.RawMessage) ([][2]string, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, errors.New("BPE model has no \"merges\"")
	}
	var strs []string
	if err := json.Unmarshal(raw, &strs); err == nil {
		out := make([][2]string, len(strs))
		for i, s := range strs {
			a, b, ok := strings.Cut(s, " ")
			if !ok || a == "" || b == "" || strings.Contains(b, " ") {
				return nil, fmt.Errorf("merges[%d] = %q: want two symbols separated by one space", i, s)
			}
			out[i] = [2]string{a, b}
		}
		return out, nil
	}
	var arrs [][]string
	if err := json.Unmarshal(raw, &arrs); err != nil {
		return nil, fmt.Errorf("merges must be a list of \"a b\" strings or of [a, b] pairs: %w", err)
	}
	out := make([][2]string, len(arrs))
	for i, p := range arrs {
		if len(p) != 2 || p[0] == "" || p[1] == "" {
			return nil, fmt.Errorf("merges[%d] = %q: want a pair of non-empty symbols", i, p)
		}
		out[i] = [2]string{p[0], p[1]}
	}
	return out, nil
}

func parseHFWordLevel(m *hfModel, v *hfVocab, added []hfAddedToken, preTok json.RawMessage) (*wordLevelModel, error) {
	unkTok := "<unk>" // Hugging Face's default
	if m.UnkToken != nil {
		unkTok = *m.UnkToken
	}
	unk, ok := v.lookup(unkTok)
	if !ok {
		return nil, fmt.Errorf("WordLevel unk_token %q is not in the vocab", unkTok)
	}
	steps, err := parsePreTokenizer(preTok)
	if err != nil {
		return nil, err
	}
	wl := &wordLevelModel{vocab: v.model, unk: unk, steps: steps}
	for _, a := range added {
		if a.Content != "" {
			wl.added = append(wl.added, addedToken{content: a.Content, id: v.added[a.Content]})
		}
	}
	// Longest first, so that of two added tokens starting at the same
	// place the longer is matched.
	sort.SliceStable(wl.added, func(i, j int) bool { return len(wl.added[i].content) > len(wl.added[j].content) })
	return wl, nil
}

type hfTyped struct {
	Type string `json:"type"`
}

// parsePreTokenizer maps the WordLevel pre-tokenizers this package
// implements; splitting on whitespace always happens first.
func parsePreTokenizer(raw json.RawMessage) ([]wordPreTokenizer, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return []wordPreTokenizer{splitWordPunct}, nil
	}
	var p struct {
		hfTyped
		PreTokenizers []json.RawMessage `json:"pretokenizers"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("pre_tokenizer: %w", err)
	}
	switch p.Type {
	case "Whitespace":
		return []wordPreTokenizer{splitWordPunct}, nil
	case "WhitespaceSplit":
		return nil, nil
	case "Punctuation", "BertPreTokenizer":
		return []wordPreTokenizer{splitPunct}, nil
	case "Sequence":
		var steps []wordPreTokenizer
		for _, sub := range p.PreTokenizers {
			s, err := parsePreTokenizer(sub)
			if err != nil {
				return nil, err
			}
			steps = append(steps, s...)
		}
		return steps, nil
	}
	return nil, fmt.Errorf("WordLevel pre_tokenizer type %q not supported (want Whitespace, WhitespaceSplit, Punctuation, BertPreTokenizer or a Sequence of them)", p.Type)
}

// parsePostProcessor finds the tokens that frame a single sequence. Without
// a post_processor it falls back to well-known start/end pairs in the
// vocabulary.
func parsePostProcessor(raw json.RawMessage, v *hfVocab) (prefix, suffix []int32, err error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		for _, pair := range [][2]string{{startOfText, endOfText}, {"[CLS]", "[SEP]"}, {"<s>", "</s>"}} {
			s, okS := v.lookup(pair[0])
			e, okE := v.lookup(pair[1])
			if okS && okE {
				return []int32{s}, []int32{e}, nil
			}
		}
		return nil, nil, nil
	}
	var p struct {
		hfTyped
		Cls    []json.RawMessage `json:"cls"`
		Sep    []json.RawMessage `json:"sep"`
		Single []struct {
			SpecialToken *struct {
				ID string `json:"id"`
			} `json:"SpecialToken"`
			Sequence *struct{} `json:"Sequence"`
		} `json:"single"`
		SpecialTokens map[string]struct {
			IDs []int64 `json:"ids"`
		} `json:"special_tokens"`
		Processors []json.RawMessage `json:"processors"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, nil, fmt.Errorf("post_processor: %w", err)
	}
	switch p.Type {
	case "ByteLevel":
		return nil, nil, nil
	case "RobertaProcessing", "BertProcessing":
		cls, err := tokenIDPair(v, "cls", p.Cls)
		if err != nil {
			return nil, nil, err
		}
		sep, err := tokenIDPair(v, "sep", p.Sep)
		if err != nil {
			return nil, nil, err
		}
		return []int32{cls}, []int32{sep}, nil
	case "TemplateProcessing":
		seen := false
		for _, piece := range p.Single {
			switch {
			case piece.Sequence != nil:
				seen = true
			case piece.SpecialToken != nil:
				st, ok := p.SpecialTokens[piece.SpecialToken.ID]
				if !ok {
					return nil, nil, fmt.Errorf("post_processor template uses %q, which special_tokens does not define", piece.SpecialToken.ID)
				}
				for _, id := range st.IDs {
					id32, err := v.checkID("post_processor "+piece.SpecialToken.ID, id)
					if err != nil {
						return nil, nil, err
					}
					if seen {
						suffix = append(suffix, id32)
					} else {
						prefix = append(prefix, id32)
					}
				}
			default:
				return nil, nil, errors.New("post_processor template piece is neither SpecialToken nor Sequence")
			}
		}
		return prefix, suffix, nil
	case "Sequence":
		// Each processor wraps the output of the one before.
		for _, sub := range p.Processors {
			pre, suf, err := parsePostProcessor(sub, v)
			if err != nil {
				return nil, nil, err
			}
			prefix = append(pre, prefix...)
			suffix = append(suffix, suf...)
		}
		return prefix, suffix, nil
	}
	return nil, nil, fmt.Errorf("post_processor type %q not supported", p.Type)
}

// tokenIDPair decodes Roberta/Bert processors' ["token", id] pairs.
func tokenIDPair(v *hfVocab, what string, raw []json.RawMessage) (int32, error) {
	var tok string
	var id int64
	if len(raw) != 2 || json.Unmarshal(raw[0], &tok) != nil || json.Unmarshal(raw[1], &id) != nil {
		return 0, fmt.Errorf("post_processor %s must be [\"token\", id]", what)
	}
	return v.checkID("post_processor "+what+" "+tok, id)
}
