package boards

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Paths inside a root filesystem, without the leading "/" that fs.FS
// forbids.
const (
	pathDTModel      = "proc/device-tree/model"
	pathDTCompatible = "proc/device-tree/compatible"
	pathTegraRelease = "etc/nv_tegra_release"
	pathCPUModalias  = "sys/devices/system/cpu/modalias"
	pathCPUOnline    = "sys/devices/system/cpu/online"
	pathCPUDir       = "sys/devices/system/cpu"
	pathCPUInfo      = "proc/cpuinfo"
	pathUSBDevices   = "sys/bus/usb/devices"
	pathThermal      = "sys/class/thermal"
)

// readTrim reads a small sysfs or procfs file and trims the newline the
// kernel appends and the NUL that device-tree strings end with.
func readTrim(fsys fs.FS, name string) (string, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\x00\n\r\t "), nil
}

// readDTStrings reads a device-tree string list property: NUL-separated
// strings, most specific first (e.g. "nvidia,p3767-0005\0nvidia,tegra234\0").
func readDTStrings(fsys fs.FS, name string) ([]string, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range bytes.Split(b, []byte{0}) {
		if t := strings.TrimSpace(string(s)); t != "" {
			out = append(out, t)
		}
	}
	return out, nil
}

// deviceTree is what the device tree says about the machine; a zero value
// means there is none (x86, or /proc not mounted).
type deviceTree struct {
	model      string
	compatible []string
	err        error // why compatible could not be read
}

func readDeviceTree(fsys fs.FS) deviceTree {
	var dt deviceTree
	dt.model, _ = readTrim(fsys, pathDTModel)
	dt.compatible, dt.err = readDTStrings(fsys, pathDTCompatible)
	return dt
}

// describe names the device tree for evidence strings.
func (dt deviceTree) describe() string {
	if dt.err != nil {
		if errors.Is(dt.err, fs.ErrNotExist) {
			return "no /" + pathDTCompatible
		}
		return fmt.Sprintf("/%s unreadable: %v", pathDTCompatible, dt.err)
	}
	s := fmt.Sprintf("device-tree compatible %q", strings.Join(dt.compatible, ", "))
	if dt.model != "" {
		s += fmt.Sprintf(" (model %q)", dt.model)
	}
	return s
}

// mismatch is the evidence for a board whose compatible strings (want)
// are not in the device tree.
func (dt deviceTree) mismatch(want ...string) string {
	if dt.err != nil {
		return dt.describe()
	}
	return dt.describe() + " matches none of " + strings.Join(want, ", ")
}

// firstCompatible returns the first compatible entry that matches one of
// want: exactly, or by prefix when the wanted string ends in "-" (a module
// family such as "nvidia,p3668-").
func (dt deviceTree) firstCompatible(want ...string) (string, bool) {
	for _, c := range dt.compatible {
		for _, part := range compatibleParts(c) {
			for _, w := range want {
				if part == w || (strings.HasSuffix(w, "-") && strings.HasPrefix(part, w)) {
					return c, true
				}
			}
		}
	}
	return "", false
}

// compatibleParts splits NVIDIA's carrier+module strings so the module can
// be matched on its own: "nvidia,p3449-0000-b00+p3448-0000" is both
// "nvidia,p3449-0000-b00" and "nvidia,p3448-0000".
func compatibleParts(c string) []string {
	vendor, rest, ok := strings.Cut(c, ",")
	if !ok || !strings.Contains(rest, "+") {
		return []string{c}
	}
	parts := strings.Split(rest, "+")
	for i := range parts {
		parts[i] = vendor + "," + parts[i]
	}
	return parts
}

// tegraRelease summarises /etc/nv_tegra_release ("# R36 (release),
// REVISION: 3.0, ...") as "L4T R36.3.0"; "" when absent or unrecognised.
func tegraRelease(fsys fs.FS) string {
	s, err := readTrim(fsys, pathTegraRelease)
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(s, "\n")
	line = strings.TrimSpace(strings.TrimPrefix(line, "#"))
	major, rest, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(major, "R") {
		return ""
	}
	_, rev, ok := strings.Cut(rest, "REVISION:")
	if !ok {
		return "L4T " + major
	}
	rev, _, _ = strings.Cut(strings.TrimSpace(rev), ",")
	return "L4T " + major + "." + strings.TrimSpace(rev)
}

// cpuArch returns the CPU architecture from the kernel's cpu modalias
// ("cpu:type:x86,ven...", "cpu:type:aarch64:feature:..."), falling back to
// /proc/cpuinfo, with the file it came from.
func cpuArch(fsys fs.FS) (arch, source string) {
	if s, err := readTrim(fsys, pathCPUModalias); err == nil && strings.HasPrefix(s, "cpu:type:") {
		t := strings.TrimPrefix(s, "cpu:type:")
		if i := strings.IndexAny(t, ",:"); i >= 0 {
			t = t[:i]
		}
		return normalizeArch(t), "/" + pathCPUModalias
	}
	s, err := readTrim(fsys, pathCPUInfo)
	if err != nil {
		return "", ""
	}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case k == "vendor_id" && (v == "GenuineIntel" || v == "AuthenticAMD" || v == "HygonGenuine"):
			return "x86_64", "/" + pathCPUInfo
		case k == "CPU architecture" && v == "8":
			return "aarch64", "/" + pathCPUInfo
		}
	}
	return "", ""
}

func normalizeArch(t string) string {
	switch t {
	case "x86", "x86_64", "amd64":
		return "x86_64"
	case "aarch64", "arm64":
		return "aarch64"
	}
	return t
}

// onlineCPUs counts the CPUs the kernel has online ("0-3,6" → 5), falling
// back to the cpuN directories; 0 when neither can be read.
func onlineCPUs(fsys fs.FS) int {
	if s, err := readTrim(fsys, pathCPUOnline); err == nil {
		if n, err := parseCPUList(s); err == nil && n > 0 {
			return n
		}
	}
	ents, err := fs.ReadDir(fsys, pathCPUDir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, "cpu") {
			if _, err := strconv.Atoi(name[3:]); err == nil {
				n++
			}
		}
	}
	return n
}

// parseCPUList counts the CPUs in a kernel cpu list such as "0-3,6,8-9".
func parseCPUList(s string) (int, error) {
	n := 0
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return 0, fmt.Errorf("bad cpu list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0, fmt.Errorf("bad cpu list %q", s)
			}
		}
		n += b - a + 1
	}
	return n, nil
}

// usbDevice is one device under /sys/bus/usb/devices.
type usbDevice struct {
	name             string // e.g. "2-1"
	vendor, product  string // lower-case hex, e.g. "1a6e", "089a"
	manufacturer, pn string // optional string descriptors
}

// usbDevices lists the USB devices (not interfaces, which have no
// idVendor) in name order.
func usbDevices(fsys fs.FS) ([]usbDevice, error) {
	matches, err := fs.Glob(fsys, pathUSBDevices+"/*/idVendor")
	if err != nil {
		return nil, err
	}
	sort.Strings(matches)
	var out []usbDevice
	for _, m := range matches {
		dir := path.Dir(m)
		v, err := readTrim(fsys, m)
		if err != nil {
			continue
		}
		p, err := readTrim(fsys, path.Join(dir, "idProduct"))
		if err != nil {
			continue
		}
		d := usbDevice{name: path.Base(dir), vendor: strings.ToLower(v), product: strings.ToLower(p)}
		d.manufacturer, _ = readTrim(fsys, path.Join(dir, "manufacturer"))
		d.pn, _ = readTrim(fsys, path.Join(dir, "product"))
		out = append(out, d)
	}
	return out, nil
}
