package learner

type coleclipMeta struct {
	syncMeta
	Fleet    []ID      `json:"fleet"`
	Local    []ID      `json:"local"`
	Seg      []sumStat `json:"seg"`
	Since    []sumStat `json:"since"`
	Exported []sumStat `json:"exported,omitempty"`
	Seen     []ID      `json:"seen"`
}

// Snapshot implements Method.
func (m *CoLeCLIP) Snapshot() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := &Envelope{Kind: "method", Method: m.Name(), Dim: m.cfg.Dim, Version: stateVersion}
	meta := coleclipMeta{syncMeta: m.sync.meta(), Seen: m.seen.ids()}
	meta.Fleet = encodeVecs("fleet/", m.fleet, e)
	meta.Local = encodeVecs("local/", m.local, e)
	meta.Seg = encodeSums("seg/", m.seg, e)
	meta.Since = encodeSums("since/", m.since, e)
	meta.Exported = encodeSums("exp/", m.exported, e)
	return sealState(e, meta)
}

// Restore implements Method; momentum and anchor strength are
// configuration, so a snapshot restores under other values.
func (m *CoLeCLIP) Restore(b []byte) error {
	var meta coleclipMeta
	e, err := openState(b, m.Name(), m.cfg.Dim, stateVersion, &meta)
	if err != nil {
		return err
	}
	fleet, err := decodeVecs("fleet/", meta.Fleet, e, m.cfg.Dim)
	if err != nil {
		return err
	}
	local, err := decodeVecs("local/", meta.Local, e, m.cfg.Dim)
	if err != nil {
		return err
	}
	seg, err := decodeSums("seg/", meta.Seg, e, m.cfg.Dim)
	if err != nil {
		return err
	}
	since, err := decodeSums("since/", meta.Since, e, m.cfg.Dim)
	if err != nil {
		return err
	}
	exp, err := decodeSums("exp/", meta.Exported, e, m.cfg.Dim)
	if err != nil {
		return err
	}
	if len(exp) == 0 {
		exp = nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fleet, m.local, m.seg, m.since, m.exported = fleet, local, seg, since, exp
	m.seen = seenFrom(meta.Seen)
	m.sync.setMeta(meta.syncMeta)
	m.cacheDirty = true
	return nil
}

// BaseVersion implements Method.
func (m *CoLeCLIP) BaseVersion() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sync.version
}

// Delta implements Method: per-class image sums and weights since base.
func (m *CoLeCLIP) Delta(base uint64) (*Delta, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.sync.startExport(base, m.Name(), m.cfg.Dim, m.cfg.ModelID)
	if err != nil {
		return nil, err
	}
	exportSums(d, m.since, m.labels)
	m.exported = cloneSums(m.since)
	return d, nil
}

// ApplyMerged implements Method: the fleet anchors fold the round's merged
// statistics (identically on every device); what this device learned after
// its export stays as the current task segment on top.
func (m *CoLeCLIP) ApplyMerged(d *Delta) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	included, err := m.sync.checkMerged(d, m.Name(), m.cfg.Dim, m.cfg.ModelID)
	if err != nil {
		return err
	}
	if err := acceptClasses(m.labels, d, m.cfg.Dim, true); err != nil {
		return err
	}
	s := m.labels.Current()
	for _, c := range d.Classes {
		a, ok := m.fleet[c.Label]
		st := &classSum{sum: c.Sum, count: c.Count, n: c.Examples}
		if !ok {
			if i, found := s.Index(c.Label); found {
				a = m.textAnchor(s, i, st)
			}
		}
		if v := m.fold(a, st); v != nil {
			m.fleet[c.Label] = append([]float32(nil), v...)
		}
	}
	if included {
		for id, e := range m.exported {
			if c, ok := m.since[id]; ok {
				addSum(c, e, -1)
				if c.n <= 0 {
					delete(m.since, id)
				}
			}
		}
	}
	m.local = map[ID][]float32{}
	m.seg = cloneSums(m.since)
	m.exported = nil
	m.sync.version, m.sync.exportID = d.Version, 0
	m.cacheDirty = true
	return nil
}
