package mqtt

import (
	"bytes"
	"testing"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

func TestPacketStoreCopies(t *testing.T) {
	s := newPacketStore()
	p := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
	p.TopicName, p.Qos, p.MessageID, p.Payload = "a/b", 1, 7, []byte("payload")
	s.Put("o.7", p)
	g1 := s.Get("o.7").(*packets.PublishPacket)
	g1.Dup = true // what paho's resume does
	g2 := s.Get("o.7").(*packets.PublishPacket)
	if g1 == g2 || g2.Dup || p.Dup {
		t.Fatal("Get shares packets")
	}
	if g2.TopicName != "a/b" || g2.MessageID != 7 || g2.Qos != 1 || !bytes.Equal(g2.Payload, p.Payload) {
		t.Fatalf("copy differs: %v", g2)
	}
	s.Put("i.3", packets.NewControlPacket(packets.Pubrec))
	if keys := s.All(); len(keys) != 2 || keys[0] != "i.3" {
		t.Errorf("keys %v", keys)
	}
	s.Del("o.7")
	if s.Get("o.7") != nil || len(s.All()) != 1 {
		t.Error("Del")
	}
	s.Reset()
	if len(s.All()) != 0 {
		t.Error("Reset")
	}
}
