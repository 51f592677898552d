package learner

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

func newTestCLLCLIP(t testing.TB, l *Labels, o CLLCLIPOptions) *CLLCLIP {
	t.Helper()
	m, err := NewCLLCLIP(testCfg("cllclip", l.Dim()), o, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// polyglot is a synthetic multilingual world: concepts with English labels
// whose text embedding is the concept's centre (CLIP knows English), and
// the same concepts named in Spanish and Chinese, whose text embeddings
// are unrelated noise (the English text encoder does not know the words).
type polyglot struct {
	labels       *Labels
	en, es, zh   []ID
	train, test  [][][]float32 // per concept
	enIx, esIx   []int
	zhIx         []int
	conceptOfIdx map[int]int // label index → concept
}

func newPolyglot(t testing.TB, seed uint64, dim int) *polyglot {
	t.Helper()
	en := []string{"triangle", "square", "circle", "star", "hexagon"}
	es := []string{"triángulo", "cuadrado", "círculo", "estrella", "hexágono"}
	zh := []string{"三角形", "正方形", "圆形", "星形", "六边形"}
	rng := rand.New(rand.NewPCG(seed, 5))
	data := SyntheticClasses(rng, dim, len(en), 16, 0.6)
	p := &polyglot{labels: NewLabels(dim), conceptOfIdx: map[int]int{}}
	add := func(name string, text []float32, c int) (ID, int) {
		id, err := p.labels.Add(name)
		if err == nil {
			err = p.labels.SetText(id, text)
		}
		if err != nil {
			t.Fatal(err)
		}
		i, _ := p.labels.Current().Index(id)
		p.conceptOfIdx[i] = c
		return id, i
	}
	for c := range en {
		id, i := add(en[c], data[c].Center, c)
		p.en, p.enIx = append(p.en, id), append(p.enIx, i)
		p.train = append(p.train, data[c].Examples[:8])
		p.test = append(p.test, data[c].Examples[8:])
	}
	for c := range es {
		id, i := add(es[c], randUnit(rng, dim), c)
		p.es, p.esIx = append(p.es, id), append(p.esIx, i)
		id, i = add(zh[c], randUnit(rng, dim), c)
		p.zh, p.zhIx = append(p.zh, id), append(p.zhIx, i)
	}
	return p
}

// accuracyAmong is the share of test images whose highest logit among the
// label indices idx belongs to the image's concept.
func (p *polyglot) accuracyAmong(t testing.TB, m Method, idx []int) float64 {
	t.Helper()
	correct, total := 0, 0
	for c, xs := range p.test {
		for _, x := range xs {
			l, err := m.Predict(x, nil)
			if err != nil {
				t.Fatal(err)
			}
			best := idx[0]
			for _, i := range idx {
				if l[i] > l[best] {
					best = i
				}
			}
			if p.conceptOfIdx[best] == c {
				correct++
			}
			total++
		}
	}
	return float64(correct) / float64(total)
}

// TestCLLCLIPLearnsNewLanguages: Spanish and Chinese labels with useless
// text embeddings are taught a few images each (one label per teach
// action); afterwards they classify held-out images as well as English
// does, their vectors point at the right English concept, and the English
// labels' logits have not moved by a single bit.
func TestCLLCLIPLearnsNewLanguages(t *testing.T) {
	p := newPolyglot(t, 41, 32)
	m := newTestCLLCLIP(t, p.labels, DefaultCLLCLIPOptions())
	enLogits := func() [][]float32 {
		var out [][]float32
		for _, xs := range p.test {
			for _, x := range xs {
				l, _ := m.Predict(x, nil)
				row := make([]float32, len(p.enIx))
				for k, i := range p.enIx {
					row[k] = l[i]
				}
				out = append(out, row)
			}
		}
		return out
	}
	enBefore := enLogits()
	enAcc := p.accuracyAmong(t, m, p.enIx)
	esBefore, zhBefore := p.accuracyAmong(t, m, p.esIx), p.accuracyAmong(t, m, p.zhIx)
	if enAcc < 0.95 || esBefore > 0.5 || zhBefore > 0.5 {
		t.Fatalf("world: English %.2f, Spanish %.2f, Chinese %.2f before learning", enAcc, esBefore, zhBefore)
	}
	for range 3 {
		for c := range p.train {
			for _, ids := range [][]ID{p.es, p.zh} {
				var batch []Example
				for _, x := range p.train[c] {
					batch = append(batch, Example{Emb: x, Label: ids[c]})
				}
				mustLearn(t, m, batch)
			}
		}
	}
	es, zh := p.accuracyAmong(t, m, p.esIx), p.accuracyAmong(t, m, p.zhIx)
	t.Logf("accuracy among Spanish labels %.2f → %.2f, Chinese %.2f → %.2f, English %.2f", esBefore, es, zhBefore, zh, enAcc)
	if es < 0.9 || zh < 0.9 {
		t.Errorf("new-language accuracy Spanish %.2f Chinese %.2f, want >= 0.9", es, zh)
	}
	if d := maxAbsDiff(enLogits(), enBefore); d != 0 {
		t.Errorf("English logits moved by %v", d)
	}
	if got := p.accuracyAmong(t, m, p.enIx); got != enAcc {
		t.Errorf("English accuracy %v → %v", enAcc, got)
	}
	s := p.labels.Current()
	names := slices.Concat(p.esIx, p.zhIx)
	for c, id := range slices.Concat(p.es, p.zh) {
		if !m.Expanded(id) {
			t.Errorf("%s not expanded", s.Name(names[c]))
		}
		v := m.vec[id].w
		best, bv := -1, math.Inf(-1)
		for k, i := range p.enIx {
			if cv := float64(dot(v, s.Text(i))) / norm(v); cv > bv {
				best, bv = k, cv
			}
		}
		if best != c%len(p.en) {
			t.Errorf("%s's vector is closest to %q", s.Name(names[c]), s.Name(p.enIx[best]))
		}
	}
	for _, id := range p.en {
		if m.Expanded(id) {
			t.Errorf("English label %v was expanded", id)
		}
	}
}

func TestCLLCLIPExpansionPolicy(t *testing.T) {
	p := newPolyglot(t, 42, 16)
	u, _ := p.labels.AddUnnamed()
	s := p.labels.Current()
	sq := s.Name(p.esIx[1]) // "cuadrado": ASCII, but its text does not pick square images
	if sq != "cuadrado" {
		t.Fatalf("fixture order: %q", sq)
	}
	tests := []struct {
		policy string
		want   []ID
	}{
		{ExpandAuto, []ID{p.es[0], p.es[1], p.zh[0], u}},
		{ExpandUntexted, []ID{u}},
		{ExpandManual, []ID{u}},
	}
	for _, tc := range tests {
		o := DefaultCLLCLIPOptions()
		o.Expand = tc.policy
		m := newTestCLLCLIP(t, p.labels, o)
		batch := []Example{
			{Emb: p.train[0][0], Label: p.en[0]}, {Emb: p.train[0][1], Label: p.es[0]},
			{Emb: p.train[1][0], Label: p.es[1]}, {Emb: p.train[0][2], Label: p.zh[0]},
			{Emb: p.train[2][0], Label: u},
		}
		mustLearn(t, m, batch)
		var got []ID
		for _, e := range batch {
			if m.Expanded(e.Label) {
				got = append(got, e.Label)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: expanded %v, want %v", tc.policy, got, tc.want)
		}
	}
	m := newTestCLLCLIP(t, p.labels, CLLCLIPOptions{Expand: ExpandManual, LR: 1, Steps: 1})
	if err := m.Expand(p.en[2]); err != nil || !m.Expanded(p.en[2]) {
		t.Errorf("manual Expand: %v", err)
	}
	if err := m.Expand(IDFor("nobody")); !errors.Is(err, ErrUnknownLabel) {
		t.Errorf("Expand of an unknown label: %v", err)
	}
}

// TestCLLCLIPInitMatchesVocabulary: TEIR's initialisation — a new vector
// is μ + σ⊙z with μ, σ the frozen vocabulary's per-dimension mean and
// spread, so across many new labels the vectors' per-dimension statistics
// match the vocabulary's.
func TestCLLCLIPInitMatchesVocabulary(t *testing.T) {
	const dim, frozen, fresh = 8, 400, 400
	rng := rand.New(rand.NewPCG(7, 7))
	l := NewLabels(dim)
	// A vocabulary far from zero-mean and isotropic, like CLIP's text
	// embeddings (they share a common direction).
	common := []float32{3, -2, 1, 0, 0, 0.5, 0, 1}
	for i := range frozen {
		v := make([]float32, dim)
		for q := range v {
			v[q] = common[q] + float32(rng.NormFloat64())*float32(q+1)*0.3
		}
		id, _ := l.Add("word " + strconv.Itoa(i))
		_ = l.SetText(id, v)
	}
	mean, std := colStats(l.Current(), 1, frozen+1)
	m := newTestCLLCLIP(t, l, CLLCLIPOptions{Expand: ExpandManual, LR: 1, Steps: 1})

	// A label with (unrelated) text: exactly μ + σ⊙standardize(text).
	first, _ := l.Add("palabra")
	_ = l.SetText(first, randUnit(rng, dim))
	if err := m.Expand(first); err != nil {
		t.Fatal(err)
	}
	z := make([]float64, dim)
	i0, _ := l.Current().Index(first)
	standardize(z, l.Current().Text(i0))
	for q := range dim {
		if want := mean[q] + std[q]*z[q]; math.Abs(float64(m.vec[first].w[q])-want) > 1e-4 {
			t.Errorf("dim %d: vector %v, want μ+σz = %v", q, m.vec[first].w[q], want)
		}
	}

	// Many labels without text (a seeded normal draw each): their
	// per-dimension statistics are the vocabulary's.
	var vecs [][]float32
	for range fresh {
		id, _ := l.AddUnnamed()
		if err := m.Expand(id); err != nil {
			t.Fatal(err)
		}
		vecs = append(vecs, m.vec[id].w)
	}
	gm, gs := colStatsOf(vecs)
	for q := range dim {
		if math.Abs(gm[q]-mean[q]) > 4*std[q]/math.Sqrt(fresh) || math.Abs(gs[q]/std[q]-1) > 0.2 {
			t.Errorf("dim %d: new vectors mean %.3f std %.3f, vocabulary %.3f %.3f", q, gm[q], gs[q], mean[q], std[q])
		}
	}
}

func colStats(s *LabelSet, from, to int) ([]float64, []float64) {
	var rows [][]float32
	for i := from; i < to; i++ {
		rows = append(rows, s.Text(i))
	}
	return colStatsOf(rows)
}

func colStatsOf(rows [][]float32) ([]float64, []float64) {
	d := len(rows[0])
	mean, std := make([]float64, d), make([]float64, d)
	for _, r := range rows {
		for q, x := range r {
			mean[q] += float64(x) / float64(len(rows))
		}
	}
	for _, r := range rows {
		for q, x := range r {
			std[q] += (float64(x) - mean[q]) * (float64(x) - mean[q]) / float64(len(rows)-1)
		}
	}
	for q := range std {
		std[q] = math.Sqrt(std[q])
	}
	return mean, std
}

// TestCLLCLIPStepScalesWithFrequency: two vectors in the same geometry,
// one trained from 4 examples' weight and one from 100, take steps in the
// ratio √(100/4) = 5.
func TestCLLCLIPStepScalesWithFrequency(t *testing.T) {
	l := NewLabels(2)
	a, _ := l.Add("a")
	b, _ := l.Add("b")
	m := newTestCLLCLIP(t, l, CLLCLIPOptions{Expand: ExpandManual, LR: 0.1, Steps: 1})
	for _, id := range []ID{a, b} {
		if err := m.Expand(id); err != nil {
			t.Fatal(err)
		}
	}
	m.vec[a].w, m.vec[a].freq = []float32{1, 0.2}, 4
	m.vec[b].w, m.vec[b].freq = []float32{0.2, 1}, 100
	before := [][]float32{append([]float32(nil), m.vec[a].w...), append([]float32(nil), m.vec[b].w...)}
	// Mirror-image examples so both gradients have the same size.
	batch := []Example{{Emb: []float32{0.6, 0.8}, Label: a}, {Emb: []float32{0.8, 0.6}, Label: b}}
	m.lossAndGrad(batch, l.Current())
	ga, gb := norm(m.vec[a].g), norm(m.vec[b].g)
	m.step()
	da := math.Hypot(float64(m.vec[a].w[0]-before[0][0]), float64(m.vec[a].w[1]-before[0][1]))
	db := math.Hypot(float64(m.vec[b].w[0]-before[1][0]), float64(m.vec[b].w[1]-before[1][1]))
	if math.Abs(ga-gb) > 1e-4*ga || ga == 0 {
		t.Fatalf("fixture gradients differ: %v %v", ga, gb)
	}
	if r := da / db; math.Abs(r-5) > 1e-3 {
		t.Errorf("step ratio rare/frequent = %v, want 5", r)
	}
}

// TestCLLCLIPGradient checks the vectors' gradient against finite
// differences of the loss.
func TestCLLCLIPGradient(t *testing.T) {
	p := newPolyglot(t, 43, 6)
	m := newTestCLLCLIP(t, p.labels, DefaultCLLCLIPOptions())
	m.cfg.LogitScale = 4
	batch := []Example{{Emb: p.train[0][0], Label: p.es[0]}, {Emb: p.train[1][0], Label: p.zh[1], Weight: 2},
		{Emb: p.train[2][0], Label: p.en[2]}}
	for _, id := range []ID{p.es[0], p.zh[1], p.es[3]} {
		if err := m.Expand(id); err != nil {
			t.Fatal(err)
		}
	}
	s := p.labels.Current()
	m.lossAndGrad(batch, s)
	for id, v := range m.vec {
		g := append([]float32(nil), v.g...)
		for q := range v.w {
			num := numericGrad(v.w, q, func() float64 { return m.lossAndGrad(batch, s) })
			if gradMismatch(float64(g[q]), num) {
				t.Errorf("%v[%d]: analytic %v, numeric %v", id, q, g[q], num)
			}
		}
	}
}

// TestCLLCLIPFleetShares: one device learns Spanish, the other Chinese;
// after a round both read both languages, and agree.
func TestCLLCLIPFleetShares(t *testing.T) {
	p := newPolyglot(t, 44, 32)
	b, err := p.labels.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	dev := func() (*CLLCLIP, *Labels) {
		l := NewLabels(32)
		if err := l.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		return newTestCLLCLIP(t, l, DefaultCLLCLIPOptions()), l
	}
	x, _ := dev()
	y, _ := dev()
	for range 3 {
		for c := range p.train {
			var bes, bzh []Example
			for _, e := range p.train[c] {
				bes = append(bes, Example{Emb: e, Label: p.es[c]})
				bzh = append(bzh, Example{Emb: e, Label: p.zh[c]})
			}
			mustLearn(t, x, bes)
			mustLearn(t, y, bzh)
		}
	}
	syncRound(t, 1, x, y)
	for name, m := range map[string]*CLLCLIP{"x": x, "y": y} {
		if es, zh := p.accuracyAmong(t, m, p.esIx), p.accuracyAmong(t, m, p.zhIx); es < 0.9 || zh < 0.9 {
			t.Errorf("device %s after merge: Spanish %.2f Chinese %.2f", name, es, zh)
		}
	}
	var all [][]float32
	for _, xs := range p.test {
		all = append(all, xs...)
	}
	if d := maxAbsDiff(predictAll(t, x, all), predictAll(t, y, all)); d > 1e-3 {
		t.Errorf("devices disagree by %v", d)
	}
}

func TestCLLCLIPOptionsValidate(t *testing.T) {
	tests := []struct {
		o  CLLCLIPOptions
		ok bool
	}{
		{DefaultCLLCLIPOptions(), true},
		{CLLCLIPOptions{Expand: ExpandManual, LR: 0.1, Steps: 1}, true},
		{CLLCLIPOptions{Expand: "sometimes", LR: 0.1, Steps: 1}, false},
		{CLLCLIPOptions{Expand: ExpandAuto, LR: 0, Steps: 1}, false},
		{CLLCLIPOptions{Expand: ExpandAuto, LR: 0.1, Steps: 0}, false},
	}
	for _, tc := range tests {
		err := tc.o.Validate()
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
			t.Errorf("%+v: Validate = %v", tc.o, err)
		}
	}
}
