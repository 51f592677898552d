package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipfleet/clipfleet/sync/mqtt"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// ErrCatchUpUnavailable: the hub cannot compose a catch-up from that
// version, because it is older than the history the hub kept (folded by
// CatchUp.MaxVersions, or recorded only since a failover or an upgrade).
// Such a device must reset its fleet state to version 0 (see docs/sync.md).
var ErrCatchUpUnavailable = errors.New("hub: no catch-up from this version")

// maxCachedCatchUps bounds the catch-up adapters kept for re-use within
// one version (devices that joined together share their base, usually 0).
const maxCachedCatchUps = 16

type cachedCatchUp struct {
	version uint64
	data    []byte
	created time.Time
}

// CatchUp returns the signed adapter that takes a device at version from
// to the current version, addressed to that device's catch-up topic (not
// retained); nothing if from is not behind. Its BaseVersion is from and
// its Version the current one, so the device applies it through the usual
// path (version floor, A/B, health check, rollback). It is the exact
// composition of the versions in between (see compose); its Merged list is
// the one of version from+1, the only version that can have merged the
// device's outstanding export.
func (h *Hub) CatchUp(device string, from uint64) ([]Message, error) {
	if !wire.ValidID(device) {
		return nil, fmt.Errorf("hub: catch-up for invalid device id %q", device)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	b, err := h.catchUp(from)
	if err != nil {
		h.stats.CatchUpsFailed++
		return nil, err
	}
	if b == nil {
		return nil, nil
	}
	h.stats.CatchUps++
	return []Message{{Topic: h.topics.CatchUp(device), Payload: b}}, nil
}

// CatchUpRange reports the versions a device can catch up from: from 0 if
// fromZero, and any version ≥ oldest.
func (h *Hub) CatchUpRange() (oldest uint64, fromZero bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.st.histFrom, h.st.hasBase
}

// catchUp composes (or re-uses) the catch-up from version from; h.mu held.
func (h *Hub) catchUp(from uint64) ([]byte, error) {
	v, now := h.st.version, h.now()
	if from >= v {
		return nil, nil
	}
	if c, ok := h.cuCache[from]; ok && c.version == v && now.Sub(c.created) < h.cfg.GlobalTTL/2 {
		return c.data, nil
	}
	useBase := from < h.st.histFrom
	if useBase && (from != 0 || !h.st.hasBase) {
		return nil, fmt.Errorf("%w: device at version %d, history from %d (from version 0: %v)", ErrCatchUpUnavailable, from, h.st.histFrom, h.st.hasBase)
	}
	var raw [][]byte
	err := h.db.View(func(tx *bolt.Tx) error {
		start := from + 1
		if useBase {
			b := tx.Bucket(bMeta).Get(kHistBase)
			if b == nil {
				return fmt.Errorf("%w: the folded history is missing", ErrCatchUpUnavailable)
			}
			raw, start = append(raw, slices.Clone(b)), h.st.histFrom+1
		}
		hb := tx.Bucket(bHistory)
		for x := start; x <= v; x++ {
			b := hb.Get(be64(x))
			if b == nil {
				return fmt.Errorf("%w: version %d missing from the history", ErrCatchUpUnavailable, x)
			}
			raw = append(raw, slices.Clone(b))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	b, err := h.composeStored(raw, true)
	if err != nil {
		return nil, err
	}
	maps.DeleteFunc(h.cuCache, func(_ uint64, c cachedCatchUp) bool { return c.version != v })
	if len(h.cuCache) >= maxCachedCatchUps {
		clear(h.cuCache)
	}
	h.cuCache[from] = cachedCatchUp{version: v, data: b, created: now}
	h.log.Info("hub: catch-up composed", "from", from, "to", v, "versions", len(raw), "bytes", len(b))
	return b, nil
}

// lagging is a device whose retained state showed it behind the hub.
type lagging struct {
	from uint64
	due  time.Time
}

// catchUpQueue decides which devices get a catch-up: those whose state
// still shows the same old version CatchUp.Delay after it was first seen.
// A device that applies queued versions in order publishes a newer state
// meanwhile and is rescheduled or dropped. Owned by Run's loop.
type catchUpQueue struct {
	delay time.Duration
	devs  map[string]lagging
}

// newCatchUpQueue: a delay ≤ 0 disables it (every observation ignored).
func newCatchUpQueue(delay time.Duration) *catchUpQueue {
	return &catchUpQueue{delay: delay, devs: map[string]lagging{}}
}

// observe takes one retained state message of device dev. The state is
// not signed: a forged one can only make the hub send a signed adapter
// (rate-limited by the delay) that the device ignores if it does not fit.
func (q *catchUpQueue) observe(dev string, payload []byte, version uint64, now time.Time) {
	var st mqtt.DeviceState
	if q.delay <= 0 || len(payload) == 0 || json.Unmarshal(payload, &st) != nil || st.Device != dev {
		return
	}
	if st.ActiveVersion >= version || st.Floor >= version {
		delete(q.devs, dev)
		return
	}
	if l, ok := q.devs[dev]; ok && l.from == st.ActiveVersion {
		return // keep the first sighting's due time
	}
	q.devs[dev] = lagging{from: st.ActiveVersion, due: now.Add(q.delay)}
}

// dueCatchUp is a device to send a catch-up from version from.
type dueCatchUp struct {
	dev  string
	from uint64
}

// take returns the devices due for a catch-up, in id order, and forgets
// them: their next state message (a reconnect publishes one) schedules
// them again if the adapter did not get through.
func (q *catchUpQueue) take(now time.Time, version uint64) []dueCatchUp {
	var out []dueCatchUp
	for _, dev := range slices.Sorted(maps.Keys(q.devs)) {
		l := q.devs[dev]
		switch {
		case l.from >= version:
			delete(q.devs, dev)
		case !now.Before(l.due):
			out = append(out, dueCatchUp{dev, l.from})
			delete(q.devs, dev)
		}
	}
	return out
}
