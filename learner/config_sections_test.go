package learner

import (
	"strings"
	"testing"
)

// The moe and analytic sections reach their methods through the registry
// and are validated with the rest of the config.
func TestMethodSectionsAreUsedAndValidated(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dim = 16
	cfg.Method = "analytic"
	cfg.Analytic.Features = 0
	m, err := New(cfg, NewLabels(16), nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := m.(*Analytic); !ok || a.Features() != 16 {
		t.Fatalf("analytic built with features %v, want the config's 0 (regress on the 16-d embedding)", m)
	}

	bad := DefaultConfig()
	bad.MoE.Experts = 0
	bad.Analytic.Lambda = -1
	err = bad.Validate()
	if err == nil || !strings.Contains(err.Error(), "moe:") || !strings.Contains(err.Error(), "analytic:") {
		t.Fatalf("Validate() = %v, want both sections named", err)
	}
}
