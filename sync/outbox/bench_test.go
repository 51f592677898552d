package outbox

import "testing"

// BenchmarkPutAck is one delta's durable round trip through the outbox: a
// 35 KB payload (an int8 512×64 adapter) put and acknowledged. Dominated by
// fsync, so it measures the storage as much as the code.
func BenchmarkPutAck(b *testing.B) {
	o, err := Open(Config{Dir: b.TempDir(), MaxBytes: 1 << 30, Drop: RejectNew}, nil)
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 35<<10)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		seq := o.NextSeq()
		if err := o.Put(seq, data); err != nil {
			b.Fatal(err)
		}
		if err := o.Ack(seq); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen reopens an outbox of 100 entries of 35 KB, verifying every
// checksum.
func BenchmarkOpen(b *testing.B) {
	cfg := Config{Dir: b.TempDir(), MaxBytes: 1 << 30, Drop: RejectNew}
	o, err := Open(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 35<<10)
	for range 100 {
		if err := o.Put(o.NextSeq(), data); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := Open(cfg, nil); err != nil {
			b.Fatal(err)
		}
	}
}
