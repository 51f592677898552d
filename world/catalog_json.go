package world

import (
	"crypto/sha256"
	"encoding/hex"
)

// CatalogFile is catalog.json in the training export: the catalogue and its
// gaps, the text vocabulary and ready-made zero-shot prompts, so the Python
// side never re-derives anything the Go world defines.
type CatalogFile struct {
	Format       string            `json:"format"`
	Shapes       []CatalogShape    `json:"shapes"`
	Colours      []string          `json:"colours"`
	Domains      []CatalogDomain   `json:"domains"`
	HeldOutPairs [][2]string       `json:"heldout_pairs"` // [colour, shape]
	TrainDays    [2]int            `json:"train_days"`
	Vocabulary   []string          `json:"vocabulary"`
	Prompts      map[string]string `json:"prompts"` // label → prompt, for every shape, colour and colour–shape label
}

// CatalogShape is one shape and its labels.
type CatalogShape struct {
	Name  string `json:"name"`
	Named bool   `json:"named"`
	// PretrainingOnly: named in training captions, in no task or evaluation.
	PretrainingOnly bool   `json:"pretraining_only,omitempty"`
	ES              string `json:"es,omitempty"`
	ZH              string `json:"zh,omitempty"`
}

// CatalogDomain is one domain and its share of the training set.
type CatalogDomain struct {
	Name        string  `json:"name"`
	TrainWeight float64 `json:"train_weight"`
}

// CatalogJSON describes the catalogue for export.
func CatalogJSON() CatalogFile {
	c := CatalogFile{Format: "clipfleet-world-catalog/v1", TrainDays: [2]int{TrainDays.From, TrainDays.To},
		Vocabulary: Vocabulary(), Prompts: map[string]string{}}
	for _, s := range Shapes() {
		es, _ := s.Label(Spanish)
		zh, _ := s.Label(Chinese)
		c.Shapes = append(c.Shapes, CatalogShape{Name: s.String(), Named: s.Named(), PretrainingOnly: s.PretrainingOnly(), ES: es, ZH: zh})
		c.Prompts[s.String()] = Prompt(s.String())
		for _, col := range Colours() {
			p := Pair{col, s}.String()
			c.Prompts[p] = Prompt(p)
		}
	}
	for _, col := range Colours() {
		c.Colours = append(c.Colours, col.String())
		c.Prompts[col.String()] = ClassPrompt(Class{Label: col.String(), Shape: -1, Colour: int(col)})
	}
	for _, d := range Domains() {
		c.Domains = append(c.Domains, CatalogDomain{Name: d.String(), TrainWeight: d.TrainWeight()})
	}
	for _, p := range HeldOutPairs() {
		c.HeldOutPairs = append(c.HeldOutPairs, [2]string{p.Colour.String(), p.Shape.String()})
	}
	return c
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
