package world_test

import (
	"fmt"

	"github.com/clipfleet/clipfleet/world"
)

func ExampleNewScene() {
	s := world.NewScene(42, world.SceneSpec{
		Domain: world.Night,
		Pairs:  []world.Pair{{Colour: world.Red, Shape: world.Star}},
		Layout: world.Subject,
	})
	rgb, err := world.RenderRGB(&s, 224, 224)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(rgb), s.Objects[0].Pair())
	// Output: 150528 red star
}

func ExampleParseScenario() {
	s, err := world.ParseScenario([]byte(`
name: tiny
tasks:
  - name: night
    domain: night
    shapes: [circle, star]
    train: 4
    test: 2
    seed: 9
`))
	if err != nil {
		panic(err)
	}
	it, _ := s.Items("night", world.TrainSplit)
	for i := 0; i < it.N; i++ {
		smp := it.Sample(i)
		fmt.Println(smp.Index, smp.Label, smp.Scene.Domain)
	}
	_, err = world.ParseScenario([]byte("name: x\ntasks:\n  - {name: a, domian: night, train: 1, test: 1}\n"))
	fmt.Println(err)
	// Output:
	// 0 circle night
	// 1 star night
	// 2 circle night
	// 3 star night
	// world: invalid scenario: tasks[0].domian: unknown key (line 3); known keys: colours, days, domain, kind, label, language, name, objects, pairs, seed, shapes, test, train
}

func ExampleStream() {
	st, err := world.OpenStream(world.Config{Scenario: "default", Task: "new-shapes", Split: world.TestSplit})
	if err != nil {
		panic(err)
	}
	frame := make([]byte, 640*480*3)
	smp, err := st.Render(0, 640, 480, frame)
	if err != nil {
		panic(err)
	}
	fmt.Println(st.Name(), st.Len(), smp.Set)
	// Output: world:default/new-shapes/test 90 new-shapes
}
