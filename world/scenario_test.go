package world

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Fixtures in testdata/scenarios/invalid start with "# want: <substring>"
// naming the error they must produce.
func TestScenarioFixtures(t *testing.T) {
	valid, _ := filepath.Glob("testdata/scenarios/valid/*.yaml")
	invalid, _ := filepath.Glob("testdata/scenarios/invalid/*.yaml")
	if len(valid) < 3 || len(invalid) < 30 {
		t.Fatalf("fixture catalogue shrank: %d valid, %d invalid", len(valid), len(invalid))
	}
	for _, f := range valid {
		t.Run("valid/"+filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ParseScenario(data); err != nil {
				t.Fatalf("ParseScenario: %v", err)
			}
		})
	}
	for _, f := range invalid {
		t.Run("invalid/"+filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(data), "\n")
			want, ok := strings.CutPrefix(first, "# want: ")
			if !ok {
				t.Fatalf("fixture lacks a '# want: ' first line")
			}
			_, err = ParseScenario(data)
			if err == nil {
				t.Fatalf("ParseScenario accepted it, want error containing %q", want)
			}
			if !errors.Is(err, ErrInvalidScenario) {
				t.Errorf("error %v does not wrap ErrInvalidScenario", err)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q, want it to contain %q", err, want)
			}
		})
	}
}

func TestParseScenarioFields(t *testing.T) {
	data, err := os.ReadFile("testdata/scenarios/valid/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseScenario(data)
	if err != nil {
		t.Fatal(err)
	}
	want := &Scenario{
		Name: "full.example_1", Description: "every field set", Seed: 42,
		Tasks: []Task{
			{Name: "base", Kind: "base", Train: 30, Test: 12, Seed: 7, Selection: Selection{
				Domain: "rain", Label: "colour", Shapes: []string{"circle", "star"}, Colours: []string{"red", "blue", "white"},
				Pairs: "all", Language: "en", Objects: 3, Days: &DayRange{10, 20}}},
			{Name: "held", Kind: "drift", Train: 8, Test: 8, Selection: Selection{
				Label: "colour_shape", Pairs: "heldout", Days: &DayRange{0, 730}}},
		},
		ZeroShot: []ZeroShotSet{{Name: "zs", N: 16, Seed: 3, Selection: Selection{Domain: "glare", Label: "shape", Pairs: "captioned"}}},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("parsed\n%+v\nwant\n%+v", s, want)
	}
}

func TestScenarioRoundTrip(t *testing.T) {
	for _, name := range Builtins() {
		s, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		data, err := yaml.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseScenario(data)
		if err != nil {
			t.Fatalf("%s: re-parsing marshalled scenario: %v\n%s", name, err, data)
		}
		if !reflect.DeepEqual(s, back) {
			t.Errorf("%s: round trip changed the scenario", name)
		}
	}
}

func TestDefaultScenario(t *testing.T) {
	s, err := Builtin("default")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, task := range s.Tasks {
		kinds[task.Kind] = true
	}
	for _, k := range []string{"domain_shift", "new_classes", "new_language", "drift"} {
		if !kinds[k] {
			t.Errorf("default scenario has no %s task", k)
		}
	}
	// The new-classes task must be exactly the shapes the text model
	// cannot name.
	it, err := s.Items("new-shapes", TrainSplit)
	if err != nil {
		t.Fatal(err)
	}
	var got []Shape
	for _, c := range it.Classes() {
		got = append(got, Shape(c.Shape))
	}
	if !reflect.DeepEqual(got, UnnamedShapes()) {
		t.Errorf("new-shapes classes %v, want the unnamed shapes %v", got, UnnamedShapes())
	}
	for _, name := range []string{"spanish", "chinese"} {
		it, err := s.Items(name, TestSplit)
		if err != nil {
			t.Fatal(err)
		}
		vocab := map[string]bool{}
		for _, w := range Vocabulary() {
			vocab[w] = true
		}
		for _, c := range it.Classes() {
			for _, tok := range Tokenize(c.Label) {
				if vocab[tok] {
					t.Errorf("%s label %q has token %q the text model knows", name, c.Label, tok)
				}
			}
		}
	}
}

func TestLoadScenario(t *testing.T) {
	byName, err := LoadScenario("default")
	if err != nil {
		t.Fatal(err)
	}
	byFile, err := LoadScenario(filepath.Join("scenarios", "default.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(byName, byFile) {
		t.Error("built-in and file versions of default differ")
	}
	if _, err := LoadScenario("nosuch"); !errors.Is(err, ErrUnknownScenario) {
		t.Errorf("LoadScenario(nosuch) = %v, want ErrUnknownScenario", err)
	}
	if _, err := LoadScenario(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, ErrUnknownScenario) {
		t.Errorf("missing file: %v, want ErrUnknownScenario", err)
	}
	_, err = LoadScenario("testdata/scenarios/invalid/unknown-key.yaml")
	if err == nil || !strings.Contains(err.Error(), "unknown-key.yaml") || !errors.Is(err, ErrInvalidScenario) {
		t.Errorf("invalid file: %v, want ErrInvalidScenario naming the file", err)
	}
}

func TestParseScenarioTooLarge(t *testing.T) {
	data := []byte("name: big\ndescription: " + strings.Repeat("x", maxScenarioBytes) + "\n")
	if _, err := ParseScenario(data); !errors.Is(err, ErrInvalidScenario) {
		t.Errorf("oversized scenario: %v", err)
	}
}
