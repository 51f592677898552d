package capture

import (
	"encoding/json"
	"time"
)

// MarshalJSON writes the snapshot with snake_case keys and LastErr as its
// message: an error value has no exported fields and would encode as {}.
func (s Stats) MarshalJSON() ([]byte, error) {
	out := struct {
		Source     string     `json:"source"`
		Connected  bool       `json:"connected"`
		Read       uint64     `json:"read"`
		Delivered  uint64     `json:"delivered"`
		Dropped    uint64     `json:"dropped"`
		Reconnects uint64     `json:"reconnects"`
		Stalls     uint64     `json:"stalls"`
		LastErr    string     `json:"last_error,omitempty"`
		LastErrAt  *time.Time `json:"last_error_at,omitempty"`
	}{
		Source: s.Source, Connected: s.Connected, Read: s.Read, Delivered: s.Delivered,
		Dropped: s.Dropped, Reconnects: s.Reconnects, Stalls: s.Stalls,
	}
	if s.LastErr != nil {
		out.LastErr = s.LastErr.Error()
		out.LastErrAt = &s.LastErrAt
	}
	return json.Marshal(out)
}
