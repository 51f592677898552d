package learner

import (
	"fmt"
	"strconv"
	"strings"
)

// moeVersion is the layout version of MoE snapshots.
const moeVersion = 1

type moeMeta struct {
	syncMeta
	Experts     int          `json:"experts"`
	Hidden      int          `json:"hidden"`
	TopK        int          `json:"top_k"`
	Step        int          `json:"step"`
	Frozen      []int        `json:"frozen,omitempty"`
	Routers     []int        `json:"routers,omitempty"`
	Classes     []ID         `json:"classes,omitempty"`
	ClassFrozen []ID         `json:"class_frozen,omitempty"`
	TaskClasses []ID         `json:"task_classes,omitempty"`
	Usage       []float64    `json:"usage"`
	Base        []string     `json:"base"`
	Exported    []string     `json:"exported,omitempty"`
	HasExported bool         `json:"has_exported,omitempty"`
	SinceBase   float64      `json:"since_base"`
	ExportedEx  float64      `json:"exported_examples"`
	Selector    selectorMeta `json:"selector"`
	Tasks       taskMeta     `json:"tasks"`
}

func idSet(m map[ID]bool) []ID {
	out := make([]ID, 0, len(m))
	for _, id := range sortedIDs(m) {
		if m[id] {
			out = append(out, id)
		}
	}
	return out
}

// Snapshot implements Method: weights and Adam moments, frozen flags and
// usage, routers, the sync base and last export, tasks and the selector.
func (m *MoE) Snapshot() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	meta := moeMeta{syncMeta: m.sync.meta(), Experts: m.mc.Experts, Hidden: m.mc.Hidden, TopK: m.mc.TopK,
		Step: m.step, Routers: sortedInts(m.routers), Classes: sortedIDs(m.class),
		ClassFrozen: idSet(m.classFrozen), TaskClasses: idSet(m.taskClasses), Usage: m.usage,
		Base: sortedKeys(m.base), Exported: sortedKeys(m.exported), HasExported: m.exported != nil,
		SinceBase: m.sinceBase, ExportedEx: m.exportedEx, Tasks: m.tasks.meta()}
	for i, e := range m.experts {
		if e.frozen {
			meta.Frozen = append(meta.Frozen, i)
		}
	}
	e := &Envelope{Kind: "method", Method: m.Name(), Dim: m.cfg.Dim, Version: moeVersion}
	for _, p := range m.params() {
		e.Tensors = append(e.Tensors,
			Tensor{"w/" + p.name, p.shape, p.w}, Tensor{"m/" + p.name, p.shape, p.m}, Tensor{"v/" + p.name, p.shape, p.v})
	}
	for _, k := range meta.Base {
		e.Tensors = append(e.Tensors, Tensor{"base/" + k, []int{len(m.base[k])}, m.base[k]})
	}
	for _, k := range meta.Exported {
		e.Tensors = append(e.Tensors, Tensor{"exp/" + k, []int{len(m.exported[k])}, m.exported[k]})
	}
	meta.Selector = m.sel.encode(e)
	return sealState(e, meta)
}

// Restore implements Method; the expert shape must match the configuration.
func (m *MoE) Restore(b []byte) error {
	var meta moeMeta
	e, err := openState(b, m.Name(), m.cfg.Dim, moeVersion, &meta)
	if err != nil {
		return err
	}
	if meta.Experts != m.mc.Experts || meta.Hidden != m.mc.Hidden || meta.TopK != m.mc.TopK {
		return fmt.Errorf("%w: snapshot has %d experts of %d top-%d, config %d of %d top-%d", ErrIncompatible,
			meta.Experts, meta.Hidden, meta.TopK, m.mc.Experts, m.mc.Hidden, m.mc.TopK)
	}
	if len(meta.Usage) != m.mc.Experts {
		return fmt.Errorf("%w: moe usage of %d experts", ErrCorrupt, len(meta.Usage))
	}
	// Build the new state in a fresh method so a bad snapshot changes nothing.
	n, err := NewMoE(m.cfg, m.mc, m.labels, m.log)
	if err != nil {
		return err
	}
	load := func(p *param) error {
		for _, slot := range []struct {
			prefix string
			dst    []float32
		}{{"w/", p.w}, {"m/", p.m}, {"v/", p.v}} {
			t, ok := e.F32(slot.prefix + p.name)
			if !ok || len(t.Data) != len(slot.dst) {
				return fmt.Errorf("%w: tensor %s%s", ErrCorrupt, slot.prefix, p.name)
			}
			copy(slot.dst, t.Data)
		}
		return nil
	}
	for _, t := range meta.Routers {
		if err := checkTask(t); err != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		n.routers[t] = &moeRouter{w: newParam(routerName(t)+"W", m.mc.Experts, m.cfg.Dim), b: newParam(routerName(t)+"b", m.mc.Experts)}
	}
	for _, id := range meta.Classes {
		n.class[id] = newParam(classParamPrefix+id.String(), m.cfg.Dim)
	}
	for _, p := range n.params() {
		if err := load(p); err != nil {
			return err
		}
	}
	for _, i := range meta.Frozen {
		if i < 0 || i >= len(n.experts) {
			return fmt.Errorf("%w: frozen expert %d", ErrCorrupt, i)
		}
		n.experts[i].frozen = true
	}
	for _, id := range meta.ClassFrozen {
		n.classFrozen[id] = true
	}
	for _, id := range meta.TaskClasses {
		n.taskClasses[id] = true
	}
	tensorMap := func(prefix string, names []string) (map[string][]float32, error) {
		out := map[string][]float32{}
		for _, k := range names {
			t, ok := e.F32(prefix + k)
			if !ok {
				return nil, fmt.Errorf("%w: tensor %s%s", ErrCorrupt, prefix, k)
			}
			out[k] = t.Data
		}
		return out, nil
	}
	if n.base, err = tensorMap("base/", meta.Base); err != nil {
		return err
	}
	if n.exported, err = tensorMap("exp/", meta.Exported); err != nil {
		return err
	}
	if !meta.HasExported {
		n.exported = nil
	}
	if err := n.sel.decode(meta.Selector, e); err != nil {
		return err
	}
	if n.tasks, err = taskTrackerFrom(meta.Tasks); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.experts, m.routers, m.class, m.classFrozen, m.taskClasses = n.experts, n.routers, n.class, n.classFrozen, n.taskClasses
	m.usage, m.step = append(n.usage[:0], meta.Usage...), meta.Step
	m.base, m.exported, m.sinceBase, m.exportedEx = n.base, n.exported, meta.SinceBase, meta.ExportedEx
	m.sel, m.tasks = n.sel, n.tasks
	m.sync.setMeta(meta.syncMeta)
	return nil
}

// BaseVersion implements Method.
func (m *MoE) BaseVersion() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sync.version
}

// Delta implements Method: every weight's change since base as tensors
// (averaged by the fleet), the selector's statistics as exact chunks.
func (m *MoE) Delta(base uint64) (*Delta, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.sync.startExport(base, m.Name(), m.cfg.Dim, m.cfg.ModelID)
	if err != nil {
		return nil, err
	}
	d.Examples = m.sinceBase
	m.exported = map[string][]float32{}
	d.Tensors = paramDeltas(m.params(), m.base, m.exported)
	m.sel.appendDelta(d)
	var taught []ID
	for _, c := range m.tasks.counts {
		for id := range c {
			taught = append(taught, id)
		}
	}
	for id := range m.class {
		taught = append(taught, id)
	}
	d.Labels = labelInfos(m.labels.Current(), uniqueSorted(taught))
	m.exportedEx = m.sinceBase
	return d, nil
}

func uniqueSorted(ids []ID) []ID {
	set := map[ID]bool{}
	for _, id := range ids {
		set[id] = true
	}
	return sortedIDs(set)
}

// newTensorParam creates the router or class parameter a merged tensor
// names, or reports that the name is not one of this method's.
func (m *MoE) newTensorParam(t Tensor) (*param, error) {
	if rest, ok := strings.CutPrefix(t.Name, "router/"); ok {
		ts, kind, _ := strings.Cut(rest, "/")
		task, err := strconv.Atoi(ts)
		if err == nil && checkTask(task) == nil && (kind == "W" || kind == "b") {
			if m.routers[task] == nil {
				m.routers[task] = &moeRouter{w: newParam(routerName(task)+"W", m.mc.Experts, m.cfg.Dim), b: newParam(routerName(task)+"b", m.mc.Experts)}
			}
			if kind == "W" {
				return m.routers[task].w, nil
			}
			return m.routers[task].b, nil
		}
	}
	if idStr, ok := strings.CutPrefix(t.Name, classParamPrefix); ok {
		if id, err := ParseID(idStr); err == nil {
			if m.class[id] == nil {
				m.class[id] = newParam(classParamPrefix+id.String(), m.cfg.Dim)
			}
			return m.class[id], nil
		}
	}
	return nil, fmt.Errorf("%w: unknown tensor %q", ErrIncompatible, t.Name)
}

// checkTensorName is newTensorParam's check without creating anything.
func (m *MoE) checkTensor(t Tensor, byName map[string]*param) error {
	want := -1
	if p := byName[t.Name]; p != nil {
		want = len(p.w)
	} else if rest, ok := strings.CutPrefix(t.Name, "router/"); ok {
		ts, kind, _ := strings.Cut(rest, "/")
		task, err := strconv.Atoi(ts)
		switch {
		case err != nil || checkTask(task) != nil:
		case kind == "W":
			want = m.mc.Experts * m.cfg.Dim
		case kind == "b":
			want = m.mc.Experts
		}
	} else if idStr, ok := strings.CutPrefix(t.Name, classParamPrefix); ok {
		if _, err := ParseID(idStr); err == nil {
			want = m.cfg.Dim
		}
	}
	if want < 0 {
		return fmt.Errorf("%w: unknown tensor %q", ErrIncompatible, t.Name)
	}
	if len(t.Data) != want {
		return fmt.Errorf("%w: tensor %q has %d values, want %d", ErrIncompatible, t.Name, len(t.Data), want)
	}
	return nil
}

// ApplyMerged implements Method: base += merged, weights += merged - own
// export (if included); selector statistics are added exactly. Optimizer
// moments stay local. Everything is checked before anything changes.
func (m *MoE) ApplyMerged(d *Delta) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	included, err := m.sync.checkMerged(d, m.Name(), m.cfg.Dim, m.cfg.ModelID)
	if err != nil {
		return err
	}
	byName := map[string]*param{}
	for _, p := range m.params() {
		byName[p.name] = p
	}
	for _, t := range d.Tensors {
		if err := m.checkTensor(t, byName); err != nil {
			return err
		}
	}
	cs, err := newChunkSet(d.Classes, m.cfg.Dim)
	if err != nil {
		return err
	}
	selMerged, err := m.sel.decodeMerged(cs)
	if err != nil {
		return err
	}
	if err := cs.unclaimed(); err != nil {
		return err
	}
	if err := m.labels.Ensure(d.Labels); err != nil {
		return err
	}
	merged := map[string][]float32{}
	for _, t := range d.Tensors {
		if byName[t.Name] == nil {
			p, err := m.newTensorParam(t)
			if err != nil {
				return err // unreachable: checkTensor accepted the name
			}
			if idStr, ok := strings.CutPrefix(t.Name, classParamPrefix); ok {
				id, _ := ParseID(idStr)
				if _, known := m.labels.Current().Index(id); !known {
					if err := m.labels.AddID(id, ""); err != nil {
						return err
					}
				}
			}
			byName[t.Name] = p
		}
		merged[t.Name] = t.Data
	}
	// w = base + local, with local = (w − base) − export: computed in this
	// order, local is exactly zero when nothing was learned since the
	// export, so the next delta is empty rather than rounding noise.
	for name, p := range byName {
		b, exp, add := m.base[name], m.exported[name], merged[name]
		if !included {
			exp = nil
		}
		if add == nil && exp == nil {
			continue
		}
		if b == nil {
			b = make([]float32, len(p.w))
			m.base[name] = b
		}
		for i := range p.w {
			local := p.w[i] - b[i]
			if exp != nil {
				local -= exp[i]
			}
			if add != nil {
				b[i] += add[i]
			}
			p.w[i] = b[i] + local
		}
	}
	if included {
		m.sinceBase -= m.exportedEx
	}
	m.sel.applyMerged(selMerged, included)
	m.exported, m.exportedEx = nil, 0
	m.sync.version, m.sync.exportID = d.Version, 0
	return nil
}
