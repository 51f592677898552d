package worldcli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRenderWritesPicturesAndLabels(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := run(t, "render", "--scenario", "default", "--out", dir, "--n", "2", "--size", "48", "--sets", "night,heldout-pairs")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "wrote 4 pictures of 2 sets") {
		t.Errorf("stdout %q", out)
	}
	f, err := os.Open(filepath.Join(dir, "labels.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []labelRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r labelRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 4 {
		t.Fatalf("%d label records, want 4", len(recs))
	}
	for _, r := range recs {
		pf, err := os.Open(filepath.Join(dir, r.File))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(pf)
		pf.Close()
		if err != nil {
			t.Fatalf("%s: %v", r.File, err)
		}
		if b := img.Bounds(); b.Dx() != 48 || b.Dy() != 48 {
			t.Errorf("%s is %v", r.File, b)
		}
		if !strings.Contains(r.Objects[0], r.Label) {
			t.Errorf("%s: label %q but subject is %q", r.File, r.Label, r.Objects[0])
		}
	}
	if recs[0].Set != "night" || recs[0].Domain != "night" || recs[0].Split != "test" {
		t.Errorf("first record %+v", recs[0])
	}
	if recs[2].Set != "heldout-pairs" || recs[2].Kind != "zero_shot" {
		t.Errorf("third record %+v", recs[2])
	}
}

func TestRenderFromFile(t *testing.T) {
	dir := t.TempDir()
	scen := filepath.Join(dir, "s.yaml")
	os.WriteFile(scen, []byte("name: s\ntasks:\n  - {name: only, shapes: [ring, cross], train: 3, test: 1}\n"), 0o644)
	code, _, stderr := run(t, "render", "--scenario", scen, "--out", filepath.Join(dir, "out"), "--n", "5", "--split", "train", "--size", "32")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// --n is capped by the split size.
	matches, _ := filepath.Glob(filepath.Join(dir, "out", "only", "train-*.png"))
	if len(matches) != 3 {
		t.Errorf("%d pictures, want the 3 of the train split", len(matches))
	}
}

func TestExportAndCheck(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := run(t, "export", "--out", dir, "--train", "5", "--eval-per-pair", "0", "--size", "32", "--workers", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "wrote 5 training") {
		t.Errorf("stdout %q", out)
	}
	if st, err := os.Stat(filepath.Join(dir, "train.u8")); err != nil || st.Size() != 5*32*32*3 {
		t.Errorf("train.u8: %v", err)
	}
	code, out, _ = run(t, "check", "--scenario", "default")
	if code != 0 || !strings.Contains(out, "new-shapes") || !strings.Contains(out, "triángulo") {
		t.Errorf("check: exit %d, %q", code, out)
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage"},
		{[]string{"paint"}, 2, "unknown subcommand"},
		{[]string{"render"}, 2, "--out is required"},
		{[]string{"render", "--out", "x", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"render", "--out", "x", "stray"}, 2, "unexpected arguments"},
		{[]string{"render", "--out", "x", "--scenario", "nosuch"}, 1, "unknown scenario"},
		{[]string{"check", "--scenario", "../testdata/scenarios/invalid/unknown-key.yaml"}, 1, "tasks[2].domian: unknown key"},
		{[]string{"export"}, 2, "--out is required"},
		{[]string{"export", "--out", "x", "--train", "0"}, 1, "train 0"},
		{[]string{"help"}, 0, "subcommands"},
	} {
		code, _, stderr := run(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
}
