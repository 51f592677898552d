package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/daemon"
	"github.com/clipfleet/clipfleet/labels"
)

func init() {
	register(command{name: "labels", summary: "manage the label vocabulary: add, rm, list, templates, export", run: runLabels})
}

// lookupEnv reads the command's environment (the process's when the
// caller gave none).
func (e *cliEnv) lookupEnv(k string) string {
	if e.getenv != nil {
		return e.getenv(k)
	}
	return os.Getenv(k)
}

const labelsUsage = `usage: edge labels <subcommand> [flags] [args]

subcommands:
  list [--encode] [--json]                 show the vocabulary and where each label's embedding comes from
                                           (cached, fresh, from-file, pending, unavailable); --encode computes
                                           missing embeddings now (needs the model's text encoder)
  add [--templates T]... NAME...           add labels (any language); --templates (repeatable) gives them their
                                           own prompt templates, "{}" standing for the name
  rm NAME...                               remove labels (all or none)
  templates [--reset] [T...]               show, set or reset the label set's prompt templates
  export [--format json|binary] FILE       write the label embeddings, e.g. for a device without a text encoder
                                           (its labels.embeddings_file)

The vocabulary lives in labels.yaml in the state directory (labels.dir; default $CLIPFLEET_STATE_DIR,
else ~/.local/state/clipfleet). Until the first add or rm it is labels.default from the config.
A running daemon reloads it within labels.reload_interval.
Every subcommand takes --config FILE and --set key=value like edge run.
`

func runLabels(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(env.stderr, labelsUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("edge labels "+sub, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() { fmt.Fprint(env.stderr, labelsUsage) }
	var cf configFlags
	cf.register(fs)
	var (
		templates       multiFlag
		encode, asJSON  bool
		reset           bool
		format          string
		minArgs, maxArg = 0, -1
	)
	switch sub {
	case "list":
		fs.BoolVar(&encode, "encode", false, "compute missing embeddings with the text encoder (fills the cache)")
		fs.BoolVar(&asJSON, "json", false, "print one JSON object per label")
		maxArg = 0
	case "add":
		fs.Var(&templates, "templates", "prompt template for the added labels, \"{}\" is the name (repeatable)")
		minArgs = 1
	case "rm":
		minArgs = 1
	case "templates":
		fs.BoolVar(&reset, "reset", false, "drop the label set's templates: use labels.templates from the config")
	case "export":
		fs.StringVar(&format, "format", labels.FormatJSON, "file format: json or binary")
		minArgs, maxArg = 1, 1
	default:
		fmt.Fprintf(env.stderr, "edge labels: unknown subcommand %q\n\n%s", sub, labelsUsage)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() < minArgs || maxArg >= 0 && fs.NArg() > maxArg {
		fmt.Fprintf(env.stderr, "edge labels %s: wrong number of arguments\n\n%s", sub, labelsUsage)
		return 2
	}
	if sub == "templates" && reset && fs.NArg() > 0 {
		fmt.Fprintln(env.stderr, "edge labels templates: --reset takes no templates")
		return 2
	}
	cfg, err := cf.load(env)
	if err != nil {
		fmt.Fprintf(env.stderr, "edge labels %s: %v\n", sub, err)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(env.stderr, "edge labels %s: %v\n", sub, err)
		return 1
	}
	switch sub {
	case "add", "rm", "templates":
		dir, err := cfg.Labels.ResolveDir(env.lookupEnv)
		if err != nil {
			return fail(err)
		}
		path := filepath.Join(dir, labels.VocabularyFile)
		if err := editVocabulary(env.stdout, path, cfg.Labels, sub, fs.Args(), templates, reset); err != nil {
			return fail(err)
		}
		return 0
	case "list":
		if err := listLabels(ctx, env, cfg, encode, asJSON); err != nil {
			return fail(err)
		}
		return 0
	case "export":
		if err := exportLabels(ctx, env, cfg, format, fs.Arg(0)); err != nil {
			return fail(err)
		}
		return 0
	}
	return 2
}

// editVocabulary applies add, rm or templates to the label file; the file
// is written once, after every change succeeded, or not at all.
func editVocabulary(out io.Writer, path string, lc labels.Config, sub string, args []string, templates []string, reset bool) error {
	v, fromFile, err := labels.LoadOrDefault(path, lc.Default)
	if err != nil {
		return err
	}
	if changes := sub != "templates" || len(args) > 0 || reset; changes && !fromFile {
		fmt.Fprintf(out, "starting %s from labels.default (%d labels)\n", path, len(v.Labels))
	}
	switch sub {
	case "add":
		var tpl []string
		if len(templates) > 0 {
			tpl = templates
		}
		var msgs []string
		for _, name := range args {
			added, err := v.Add(name, tpl)
			if err != nil {
				return err
			}
			c, _ := labels.CheckName(name)
			switch {
			case added:
				msgs = append(msgs, "added "+c)
			case tpl != nil:
				msgs = append(msgs, "updated templates of "+c)
			default:
				msgs = append(msgs, c+" is already present")
			}
		}
		if err := labels.SaveVocabulary(path, v); err != nil {
			return err
		}
		fmt.Fprintln(out, strings.Join(msgs, "\n"))
	case "rm":
		if err := v.Remove(args...); err != nil {
			return err
		}
		if err := labels.SaveVocabulary(path, v); err != nil {
			return err
		}
		fmt.Fprintf(out, "removed %d labels; %d left\n", len(args), len(v.Labels))
	case "templates":
		if !reset && len(args) == 0 {
			tpl, from := v.Templates, "the label file"
			if len(tpl) == 0 {
				tpl, from = lc.Templates, "labels.templates (config)"
			}
			fmt.Fprintf(out, "templates from %s:\n", from)
			for _, t := range tpl {
				fmt.Fprintf(out, "  %s\n", t)
			}
			return nil
		}
		v.Templates = args
		if err := v.Validate(); err != nil {
			return err
		}
		if err := labels.SaveVocabulary(path, v); err != nil {
			return err
		}
		if reset {
			fmt.Fprintln(out, "the label set uses labels.templates from the config")
		} else {
			fmt.Fprintf(out, "the label set uses %d templates\n", len(args))
		}
	}
	return nil
}

// labelsManager opens a manager for the configured model: with the
// encoder running when encode is set, else from the manifest alone (no
// native runtime needed, nothing written; enc is then nil). The returned
// close releases the encoder.
func labelsManager(ctx context.Context, env *cliEnv, cfg daemon.Config, encode bool, log *slog.Logger, topK int) (m *labels.Manager, enc accel.Encoder, closeFn func(), err error) {
	opts := labels.ManagerOptions{TopK: topK, Log: log, Getenv: env.lookupEnv}
	closeFn = func() {}
	if encode {
		enc, err = accel.Open(ctx, cfg.Accel, log)
		if err != nil {
			return nil, nil, nil, err
		}
		opts.Encoder, closeFn = enc, func() { _ = enc.Close() }
	} else {
		model, err := accel.LoadModel(cfg.Accel.ModelDir, cfg.Accel.Variant)
		if err != nil {
			return nil, nil, nil, err
		}
		opts.Info = model.Info()
	}
	m, err = labels.NewManager(cfg.Labels, opts)
	if err != nil {
		closeFn()
		return nil, nil, nil, err
	}
	return m, enc, closeFn, nil
}

// quietLogger keeps a CLI's stderr to warnings unless the config asks for
// debug output.
func quietLogger(w io.Writer, lc daemon.LogConfig) *slog.Logger {
	if lvl, _ := daemon.ParseLevel(lc.Level); lvl < slog.LevelWarn && lvl != slog.LevelDebug {
		lc.Level = "warn"
	}
	return newLogger(w, lc)
}

func listLabels(ctx context.Context, env *cliEnv, cfg daemon.Config, encode, asJSON bool) error {
	log := quietLogger(env.stderr, cfg.Log)
	m, _, closeFn, err := labelsManager(ctx, env, cfg, encode, log, 1)
	if err != nil {
		return err
	}
	defer closeFn()
	v, fromFile, err := m.Vocabulary()
	if err != nil {
		return err
	}
	_, statuses, _, err := m.Build(ctx, v)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(env.stdout)
		for _, s := range statuses {
			if err := enc.Encode(s); err != nil {
				return err
			}
		}
		return nil
	}
	src := m.VocabularyPath()
	if !fromFile {
		src = "labels.default (no " + m.VocabularyPath() + " yet)"
	}
	tok, tokFrom := m.Tokenizer()
	if tok != nil {
		tokFrom = "tokenizer from " + tokFrom
	}
	fmt.Fprintf(env.stdout, "vocabulary: %s, %d labels\nmodel: %s; %s\n\n", src, len(statuses), m.Info().ID, tokFrom)
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tEMBEDDING\tTEMPLATES\tNOTE")
	for _, s := range statuses {
		tpl := fmt.Sprintf("%s (%d)", s.TemplatesFrom, len(s.Templates))
		if s.TemplatesFrom == labels.TemplatesLabel {
			tpl = fmt.Sprintf("label: %q", strings.Join(s.Templates, `", "`))
		}
		note := s.Reason
		if tok == nil && note == tokFrom {
			note = "see model line above"
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\t%s\t%s\n", s.Name, s.ID, s.Source, tpl, note)
	}
	return tw.Flush()
}

func exportLabels(ctx context.Context, env *cliEnv, cfg daemon.Config, format, path string) error {
	if format != labels.FormatJSON && format != labels.FormatBinary {
		return fmt.Errorf("--format %q: want json or binary", format)
	}
	log := quietLogger(env.stderr, cfg.Log)
	m, _, closeFn, err := labelsManager(ctx, env, cfg, true, log, 1)
	if err != nil {
		return err
	}
	defer closeFn()
	v, _, err := m.Vocabulary()
	if err != nil {
		return err
	}
	set, statuses, _, err := m.Build(ctx, v)
	if err != nil {
		return err
	}
	for _, s := range statuses {
		if s.Source == labels.SourceUnavailable {
			fmt.Fprintf(env.stderr, "edge labels export: %s left out: %s\n", s.Name, s.Reason)
		}
	}
	if set.Len() == 0 {
		return errors.New("no label has an embedding; nothing to export")
	}
	e := &labels.Embeddings{ModelID: set.ModelID(), Dim: set.Dim()}
	for i := 0; i < set.Len(); i++ {
		e.Labels = append(e.Labels, labels.Embedding{Name: set.Name(i), Vector: set.Vector(i)})
	}
	if err := labels.WriteEmbeddingsFile(path, e, format); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "wrote %d label embeddings of model %s (dim %d) to %s\n", set.Len(), set.ModelID(), set.Dim(), path)
	return nil
}
