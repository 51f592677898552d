package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/clipfleet/clipfleet/accel"
)

func TestResolveLibrary(t *testing.T) {
	tmp := t.TempDir()
	install := filepath.Join(tmp, "opt", "clipfleet")
	lib := filepath.Join(install, LibraryRelPath)
	if err := os.MkdirAll(filepath.Dir(lib), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lib, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	repoRoot := filepath.Join(tmp, "repo")
	repoLib := filepath.Join(repoRoot, LibraryRelPath)
	os.MkdirAll(filepath.Dir(repoLib), 0o755)
	os.WriteFile(repoLib, []byte("x"), 0o644)

	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	exeIn := func(p string) func() (string, error) { return func() (string, error) { return p, nil } }
	noExe := func() (string, error) { return "", errors.New("no exe") }
	rootAt := func(p string) func() (string, error) { return func() (string, error) { return p, nil } }
	noRoot := func() (string, error) { return "", errors.New("no repo") }

	cases := []struct {
		name       string
		configured string
		env        map[string]string
		exe, root  func() (string, error)
		want       string
	}{
		{"configured wins", lib, map[string]string{"CLIPFLEET_ORT_LIB": repoLib}, noExe, noRoot, lib},
		{"configured missing is not replaced", "/nope/libonnxruntime.so.1", map[string]string{"CLIPFLEET_ORT_LIB": lib}, noExe, noRoot, ""},
		{"clipfleet env", "", map[string]string{"CLIPFLEET_ORT_LIB": lib, "ONNXRUNTIME_SHARED_LIBRARY_PATH": repoLib}, noExe, noRoot, lib},
		{"onnxruntime env", "", map[string]string{"ONNXRUNTIME_SHARED_LIBRARY_PATH": repoLib}, noExe, noRoot, repoLib},
		{"beside executable's parent", "", nil, exeIn(filepath.Join(install, "bin", "edge")), rootAt(repoRoot), lib},
		{"repository", "", nil, exeIn(filepath.Join(tmp, "elsewhere", "edge")), rootAt(repoRoot), repoLib},
		{"nowhere", "", nil, exeIn(filepath.Join(tmp, "elsewhere", "edge")), noRoot, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, tried := resolveLibrary(tc.configured, env(tc.env), tc.exe, tc.root)
			if got != tc.want {
				t.Errorf("resolveLibrary = %q (tried %v), want %q", got, tried, tc.want)
			}
			if got == "" && len(tried) == 0 {
				t.Error("no candidates reported for the error message")
			}
		})
	}
}

func TestSecondLibraryRefused(t *testing.T) {
	openTest(t, testModelDir(t), accel.BaseVariant) // ensure the environment is up
	other := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	if err := os.WriteFile(other, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, testModelDir(t), accel.BaseVariant)
	cfg.ONNX.Library = other
	_, _, err := ensureEnv(cfg.ONNX.Library)
	if !errors.Is(err, accel.ErrBackendUnavailable) {
		t.Fatalf("second library: err = %v, want ErrBackendUnavailable", err)
	}
	lib, _, err := ensureEnv(ortLibrary(t))
	if err != nil || lib != ortLibrary(t) {
		t.Errorf("same library again: %q, %v", lib, err)
	}
}
