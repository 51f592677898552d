package learner

import (
	"encoding/json"
	"fmt"
)

// Every method snapshot is an Envelope of kind "method" whose JSON meta
// holds the method's small state and whose tensors hold the large state.
// openState and sealState are the two ends every Restore and Snapshot
// share, so the checks and the error wording cannot drift between methods.

// openState decodes a method snapshot, checks that it was written by this
// method at this dimension and state version, and unmarshals its JSON
// metadata into meta; every method's Restore starts this way.
func openState(b []byte, method string, dim, version int, meta any) (*Envelope, error) {
	e, err := DecodeEnvelope(b)
	if err != nil {
		return nil, err
	}
	if err := e.check("method", method, dim, version); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(e.Meta, meta); err != nil {
		return nil, fmt.Errorf("%w: %s meta: %v", ErrCorrupt, method, err)
	}
	return e, nil
}

// sealState is openState's inverse: it stores meta as e's JSON metadata and
// encodes the envelope.
func sealState(e *Envelope, meta any) ([]byte, error) {
	b, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("learner: %s meta: %w", e.Method, err)
	}
	e.Meta = b
	return e.MarshalBinary()
}
