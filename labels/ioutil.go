package labels

import (
	"fmt"
	"io"
)

// readAtMost reads r to the end, refusing more than limit bytes so a
// runaway file cannot exhaust memory.
func readAtMost(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}
