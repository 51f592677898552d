package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/augment"
	"github.com/clipfleet/clipfleet/daemon"
	"github.com/clipfleet/clipfleet/eval"
	"github.com/clipfleet/clipfleet/internal/atomicfile"
	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/world"
)

func init() {
	register(command{name: "eval", summary: "evaluate continual-learning methods on a world scenario (accuracy matrix, BWT, transfer)", run: runEval})
}

func runEval(ctx context.Context, env *cliEnv, args []string) int {
	fs := flag.NewFlagSet("edge eval", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	var cf configFlags
	cf.register(fs)
	scenario := fs.String("scenario", "default", "scenario file, or the name of a built-in scenario")
	methods := fs.String("method", "all", "method name, comma-separated names, or \"all\" (every registered method plus the joint upper bound)")
	jsonOut := fs.String("json", "", "write the results as JSON to this file")
	mdOut := fs.String("markdown", "", "write the summary table and accuracy matrices as Markdown to this file")
	plotOut := fs.String("plot", "", "write the accuracy-matrix heatmaps and accuracy-over-time lines as PNG to this file")
	jointMethod := fs.String("joint-method", eval.DefaultConfig().JointMethod, "method the joint upper bound trains offline on all tasks at once (told each example's task, and scored with each test set's own task route, when the method has tasks)")
	jointEpochs := fs.Int("joint-epochs", eval.DefaultConfig().JointEpochs, "passes of the joint upper bound over all training data (a single-pass method makes one)")
	epochs := fs.Int("epochs", eval.DefaultConfig().Epochs, "passes over each task's training set for gradient-trained methods (the same budget for all of them)")
	fewShot := fs.Int("few-shot", eval.DefaultConfig().FewShot, "examples per never-named class for the few-shot measurement (0 skips it)")
	fewShotDraws := fs.Int("few-shot-draws", eval.DefaultConfig().FewShotDraws, "selections of those examples the few-shot accuracy is averaged over (the first is the first examples of each class)")
	teachViews := fs.Int("teach-views", eval.DefaultConfig().TeachAugment.Views, "augmented views taught with each never-named few-shot picture besides it (teach-time augmentation; 0: none)")
	teachAugment := fs.String("teach-augment", "camera", "ranges of those views: "+strings.Join(augment.Presets(), " or ")+" (camera: flip, crop, ±10° turn, mild colour jitter; shape: also any rotation and any hue)")
	cacheDir := fs.String("cache", "", "embedding cache directory (default: state_dir/eval-cache; \"off\" disables)")
	fs.Usage = func() {
		fmt.Fprint(env.stderr, "usage: edge eval [--scenario FILE|NAME] [--method NAME[,NAME...]|all] [--json OUT] [--markdown OUT] [--plot OUT.png] [--epochs N] [--few-shot N] [--teach-views K] [--teach-augment camera|shape] [--cache DIR|off] [--config FILE] [--set key=value]\n\n"+
			"Renders the scenario's pictures, embeds them once with the configured model (accel section; cached per\n"+
			"model and scenario), then learns the tasks in order with each method and prints a Markdown summary table.\n"+
			"Methods: "+strings.Join(learner.Methods(), ", ")+", "+eval.JointName+".\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.stderr, "edge eval: unexpected arguments %v\n", fs.Args())
		return 2
	}
	names, err := evalMethods(*methods)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge eval:", err)
		return 2
	}
	cfg, err := cf.load(env)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge eval:", err)
		return 2
	}
	sc, err := world.LoadScenario(*scenario)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge eval:", err)
		return 2
	}
	ecfg := eval.DefaultConfig()
	ecfg.Learner = cfg.Learner
	ecfg.Templates = cfg.Labels.Templates
	ecfg.JointMethod, ecfg.JointEpochs = *jointMethod, *jointEpochs
	ecfg.Epochs, ecfg.FewShot, ecfg.FewShotDraws = *epochs, *fewShot, *fewShotDraws
	if ecfg.TeachAugment, err = augment.Preset(*teachAugment); err != nil {
		fmt.Fprintln(env.stderr, "edge eval: --teach-augment:", err)
		return 2
	}
	ecfg.TeachAugment.Views = *teachViews
	if err := ecfg.Validate(); err != nil {
		fmt.Fprintln(env.stderr, "edge eval:", err)
		return 2
	}
	switch *cacheDir {
	case "off":
	case "":
		dir, err := cfg.ResolveStateDir(env.lookupEnv)
		if err != nil {
			fmt.Fprintln(env.stderr, "edge eval:", err)
			return 2
		}
		ecfg.CacheDir = daemon.EvalCacheDir(dir)
	default:
		ecfg.CacheDir = *cacheDir
	}
	log := quietLogger(env.stderr, cfg.Log)
	enc, err := accel.Open(ctx, cfg.Accel, log)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge eval:", err)
		return 1
	}
	defer enc.Close()
	h, err := eval.New(enc, nil, ecfg, log)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge eval:", err)
		return 1
	}
	t0 := time.Now()
	ds, status, st, err := h.Dataset(ctx, sc)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge eval:", err)
		return 1
	}
	info := enc.Info()
	variant := info.Variant
	if variant == "" {
		variant = "base"
	}
	fmt.Fprintf(env.stderr, "edge eval: scenario %s, model %s (%s, %s): embeddings %s (%d images encoded, %.1fs)\n",
		sc.Name, info.ID, variant, info.Runtime, status, st.ImageCalls, time.Since(t0).Seconds())
	var results []*eval.Result
	for _, n := range names {
		t1 := time.Now()
		r, err := h.Run(ctx, ds, n)
		if err != nil {
			fmt.Fprintln(env.stderr, "edge eval:", err)
			return 1
		}
		fmt.Fprintf(env.stderr, "edge eval: %s done in %.1fs\n", n, time.Since(t1).Seconds())
		results = append(results, r)
	}
	var md bytes.Buffer
	if err := eval.WriteMarkdown(&md, results); err != nil {
		fmt.Fprintln(env.stderr, "edge eval:", err)
		return 1
	}
	// Only the summary table goes to stdout; the matrices are in --markdown.
	summary, _, _ := strings.Cut(md.String(), "\n\n")
	fmt.Fprintln(env.stdout, summary)
	outputs := []struct {
		path  string
		write func(*bytes.Buffer) error
	}{
		{*jsonOut, func(b *bytes.Buffer) error { return eval.WriteJSON(b, results) }},
		{*mdOut, func(b *bytes.Buffer) error { _, err := b.Write(md.Bytes()); return err }},
		{*plotOut, func(b *bytes.Buffer) error { return eval.Plot(b, results) }},
	}
	for _, o := range outputs {
		if o.path == "" {
			continue
		}
		var b bytes.Buffer
		if err := o.write(&b); err != nil {
			fmt.Fprintln(env.stderr, "edge eval:", err)
			return 1
		}
		if err := atomicfile.WriteFile(o.path, b.Bytes(), 0o644); err != nil {
			fmt.Fprintln(env.stderr, "edge eval:", err)
			return 1
		}
	}
	return 0
}

// evalMethods expands --method: "all" is every registered method plus the
// joint bound; unknown names are refused before any encoding starts.
func evalMethods(arg string) ([]string, error) {
	known := learner.Methods()
	if arg == "all" {
		return append(known, eval.JointName), nil
	}
	var out []string
	for _, n := range strings.Split(arg, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if n != eval.JointName && !slices.Contains(known, n) {
			return nil, fmt.Errorf("unknown method %q (have %s, %s)", n, strings.Join(known, ", "), eval.JointName)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--method: no method named")
	}
	return out, nil
}
