package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/boards"
	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/capture/capturetest"
	"github.com/clipfleet/clipfleet/daemon"
	"github.com/clipfleet/clipfleet/internal/yamlstrict"
)

func printConfig(t *testing.T, environ []string, args ...string) daemon.Config {
	t.Helper()
	code, stdout, stderr := runEdge(t, environ, append([]string{"run", "--print-config"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// Strictly decoded into an empty config: the printout names every
	// key as a config file does, and nothing else.
	var cfg daemon.Config
	if err := yamlstrict.Decode([]byte(stdout), &cfg); err != nil {
		t.Fatalf("--print-config output is not a valid config: %v\n%s", err, stdout)
	}
	return cfg
}

func yamlString(t *testing.T, c daemon.Config) string {
	t.Helper()
	var b strings.Builder
	if err := writeConfigYAML(&b, c); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func providerNames(c accel.Config) []string {
	var out []string
	for _, p := range c.ONNX.Providers {
		out = append(out, p.Name)
	}
	return out
}

func TestBoardDefaultsLayering(t *testing.T) {
	def := daemon.DefaultConfig()
	jetson := "boards.root=" + boardFixture(t, "jetson-orin-nano")
	file := filepath.Join(t.TempDir(), "edge.yaml")
	if err := os.WriteFile(file, []byte("boards:\n  root: "+boardFixture(t, "jetson-orin-nano")+"\ncapture:\n  fps: 12\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		environ []string
		args    []string
		check   func(t *testing.T, c daemon.Config)
	}{
		{"jetson board defaults", nil, []string{"--set", jetson}, func(t *testing.T, c daemon.Config) {
			if got := providerNames(c.Accel); !reflect.DeepEqual(got, []string{"tensorrt", "cuda", "cpu"}) {
				t.Fatalf("providers %v", got)
			}
			if c.Capture.Source != capture.KindGStreamer || !strings.Contains(c.Capture.Pipeline, "nvarguscamerasrc") {
				t.Fatalf("capture %q %q, want the board's gstreamer CSI pipeline", c.Capture.Source, c.Capture.Pipeline)
			}
			// Keys the board has no say in keep the daemon's defaults.
			if c.Accel.ModelDir != def.Accel.ModelDir || c.Pipeline != def.Pipeline {
				t.Fatalf("board touched other keys: model %q pipeline %+v", c.Accel.ModelDir, c.Pipeline)
			}
		}},
		{"user --set beats the board", nil, []string{"--set", jetson, "--set", "capture.source=world", "--set", "accel.onnx.intra_op_threads=1"},
			func(t *testing.T, c daemon.Config) {
				if c.Capture.Source != capture.KindWorld || c.Accel.ONNX.IntraOpThreads != 1 {
					t.Fatalf("source %q threads %d, want the user's world and 1", c.Capture.Source, c.Accel.ONNX.IntraOpThreads)
				}
				if got := providerNames(c.Accel); got[0] != "tensorrt" {
					t.Fatalf("providers %v: an unrelated --set dropped the board's", got)
				}
			}},
		{"boards section from the file, user keys from the file win", nil, []string{"--config", file}, func(t *testing.T, c daemon.Config) {
			if c.Capture.Source != capture.KindGStreamer || c.Capture.FPS != 12 {
				t.Fatalf("source %q fps %g, want gstreamer at the file's 12", c.Capture.Source, c.Capture.FPS)
			}
		}},
		{"boards section from env", []string{"EDGE_BOARDS_ROOT=" + boardFixture(t, "jetson-orin-nano")}, nil, func(t *testing.T, c daemon.Config) {
			if c.Capture.Source != capture.KindGStreamer {
				t.Fatalf("source %q", c.Capture.Source)
			}
		}},
		{"generic board leaves defaults", nil, []string{"--set", "boards.root=" + boardFixture(t, "generic-x86_64")}, func(t *testing.T, c daemon.Config) {
			c.Boards.Root = def.Boards.Root
			// Compared as printed: YAML does not tell a nil map or slice
			// from an empty one.
			if got, want := yamlString(t, c), yamlString(t, def); got != want {
				t.Fatalf("generic board changed the config:\n%+v\nwant\n%+v", c, def)
			}
		}},
		{"accessory on a generic host: accel only", nil, []string{"--set", "boards.root=" + boardFixture(t, "coral-usb-on-x86")}, func(t *testing.T, c daemon.Config) {
			if c.Accel.Backend != "tflite" || c.Accel.TFLite.Delegate != "edgetpu" {
				t.Fatalf("accel %q/%q, want the Coral stick's tflite/edgetpu", c.Accel.Backend, c.Accel.TFLite.Delegate)
			}
			if !reflect.DeepEqual(c.Capture, def.Capture) {
				t.Fatalf("the generic host's camera replaced the default: %+v", c.Capture)
			}
		}},
		{"generic board named explicitly applies its camera", nil, []string{"--set", "boards.root=" + boardFixture(t, "generic-x86_64"), "--set", "boards.board=generic-x86_64"},
			func(t *testing.T, c daemon.Config) {
				if c.Capture.Source != capture.KindCamera || c.Capture.Device != "/dev/video0" {
					t.Fatalf("capture %q %q", c.Capture.Source, c.Capture.Device)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, printConfig(t, tc.environ, tc.args...)) })
	}
}

func TestBoardConfigErrors(t *testing.T) {
	for _, tc := range []struct{ set, want string }{
		{"boards.board=no-such-board", "unknown board"},
		{"boards.root=/nonexistent/clipfleet", "boards: root"},
		{"boards.thermal.interval=1ms", "boards.thermal.interval"},
	} {
		code, _, stderr := runEdge(t, nil, "run", "--print-config", "--set", tc.set)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Fatalf("--set %s: exit %d, stderr %q; want exit 2 mentioning %q", tc.set, code, stderr, tc.want)
		}
	}
}

// copyFixture copies a board fixture so the test can change its sensors.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dir, os.DirFS(boardFixture(t, name))); err != nil {
		t.Fatal(err)
	}
	return dir
}

func setTemp(t *testing.T, root string, milliC string, zones ...string) {
	t.Helper()
	for _, z := range zones {
		p := filepath.Join(root, "sys/class/thermal", z, "temp")
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(milliC+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var registerLED sync.Once

func TestBoardThermalThrottleAndLED(t *testing.T) {
	const ledName = "CLIPFLEET_TEST_LED"
	led := &gpiotest.Pin{N: ledName, Num: 9001}
	registerLED.Do(func() {
		if err := gpioreg.Register(led); err != nil {
			t.Fatal(err)
		}
	})
	root := copyFixture(t, "jetson-orin-nano")
	cfg := daemon.DefaultConfig()
	cfg.Boards.Root = root
	cfg.Boards.GPIO.LED = ledName
	det, err := boards.Resolve(cfg.Boards, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuf
	log := newLogger(&logs, daemon.LogConfig{Level: "debug", Format: "text"})
	clk := capturetest.NewClock(time.Unix(1000, 0))
	th := daemon.NewThrottle(nil, time.Second/30, clk)
	b := startBoard(context.Background(), cfg, det, th, clk, log)
	defer b.stop()

	hot := []string{"thermal_zone0", "thermal_zone8"} // cpu-thermal, tj-thermal
	interval := cfg.Boards.Thermal.Interval
	steps := []struct {
		milliC string
		state  boards.ThermalState
		signal boards.Signal
	}{
		{"", boards.ThermalOK, boards.SignalOK},
		{"90000", boards.ThermalThrottle, boards.SignalThrottle},
		{"96000", boards.ThermalCritical, boards.SignalCritical},
		{"50000", boards.ThermalOK, boards.SignalOK},
	}
	for _, s := range steps {
		if s.milliC != "" {
			setTemp(t, root, s.milliC, hot...)
			clk.Advance(interval)
		}
		// The LED's blink timer and the monitor's next check: both armed
		// means the monitor has handled this reading.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := clk.WaitPending(ctx, 2)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		b.mu.Lock()
		shown := b.shown
		b.mu.Unlock()
		wantFactor := map[boards.ThermalState]float64{boards.ThermalOK: 1, boards.ThermalCritical: 0.1}[s.state]
		if f := th.Stats().Factor; shown != s.signal || (wantFactor != 0 && f != wantFactor) || (s.state == boards.ThermalThrottle && (f >= 1 || f <= 0.1)) {
			t.Fatalf("at %s m°C: LED %v factor %g, want %v and the %v factor", s.milliC, shown, f, s.signal, s.state)
		}
	}
	for _, want := range []string{"thermal monitor started", "thermal state rising", "to=critical", "thermal state falling"} {
		if !strings.Contains(logs.String(), want) {
			t.Fatalf("log lacks %q:\n%s", want, logs.String())
		}
	}
	b.stop()
	if led.L {
		t.Fatal("LED left on after stop")
	}
}

func TestBoardWithoutSensorsOrLED(t *testing.T) {
	root := copyFixture(t, "generic-x86_64")
	if err := os.RemoveAll(filepath.Join(root, "sys/class/thermal")); err != nil {
		t.Fatal(err)
	}
	cfg := daemon.DefaultConfig()
	cfg.Boards.Root = root
	cfg.Boards.GPIO.LED = "CLIPFLEET_NO_SUCH_PIN"
	det, err := boards.Resolve(cfg.Boards, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuf
	th := daemon.NewThrottle(nil, 0, nil)
	b := startBoard(context.Background(), cfg, det, th, nil, newLogger(&logs, daemon.LogConfig{Level: "info", Format: "text"}))
	b.stop()
	out := logs.String()
	if !strings.Contains(out, "thermal monitor off") || !strings.Contains(out, "CLIPFLEET_NO_SUCH_PIN") || !strings.Contains(out, "level=WARN") {
		t.Fatalf("want an info line about the missing sensors and a warning naming the pin:\n%s", out)
	}
	if th.Stats().Factor != 1 {
		t.Fatalf("factor %g without sensors", th.Stats().Factor)
	}
}
