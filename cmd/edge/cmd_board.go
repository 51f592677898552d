package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/clipfleet/clipfleet/boards"
	// Real GPIO drivers, so that `edge board` on a device can say whether
	// the LED and button pins exist. Loaded lazily on the first lookup.
	_ "github.com/clipfleet/clipfleet/boards/host"
)

func init() {
	register(command{name: "board", summary: "show the detected board, why, its defaults, thermal readings and GPIO pins", run: runBoard})
}

const boardUsage = `usage: edge board [--root DIR] [--board NAME] [--json] [-v]

Detects the board the daemon runs on from /proc, /sys and /etc under --root
and prints the evidence, the defaults it suggests for accel and capture
(applied under your config), its thermal limits with the current sensor
readings, and whether its status LED and teach button pins exist.

`

// boardReport is the JSON form of `edge board`.
type boardReport struct {
	Root       string             `json:"root"`
	Board      string             `json:"board"`
	Host       string             `json:"host"`
	Evidence   string             `json:"evidence"`
	Forced     bool               `json:"forced"`
	Profile    boards.Profile     `json:"profile"`
	Thermal    *thermalReport     `json:"thermal"`
	GPIO       gpioReport         `json:"gpio"`
	Candidates []boards.Candidate `json:"candidates"`
}

type thermalReport struct {
	State       boards.ThermalState `json:"state"`
	MaxC        float64             `json:"max_c"`
	Hottest     string              `json:"hottest,omitempty"`
	FrameFactor float64             `json:"frame_factor"`
	Error       string              `json:"error,omitempty"`
	Readings    []readingReport     `json:"readings"`
}

type readingReport struct {
	boards.Reading
	Error string `json:"error,omitempty"`
}

type gpioReport struct {
	// Checked is false when --root is not "/": the pins belong to this
	// machine, not to the fixture tree.
	Checked bool      `json:"checked"`
	Drivers string    `json:"drivers,omitempty"`
	LED     pinReport `json:"led"`
	Button  pinReport `json:"button"`
}

type pinReport struct {
	Pin   string `json:"pin"` // "" = none
	Found bool   `json:"found"`
	Error string `json:"error,omitempty"`
}

func runBoard(ctx context.Context, env *cliEnv, args []string) int {
	fs := flag.NewFlagSet("edge board", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	cfg := boards.DefaultConfig()
	fs.StringVar(&cfg.Root, "root", cfg.Root, "read /proc, /sys and /etc under `DIR` (e.g. a fixture tree in boards/testdata)")
	fs.StringVar(&cfg.Board, "board", cfg.Board, "`NAME` of the board to assume instead of detecting (known: "+strings.Join(boards.Names(), ", ")+")")
	asJSON := fs.Bool("json", false, "print one JSON object")
	verbose := fs.Bool("v", false, "log every board's detection evidence to stderr")
	fs.Usage = func() {
		fmt.Fprint(env.stderr, boardUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.stderr, "edge board: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: level}))

	d, err := boards.Resolve(cfg, log)
	if err != nil {
		fmt.Fprintf(env.stderr, "edge board: %v\n", err)
		if errors.Is(err, boards.ErrInvalidConfig) || errors.Is(err, boards.ErrUnknownBoard) {
			return 2
		}
		return 1
	}
	r := boardReport{Root: cfg.Root, Board: d.Board, Host: d.Host, Evidence: d.Evidence, Forced: d.Forced,
		Profile: d.Profile, Candidates: d.Candidates}
	r.Thermal = readThermal(cfg, d.Profile.Thermal, log)
	r.GPIO = checkPins(cfg.Root, d.Profile.Pins)

	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			fmt.Fprintf(env.stderr, "edge board: %v\n", err)
			return 1
		}
		return 0
	}
	if err := printBoard(env.stdout, r); err != nil {
		fmt.Fprintf(env.stderr, "edge board: %v\n", err)
		return 1
	}
	return 0
}

func readThermal(cfg boards.Config, limits boards.ThermalLimits, log *slog.Logger) *thermalReport {
	st, err := boards.NewThermal(cfg.FS(), limits, nil, log).Check()
	tr := &thermalReport{State: st.State, MaxC: st.MaxC, Hottest: st.Hottest, FrameFactor: st.FrameFactor}
	readings := st.Readings
	if err != nil {
		tr.Error = err.Error()
		// Show what could be read even when nothing usable was.
		readings, _ = boards.ReadSensors(cfg.FS(), limits)
	}
	tr.Readings = make([]readingReport, 0, len(readings))
	for _, rd := range readings {
		rr := readingReport{Reading: rd}
		if rd.Err != nil {
			rr.Error = rd.Err.Error()
		}
		tr.Readings = append(tr.Readings, rr)
	}
	return tr
}

// checkPins looks the board's pins up in periph's registry, only when the
// root is this machine's.
func checkPins(root string, pins boards.Pins) gpioReport {
	g := gpioReport{LED: pinReport{Pin: pins.LED}, Button: pinReport{Pin: pins.Button}}
	if filepath.Clean(root) != "/" {
		return g
	}
	g.Checked = true
	summary, err := boards.LoadHostDrivers()
	g.Drivers = summary
	if err != nil {
		g.Drivers = err.Error()
	}
	for _, p := range []struct {
		rep  *pinReport
		role string
	}{{&g.LED, "status LED"}, {&g.Button, "teach button"}} {
		if p.rep.Pin == "" {
			continue
		}
		if _, err := boards.LookupPin(p.rep.Pin, p.role); err != nil {
			p.rep.Error = err.Error()
		} else {
			p.rep.Found = true
		}
	}
	return g
}

func printBoard(w io.Writer, r boardReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	board := r.Board
	if r.Host != r.Board {
		board += " on " + r.Host
	}
	if r.Forced {
		board += " (set by --board)"
	}
	p("board\t%s", board)
	p("evidence\t%s", r.Evidence)
	p("root\t%s", r.Root)
	cpus := "unknown"
	if r.Profile.CPUs > 0 {
		cpus = fmt.Sprint(r.Profile.CPUs)
	}
	p("cpus\t%s", cpus)
	p("")

	a, c := r.Profile.Defaults.Accel, r.Profile.Defaults.Camera
	p("defaults\t(applied under your config: anything you set wins)")
	accelLine := "backend " + a.Backend
	if len(a.Providers) > 0 {
		accelLine += ", providers " + strings.Join(a.Providers, " > ")
	}
	if a.FP16 {
		accelLine += ", tensorrt fp16"
	}
	if a.Delegate != "" {
		accelLine += ", tflite delegate " + a.Delegate
	}
	if a.Threads > 0 {
		accelLine += fmt.Sprintf(", %d threads", a.Threads)
	}
	p("  accel\t%s", accelLine)
	camLine := c.Source
	switch {
	case c.Device != "":
		camLine += " " + c.Device
	case c.Pipeline != "":
		camLine += fmt.Sprintf(" %q", c.Pipeline)
	}
	p("  camera\t%s, %dx%d @ %g fps", camLine, c.Width, c.Height, c.FPS)
	p("")

	th, t := r.Profile.Thermal, r.Thermal
	p("thermal\tsoft %g °C, hard %g °C, hysteresis %g °C", th.SoftC, th.HardC, th.HysteresisC)
	switch {
	case t.Error != "":
		p("  state\tunknown: %s", t.Error)
	default:
		p("  state\t%s: hottest %.1f °C at %s, frame factor %.2f", t.State, t.MaxC, t.Hottest, t.FrameFactor)
	}
	if len(t.Readings) == 0 {
		p("  \tno thermal zones")
	}
	for _, rd := range t.Readings {
		val := fmt.Sprintf("%.1f °C", rd.TempC)
		if rd.Error != "" {
			val = "error: " + rd.Error
		}
		if !rd.Watched {
			val += " (not watched)"
		}
		p("  %s\t%s\t%s", rd.Zone, rd.Type, val)
	}
	p("")

	g := r.GPIO
	p("gpio\t%s", pinsLine(g))
	for _, pr := range []struct {
		name string
		rep  pinReport
	}{{"led", g.LED}, {"button", g.Button}} {
		if pr.rep.Error != "" {
			p("  %s\t%s", pr.name, pr.rep.Error)
		}
	}
	p("")

	p("candidates\t(detection order)")
	for _, cd := range r.Candidates {
		verdict := "no"
		switch {
		case cd.Chosen:
			verdict = "chosen"
		case cd.Matched:
			verdict = "matched"
		}
		ev := cd.Evidence
		if cd.Note != "" {
			ev = cd.Note + ": " + ev
		}
		p("  %s\trank %d\t%s\t%s", cd.Board, cd.Rank, verdict, ev)
	}
	return tw.Flush()
}

func pinsLine(g gpioReport) string {
	desc := func(pr pinReport) string {
		switch {
		case pr.Pin == "":
			return "none"
		case !g.Checked:
			return pr.Pin + " (not checked: --root is not this machine)"
		case pr.Found:
			return pr.Pin + " (found)"
		}
		return pr.Pin + " (missing)"
	}
	s := "led " + desc(g.LED) + ", button " + desc(g.Button)
	if g.Checked && g.Drivers != "" {
		s += "; " + g.Drivers
	}
	return s
}
