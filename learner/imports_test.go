package learner

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/internal/testutil"
)

// forbidden are native dependencies the pure-Go learner must never pull
// in: it has to build for any board with CGO_ENABLED=0.
var forbidden = []string{
	"C",
	"gocv.io/x/gocv",
	"github.com/yalue/onnxruntime_go",
	"github.com/mattn/go-tflite",
	"periph.io/x/host",
}

// TestPureGo asserts learner/... and internal/atomicfile depend on no cgo
// package and none of the native libraries, transitively.
func TestPureGo(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goBin, "list", "-deps", "-json=ImportPath,CgoFiles,Imports,Standard",
		"./...", "../internal/atomicfile")
	cmd.Dir = testutil.RepoPath(t, "learner")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
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
		seen++
		for _, f := range forbidden {
			if p.ImportPath == f || strings.HasPrefix(p.ImportPath, f+"/") {
				t.Errorf("forbidden dependency %s", p.ImportPath)
			}
		}
		// The standard library's own cgo (net, os/user) is not in our
		// graph with these imports, but only our module's packages must
		// be cgo-free by contract.
		for _, imp := range p.Imports {
			if imp == "C" && !p.Standard {
				t.Errorf("%s imports \"C\"", p.ImportPath)
			}
		}
		if strings.HasPrefix(p.ImportPath, "github.com/clipfleet/clipfleet/") && len(p.CgoFiles) > 0 {
			t.Errorf("%s has cgo files %v", p.ImportPath, p.CgoFiles)
		}
	}
	if seen < 10 {
		t.Fatalf("go list returned only %d packages; the check did not run", seen)
	}
}
