package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/boards"
	"github.com/clipfleet/clipfleet/internal/testutil"
)

func boardFixture(t *testing.T, name string) string {
	return testutil.RepoPath(t, "boards", "testdata", name)
}

func TestBoardText(t *testing.T) {
	code, stdout, stderr := runEdge(t, nil, "board", "--root", boardFixture(t, "jetson-orin-nano"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"board     jetson-orin-nano\n",
		`device-tree compatible "nvidia,p3768-0000+p3767-0005"`,
		"L4T R36.3.0",
		"cpus      6",
		"backend onnx, providers tensorrt > cuda > cpu, tensorrt fp16, 5 threads",
		`gstreamer "nvarguscamerasrc sensor-id=0 ! `,
		"soft 85 °C, hard 95 °C, hysteresis 3 °C",
		"ok: hottest 48.5 °C at thermal_zone0 (cpu-thermal), frame factor 1.00",
		"thermal_zone2  cv0-thermal",
		"-256 °C is outside [-40, 150] (sensor off or absent?) (not watched)",
		"led none, button none",
		"generic-arm64     rank 10   matched  matched, but jetson-orin-nano ranks higher (100 > 10)",
		"raspberry-pi-5    rank 30   no       device-tree compatible",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(stdout)
	}
	if stderr != "" {
		t.Errorf("stderr without -v: %s", stderr)
	}
}

func TestBoardJSON(t *testing.T) {
	code, stdout, stderr := runEdge(t, nil, "board", "--json", "--root", boardFixture(t, "coral-usb-on-x86"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var r boardReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if r.Board != "coral-usb" || r.Host != "generic-x86_64" || r.Forced {
		t.Fatalf("board %s on %s forced %v", r.Board, r.Host, r.Forced)
	}
	if a := r.Profile.Defaults.Accel; a.Backend != "tflite" || a.Delegate != "edgetpu" || a.Threads != 7 {
		t.Errorf("accel defaults %+v", a)
	}
	if r.Thermal == nil || r.Thermal.State != boards.ThermalOK || r.Thermal.MaxC != 52 || len(r.Thermal.Readings) != 4 {
		t.Fatalf("thermal %+v", r.Thermal)
	}
	// INT3400 is ignored on x86: read, shown, not watched.
	if rd := r.Thermal.Readings[1]; rd.Type != "INT3400 Thermal" || rd.Watched || rd.TempC != 20 {
		t.Errorf("reading %+v", rd)
	}
	if r.GPIO.Checked {
		t.Error("pins checked against this machine although --root is a fixture")
	}
	if len(r.Candidates) != len(boards.Names()) {
		t.Errorf("%d candidates, want %d", len(r.Candidates), len(boards.Names()))
	}
	// The state is spelt out, not a number.
	if !strings.Contains(stdout, `"state": "ok"`) {
		t.Errorf("state not named in JSON:\n%s", stdout)
	}
}

func TestBoardForcedAndVerbose(t *testing.T) {
	code, stdout, stderr := runEdge(t, nil, "board", "-v", "--board", "raspberry-pi-4", "--root", boardFixture(t, "raspberry-pi-5"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "board     raspberry-pi-4 (set by --board)") || !strings.Contains(stdout, "detection disagrees") {
		t.Errorf("stdout:\n%s", stdout)
	}
	for _, want := range []string{`msg="boards: board set by config" board=raspberry-pi-4`, `level=WARN msg="boards: the configured board does not match this system"`, `msg="boards: board skipped" board=raspberry-pi-5`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %s:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "led GPIO17 (not checked: --root is not this machine), button GPIO27 (not checked") {
		t.Errorf("pins line:\n%s", stdout)
	}
}

// This machine: detection must succeed, and the Pi-style pin check must
// say plainly that no such pin exists here.
func TestBoardThisMachine(t *testing.T) {
	code, stdout, stderr := runEdge(t, nil, "board", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var r boardReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if r.Board == "" || r.Evidence == "" || !r.GPIO.Checked || r.Thermal == nil {
		t.Fatalf("report %+v", r)
	}
}

func TestBoardErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--board", "raspberry-pi-9"}, 2, `unknown board "raspberry-pi-9"`},
		{[]string{"--root", "/nonexistent/fixture"}, 1, "/nonexistent/fixture"},
		{[]string{"extra"}, 2, `unexpected argument "extra"`},
		{[]string{"--nope"}, 2, "flag provided but not defined"},
		{[]string{"-h"}, 0, "usage: edge board"},
	}
	for _, tt := range tests {
		code, _, stderr := runEdge(t, nil, append([]string{"board"}, tt.args...)...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("edge board %v: exit %d, stderr %q; want exit %d mentioning %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
	// A root with nothing in it: every board says why not.
	code, _, stderr := runEdge(t, nil, "board", "--root", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "no board matches") || !strings.Contains(stderr, "generic-x86_64: CPU architecture unknown") {
		t.Errorf("empty root: exit %d\n%s", code, stderr)
	}
}
