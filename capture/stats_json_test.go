package capture_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/capture"
)

func TestStatsJSON(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		in   capture.Stats
		want string
	}{
		{"healthy", capture.Stats{Source: "v4l2:/dev/video0", Connected: true, Read: 10, Delivered: 7, Dropped: 3},
			`{"source":"v4l2:/dev/video0","connected":true,"read":10,"delivered":7,"dropped":3,"reconnects":0,"stalls":0}`},
		{"after a failure", capture.Stats{Source: "x", Reconnects: 2, Stalls: 1, LastErr: errors.New("boom"), LastErrAt: at},
			`{"source":"x","connected":false,"read":0,"delivered":0,"dropped":0,"reconnects":2,"stalls":1,"last_error":"boom","last_error_at":"2025-01-02T03:04:05Z"}`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}
