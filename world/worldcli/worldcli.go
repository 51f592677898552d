package worldcli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/clipfleet/clipfleet/world"
)

// Run executes `world <subcommand> [flags]` and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var err error
	switch args[0] {
	case "render":
		err = render(ctx, args[1:], stdout, stderr)
	case "export":
		err = export(ctx, args[1:], stdout, stderr)
	case "check":
		err = check(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "world: unknown subcommand %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintln(stderr, "world:", err)
	return 1
}

// errUsage marks a flag error the flag package has already reported.
var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: world <subcommand> [flags]

subcommands:
  render   write sample PNGs and labels.jsonl for a scenario's tasks and zero-shot sets
  export   write the tiny CLIP training and evaluation sets (raw uint8 + JSONL)
  check    validate a scenario file and summarise it

Scenarios are files or built-in names (`+strings.Join(world.Builtins(), ", ")+`).
`)
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("world "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected arguments %q\n", fs.Name(), fs.Args())
		return errUsage
	}
	return nil
}

type labelRecord struct {
	File    string   `json:"file"`
	Set     string   `json:"set"`
	Kind    string   `json:"kind"`
	Split   string   `json:"split"`
	Index   int      `json:"index"`
	Class   int      `json:"class"`
	Label   string   `json:"label"`
	Caption string   `json:"caption"`
	Domain  string   `json:"domain"`
	Day     int      `json:"day"`
	Objects []string `json:"objects"` // "colour shape", subject first
}

func render(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("render", stderr)
	scenario := fs.String("scenario", "default", "scenario file or built-in name")
	out := fs.String("out", "", "output directory (required)")
	n := fs.Int("n", 8, "pictures per task split and zero-shot set")
	split := fs.String("split", "test", "task split to render: train or test")
	size := fs.Int("size", 224, "picture side in pixels")
	sets := fs.String("sets", "", "comma-separated task / zero-shot set names (default: all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fmt.Fprintln(stderr, "world render: --out is required")
		return errUsage
	}
	if *n < 1 || *size < 16 || *size > 4096 {
		fmt.Fprintln(stderr, "world render: --n must be positive and --size in [16,4096]")
		return errUsage
	}
	sc, err := world.LoadScenario(*scenario)
	if err != nil {
		return err
	}
	names := selectSets(sc, *sets)
	var lines []byte
	var rd world.Renderer
	rgb := make([]byte, *size**size*3)
	for _, name := range names {
		sp := world.Split(*split)
		if isZeroShot(sc, name) {
			sp = world.TestSplit
		}
		it, err := sc.Items(name, sp)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(*out, name), 0o755); err != nil {
			return err
		}
		for i := 0; i < min(*n, it.N); i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			s := it.Sample(i)
			if err := rd.Render(&s.Scene, *size, *size, rgb); err != nil {
				return err
			}
			file := filepath.ToSlash(filepath.Join(name, fmt.Sprintf("%s-%04d.png", sp, i)))
			if err := writePNG(filepath.Join(*out, file), rgb, *size, *size); err != nil {
				return err
			}
			rec := labelRecord{File: file, Set: name, Kind: it.Kind, Split: string(sp), Index: i, Class: s.Class,
				Label: s.Label, Caption: world.Caption(&s.Scene, uint64(i)), Domain: s.Scene.Domain.String(), Day: s.Scene.Day}
			for _, o := range s.Scene.Objects {
				rec.Objects = append(rec.Objects, o.Pair().String())
			}
			line, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			lines = append(append(lines, line...), '\n')
		}
	}
	if err := world.WriteFileAtomic(filepath.Join(*out, "labels.jsonl"), lines); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d pictures of %d sets to %s\n", strings.Count(string(lines), "\n"), len(names), *out)
	return nil
}

func selectSets(sc *world.Scenario, list string) []string {
	if list != "" {
		return strings.Split(list, ",")
	}
	var names []string
	for _, t := range sc.Tasks {
		names = append(names, t.Name)
	}
	for _, z := range sc.ZeroShot {
		names = append(names, z.Name)
	}
	return names
}

func isZeroShot(sc *world.Scenario, name string) bool {
	for _, z := range sc.ZeroShot {
		if z.Name == name {
			return true
		}
	}
	return false
}

// writePNG encodes packed RGB as a PNG, crash-safely.
func writePNG(path string, rgb []byte, w, h int) error {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ {
		copy(img.Pix[4*i:4*i+3], rgb[3*i:3*i+3])
		img.Pix[4*i+3] = 255
	}
	var b strings.Builder
	if err := png.Encode(&b, img); err != nil {
		return err
	}
	return world.WriteFileAtomic(path, []byte(b.String()))
}

func export(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	def := world.DefaultExportOptions()
	fs := newFlags("export", stderr)
	out := fs.String("out", "", "output directory (required)")
	seed := fs.Uint64("seed", def.Seed, "export seed")
	train := fs.Int("train", def.Train, "training pictures")
	captions := fs.Int("captions", def.Captions, "captions per training picture")
	perPair := fs.Int("eval-per-pair", def.EvalPerPair, "evaluation pictures per domain × colour × shape")
	size := fs.Int("size", def.Size, "picture side in pixels")
	workers := fs.Int("workers", min(def.Workers, runtime.NumCPU()), "rendering goroutines")
	verbose := fs.Bool("v", false, "log progress")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fmt.Fprintln(stderr, "world export: --out is required")
		return errUsage
	}
	opt := def
	opt.Seed, opt.Train, opt.Captions, opt.EvalPerPair, opt.Size, opt.Workers = *seed, *train, *captions, *perPair, *size, *workers
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	m, err := world.Export(ctx, *out, opt, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d training and %d evaluation pictures (%dx%d) to %s\n", m.Train.N, m.Eval.N, m.Size, m.Size, *out)
	return nil
}

func check(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", stderr)
	scenario := fs.String("scenario", "default", "scenario file or built-in name")
	if err := parse(fs, args); err != nil {
		return err
	}
	sc, err := world.LoadScenario(*scenario)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "scenario %s: %d tasks, %d zero-shot sets\n", sc.Name, len(sc.Tasks), len(sc.ZeroShot))
	for _, name := range selectSets(sc, "") {
		sp := world.TrainSplit
		if isZeroShot(sc, name) {
			sp = world.TestSplit
		}
		it, err := sc.Items(name, sp)
		if err != nil {
			return err
		}
		var labels []string
		for _, c := range it.Classes() {
			labels = append(labels, c.Label)
		}
		if len(labels) > 10 {
			labels = append(labels[:10], fmt.Sprintf("… (%d)", len(labels)))
		}
		fmt.Fprintf(stdout, "  %-16s %-12s %-6s %s\n", name, it.Kind, it.Domain(), strings.Join(labels, ", "))
	}
	return nil
}
