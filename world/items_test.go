package world

import (
	"reflect"
	"testing"
)

func mustScenario(t *testing.T, src string) *Scenario {
	t.Helper()
	s, err := ParseScenario([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestItemsDeterministicAndSeekable(t *testing.T) {
	s := mustScenario(t, "name: d\ntasks:\n  - {name: a, objects: 3, train: 40, test: 20}\n")
	a, _ := s.Items("a", TrainSplit)
	b, _ := s.Items("a", TrainSplit)
	for _, i := range []int{17, 3, 39, 0} {
		if x, y := a.Sample(i), b.Sample(i); !reflect.DeepEqual(x, y) {
			t.Fatalf("sample %d differs between two Items of the same split", i)
		}
	}
	test, _ := s.Items("a", TestSplit)
	if reflect.DeepEqual(a.Sample(0).Scene, test.Sample(0).Scene) {
		t.Error("train and test splits start with the same picture")
	}
	// A different scenario seed changes the pictures.
	s2 := mustScenario(t, "name: d\nseed: 9\ntasks:\n  - {name: a, objects: 3, train: 40, test: 20}\n")
	c, _ := s2.Items("a", TrainSplit)
	if reflect.DeepEqual(a.Sample(0).Scene, c.Sample(0).Scene) {
		t.Error("scenario seed does not change the pictures")
	}
}

func TestItemsBalancedAndLabelled(t *testing.T) {
	s := mustScenario(t, "name: d\ntasks:\n  - {name: a, objects: 3, shapes: [circle, star, heart], train: 30, test: 9}\n")
	it, _ := s.Items("a", TrainSplit)
	classes := it.Classes()
	counts := make([]int, len(classes))
	for i := 0; i < it.N; i++ {
		smp := it.Sample(i)
		counts[smp.Class]++
		if smp.Label != classes[smp.Class].Label {
			t.Fatalf("sample %d label %q, class %d is %q", i, smp.Label, smp.Class, classes[smp.Class].Label)
		}
		subj := smp.Scene.Objects[0]
		if subj.Shape != Shape(classes[smp.Class].Shape) {
			t.Fatalf("sample %d: subject is a %v, label says %s", i, subj.Shape, smp.Label)
		}
		for _, o := range smp.Scene.Objects[1:] {
			if o.Shape == subj.Shape {
				t.Fatalf("sample %d: distractor shares the subject's shape %v", i, o.Shape)
			}
			if o.Radius >= subj.Radius {
				t.Fatalf("sample %d: distractor radius %.3f not smaller than subject's %.3f", i, o.Radius, subj.Radius)
			}
		}
	}
	for c, n := range counts {
		if n != it.N/len(classes) {
			t.Errorf("class %s shown %d times in %d samples, want %d", classes[c].Label, n, it.N, it.N/len(classes))
		}
	}
}

func TestItemsPairsFilter(t *testing.T) {
	s := mustScenario(t, `name: d
tasks:
  - {name: a, train: 1, test: 1}
zero_shot:
  - {name: held, label: colour_shape, pairs: heldout, n: 64}
  - {name: capt, label: shape, pairs: captioned, n: 64}
`)
	held, _ := s.Items("held", TestSplit)
	if got, want := len(held.Classes()), len(NamedShapes())*int(numColours); got != want {
		t.Errorf("held-out set has %d classes, want every named pair (%d)", got, want)
	}
	seen := map[Pair]bool{}
	for i := 0; i < held.N; i++ {
		p := held.Sample(i).Scene.Objects[0].Pair()
		if !p.HeldOut() {
			t.Fatalf("held-out set shows %v", p)
		}
		seen[p] = true
	}
	if len(seen) != len(HeldOutPairs()) {
		t.Errorf("held-out set showed %d of %d held-out pairs", len(seen), len(HeldOutPairs()))
	}
	capt, _ := s.Items("capt", TestSplit)
	for i := 0; i < capt.N; i++ {
		if p := capt.Sample(i).Scene.Objects[0].Pair(); !p.Captioned() {
			t.Fatalf("captioned set shows %v", p)
		}
	}
	if _, err := s.Items("held", TrainSplit); err == nil {
		t.Error("zero-shot set has a train split")
	}
	if _, err := s.Items("nosuch", TestSplit); err == nil {
		t.Error("unknown set name accepted")
	}
}

func TestItemsDaysAdvance(t *testing.T) {
	s := mustScenario(t, "name: d\ntasks:\n  - {name: a, days: {from: 100, to: 500}, train: 5, test: 2}\n")
	it, _ := s.Items("a", TrainSplit)
	want := []int{100, 200, 300, 400, 500}
	for i, d := range want {
		if got := it.Sample(i).Scene.Day; got != d {
			t.Errorf("sample %d day %d, want %d", i, got, d)
		}
	}
}

func TestItemsLanguages(t *testing.T) {
	s := mustScenario(t, "name: d\ntasks:\n  - {name: es, language: es, shapes: [triangle, heart], train: 2, test: 2}\n  - {name: zh, language: zh, shapes: [triangle, heart], train: 2, test: 2}\n")
	for name, want := range map[string][]string{"es": {"triángulo", "corazón"}, "zh": {"三角形", "心形"}} {
		it, _ := s.Items(name, TestSplit)
		var got []string
		for _, c := range it.Classes() {
			got = append(got, c.Label)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s labels %q, want %q", name, got, want)
		}
	}
}

func TestStream(t *testing.T) {
	s, err := Builtin("default")
	if err != nil {
		t.Fatal(err)
	}
	st, err := NewStream(s, Config{Scenario: "default", Split: TestSplit})
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, task := range s.Tasks {
		total += uint64(task.Test)
	}
	if st.Len() != total {
		t.Fatalf("stream length %d, want the sum of test sizes %d", st.Len(), total)
	}
	// Frame boundaries: the first frame of the second task, and looping.
	first := s.Tasks[0].Test
	if got := st.Sample(uint64(first)).Set; got != s.Tasks[1].Name {
		t.Errorf("frame %d is from %q, want %q", first, got, s.Tasks[1].Name)
	}
	if a, b := st.Sample(5), st.Sample(5+total); !reflect.DeepEqual(a, b) {
		t.Error("stream does not loop after Len frames")
	}
	one, err := NewStream(s, Config{Scenario: "default", Task: "fog", Split: TrainSplit})
	if err != nil {
		t.Fatal(err)
	}
	if smp := one.Sample(3); smp.Set != "fog" || smp.Scene.Domain != Fog {
		t.Errorf("fog stream frame is %s/%v", smp.Set, smp.Scene.Domain)
	}
	if one.Name() != "world:default/fog/train" {
		t.Errorf("name %q", one.Name())
	}
	if _, err := NewStream(s, Config{Scenario: "default", Task: "nosuch"}); err == nil {
		t.Error("unknown task accepted")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("default config: %v", err)
	}
	for _, c := range []Config{{Split: TrainSplit}, {Scenario: "default", Split: "val"}, {Scenario: "default"}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestOpenStreamRendersConcurrently(t *testing.T) {
	st, err := OpenStream(Config{Scenario: "default", Task: "night", Split: TestSplit})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 64*48*3)
	if _, err := st.Render(7, 64, 48, want); err != nil {
		t.Fatal(err)
	}
	done := make(chan []byte)
	for g := 0; g < 4; g++ {
		go func() {
			b := make([]byte, 64*48*3)
			st.Render(7, 64, 48, b)
			done <- b
		}()
	}
	for g := 0; g < 4; g++ {
		if b := <-done; !reflect.DeepEqual(b, want) {
			t.Error("concurrent render of the same frame differs")
		}
	}
}
