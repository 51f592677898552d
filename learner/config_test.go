package learner

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestDefaultConfigValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
}

func TestConfigValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		field  string
	}{
		{"unknown method", func(c *Config) { c.Method = "magic" }, "method"},
		{"negative dim", func(c *Config) { c.Dim = -1 }, "dim"},
		{"zero scale", func(c *Config) { c.LogitScale = 0 }, "logit_scale"},
		{"alpha > 1", func(c *Config) { c.NCM.Alpha = 1.5 }, "ncm.alpha"},
		{"k zero", func(c *Config) { c.KNN.K = 0 }, "knn.k"},
		{"capacity < k", func(c *Config) { c.KNN.Capacity = 2; c.KNN.K = 3 }, "knn.capacity"},
		{"hidden zero", func(c *Config) { c.Finetune.Hidden = 0 }, "finetune.hidden"},
		{"bad optimizer", func(c *Config) { c.Finetune.Optimizer = "lbfgs" }, "finetune.optimizer"},
		{"lr zero", func(c *Config) { c.Finetune.LR = 0 }, "finetune.lr"},
		{"momentum 1", func(c *Config) { c.Finetune.Momentum = 1 }, "finetune.momentum"},
		{"steps zero", func(c *Config) { c.Finetune.Steps = 0 }, "finetune.steps"},
		{"negative cap", func(c *Config) { c.Caps.MaxTaughtPerClass = -1 }, "caps"},
		{"negative undo", func(c *Config) { c.Undo.Depth = -1 }, "undo.depth"},
		{"attempts zero", func(c *Config) { c.Pseudo.MinAttempts = 0 }, "pseudo.min_attempts"},
		{"agreement half", func(c *Config) { c.Pseudo.MinAgreement = 0.5 }, "pseudo.min_agreement"},
		{"window small", func(c *Config) { c.Pseudo.Window = 2 }, "pseudo.window"},
		{"confidence > 1", func(c *Config) { c.Pseudo.MinConfidence = 2 }, "pseudo.min_confidence"},
		{"weight zero", func(c *Config) { c.Pseudo.Weight = 0 }, "pseudo.weight"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mutate(&c)
			err := c.Validate()
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("Validate() = %v, want ErrInvalidConfig naming %s", err, tc.field)
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	have := strings.Join(Methods(), ",")
	for _, m := range allMethods {
		if !strings.Contains(have, m) {
			t.Errorf("method %q not registered (have %s)", m, have)
		}
	}
	cfg := testCfg("nope", 4)
	if _, err := New(cfg, NewLabels(4), nil); !errors.Is(err, ErrUnknownMethod) {
		t.Errorf("New(unknown) = %v, want ErrUnknownMethod", err)
	}
	cfg = testCfg("ncm", 0)
	if _, err := New(cfg, NewLabels(4), nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("New with dim 0 = %v, want ErrInvalidConfig", err)
	}
	cfg = testCfg("ncm", 4)
	if _, err := New(cfg, NewLabels(5), nil); !errors.Is(err, ErrDim) {
		t.Errorf("New with mismatched labels = %v, want ErrDim", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("duplicate Register did not panic")
			}
		}()
		Register("ncm", func(Config, *Labels, *slog.Logger) (Method, error) { return nil, nil })
	}()
}
