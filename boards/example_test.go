package boards_test

import (
	"fmt"
	"log/slog"
	"os"
	"testing/fstest"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/boards"
	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/capture/capturetest"
)

// Detect reads the root filesystem; here a fixture tree of a Jetson Orin
// Nano developer kit.
func ExampleDetect() {
	d, err := boards.Detect(os.DirFS("testdata/jetson-orin-nano"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Board)
	fmt.Println(d.Evidence)
	a := d.Profile.Defaults.Accel
	fmt.Println(a.Backend, a.Providers, "fp16:", a.FP16, "threads:", a.Threads)
	// Output:
	// jetson-orin-nano
	// device-tree compatible "nvidia,p3768-0000+p3767-0005" (model "NVIDIA Jetson Orin Nano Developer Kit"); L4T R36.3.0
	// onnx [tensorrt cuda cpu] fp16: true threads: 5
}

// A Coral USB stick on a PC: the stick decides the accelerator, the PC the
// rest.
func ExampleDetect_accessory() {
	d, _ := boards.Detect(os.DirFS("testdata/coral-usb-on-x86"))
	fmt.Println(d.Board, "on", d.Host)
	fmt.Println(d.Profile.Defaults.Accel.Backend, d.Profile.Defaults.Accel.Delegate, d.Profile.Thermal.HardC)
	// Output:
	// coral-usb on generic-x86_64
	// tflite edgetpu 95
}

// Board defaults go under the user's settings: apply them to the default
// config, then decode the user's file over it.
func ExampleDefaults_ApplyAccel() {
	d, _ := boards.Detect(os.DirFS("testdata/raspberry-pi-5"))
	cfg := accel.DefaultConfig()
	d.Profile.Defaults.ApplyAccel(&cfg)
	cc := capture.DefaultConfig()
	d.Profile.Defaults.ApplyCapture(&cc)
	fmt.Println(cfg.Backend, cfg.ONNX.IntraOpThreads, cfg.TFLite.Delegate, cc.Source, cc.Device)
	// Output: onnx 3 xnnpack camera /dev/video0
}

func ExampleThermal_Check() {
	fsys := fstest.MapFS{
		"sys/class/thermal/thermal_zone0/type": {Data: []byte("cpu-thermal\n")},
		"sys/class/thermal/thermal_zone0/temp": {Data: []byte("78500\n")},
	}
	th := boards.NewThermal(fsys, boards.ThermalLimits{SoftC: 75, HardC: 82}, nil, nil)
	st, err := th.Check()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s at %.1f °C (%s): run at %.0f%% of the frame rate\n", st.State, st.MaxC, st.Hottest, 100*st.FrameFactor)
	// Output: throttle at 78.5 °C (thermal_zone0 (cpu-thermal)): run at 50% of the frame rate
}

// An Indicator blinks a pin by signal; periph's gpiotest pin stands in for
// the LED and a fake clock for time.
func ExampleIndicator() {
	led := &gpiotest.Pin{N: "GPIO17", Num: 17}
	clk := capturetest.NewClock(time.Unix(0, 0))
	ind, _ := boards.NewIndicator(led, false, clk)
	defer ind.Close()
	ind.Show(boards.SignalThrottle) // 1 Hz blink
	for range 4 {
		fmt.Print(led.Read() == gpio.High, " ")
		clk.Advance(500 * time.Millisecond)
	}
	fmt.Println()
	// Output: true false true false
}

// Without periph's host drivers (boards/host) no pin exists.
func ExampleOpenButton() {
	_, err := boards.OpenButton("GPIO27", false, boards.DefaultDebounce, nil)
	fmt.Println(err != nil)
	// Output: true
}

// Resolve is the daemon's entry point: detect under cfg.Root, apply the
// config's overrides, log the outcome.
func ExampleResolve() {
	cfg := boards.DefaultConfig()
	cfg.Root = "testdata/jetson-nano"
	cfg.Thermal.SoftC = 75
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "evidence" {
				return slog.Attr{}
			}
			return a
		},
	}))
	d, err := boards.Resolve(cfg, log)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Profile.Thermal.SoftC, d.Profile.Thermal.HardC)
	// Output:
	// level=INFO msg="boards: board detected" board=jetson-nano host=jetson-nano skipped="[coral-dev-board jetson-orin-nano jetson-xavier-nx coral-usb raspberry-pi-4 raspberry-pi-5 generic-arm64 generic-x86_64]"
	// 75 90
}
