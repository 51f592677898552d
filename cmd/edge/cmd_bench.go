package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/daemon"
	"github.com/clipfleet/clipfleet/internal/yamlstrict"
	"github.com/clipfleet/clipfleet/preprocess"
)

func init() {
	register(command{name: "bench", summary: "measure encoder-only and full-pipeline throughput, latency and memory (one JSON object)", run: runBench})
}

// benchResult is the JSON `edge bench` prints. Both throughputs come from
// the same process, encoder session and run, measured in alternating
// rounds, so their ratio is meaningful even while other work on the
// machine comes and goes.
type benchResult struct {
	Model          string    `json:"model"`
	Backend        string    `json:"backend"`
	Input          string    `json:"input"`
	Source         string    `json:"source"`
	SourceFPS      float64   `json:"source_fps"`
	Capture        string    `json:"capture"` // pipeline.capture: the schedule of capture and preprocessing against the encoder
	CPUs           int       `json:"cpus"`
	Rounds         int       `json:"rounds"`
	EncoderFrames  int       `json:"encoder_frames"`
	EncoderFPS     float64   `json:"encoder_fps"`
	PipelineFrames int       `json:"pipeline_frames"`
	PipelineFPS    float64   `json:"pipeline_fps"`
	PipelineRatio  float64   `json:"pipeline_ratio"`
	RoundRatios    []float64 `json:"round_ratios"` // pipeline/encoder per round: the spread shows how noisy the run was
	LatencyMsP50   float64   `json:"latency_ms_p50"`
	LatencyMsP99   float64   `json:"latency_ms_p99"`
	EncodeMsP50    float64   `json:"encode_ms_p50"`
	PreprocMsP50   float64   `json:"preprocess_ms_p50"`
	// EncoderMsMean and EncodeMsMean are the mean encode time alone and
	// inside the pipeline; EncoderIdleMs is how long, per frame, the
	// pipeline's encoder waited for a preprocessed frame. Together they
	// say where a ratio below 1 comes from: encodes slowed by sharing the
	// CPU, or an encoder starved of frames.
	EncoderMsMean float64 `json:"encoder_ms_mean"`
	EncodeMsMean  float64 `json:"encode_ms_mean"`
	EncoderIdleMs float64 `json:"encoder_idle_ms_mean"`
	// CPU time this process used per frame in each phase (all threads).
	EncoderCPUMs  float64 `json:"encoder_cpu_ms_per_frame"`
	PipelineCPUMs float64 `json:"pipeline_cpu_ms_per_frame"`
	// OtherCPU is the share of the machine's CPU time other processes
	// used during the measured phases: above a few percent, the figures
	// are disturbed by them, not only by this pipeline.
	OtherCPU       float64 `json:"other_cpu"`
	AllocsPerFrame float64 `json:"allocs_per_frame"` // Go heap allocations per pipeline frame
	Dropped        uint64  `json:"frames_dropped"`
	RSSBytes       int64   `json:"rss_bytes"`
}

func runBench(ctx context.Context, env *cliEnv, args []string) int {
	fs := flag.NewFlagSet("edge bench", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	var cf configFlags
	cf.register(fs)
	frames := fs.Int("frames", 300, "frames to measure in each phase, over all rounds")
	warmup := fs.Int("warmup", 20, "frames to run before measuring, at the start of each phase of each round")
	rounds := fs.Int("rounds", 5, "alternations of the encoder-only and pipeline phases; more rounds spread the effect of other load on the machine evenly over both")
	sourceFPS := fs.String("source-fps", "auto", `pace of the capture source during the pipeline phase; "auto" is 1.5× the fastest encoder-only round so far, so the camera is never the bottleneck`)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *frames < 10 || *warmup < 0 || *rounds < 1 || *frames < 2**rounds {
		fmt.Fprintln(env.stderr, "edge bench: --frames must be ≥ 10 and ≥ 2 per round, --warmup ≥ 0, --rounds ≥ 1")
		return 2
	}
	pace := 0.0
	if *sourceFPS != "auto" {
		v, err := strconv.ParseFloat(*sourceFPS, 64)
		if err != nil || v < 0 {
			fmt.Fprintf(env.stderr, "edge bench: --source-fps %q: want auto or a number ≥ 0\n", *sourceFPS)
			return 2
		}
		pace = v
	}
	cfg, err := cf.load(env, yamlstrict.Override{Path: "http.listen", Value: `""`, From: "edge bench"})
	if err != nil {
		fmt.Fprintln(env.stderr, "edge bench:", err)
		return 2
	}
	log := newLogger(env.stderr, cfg.Log)
	b := &benchRun{cfg: cfg, log: log, warmup: *warmup, pace: pace, autoPace: *sourceFPS == "auto"}
	res, err := b.run(ctx, *frames, *rounds)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge bench:", err)
		return 1
	}
	writeIndentedJSON(env.stdout, res)
	return 0
}

// benchRun holds one `edge bench`: one encoder, used by both phases.
type benchRun struct {
	cfg      daemon.Config
	log      *slog.Logger
	warmup   int
	pace     float64
	autoPace bool

	enc     accel.Encoder
	tensor  preprocess.Tensor // one real frame, preprocessed, for the encoder-only phase
	emb     []float32
	srcName string

	encFrames, pipeFrames int
	encTime, pipeTime     time.Duration
	encCPU, pipeCPU       time.Duration
	bestEncFPS            float64
	lat, encMs, preMs     []float64
	idleMs                []float64
	allocs                uint64
	dropped               uint64
	machine               cpuSample // summed over the measured phases
	self                  time.Duration
}

func (b *benchRun) run(ctx context.Context, frames, rounds int) (*benchResult, error) {
	enc, err := accel.Open(ctx, b.cfg.Accel, b.log)
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	b.enc = enc
	info := enc.Info()
	b.emb = make([]float32, info.EmbeddingDim)
	// Sized up front so that allocs_per_frame counts the pipeline's, not these.
	b.lat, b.encMs = make([]float64, 0, frames), make([]float64, 0, frames)
	b.preMs, b.idleMs = make([]float64, 0, frames), make([]float64, 0, frames)
	if err := b.firstFrame(ctx, info.Image); err != nil {
		return nil, err
	}

	ratios := make([]float64, 0, rounds)
	for r := 0; r < rounds; r++ {
		// Frames are spread evenly; the first rounds take the remainder.
		n := frames / rounds
		if r < frames%rounds {
			n++
		}
		// ABBA order (E P, P E, E P, ...) so that load that rises or falls
		// over the run weighs on both phases alike. The first round starts
		// with the encoder: the automatic pace needs its rate.
		var encFPS, pipeFPS float64
		if r%2 == 0 {
			if encFPS, err = b.encoderPhase(ctx, n); err == nil {
				pipeFPS, err = b.pipelinePhase(ctx, n)
			}
		} else {
			if pipeFPS, err = b.pipelinePhase(ctx, n); err == nil {
				encFPS, err = b.encoderPhase(ctx, n)
			}
		}
		if err != nil {
			return nil, err
		}
		ratios = append(ratios, round(pipeFPS/encFPS, 3))
	}

	encFPS := float64(b.encFrames) / b.encTime.Seconds()
	pipeFPS := float64(b.pipeFrames) / b.pipeTime.Seconds()
	return &benchResult{
		Model:          info.ID,
		Backend:        info.Backend,
		Input:          fmt.Sprintf("%dx%d %s %s", info.Image.Size, info.Image.Size, info.Image.Layout, info.Image.DType),
		Source:         b.srcName,
		SourceFPS:      round(b.pace, 1),
		Capture:        b.cfg.Pipeline.Capture,
		CPUs:           runtime.NumCPU(),
		Rounds:         rounds,
		EncoderFrames:  b.encFrames,
		EncoderFPS:     round(encFPS, 1),
		PipelineFrames: b.pipeFrames,
		PipelineFPS:    round(pipeFPS, 1),
		PipelineRatio:  round(pipeFPS/encFPS, 3),
		RoundRatios:    ratios,
		LatencyMsP50:   round(percentile(b.lat, 50), 2),
		LatencyMsP99:   round(percentile(b.lat, 99), 2),
		EncodeMsP50:    round(percentile(b.encMs, 50), 2),
		PreprocMsP50:   round(percentile(b.preMs, 50), 2),
		EncoderMsMean:  round(1e3/encFPS, 2),
		EncodeMsMean:   round(mean(b.encMs), 2),
		EncoderIdleMs:  round(mean(b.idleMs), 2),
		EncoderCPUMs:   round(ms(b.encCPU)/float64(b.encFrames), 2),
		PipelineCPUMs:  round(ms(b.pipeCPU)/float64(b.pipeFrames), 2),
		OtherCPU:       round(b.machine.otherShare(b.self), 3),
		AllocsPerFrame: round(float64(b.allocs)/float64(b.pipeFrames), 1),
		Dropped:        b.dropped,
		RSSBytes:       peakRSS(),
	}, nil
}

// firstFrame reads one frame from the configured source and preprocesses
// it for the encoder-only phase. The source is closed again: the encoder
// alone must not share the CPU with capture.
func (b *benchRun) firstFrame(ctx context.Context, spec preprocess.Spec) error {
	src, g, err := openCapture(ctx, b.cfg.Capture, b.log)
	if err != nil {
		return err
	}
	defer g.Close()
	b.srcName = src.Name()
	var f capture.Frame
	if err := g.Next(ctx, &f); err != nil {
		return fmt.Errorf("reading a frame: %w", err)
	}
	return preprocess.Image(&b.tensor, f.RGB, f.Width, f.Height, spec)
}

// encoderPhase encodes the same preprocessed frame warmup+n times and
// returns the rate of the last n.
func (b *benchRun) encoderPhase(ctx context.Context, n int) (float64, error) {
	for i := 0; i < b.warmup; i++ {
		if err := b.enc.EncodeImage(ctx, &b.tensor, b.emb); err != nil {
			return 0, err
		}
	}
	m := startMeasure()
	for i := 0; i < n; i++ {
		if err := b.enc.EncodeImage(ctx, &b.tensor, b.emb); err != nil {
			return 0, err
		}
	}
	wall, cpu := b.stopMeasure(m)
	b.encFrames += n
	b.encTime += wall
	b.encCPU += cpu
	fps := float64(n) / wall.Seconds()
	b.bestEncFPS = max(b.bestEncFPS, fps)
	return fps, nil
}

// pipelinePhase runs a fresh daemon (capture → preprocess → encode →
// event) on the shared encoder for warmup+n events and returns the rate of
// the last n.
func (b *benchRun) pipelinePhase(ctx context.Context, n int) (float64, error) {
	if b.autoPace {
		b.pace = b.bestEncFPS * 1.5
	}
	capCfg := b.cfg.Capture
	capCfg.FPS = b.pace
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	src, g, err := openCapture(ctx, capCfg, b.log)
	if err != nil {
		return 0, err
	}
	defer g.Close()
	var (
		seen     int
		lastEmit time.Time
		m        measure
		wall     time.Duration
		cpu      time.Duration
		allocs   uint64
	)
	d, err := daemon.New(daemon.Options{
		Frames: g, Encoder: b.enc, SourceName: src.Name(), SourceStats: g.Stats, Log: b.log,
		MaxFrames: uint64(b.warmup + n), EagerCapture: b.cfg.Pipeline.Capture == "eager",
		InlineCapture: b.cfg.Pipeline.Capture == "inline",
		OnEvent: func(e daemon.Event) {
			seen++
			switch {
			case seen == b.warmup+n:
				wall, cpu = b.stopMeasure(m)
				allocs = m.mallocs()
				fallthrough
			case seen > b.warmup:
				b.lat = append(b.lat, e.LatencyMs)
				b.encMs = append(b.encMs, e.EncodeMs)
				b.preMs = append(b.preMs, e.PreprocMs)
				// The time between two events less the second's encode
				// is what the encoder spent waiting (and reporting).
				if !lastEmit.IsZero() {
					b.idleMs = append(b.idleMs, ms(e.EmittedAt.Sub(lastEmit))-e.EncodeMs)
				}
			}
			if seen == b.warmup {
				m = startMeasure()
			}
			lastEmit = e.EmittedAt
		},
	})
	if err != nil {
		return 0, err
	}
	if b.warmup == 0 {
		m = startMeasure()
	}
	if err := d.Run(ctx); err != nil && !errors.Is(err, daemon.ErrStopped) {
		return 0, err
	}
	if seen < b.warmup+n {
		return 0, fmt.Errorf("pipeline produced %d of %d frames (source ended early?)", seen, b.warmup+n)
	}
	b.pipeFrames += n
	b.pipeTime += wall
	b.pipeCPU += cpu
	b.allocs += allocs
	b.dropped += g.Stats().Dropped
	return float64(n) / wall.Seconds(), nil
}

// measure is the start of a measured stretch: wall clock, this process's
// CPU time, the machine's CPU counters and Go's allocation count.
type measure struct {
	start   time.Time
	self    time.Duration
	machine cpuSample
	malloc  uint64
}

func startMeasure() measure {
	var mst runtime.MemStats
	runtime.ReadMemStats(&mst)
	return measure{start: time.Now(), self: selfCPU(), machine: readCPU(), malloc: mst.Mallocs}
}

// stopMeasure ends m, adds the machine's CPU use to the run's total and
// returns the wall and process CPU time.
func (b *benchRun) stopMeasure(m measure) (wall, cpu time.Duration) {
	wall = time.Since(m.start)
	cpu = selfCPU() - m.self
	end := readCPU()
	b.machine.busy += end.busy - m.machine.busy
	b.machine.total += end.total - m.machine.total
	b.self += cpu
	return wall, cpu
}

func (m measure) mallocs() uint64 {
	var mst runtime.MemStats
	runtime.ReadMemStats(&mst)
	return mst.Mallocs - m.malloc
}

// selfCPU is the user+system CPU time of this process, all threads
// (ONNX Runtime's included).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuSample is the machine's busy and total CPU time from /proc/stat's
// first line, in clock ticks converted to time (USER_HZ is 100 on Linux).
type cpuSample struct{ busy, total time.Duration }

func readCPU() cpuSample {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return cpuSample{}
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return cpuSample{}
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 5 || fields[0] != "cpu" {
		return cpuSample{}
	}
	var s cpuSample
	for i, v := range fields[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return cpuSample{}
		}
		if i >= 8 { // guest time is already counted in user
			break
		}
		t := time.Duration(n) * 10 * time.Millisecond
		s.total += t
		if i != 3 && i != 4 { // idle, iowait
			s.busy += t
		}
	}
	return s
}

// otherShare is the share of the machine's CPU time that was busy outside
// this process; 0 when /proc/stat is unreadable.
func (s cpuSample) otherShare(self time.Duration) float64 {
	if s.total <= 0 {
		return 0
	}
	return max(0, float64(s.busy-self)/float64(s.total))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// percentile uses the nearest-rank method on a copy of xs.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(p/100*float64(len(s))+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i]
}

func round(x float64, digits int) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', digits, 64), 64)
	return v
}

// peakRSS reads the process's high-water resident set size (VmHWM) from
// /proc; 0 where /proc is unavailable.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}
