package outbox

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// childEnv selects the worker role when the test binary re-executes itself.
const childEnv = "CLIPFLEET_OUTBOX_CHILD_DIR"

func crashConfig(dir string) Config {
	return Config{Dir: dir, MaxBytes: 1 << 30, Drop: RejectNew}
}

// contentAt is the payload of seq: a pure function of it, 1 B to 256 KiB,
// so a kill can land mid-write and any mix-up or corruption shows.
func contentAt(seq uint64) []byte {
	rng := rand.New(rand.NewPCG(seq, 5))
	n := 1 + rng.IntN(32<<10)
	if rng.IntN(8) == 0 {
		n = 1 + rng.IntN(256<<10)
	}
	b := make([]byte, (n+7)&^7)
	for i := 0; i < len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
	return b[:n]
}

// TestOutboxWorkerChild is the worker process of TestSIGKILL; it does
// nothing unless started by it. It Puts and Acks forever, writing "p N" /
// "a N" to fd 3 before each call and "P N" / "A N" only after the call
// returned (the entry is durably stored / removed).
func TestOutboxWorkerChild(t *testing.T) {
	dir := os.Getenv(childEnv)
	if dir == "" {
		t.Skip("worker role for TestSIGKILL only")
	}
	fail := func(code int, format string, args ...any) {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
		os.Exit(code)
	}
	report := os.NewFile(3, "report")
	say := func(op string, seq uint64) {
		// One write per line, unbuffered: a line is in the pipe before
		// the next step, whatever happens after.
		if _, err := fmt.Fprintf(report, "%s %d\n", op, seq); err != nil {
			fail(2, "report: %v", err)
		}
	}
	o, err := Open(crashConfig(dir), nil)
	if err != nil {
		fail(3, "open: %v", err)
	}
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	say("ready", 0)
	for {
		n := o.Len()
		if n == 0 || n < 40 && rng.IntN(100) < 60 {
			seq := o.NextSeq()
			say("p", seq)
			if err := o.Put(seq, contentAt(seq)); err != nil {
				fail(4, "put %d: %v", seq, err)
			}
			say("P", seq)
			continue
		}
		var seq uint64
		if rng.IntN(10) < 7 {
			e, err := o.Peek()
			if err != nil {
				fail(5, "peek: %v", err)
			}
			if !bytes.Equal(e.Data, contentAt(e.Seq)) {
				fail(6, "entry %d has the wrong content", e.Seq)
			}
			seq = e.Seq
		} else {
			seqs := o.Seqs()
			seq = seqs[rng.IntN(len(seqs))]
		}
		say("a", seq)
		if err := o.Ack(seq); err != nil {
			fail(7, "ack %d: %v", seq, err)
		}
		say("A", seq)
	}
}

// TestSIGKILL kills a worker that Puts and Acks in a loop at random
// moments, many times, and after each kill reopens the outbox and
// requires: no acknowledged entry reappears, no entry whose Put returned
// is lost, nothing unknown appears, every entry's content is intact,
// nothing was set aside as corrupt, and NextSeq is above every seq that
// was ever stored.
// Only the one call in progress at the kill may go either way.
func TestSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns many processes")
	}
	if os.Getenv(childEnv) != "" {
		t.Skip("inside the worker")
	}
	// 100 kills take 3–5 s; on a loaded machine stop after 15 s once the
	// 45 asked for are done.
	const iterations, minIterations, budget = 100, 45, 15 * time.Second
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	start := time.Now()

	stored := map[uint64]bool{} // durably put and not durably acked, per the reports
	acked := map[uint64]bool{}
	var maxSeq uint64
	var puts, acks, midWrite, undecided int

	it := 0
	for ; it < iterations && (it < minIterations || time.Since(start) < budget); it++ {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestOutboxWorkerChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"="+dir)
		cmd.ExtraFiles = []*os.File{w}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		lines := make(chan string, 4096)
		go func() {
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
			r.Close()
		}()
		for l := range lines {
			if l == "ready 0" {
				break
			}
		}
		time.Sleep(time.Duration(rng.IntN(40_000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		var pendingPut, pendingAck uint64 // started, not reported done
		for l := range lines {
			op, n, _ := strings.Cut(l, " ")
			seq, err := strconv.ParseUint(n, 10, 64)
			if err != nil {
				t.Fatalf("bad report %q", l)
			}
			switch op {
			case "p":
				pendingPut = seq
			case "P":
				pendingPut = 0
				stored[seq] = true
				maxSeq = max(maxSeq, seq)
				puts++
			case "a":
				pendingAck = seq
			case "A":
				pendingAck = 0
				delete(stored, seq)
				acked[seq] = true
				acks++
			}
		}
		err = cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
			t.Fatalf("iteration %d: worker exited with %v, not by SIGKILL; stderr:\n%s", it, err, stderr.String())
		}

		if hasTemp(t, dir) {
			midWrite++
		}
		o, err := Open(crashConfig(dir), nil)
		if err != nil {
			t.Fatal(err)
		}
		present := map[uint64]bool{}
		for _, s := range o.Seqs() {
			present[s] = true
		}
		for s := range present {
			switch {
			case acked[s]:
				t.Fatalf("iteration %d: entry %d reappeared after its Ack returned", it, s)
			case !stored[s] && s != pendingPut:
				t.Fatalf("iteration %d: entry %d present but never put", it, s)
			case !stored[s]: // the interrupted Put completed
				stored[s] = true
				maxSeq = max(maxSeq, s)
				undecided++
			}
		}
		for s := range stored {
			if !present[s] {
				if s != pendingAck {
					t.Fatalf("iteration %d: entry %d lost: its Put returned and it was never acknowledged", it, s)
				}
				delete(stored, s) // the interrupted Ack completed
				acked[s] = true
				undecided++
			}
		}
		n := 0
		for {
			e, err := o.Next()
			if errors.Is(err, ErrEmpty) {
				break
			}
			if err != nil {
				t.Fatalf("iteration %d: Next: %v", it, err)
			}
			if !bytes.Equal(e.Data, contentAt(e.Seq)) {
				t.Fatalf("iteration %d: entry %d has the wrong content (%d bytes)", it, e.Seq, len(e.Data))
			}
			n++
		}
		if n != len(present) {
			t.Fatalf("iteration %d: Next handed out %d of %d entries", it, n, len(present))
		}
		if bad := o.Corrupt(); len(bad) > 0 {
			t.Fatalf("iteration %d: corrupt entries: %v", it, bad)
		}
		if set, _ := os.ReadDir(filepath.Join(dir, corruptDir)); len(set) > 0 {
			t.Fatalf("iteration %d: the worker set aside %d corrupt files", it, len(set))
		}
		// A seq whose Put never completed was never sent and may be
		// reused; one that was stored may have reached the hub.
		if next := o.NextSeq(); next <= maxSeq {
			t.Fatalf("iteration %d: NextSeq %d would reuse stored seq %d", it, next, maxSeq)
		}
		o.Close()
	}
	t.Logf("%d kills in %v: %d puts, %d acks reported durable; %d kills mid-write (temp file left), %d interrupted calls resolved",
		it, time.Since(start).Round(time.Millisecond), puts, acks, midWrite, undecided)
	if puts == 0 || acks == 0 {
		t.Fatal("the worker never completed a Put and an Ack: the test exercised nothing")
	}
}

func hasTemp(t *testing.T, dir string) bool {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if strings.HasPrefix(de.Name(), ".tmp-") {
			return true
		}
	}
	return false
}
