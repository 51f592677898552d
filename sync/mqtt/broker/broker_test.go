package broker

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestCloseWithConnectionMidHandshake: a client that connected but has not
// sent CONNECT yet (a device reconnecting just as the broker stops) is not
// among the server's clients; Close must still end it and return, and the
// port must refuse new connections afterwards.
func TestCloseWithConnectionMidHandshake(t *testing.T) {
	b, err := Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Wait until the broker has accepted it: it sends nothing before
	// CONNECT, so probe with a read that must time out, not fail.
	_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
		t.Fatalf("read before close: %v", err)
	}

	done := make(chan error, 1)
	go func() { done <- b.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on a connection without CONNECT")
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Errorf("connection after Close: read %v, want EOF", err)
	}
	if c2, err := net.DialTimeout("tcp", b.Addr(), time.Second); err == nil {
		c2.Close()
		t.Error("broker still accepts connections after Close")
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && !oe.Timeout()
}
