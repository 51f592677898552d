package world

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func smallExport(workers int) ExportOptions {
	o := DefaultExportOptions()
	o.Train, o.EvalPerPair, o.DriftDays, o.Size, o.Workers = 37, 1, []int{0, 365}, 32, workers
	return o
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// The export is byte-identical whatever the number of workers, and its
// manifest's sums and counts describe the files.
func TestExportDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	ma, err := Export(context.Background(), a, smallExport(1), quiet())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Export(context.Background(), b, smallExport(3), quiet()); err != nil {
		t.Fatal(err)
	}
	files := []string{"catalog.json", "train.u8", "train.jsonl", "eval.u8", "eval.jsonl", "export.json"}
	for _, f := range files {
		x, err := os.ReadFile(filepath.Join(a, f))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between 1 and 3 workers", f)
		}
		if want, ok := ma.Sums[f]; ok {
			sum := sha256.Sum256(x)
			if hex.EncodeToString(sum[:]) != want {
				t.Errorf("%s: sha256 in export.json does not match the file", f)
			}
		}
	}
	if st, _ := os.Stat(filepath.Join(a, "train.u8")); st.Size() != 37*32*32*3 {
		t.Errorf("train.u8 is %d bytes, want %d", st.Size(), 37*32*32*3)
	}
	wantEval := int(numDomains)*len(TaskShapes())*int(numColours) + 2*len(NamedShapes())*int(numColours)
	if ma.Eval.N != wantEval {
		t.Errorf("eval has %d pictures, want %d", ma.Eval.N, wantEval)
	}
	if n := countLines(t, filepath.Join(a, "eval.jsonl")); n != wantEval {
		t.Errorf("eval.jsonl has %d lines, want %d", n, wantEval)
	}
	leftovers, _ := filepath.Glob(filepath.Join(a, ".*tmp*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func countLines(t *testing.T, path string) int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
	}
	return n
}

// The records describe the pictures actually written.
func TestExportRecords(t *testing.T) {
	dir := t.TempDir()
	opt := smallExport(2)
	if _, err := Export(context.Background(), dir, opt, quiet()); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "train.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pixels, err := os.ReadFile(filepath.Join(dir, "train.u8"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for i := 0; sc.Scan(); i++ {
		var rec trainRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		s := TrainingScene(opt.Seed, i)
		if rec.I != i || rec.Domain != s.Domain.String() || len(rec.Objects) != len(s.Objects) || len(rec.Captions) != opt.Captions {
			t.Fatalf("record %d = %+v does not describe its scene", i, rec)
		}
		for k, c := range rec.Captions {
			if want := Describe(&s, mix64(opt.Seed^mix64(uint64(i)))+uint64(k)); c != want {
				t.Fatalf("record %d caption %d = %+v, want %+v", i, k, c, want)
			}
			for _, o := range rec.Objects {
				if !strings.Contains(c.Text, o.Shape) || strings.Contains(c.Text, o.Colour) != c.Colours {
					t.Fatalf("record %d caption %+v does not describe %s %s", i, c, o.Colour, o.Shape)
				}
			}
		}
		want := render(t, &s, opt.Size, opt.Size)
		frame := opt.Size * opt.Size * 3
		if !bytes.Equal(pixels[i*frame:(i+1)*frame], want) {
			t.Fatalf("picture %d in train.u8 is not its scene", i)
		}
	}
	var cat CatalogFile
	data, _ := os.ReadFile(filepath.Join(dir, "catalog.json"))
	if err := json.Unmarshal(data, &cat); err != nil {
		t.Fatal(err)
	}
	if len(cat.HeldOutPairs) != len(HeldOutPairs()) || len(cat.Vocabulary) != len(Vocabulary()) {
		t.Errorf("catalog.json does not match the catalogue")
	}
}

func TestExportCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	if _, err := Export(ctx, dir, smallExport(1), quiet()); err == nil {
		t.Fatal("cancelled export succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "train.u8")); !os.IsNotExist(err) {
		t.Errorf("cancelled export left train.u8 (%v)", err)
	}
}

func TestExportOptionsValidate(t *testing.T) {
	if err := DefaultExportOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*ExportOptions){
		"no pictures": func(o *ExportOptions) { o.Train = 0 },
		"no captions": func(o *ExportOptions) { o.Captions = 0 },
		"tiny":        func(o *ExportOptions) { o.Size = 8 },
		"no workers":  func(o *ExportOptions) { o.Workers = 0 },
		"late day":    func(o *ExportOptions) { o.DriftDays = []int{MaxDay + 1} },
	} {
		o := DefaultExportOptions()
		mut(&o)
		if err := o.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
