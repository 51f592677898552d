package boards

import (
	"errors"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/clipfleet/clipfleet/capture"
)

func TestDetectFixtures(t *testing.T) {
	tests := []struct {
		fixture     string
		board, host string
		evidence    []string // substrings
		backend     string
		threads     int
		camera      string
		soft, hard  float64
		led         string
	}{
		{"jetson-orin-nano", "jetson-orin-nano", "jetson-orin-nano",
			[]string{`"nvidia,p3768-0000+p3767-0005"`, "Orin Nano Developer Kit", "L4T R36.3.0"},
			"onnx", 5, capture.KindGStreamer, 85, 95, ""},
		{"jetson-xavier-nx", "jetson-xavier-nx", "jetson-xavier-nx",
			[]string{"p3668-0001", "L4T R35.5.0"}, "onnx", 5, capture.KindGStreamer, 85, 95, ""},
		{"jetson-nano", "jetson-nano", "jetson-nano",
			[]string{"p3448-0000", "Jetson Nano Developer Kit", "L4T R32.7.1"}, "onnx", 3, capture.KindGStreamer, 80, 90, ""},
		{"coral-dev-board", "coral-dev-board", "coral-dev-board",
			[]string{"fsl,imx8mq-phanbell", "Phanbell"}, "tflite", 3, capture.KindCamera, 80, 90, ""},
		{"coral-usb-on-x86", "coral-usb", "generic-x86_64",
			[]string{"USB device 2-1 is 1a6e:089a", "firmware is loaded", "on generic-x86_64", "CPU architecture x86_64"},
			"tflite", 7, capture.KindCamera, 85, 95, ""},
		{"raspberry-pi-5", "raspberry-pi-5", "raspberry-pi-5",
			[]string{"raspberrypi,5-model-b", "Raspberry Pi 5 Model B Rev 1.0"}, "onnx", 3, capture.KindCamera, 75, 82, "GPIO17"},
		{"generic-x86_64", "generic-x86_64", "generic-x86_64",
			[]string{"CPU architecture x86_64", "/sys/devices/system/cpu/modalias"}, "onnx", 3, capture.KindCamera, 85, 95, ""},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			d, err := Detect(fixture(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if d.Board != tt.board || d.Host != tt.host || d.Forced {
				t.Fatalf("detected %s on %s (forced %v), want %s on %s\nevidence: %s", d.Board, d.Host, d.Forced, tt.board, tt.host, d.Evidence)
			}
			for _, s := range tt.evidence {
				if !strings.Contains(d.Evidence, s) {
					t.Errorf("evidence %q lacks %q", d.Evidence, s)
				}
			}
			p := d.Profile
			if p.Defaults.Accel.Backend != tt.backend || p.Defaults.Accel.Threads != tt.threads {
				t.Errorf("accel defaults %+v, want backend %s with %d threads", p.Defaults.Accel, tt.backend, tt.threads)
			}
			if p.Defaults.Camera.Source != tt.camera {
				t.Errorf("camera %+v, want source %s", p.Defaults.Camera, tt.camera)
			}
			if p.Thermal.SoftC != tt.soft || p.Thermal.HardC != tt.hard {
				t.Errorf("thermal limits %g/%g, want %g/%g", p.Thermal.SoftC, p.Thermal.HardC, tt.soft, tt.hard)
			}
			if p.Pins.LED != tt.led {
				t.Errorf("LED pin %q, want %q", p.Pins.LED, tt.led)
			}
			// Every registered board answered, in detection order, and
			// each skipped board says why.
			if got := candidateNames(d); !slices.Equal(got, Names()) {
				t.Errorf("candidates %v, want %v", got, Names())
			}
			for _, c := range d.Skipped() {
				if c.Evidence == "" || (c.Matched && c.Note == "") {
					t.Errorf("skipped %+v gives no reason", c)
				}
			}
		})
	}
}

func candidateNames(d Detection) []string {
	var out []string
	for _, c := range d.Candidates {
		out = append(out, c.Board)
	}
	return out
}

func candidate(t *testing.T, d Detection, name string) Candidate {
	t.Helper()
	for _, c := range d.Candidates {
		if c.Board == name {
			return c
		}
	}
	t.Fatalf("no candidate %s in %+v", name, d.Candidates)
	return Candidate{}
}

// The fixture trees on disk must work through os.DirFS too, as in
// production, not just through the MapFS copies the other tests use.
func TestDetectFixtureOnDisk(t *testing.T) {
	d, err := Detect(fsFromDir(t, "jetson-nano"))
	if err != nil || d.Board != "jetson-nano" {
		t.Fatalf("Detect = %s, %v", d.Board, err)
	}
}

func fsFromDir(t *testing.T, name string) fs.FS {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return Config{Root: dir}.FS()
}

func TestDetectVariants(t *testing.T) {
	arm64 := "cpu:type:aarch64:feature:,0000,0001\n"
	tests := []struct {
		name        string
		fsys        func(t *testing.T) fs.FS
		board, host string
		check       func(t *testing.T, d Detection)
	}{
		{"raspberry pi 4 by compatible", func(t *testing.T) fs.FS {
			return fstest.MapFS{
				"proc/device-tree/model":          file("Raspberry Pi 4 Model B Rev 1.4\x00"),
				"proc/device-tree/compatible":     file("raspberrypi,4-model-b\x00brcm,bcm2711\x00"),
				"sys/devices/system/cpu/modalias": file(arm64),
			}
		}, "raspberry-pi-4", "raspberry-pi-4", nil},
		{"compute module 5 by SoC", func(t *testing.T) fs.FS {
			return fstest.MapFS{
				"proc/device-tree/model":      file("Raspberry Pi Compute Module 5 Rev 1.0\x00"),
				"proc/device-tree/compatible": file("raspberrypi,5-compute-module\x00brcm,bcm2712\x00"),
			}
		}, "raspberry-pi-5", "raspberry-pi-5", func(t *testing.T, d Detection) {
			// No CPU count in the tree: the board's nominal 4 CPUs.
			if d.Profile.CPUs != 4 || d.Profile.Defaults.Accel.Threads != 3 {
				t.Errorf("cpus %d threads %d, want the nominal 4 and 3", d.Profile.CPUs, d.Profile.Defaults.Accel.Threads)
			}
		}},
		{"generic arm64", func(t *testing.T) fs.FS {
			return fstest.MapFS{
				"proc/device-tree/model":          file("Radxa ROCK 5B\x00"),
				"proc/device-tree/compatible":     file("radxa,rock-5b\x00rockchip,rk3588\x00"),
				"sys/devices/system/cpu/modalias": file(arm64),
				"sys/devices/system/cpu/online":   file("0-7\n"),
			}
		}, "generic-arm64", "generic-arm64", func(t *testing.T, d Detection) {
			if d.Profile.CPUs != 8 || d.Profile.Defaults.Accel.Threads != 7 {
				t.Errorf("cpus %d threads %d, want 8 and 7", d.Profile.CPUs, d.Profile.Defaults.Accel.Threads)
			}
		}},
		{"x86 by cpuinfo alone", func(t *testing.T) fs.FS {
			return fstest.MapFS{"proc/cpuinfo": file("processor\t: 0\nvendor_id\t: AuthenticAMD\n")}
		}, "generic-x86_64", "generic-x86_64", func(t *testing.T, d Detection) {
			if !strings.Contains(d.Evidence, "/proc/cpuinfo") {
				t.Errorf("evidence %q does not name /proc/cpuinfo", d.Evidence)
			}
			// Generic boards cannot guess a CPU count.
			if d.Profile.CPUs != 0 || d.Profile.Defaults.Accel.Threads != 0 {
				t.Errorf("cpus %d threads %d, want 0 and 0", d.Profile.CPUs, d.Profile.Defaults.Accel.Threads)
			}
		}},
		{"coral usb with firmware loaded on a raspberry pi 5", func(t *testing.T) fs.FS {
			m := fixture(t, "raspberry-pi-5")
			m["sys/bus/usb/devices/2-1/idVendor"] = file("18d1\n")
			m["sys/bus/usb/devices/2-1/idProduct"] = file("9302\n")
			return m
		}, "coral-usb", "raspberry-pi-5", func(t *testing.T, d Detection) {
			p := d.Profile
			// The stick decides the accelerator; the Pi keeps its limits,
			// pins, camera and thread count.
			if p.Defaults.Accel.Backend != "tflite" || p.Defaults.Accel.Delegate != "edgetpu" || p.Defaults.Accel.Threads != 3 {
				t.Errorf("accel %+v, want tflite/edgetpu with the Pi's 3 threads", p.Defaults.Accel)
			}
			if p.Thermal.SoftC != 75 || p.Pins.Button != "GPIO27" || p.Defaults.Camera.Device != "/dev/video0" {
				t.Errorf("profile %+v lost the Pi's limits, pins or camera", p)
			}
			if !strings.Contains(d.Evidence, "18d1:9302 (Edge TPU, firmware loaded)") {
				t.Errorf("evidence %q", d.Evidence)
			}
		}},
		{"coral usb on a jetson keeps the GPU", func(t *testing.T) fs.FS {
			m := fixture(t, "jetson-orin-nano")
			m["sys/bus/usb/devices/1-2.1/idVendor"] = file("1a6e\n")
			m["sys/bus/usb/devices/1-2.1/idProduct"] = file("089a\n")
			return m
		}, "jetson-orin-nano", "jetson-orin-nano", func(t *testing.T, d Detection) {
			c := candidate(t, d, "coral-usb")
			if !c.Matched || c.Chosen || !strings.Contains(c.Note, "own accelerator") {
				t.Errorf("coral-usb candidate %+v, want matched but not chosen", c)
			}
			if d.Profile.Defaults.Accel.Providers[0] != "tensorrt" {
				t.Errorf("accel %+v, want the Jetson's", d.Profile.Defaults.Accel)
			}
		}},
		{"orin nx is not an orin nano", func(t *testing.T) fs.FS {
			m := fixture(t, "jetson-orin-nano")
			m["proc/device-tree/model"] = file("NVIDIA Jetson Orin NX Engineering Reference Developer Kit\x00")
			m["proc/device-tree/compatible"] = file("nvidia,p3768-0000+p3767-0000\x00nvidia,p3767-0000\x00nvidia,tegra234\x00")
			return m
		}, "generic-arm64", "generic-arm64", func(t *testing.T, d Detection) {
			c := candidate(t, d, "jetson-orin-nano")
			if c.Matched || !strings.Contains(c.Evidence, "p3767-0000") {
				t.Errorf("jetson-orin-nano candidate %+v", c)
			}
		}},
		{"jetson container without device tree", func(t *testing.T) fs.FS {
			m := fixture(t, "jetson-orin-nano")
			delete(m, "proc/device-tree/model")
			delete(m, "proc/device-tree/compatible")
			return m
		}, "generic-arm64", "generic-arm64", func(t *testing.T, d Detection) {
			c := candidate(t, d, "jetson-orin-nano")
			for _, s := range []string{"no /proc/device-tree/compatible", "L4T R36.3.0", "set board:"} {
				if !strings.Contains(c.Evidence, s) {
					t.Errorf("jetson-orin-nano evidence %q lacks %q", c.Evidence, s)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Detect(tt.fsys(t))
			if err != nil {
				t.Fatal(err)
			}
			if d.Board != tt.board || d.Host != tt.host {
				t.Fatalf("detected %s on %s, want %s on %s\n%s", d.Board, d.Host, tt.board, tt.host, d.Evidence)
			}
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
}

func TestDetectNothing(t *testing.T) {
	_, err := Detect(fstest.MapFS{"proc/cpuinfo": file("processor\t: 0\nisa\t: rv64imafdc\n")})
	if !errors.Is(err, ErrNotDetected) {
		t.Fatalf("err = %v, want ErrNotDetected", err)
	}
	for _, name := range Names() {
		if !strings.Contains(err.Error(), name+": ") {
			t.Errorf("error does not give %s's evidence: %v", name, err)
		}
	}
}

// fakeBoard is a Board whose answer is fixed.
type fakeBoard struct {
	name  string
	rank  int
	match bool
	soft  float64
}

func (f fakeBoard) Name() string { return f.name }
func (f fakeBoard) Rank() int    { return f.rank }
func (f fakeBoard) Detect(fs.FS) (bool, string) {
	if f.match {
		return true, f.name + " evidence"
	}
	return false, "not " + f.name
}
func (f fakeBoard) Profile(fs.FS) Profile {
	return Profile{Thermal: ThermalLimits{SoftC: f.soft, HardC: f.soft + 10}}
}

func TestDetectOrderAndTies(t *testing.T) {
	tests := []struct {
		name   string
		boards []Board
		want   string
		note   map[string]string // candidate → substring of its note
	}{
		{"rank wins over name", []Board{
			fakeBoard{name: "a-low", rank: RankGeneric, match: true},
			fakeBoard{name: "z-high", rank: RankSBC, match: true},
		}, "z-high", map[string]string{"a-low": "ranks higher (30 > 10)"}},
		{"equal rank: first name wins whatever the registration order", []Board{
			fakeBoard{name: "zeta", rank: RankSBC, match: true},
			fakeBoard{name: "alpha", rank: RankSBC, match: true},
		}, "alpha", map[string]string{"zeta": "sorts first among boards of rank 30"}},
		{"non-matching higher rank is skipped", []Board{
			fakeBoard{name: "big", rank: RankAccelerated},
			fakeBoard{name: "small", rank: RankGeneric, match: true},
		}, "small", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := slices.Clone(tt.boards)
			sortBoards(bs)
			d, err := detect(fstest.MapFS{}, bs, "")
			if err != nil {
				t.Fatal(err)
			}
			if d.Board != tt.want {
				t.Fatalf("chose %s, want %s", d.Board, tt.want)
			}
			for name, want := range tt.note {
				if c := candidate(t, d, name); !strings.Contains(c.Note, want) {
					t.Errorf("%s note %q lacks %q", name, c.Note, want)
				}
			}
		})
	}
}

func TestResolveLogs(t *testing.T) {
	log, buf := newTestLogger(slog.LevelDebug)
	cfg := DefaultConfig()
	cfg.Root = absFixture(t, "coral-usb-on-x86")
	d, err := Resolve(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`msg="boards: board detected" board=coral-usb host=generic-x86_64`,
		`evidence="USB device 2-1 is 1a6e:089a`,
		`skipped="[coral-dev-board jetson-nano jetson-orin-nano jetson-xavier-nx raspberry-pi-4 raspberry-pi-5 generic-arm64]"`,
		`msg="boards: board skipped" board=jetson-nano reason="no /proc/device-tree/compatible"`,
		`msg="boards: board skipped" board=generic-arm64 reason="CPU architecture is x86_64`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s\n%s", want, out)
		}
	}
	if len(d.Skipped()) != len(Names())-2 {
		t.Errorf("skipped %d boards, want all but coral-usb and its host", len(d.Skipped()))
	}
}

func absFixture(t *testing.T, name string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestResolveForced(t *testing.T) {
	t.Run("board that does not match", func(t *testing.T) {
		log, buf := newTestLogger(slog.LevelInfo)
		cfg := DefaultConfig()
		cfg.Root, cfg.Board = absFixture(t, "generic-x86_64"), "jetson-nano"
		d, err := Resolve(cfg, log)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Forced || d.Board != "jetson-nano" || d.Profile.Thermal.HardC != 90 {
			t.Fatalf("detection %+v", d)
		}
		if !strings.Contains(d.Evidence, "set by config (board: jetson-nano); detection disagrees") {
			t.Errorf("evidence %q", d.Evidence)
		}
		if c := candidate(t, d, "generic-x86_64"); c.Chosen || !strings.Contains(c.Note, "config sets board: jetson-nano") {
			t.Errorf("generic-x86_64 candidate %+v", c)
		}
		if !strings.Contains(buf.String(), `level=WARN msg="boards: the configured board does not match this system" board=jetson-nano`) {
			t.Errorf("no mismatch warning:\n%s", buf.String())
		}
	})
	t.Run("accessory lies on the detected host", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Root, cfg.Board = absFixture(t, "raspberry-pi-5"), "coral-usb"
		d, err := Resolve(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d.Board != "coral-usb" || d.Host != "raspberry-pi-5" || d.Profile.Defaults.Accel.Delegate != "edgetpu" || d.Profile.Pins.LED != "GPIO17" {
			t.Fatalf("detection %+v", d)
		}
	})
	t.Run("accessory without a host", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Root, cfg.Board = t.TempDir(), "coral-usb"
		if _, err := Resolve(cfg, nil); !errors.Is(err, ErrNotDetected) {
			t.Fatalf("err = %v, want ErrNotDetected", err)
		}
	})
}

func TestResolveRootErrors(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Root = filepath.Join(t.TempDir(), "missing")
	if _, err := Resolve(cfg, nil); err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("err = %v, want a not-exist error naming the root", err)
	}
	cfg.Root = absFixture(t, "jetson-nano/etc/nv_tegra_release")
	if _, err := Resolve(cfg, nil); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("err = %v, want not a directory", err)
	}
}

func TestResolveAppliesConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Root = absFixture(t, "raspberry-pi-5")
	cfg.Thermal.SoftC = 70
	cfg.Thermal.Watch = []string{"rp1_adc"}
	cfg.GPIO.LED = "GPIO5"
	cfg.GPIO.Button = PinNone
	d, err := Resolve(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	th := d.Profile.Thermal
	if th.SoftC != 70 || th.HardC != 82 || th.HysteresisC != DefaultHysteresisC || !slices.Equal(th.Watch, []string{"rp1_adc"}) {
		t.Errorf("thermal %+v: want soft from config, hard and hysteresis from the board", th)
	}
	if d.Profile.Pins != (Pins{LED: "GPIO5"}) {
		t.Errorf("pins %+v, want LED GPIO5 and no button", d.Profile.Pins)
	}

	// A soft limit above the board's hard one is only wrong once mixed.
	cfg.Thermal = ThermalConfig{SoftC: 90}
	if _, err := Resolve(cfg, nil); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "hard limit 82") {
		t.Fatalf("err = %v, want the mixed limits rejected", err)
	}
	cfg.Thermal = ThermalConfig{}
	cfg.GPIO = GPIOConfig{Button: "GPIO17"} // the Pi's default LED pin
	if _, err := Resolve(cfg, nil); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), `"GPIO17"`) {
		t.Fatalf("err = %v, want the shared pin rejected", err)
	}
}
