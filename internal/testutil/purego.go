package testutil

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// nativeDeps are the packages that tie a build to a native library. The
// pure-Go parts of clipfleet (learner, sync, the core of boards, labels)
// must build with CGO_ENABLED=0 for any board, so they may not reach these.
var nativeDeps = []string{
	"gocv.io/x/gocv",
	"github.com/yalue/onnxruntime_go",
	"github.com/mattn/go-tflite",
	"periph.io/x/host",
}

// AssertPureGo fails t if any package matched by patterns (go list
// patterns, relative to the repository root, e.g. "./learner/...")
// transitively depends on a native library or contains cgo.
func AssertPureGo(t testing.TB, patterns ...string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	args := append([]string{"list", "-deps", "-json=ImportPath,CgoFiles,Imports,Standard"}, patterns...)
	cmd := exec.Command(goBin, args...)
	cmd.Dir = RepoPath(t)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list %v: %v\n%s", patterns, err, ee.Stderr)
		}
		t.Fatalf("go list %v: %v", patterns, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	ours := 0
	for {
		var p struct {
			ImportPath string
			CgoFiles   []string
			Imports    []string
			Standard   bool
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		for _, f := range nativeDeps {
			if p.ImportPath == f || strings.HasPrefix(p.ImportPath, f+"/") {
				t.Errorf("forbidden native dependency %s", p.ImportPath)
			}
		}
		if p.Standard {
			continue
		}
		for _, imp := range p.Imports {
			if imp == "C" {
				t.Errorf("%s imports \"C\"", p.ImportPath)
			}
		}
		if strings.HasPrefix(p.ImportPath, "github.com/clipfleet/clipfleet/") {
			ours++
			if len(p.CgoFiles) > 0 {
				t.Errorf("%s has cgo files %v", p.ImportPath, p.CgoFiles)
			}
		}
	}
	if ours == 0 {
		t.Fatalf("go list %v matched none of this module's packages; the check did not run", patterns)
	}
}
