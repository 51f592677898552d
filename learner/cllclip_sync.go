package learner

type cllClass struct {
	ID     ID      `json:"id"`
	Freq   float64 `json:"freq"`
	SinceW float64 `json:"since_w,omitempty"`
	SinceN int64   `json:"since_n,omitempty"`
}

type cllExportMeta struct {
	ID ID      `json:"id"`
	W  float64 `json:"w"`
	N  int64   `json:"n"`
}

type cllclipMeta struct {
	syncMeta
	Classes  []cllClass      `json:"classes"`
	Base     []ID            `json:"base"`
	Init     []ID            `json:"init"`
	Exported []cllExportMeta `json:"exported,omitempty"`
}

// Snapshot implements Method.
func (m *CLLCLIP) Snapshot() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := &Envelope{Kind: "method", Method: m.Name(), Dim: m.cfg.Dim, Version: stateVersion}
	meta := cllclipMeta{syncMeta: m.sync.meta()}
	ws := make(map[ID][]float32, len(m.vec))
	for id, v := range m.vec {
		ws[id] = v.w
	}
	for _, id := range encodeVecs("vec/", ws, e) {
		c := cllClass{ID: id, Freq: m.vec[id].freq}
		if s := m.since[id]; s != nil {
			c.SinceW, c.SinceN = s.w, s.n
		}
		meta.Classes = append(meta.Classes, c)
	}
	meta.Base = encodeVecs("base/", m.base, e)
	meta.Init = encodeVecs("init/", m.init, e)
	exp := make(map[ID][]float32, len(m.exported))
	for id, x := range m.exported {
		exp[id] = x.vec
	}
	for _, id := range encodeVecs("exp/", exp, e) {
		x := m.exported[id]
		meta.Exported = append(meta.Exported, cllExportMeta{ID: id, W: x.cnt.w, N: x.cnt.n})
	}
	return sealState(e, meta)
}

// Restore implements Method; the options are configuration, so a snapshot
// restores under other values.
func (m *CLLCLIP) Restore(b []byte) error {
	var meta cllclipMeta
	e, err := openState(b, m.Name(), m.cfg.Dim, stateVersion, &meta)
	if err != nil {
		return err
	}
	ids := make([]ID, len(meta.Classes))
	for i, c := range meta.Classes {
		ids[i] = c.ID
	}
	ws, err := decodeVecs("vec/", ids, e, m.cfg.Dim)
	if err != nil {
		return err
	}
	base, err := decodeVecs("base/", meta.Base, e, m.cfg.Dim)
	if err != nil {
		return err
	}
	initv, err := decodeVecs("init/", meta.Init, e, m.cfg.Dim)
	if err != nil {
		return err
	}
	expIDs := make([]ID, len(meta.Exported))
	for i, x := range meta.Exported {
		expIDs[i] = x.ID
	}
	expV, err := decodeVecs("exp/", expIDs, e, m.cfg.Dim)
	if err != nil {
		return err
	}
	vec := make(map[ID]*cllVec, len(ws))
	since := map[ID]*cllCount{}
	for _, c := range meta.Classes {
		vec[c.ID] = &cllVec{w: ws[c.ID], g: make([]float32, m.cfg.Dim), freq: c.Freq}
		if c.SinceN != 0 || c.SinceW != 0 {
			since[c.ID] = &cllCount{w: c.SinceW, n: c.SinceN}
		}
	}
	var exported map[ID]*cllExport
	if len(meta.Exported) > 0 {
		exported = map[ID]*cllExport{}
		for _, x := range meta.Exported {
			exported[x.ID] = &cllExport{vec: expV[x.ID], cnt: cllCount{w: x.W, n: x.N}}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.vec, m.base, m.init, m.since, m.exported = vec, base, initv, since, exported
	m.sync.setMeta(meta.syncMeta)
	m.cacheDirty = true
	return nil
}

// BaseVersion implements Method.
func (m *CLLCLIP) BaseVersion() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sync.version
}

// Delta implements Method: for each class trained since base, weight·(v -
// base) — or weight·v for a class not in the fleet base — and the weight.
func (m *CLLCLIP) Delta(base uint64) (*Delta, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.sync.startExport(base, m.Name(), m.cfg.Dim, m.cfg.ModelID)
	if err != nil {
		return nil, err
	}
	m.exported = map[ID]*cllExport{}
	ids := sortedIDs(m.since)
	for _, id := range ids {
		c, v := m.since[id], m.vec[id]
		if v == nil || c.w <= 0 {
			continue
		}
		ref := m.base[id]
		sum := make([]float64, m.cfg.Dim)
		for q, x := range v.w {
			diff := float64(x)
			if ref != nil {
				diff -= float64(ref[q])
			}
			sum[q] = c.w * diff
		}
		d.Classes = append(d.Classes, ClassStats{Label: id, Count: c.w, Examples: c.n, Sum: sum})
		d.Examples += c.w
		m.exported[id] = &cllExport{vec: append([]float32(nil), v.w...), cnt: *c}
	}
	d.Labels = labelInfos(m.labels.Current(), ids)
	return d, nil
}

// ApplyMerged implements Method: each merged class's base moves by the
// fleet's weighted mean change (or becomes the fleet's weighted mean
// vector, for a class new to the fleet); local training not yet in the
// merge stays on top.
func (m *CLLCLIP) ApplyMerged(d *Delta) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	included, err := m.sync.checkMerged(d, m.Name(), m.cfg.Dim, m.cfg.ModelID)
	if err != nil {
		return err
	}
	if err := acceptClasses(m.labels, d, m.cfg.Dim, true); err != nil {
		return err
	}
	for _, c := range d.Classes {
		if c.Count <= 0 {
			continue
		}
		old, inBase := m.base[c.Label]
		nb := make([]float32, m.cfg.Dim)
		for q, s := range c.Sum {
			v := s / c.Count
			if inBase {
				v += float64(old[q])
			}
			nb[q] = float32(v)
		}
		var own *cllExport
		if included {
			own = m.exported[c.Label]
		}
		v := m.vec[c.Label]
		switch {
		case v == nil:
			v = &cllVec{w: append([]float32(nil), nb...), g: make([]float32, m.cfg.Dim)}
			m.vec[c.Label] = v
		case own != nil:
			for q := range v.w {
				v.w[q] = nb[q] + (v.w[q] - own.vec[q])
			}
		default:
			ref := old
			if !inBase {
				ref = m.init[c.Label]
			}
			for q := range v.w {
				r := float32(0)
				if ref != nil {
					r = ref[q]
				}
				v.w[q] = nb[q] + (v.w[q] - r)
			}
		}
		v.freq += c.Count
		if own != nil {
			v.freq -= own.cnt.w
		}
		m.base[c.Label] = nb
		delete(m.init, c.Label)
	}
	if included {
		for id, x := range m.exported {
			if c := m.since[id]; c != nil {
				c.w -= x.cnt.w
				c.n -= x.cnt.n
				if c.n <= 0 {
					delete(m.since, id)
				}
			}
		}
	}
	m.exported = nil
	m.sync.version, m.sync.exportID = d.Version, 0
	m.cacheDirty = true
	return nil
}
