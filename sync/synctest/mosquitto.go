package synctest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/internal/testutil"
)

// MosquittoPath is Debian's broker binary.
const MosquittoPath = "/usr/sbin/mosquitto"

// MosquittoOptions shape the generated mosquitto.conf.
type MosquittoOptions struct {
	// Users maps usernames to passwords; non-empty turns off anonymous
	// access and writes a hashed password file with mosquitto_passwd.
	Users map[string]string
	// ACL is the content of an acl_file (e.g. "pattern write x/%u/delta").
	ACL string
	// Persistence keeps sessions and retained messages in a directory
	// across a graceful Restart (Mosquitto saves on SIGTERM; a Kill loses
	// what was not autosaved).
	Persistence bool
	// TLS makes the listener TLS-only (certificates in PEM files).
	TLS *MosquittoTLS
	// Extra lines appended to the configuration.
	Extra []string
}

// MosquittoTLS configures the listener's TLS.
type MosquittoTLS struct {
	CAFile, CertFile, KeyFile string
	// RequireCertificate makes clients authenticate with a certificate
	// signed by CAFile (mutual TLS); UseIdentityAsUsername then makes its
	// CN the username that password checks and ACL %u patterns see.
	RequireCertificate, UseIdentityAsUsername bool
}

// Mosquitto is a broker process owned by a test.
type Mosquitto struct {
	t    testing.TB
	dir  string
	conf string
	port int

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan error // receives once the current process has exited

	logMu sync.Mutex
	log   bytes.Buffer
}

// StartMosquitto starts /usr/sbin/mosquitto on a free 127.0.0.1 port
// (testutil.Missing if it is not installed) and stops it when the test
// ends, printing its log if the test failed.
func StartMosquitto(t testing.TB, o MosquittoOptions) *Mosquitto {
	t.Helper()
	if _, err := os.Stat(MosquittoPath); err != nil {
		testutil.Missing(t, "%s (apt install mosquitto): %v", MosquittoPath, err)
	}
	m := &Mosquitto{t: t, dir: t.TempDir(), port: freePort(t)}
	m.conf = filepath.Join(m.dir, "mosquitto.conf")
	lines := []string{
		// As root, Mosquitto would switch to the "mosquitto" user, which
		// cannot read the test's private temp directory.
		"user root",
		fmt.Sprintf("listener %d 127.0.0.1", m.port),
	}
	if tc := o.TLS; tc != nil {
		lines = append(lines, "cafile "+tc.CAFile, "certfile "+tc.CertFile, "keyfile "+tc.KeyFile,
			fmt.Sprintf("require_certificate %v", tc.RequireCertificate),
			fmt.Sprintf("use_identity_as_username %v", tc.UseIdentityAsUsername))
	}
	lines = append(lines,
		"log_dest stderr",
		"log_type error", "log_type warning", "log_type notice", "log_type information",
		"connection_messages true",
		"log_timestamp_format %H:%M:%S",
		// Queue generously for offline persistent sessions.
		"max_queued_messages 10000",
	)
	if len(o.Users) > 0 {
		pw := filepath.Join(m.dir, "passwd")
		first := true
		for u, p := range o.Users {
			args := []string{"-b", pw, u, p}
			if first {
				args = append([]string{"-c"}, args...)
				first = false
			}
			if out, err := exec.Command("mosquitto_passwd", args...).CombinedOutput(); err != nil {
				testutil.Missing(t, "mosquitto_passwd: %v\n%s", err, out)
			}
		}
		lines = append(lines, "allow_anonymous false", "password_file "+pw)
	} else {
		lines = append(lines, "allow_anonymous true")
	}
	if o.ACL != "" {
		acl := filepath.Join(m.dir, "acl")
		if err := os.WriteFile(acl, []byte(o.ACL), 0o600); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, "acl_file "+acl)
	}
	if o.Persistence {
		lines = append(lines, "persistence true", "persistence_location "+m.dir+"/", "autosave_interval 1")
	} else {
		lines = append(lines, "persistence false")
	}
	lines = append(lines, o.Extra...)
	if err := os.WriteFile(m.conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m.start()
	t.Cleanup(func() {
		m.Stop()
		if t.Failed() {
			t.Logf("mosquitto log:\n%s", m.Log())
		}
	})
	return m
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (m *Mosquitto) start() {
	m.t.Helper()
	var lastErr error
	// The port of a killed broker can take a moment to be free again.
	for attempt := 0; attempt < 50; attempt++ {
		cmd := exec.Command(MosquittoPath, "-c", m.conf)
		cmd.Stderr = logWriter{m}
		cmd.Stdout = cmd.Stderr
		if err := cmd.Start(); err != nil {
			m.t.Fatalf("start mosquitto: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if lastErr = waitListening(m.Addr(), exited, 5*time.Second); lastErr == nil {
			m.mu.Lock()
			m.cmd, m.exited = cmd, exited
			m.mu.Unlock()
			return
		}
		_ = cmd.Process.Kill()
		<-exited
		time.Sleep(100 * time.Millisecond)
	}
	m.t.Fatalf("mosquitto did not start: %v\n%s", lastErr, m.Log())
}

func waitListening(addr string, exited <-chan error, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("exited: %v", err)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("not listening in time")
}

type logWriter struct{ m *Mosquitto }

func (l logWriter) Write(p []byte) (int, error) {
	l.m.logMu.Lock()
	defer l.m.logMu.Unlock()
	return l.m.log.Write(p)
}

// Addr is host:port.
func (m *Mosquitto) Addr() string { return fmt.Sprintf("127.0.0.1:%d", m.port) }

// URL is tcp://host:port (use ssl://Addr() with TLS).
func (m *Mosquitto) URL() string { return "tcp://" + m.Addr() }

// Kill SIGKILLs the broker: connections drop without a DISCONNECT (last
// wills fire on restart only if persisted) and unsaved state is lost.
func (m *Mosquitto) Kill() { m.signal(syscall.SIGKILL) }

// Stop terminates the broker gracefully (SIGTERM; it saves persistence).
func (m *Mosquitto) Stop() { m.signal(syscall.SIGTERM) }

func (m *Mosquitto) signal(sig syscall.Signal) {
	m.mu.Lock()
	cmd, exited := m.cmd, m.exited
	m.cmd, m.exited = nil, nil
	m.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Restart starts the broker again on the same port with the same
// configuration (after Kill or Stop).
func (m *Mosquitto) Restart() { m.start() }

// Log returns what the broker logged so far.
func (m *Mosquitto) Log() string {
	m.logMu.Lock()
	defer m.logMu.Unlock()
	return m.log.String()
}
