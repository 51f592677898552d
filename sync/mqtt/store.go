package mqtt

import (
	"bytes"
	"sort"
	"sync"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// packetStore is paho's in-flight store, keeping packets as bytes and
// handing out a fresh copy on every Get. paho 1.5.1's MemoryStore returns
// the stored packet itself, and on a reconnect resume() sets its DUP flag
// while the writer of an earlier, quickly failed connection may still be
// encoding the same packet: a data race (seen under -race when a broker
// is killed mid-sync). Encoding at Put is safe: paho stores a packet
// before any other goroutine sees it.
type packetStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newPacketStore() *packetStore { return &packetStore{m: map[string][]byte{}} }

// Open implements paho.Store.
func (s *packetStore) Open() {}

// Put implements paho.Store.
func (s *packetStore) Put(key string, p packets.ControlPacket) {
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		return // paho treats a missing packet as already gone
	}
	s.mu.Lock()
	s.m[key] = b.Bytes()
	s.mu.Unlock()
}

// Get implements paho.Store.
func (s *packetStore) Get(key string) packets.ControlPacket {
	s.mu.Lock()
	b, ok := s.m[key]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	p, err := packets.ReadPacket(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	return p
}

// All implements paho.Store, in key order.
func (s *packetStore) All() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Del implements paho.Store.
func (s *packetStore) Del(key string) {
	s.mu.Lock()
	delete(s.m, key)
	s.mu.Unlock()
}

// Close implements paho.Store.
func (s *packetStore) Close() {}

// Reset implements paho.Store.
func (s *packetStore) Reset() {
	s.mu.Lock()
	clear(s.m)
	s.mu.Unlock()
}
