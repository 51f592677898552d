package world

import (
	"math"
	"testing"
)

// Every shape's distance function is 1-Lipschitz (the renderer classifies
// whole pixel blocks from one evaluation), contains its centre unless it is
// hollow, and fits (about) the unit radius the layout sizes objects by.
func TestShapeDistanceFunctions(t *testing.T) {
	hollow := map[Shape]bool{Ring: true, Frame: true, Crescent: true}
	for _, s := range Shapes() {
		if math.IsInf(s.sdf(vec{}), 0) {
			t.Fatalf("%v has no distance function", s)
		}
		if inside := s.sdf(vec{}) < 0; inside == hollow[s] {
			t.Errorf("%v: centre inside = %v", s, inside)
		}
		var area int
		const n = 120
		for i := 0; i <= n; i++ {
			for j := 0; j <= n; j++ {
				p := vec{-1.2 + 2.4*float64(i)/n, -1.2 + 2.4*float64(j)/n}
				d := s.sdf(p)
				if d < 0 {
					area++
					if p.length() > 1.06 {
						t.Fatalf("%v: point %v outside the unit radius is inside", s, p)
					}
				}
				q := vec{p.x + 0.013, p.y - 0.007}
				if diff := math.Abs(s.sdf(q) - d); diff > q.sub(p).length()+1e-9 {
					t.Fatalf("%v: |sdf(%v) - sdf(%v)| = %g exceeds their distance", s, q, p, diff)
				}
			}
		}
		// A shape covering under a twentieth of its square would render as a speck.
		if frac := float64(area) / float64((n+1)*(n+1)); frac < 0.05 {
			t.Errorf("%v covers %.2f of its square", s, frac)
		}
	}
}
