package boards

import (
	"os"
	"runtime"
	"slices"
	"testing"
	"testing/fstest"
)

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"0", 1, true},
		{"0-3", 4, true},
		{"0-3,6,8-9\n", 7, true},
		{"", 0, true},
		{"3-1", 0, false},
		{"a-b", 0, false},
		{"-1", 0, false},
	}
	for _, tt := range tests {
		got, err := parseCPUList(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseCPUList(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestOnlineCPUsFallsBackToDirectories(t *testing.T) {
	m := fstest.MapFS{
		"sys/devices/system/cpu/cpu0/online":  file("1\n"),
		"sys/devices/system/cpu/cpu1/online":  file("1\n"),
		"sys/devices/system/cpu/cpu10/online": file("1\n"),
		"sys/devices/system/cpu/cpufreq/x":    file(""),
		"sys/devices/system/cpu/cpuidle/x":    file(""),
	}
	if n := onlineCPUs(m); n != 3 {
		t.Fatalf("onlineCPUs = %d, want 3 (cpu0, cpu1, cpu10; not cpufreq or cpuidle)", n)
	}
	m["sys/devices/system/cpu/online"] = file("0-5\n")
	if n := onlineCPUs(m); n != 6 {
		t.Fatalf("onlineCPUs = %d, want 6 from the online file", n)
	}
	if n := onlineCPUs(fstest.MapFS{}); n != 0 {
		t.Fatalf("onlineCPUs of nothing = %d", n)
	}
}

func TestThreadsFor(t *testing.T) {
	for cpus, want := range map[int]int{0: 0, 1: 1, 2: 2, 3: 2, 4: 3, 6: 5, 9: 8, 64: 8} {
		if got := threadsFor(cpus); got != want {
			t.Errorf("threadsFor(%d) = %d, want %d", cpus, got, want)
		}
	}
}

func TestTegraRelease(t *testing.T) {
	tests := map[string]string{
		"# R36 (release), REVISION: 3.0, GCID: 36923193, BOARD: generic, EABI: aarch64\n# KERNEL_VARIANT: oot\n": "L4T R36.3.0",
		"# R32 (release), REVISION: 7.1, GCID: 29818004, BOARD: t210ref\n":                                       "L4T R32.7.1",
		"# R35 (release)\n": "L4T R35",
		"garbage\n":         "",
	}
	for content, want := range tests {
		if got := tegraRelease(fstest.MapFS{pathTegraRelease: file(content)}); got != want {
			t.Errorf("tegraRelease(%q) = %q, want %q", content, got, want)
		}
	}
	if got := tegraRelease(fstest.MapFS{}); got != "" {
		t.Errorf("tegraRelease without the file = %q", got)
	}
}

func TestDeviceTreeStrings(t *testing.T) {
	m := fstest.MapFS{
		pathDTModel:      file("NVIDIA Jetson Nano Developer Kit\x00"),
		pathDTCompatible: file("nvidia,p3449-0000-b00+p3448-0002\x00nvidia,jetson-nano\x00nvidia,tegra210\x00"),
	}
	dt := readDeviceTree(m)
	if dt.model != "NVIDIA Jetson Nano Developer Kit" {
		t.Errorf("model %q kept its NUL", dt.model)
	}
	if !slices.Equal(dt.compatible, []string{"nvidia,p3449-0000-b00+p3448-0002", "nvidia,jetson-nano", "nvidia,tegra210"}) {
		t.Errorf("compatible %q", dt.compatible)
	}
	tests := []struct {
		want  []string
		match string
	}{
		{[]string{"nvidia,p3448-"}, "nvidia,p3449-0000-b00+p3448-0002"}, // module after '+'
		{[]string{"nvidia,p3448-0002"}, "nvidia,p3449-0000-b00+p3448-0002"},
		{[]string{"nvidia,tegra210"}, "nvidia,tegra210"},
		{[]string{"nvidia,p3448-0003"}, ""},
		{[]string{"nvidia,tegra"}, ""}, // no prefix match without a trailing '-'
	}
	for _, tt := range tests {
		got, ok := dt.firstCompatible(tt.want...)
		if got != tt.match || ok != (tt.match != "") {
			t.Errorf("firstCompatible(%q) = %q, %v; want %q", tt.want, got, ok, tt.match)
		}
	}
}

func TestUSBDevicesSkipsInterfaces(t *testing.T) {
	devs, err := usbDevices(fixture(t, "coral-usb-on-x86"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range devs {
		got = append(got, d.name+"="+d.vendor+":"+d.product)
	}
	want := []string{"1-4=8087:0aaa", "2-1=1a6e:089a", "usb1=1d6b:0002", "usb2=1d6b:0003"}
	if !slices.Equal(got, want) {
		t.Fatalf("usb devices %v, want %v", got, want)
	}
}

// On a Linux machine the real root must be recognised as its architecture's
// generic board at least (this is what the daemon does at start-up).
func TestDetectRealRoot(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the Linux root filesystem")
	}
	if _, err := os.Stat("/" + pathCPUModalias); err != nil {
		t.Skipf("no %s: %v", pathCPUModalias, err)
	}
	d, err := Detect(Config{}.FS())
	if err != nil {
		t.Fatal(err)
	}
	generic := map[string]string{"amd64": "generic-x86_64", "arm64": "generic-arm64"}[runtime.GOARCH]
	if generic == "" {
		t.Skipf("no generic board for GOARCH %s", runtime.GOARCH)
	}
	if c := candidate(t, d, generic); !c.Matched {
		t.Errorf("%s did not match this %s machine: %s", generic, runtime.GOARCH, c.Evidence)
	}
	t.Logf("this machine: %s on %s: %s", d.Board, d.Host, d.Evidence)
}
