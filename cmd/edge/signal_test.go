package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for the edge binary, so the signal
// test exercises main's real signal handling in a child process.
func TestMain(m *testing.M) {
	if args := os.Getenv("CLIPFLEET_TEST_EDGE_ARGS"); args != "" {
		var a []string
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			panic(err)
		}
		os.Args = append([]string{"edge"}, a...)
		main()
		return
	}
	os.Exit(m.Run())
}

func TestSIGTERMStopsGracefully(t *testing.T) {
	needORT(t)
	isolateState(t)
	args, _ := json.Marshal([]string{"run", "--listen", "127.0.0.1:0", "--set", "pipeline.events=none", "--set", "capture.fps=30"})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CLIPFLEET_TEST_EDGE_ARGS="+string(args))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	// Read the log until the debug API address appears, then keep draining.
	addrRE := regexp.MustCompile(`addr=(http://127\.0\.0\.1:\d+)`)
	lines := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var base string
	var logText strings.Builder
	deadline := time.After(60 * time.Second)
	for base == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("daemon exited before listening:\n%s", logText.String())
			}
			logText.WriteString(l + "\n")
			if m := addrRE.FindStringSubmatch(l); m != nil {
				base = m[1]
			}
		case <-deadline:
			t.Fatalf("no debug API address in the log:\n%s", logText.String())
		}
	}
	// Wait until frames flow (healthz turns 200), then signal.
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 300 {
			t.Fatalf("healthz never became 200 (last err %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for l := range lines {
			logText.WriteString(l + "\n")
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logText.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("daemon did not stop within 20 s of SIGTERM\n%s", logText.String())
	}
	if !strings.Contains(logText.String(), `reason=signal`) {
		t.Fatalf("log does not record a signal stop:\n%s", logText.String())
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("debug API still answering after shutdown")
	}
}
