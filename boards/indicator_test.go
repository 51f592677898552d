package boards

import (
	"bytes"
	"errors"
	"log"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/clipfleet/clipfleet/capture/capturetest"
)

const ms = time.Millisecond

func TestIndicatorPatterns(t *testing.T) {
	tests := []struct {
		signal    Signal
		activeLow bool
		// levels sampled every 100 ms from the start, as LED on/off
		want string
	}{
		{SignalOff, false, "...................."},
		{SignalTeach, false, "####################"},
		{SignalOK, false, "#...................#..."},
		{SignalThrottle, false, "#####.....#####....."},
		{SignalCritical, false, "#.#.#.#.#.#."},
		{SignalError, false, "#.#.......#.#......."},
		{SignalThrottle, true, "#####.....#####....."},
	}
	for _, tt := range tests {
		t.Run(tt.signal.String(), func(t *testing.T) {
			pin := &gpiotest.Pin{N: "LED", Num: 17}
			clk := capturetest.NewClock(time.Unix(0, 0))
			ind, err := NewIndicator(pin, tt.activeLow, clk)
			if err != nil {
				t.Fatal(err)
			}
			if err := ind.Show(tt.signal); err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			for range len(tt.want) {
				lit := pin.Read() == gpio.High
				if tt.activeLow {
					lit = !lit
				}
				if lit {
					got.WriteByte('#')
				} else {
					got.WriteByte('.')
				}
				clk.Advance(100 * ms)
			}
			if got.String() != tt.want {
				t.Fatalf("LED %s, want %s", got.String(), tt.want)
			}
			if err := ind.Close(); err != nil {
				t.Fatal(err)
			}
			if lit := (pin.Read() == gpio.High) != tt.activeLow; lit {
				t.Fatal("LED still lit after Close")
			}
			if p := clk.Pending(); len(p) != 0 {
				t.Fatalf("timers still armed after Close: %v", p)
			}
			if err := ind.Show(SignalOK); !errors.Is(err, ErrClosed) {
				t.Fatalf("Show after Close = %v, want ErrClosed", err)
			}
		})
	}
}

// LogPinIO records every call the indicator makes on the pin, which shows
// that switching patterns cancels the old one's pending step.
func TestIndicatorSwitchPatternLog(t *testing.T) {
	var buf bytes.Buffer
	flags, out := log.Flags(), log.Writer()
	log.SetFlags(0)
	log.SetOutput(&buf)
	t.Cleanup(func() { log.SetFlags(flags); log.SetOutput(out) })

	pin := &gpiotest.LogPinIO{PinIO: &gpiotest.Pin{N: "LED", Num: 17}}
	clk := capturetest.NewClock(time.Unix(0, 0))
	ind, err := NewIndicator(pin, false, clk)
	if err != nil {
		t.Fatal(err)
	}
	ind.Show(SignalThrottle) // on for 500 ms
	clk.Advance(300 * ms)
	ind.Show(SignalCritical) // restarts: on 100 ms, off 100 ms
	clk.Advance(250 * ms)    // the throttle step would have ended at 500 ms
	ind.Close()
	want := strings.Join([]string{
		"LED(17).Out(Low)", // NewIndicator: start off
		"LED(17).Out(High)", "LED(17).Out(High)", "LED(17).Out(Low)", "LED(17).Out(High)",
		"LED(17).Out(Low)", // Close
	}, "\n") + "\n"
	if buf.String() != want {
		t.Fatalf("pin calls:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// failPin fails every Out after fail is set.
type failPin struct {
	*gpiotest.Pin
	fail bool
}

func (p *failPin) Out(l gpio.Level) error {
	if p.fail {
		return errors.New("line busy")
	}
	return p.Pin.Out(l)
}

func TestIndicatorPinErrors(t *testing.T) {
	pin := &failPin{Pin: &gpiotest.Pin{N: "LED"}}
	clk := capturetest.NewClock(time.Unix(0, 0))
	ind, err := NewIndicator(pin, false, clk)
	if err != nil {
		t.Fatal(err)
	}
	if err := ind.Show(SignalCritical); err != nil {
		t.Fatal(err)
	}
	pin.fail = true
	clk.Advance(time.Second)
	// The blink failure surfaces at the next Play, which itself fails.
	if err := ind.Show(SignalOK); err == nil || !strings.Contains(err.Error(), "status LED LED") || !strings.Contains(err.Error(), "line busy") {
		t.Fatalf("Show = %v, want the pin error", err)
	}
	pin.fail = false
	if err := ind.Show(SignalOK); err != nil {
		t.Fatalf("Show after the pin recovered = %v", err)
	}
	pin.fail = true
	if _, err := NewIndicator(pin, false, clk); err == nil {
		t.Fatal("NewIndicator ignored a failing pin")
	}
}

func TestOpenIndicatorByName(t *testing.T) {
	_, err := OpenIndicator("GPIO17", false, nil)
	if !errors.Is(err, ErrNoPin) || !strings.Contains(err.Error(), `"GPIO17" (status LED)`) || !strings.Contains(err.Error(), "boards/host") {
		t.Fatalf("err = %v, want ErrNoPin naming GPIO17 and boards/host", err)
	}
	pin := &gpiotest.Pin{N: "TEST_LED_5", Num: 5}
	if err := gpioreg.Register(pin); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gpioreg.Unregister("TEST_LED_5") })
	ind, err := OpenIndicator("TEST_LED_5", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ind.Close()
	if err := ind.Show(SignalTeach); err != nil {
		t.Fatal(err)
	}
	if pin.Read() != gpio.Low {
		t.Fatal("active-low LED not driven low when lit")
	}
	_, err = OpenIndicator("GPIO99", false, nil)
	if !errors.Is(err, ErrNoPin) || !strings.Contains(err.Error(), "registered pins: TEST_LED_5") {
		t.Fatalf("err = %v, want the registered pins listed", err)
	}
}

func TestSignalFor(t *testing.T) {
	for s, want := range map[ThermalState]Signal{ThermalOK: SignalOK, ThermalThrottle: SignalThrottle, ThermalCritical: SignalCritical} {
		if got := SignalFor(s); got != want {
			t.Errorf("SignalFor(%s) = %s, want %s", s, got, want)
		}
	}
}
