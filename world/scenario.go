package world

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Scenario is a sequence of continual-learning tasks over the world, plus
// held-out zero-shot sets, declared in YAML (see scenarios/default.yaml).
type Scenario struct {
	Name        string        `yaml:"name"`
	Description string        `yaml:"description,omitempty"`
	Seed        uint64        `yaml:"seed,omitempty"`
	Tasks       []Task        `yaml:"tasks"`
	ZeroShot    []ZeroShotSet `yaml:"zero_shot,omitempty"`
}

// Selection says which pictures a task or set shows and how they are
// labelled. Omitted fields take the defaults documented on each.
type Selection struct {
	// Domain is the viewing condition (default day).
	Domain string `yaml:"domain,omitempty"`
	// Label is what a class is: "shape" (default), "colour" or
	// "colour_shape".
	Label string `yaml:"label,omitempty"`
	// Shapes and Colours span the classes (defaults: the named shapes, all
	// colours).
	Shapes  []string `yaml:"shapes,omitempty"`
	Colours []string `yaml:"colours,omitempty"`
	// Pairs filters the colour–shape pairs shown, not the classes: "all"
	// (default), "captioned" (seen in training) or "heldout" (never
	// captioned), so held-out pairs can be tested against every class.
	Pairs string `yaml:"pairs,omitempty"`
	// Language of the labels: en (default), es or zh; es and zh need
	// label shape and named shapes.
	Language string `yaml:"language,omitempty"`
	// Objects is the most objects per picture (1..3, default 1); the
	// labelled subject is the large one, others are small distractors of
	// other classes.
	Objects int `yaml:"objects,omitempty"`
	// Days is the range of day indices; item i of n is at From +
	// (To-From)*i/(n-1), so a split is a time-ordered stream. Default: the
	// training days.
	Days *DayRange `yaml:"days,omitempty"`
}

// Task is one step of the scenario, with train and test splits.
type Task struct {
	Name string `yaml:"name"`
	// Kind says what the task tests: base, domain_shift, new_classes,
	// new_language or drift. It is informational for evaluation reports.
	Kind      string `yaml:"kind,omitempty"`
	Selection `yaml:",inline"`
	Train     int    `yaml:"train"`
	Test      int    `yaml:"test"`
	Seed      uint64 `yaml:"seed,omitempty"`
}

// ZeroShotSet is a test-only set for measuring zero-shot accuracy.
type ZeroShotSet struct {
	Name      string `yaml:"name"`
	Selection `yaml:",inline"`
	N         int    `yaml:"n"`
	Seed      uint64 `yaml:"seed,omitempty"`
}

// ErrInvalidScenario is wrapped by every scenario parse and validation error.
var ErrInvalidScenario = errors.New("world: invalid scenario")

// ErrUnknownScenario is returned by Builtin and LoadScenario for a name that
// is neither a built-in scenario nor a readable file.
var ErrUnknownScenario = errors.New("world: unknown scenario")

// maxScenarioBytes bounds scenario files; real ones are a few kilobytes.
const maxScenarioBytes = 1 << 20

// ParseScenario decodes and validates a scenario. Unknown keys are rejected
// with their path.
func ParseScenario(data []byte) (*Scenario, error) {
	if len(data) > maxScenarioBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidScenario, len(data), maxScenarioBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: empty document", ErrInvalidScenario)
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalidScenario, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: more than one YAML document", ErrInvalidScenario)
	}
	var s Scenario
	if err := decodeStrict(&doc, &s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidScenario, err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

//go:embed scenarios/*.yaml
var builtinFS embed.FS

// Builtins lists the names of the built-in scenarios.
func Builtins() []string {
	entries, _ := builtinFS.ReadDir("scenarios")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// Builtin returns the built-in scenario with the given name ("default").
func Builtin(name string) (*Scenario, error) {
	data, err := builtinFS.ReadFile(path.Join("scenarios", name+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("%w: no built-in scenario %q (have %s)", ErrUnknownScenario, name, strings.Join(Builtins(), ", "))
	}
	s, err := ParseScenario(data)
	if err != nil {
		return nil, fmt.Errorf("built-in scenario %s: %w", name, err)
	}
	return s, nil
}

// LoadScenario reads a scenario from a file, or returns the built-in
// scenario of that name when ref has no path separator and no extension.
func LoadScenario(ref string) (*Scenario, error) {
	if !strings.ContainsAny(ref, `/\`) && !strings.Contains(ref, ".") {
		return Builtin(ref)
	}
	f, err := os.Open(ref)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnknownScenario, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxScenarioBytes+1))
	if err != nil {
		return nil, fmt.Errorf("world: reading scenario %s: %w", ref, err)
	}
	s, err := ParseScenario(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return s, nil
}
