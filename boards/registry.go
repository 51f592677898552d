package boards

import (
	"sort"
	"sync"
)

var registry = struct {
	sync.RWMutex
	m map[string]Board
}{m: map[string]Board{}}

// Register makes b known to Detect and Lookup. It panics on a nil board,
// an empty name or a duplicate, which are programming errors caught at
// start-up (as database/sql does for drivers).
func Register(b Board) {
	if b == nil || b.Name() == "" {
		panic("boards: Register with nil board or empty name")
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[b.Name()]; dup {
		panic("boards: board registered twice: " + b.Name())
	}
	registry.m[b.Name()] = b
}

// Lookup returns the registered board called name.
func Lookup(name string) (Board, bool) {
	registry.RLock()
	defer registry.RUnlock()
	b, ok := registry.m[name]
	return b, ok
}

// All returns the registered boards in detection order: rank descending,
// then name.
func All() []Board {
	registry.RLock()
	out := make([]Board, 0, len(registry.m))
	for _, b := range registry.m {
		out = append(out, b)
	}
	registry.RUnlock()
	sortBoards(out)
	return out
}

// Names returns the registered board names in detection order.
func Names() []string {
	return names(All())
}

func sortBoards(bs []Board) {
	sort.SliceStable(bs, func(i, j int) bool {
		if bs[i].Rank() != bs[j].Rank() {
			return bs[i].Rank() > bs[j].Rank()
		}
		return bs[i].Name() < bs[j].Name()
	})
}
