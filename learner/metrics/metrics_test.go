package metrics

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

func TestScores(t *testing.T) {
	tests := []struct {
		name string
		m    Matrix
		want Summary // expected values computed by hand below
	}{
		{
			// Avg  = (0.9+0.5+0.4 + 0.7+0.8+0.5 + 0.6+0.7+0.9)/9 = 6.0/9 = 0.666…
			// Last = (0.6+0.7+0.9)/3 = 0.7333…
			// Transfer: task1 col above diag {0.5} → 0.5; task2 {0.4,0.5} → 0.45;
			//           mean (0.5+0.45)/2 = 0.475
			// BWT  = ((0.6-0.9) + (0.7-0.8))/2 = (-0.3-0.1)/2 = -0.2
			// Forgetting: task0 best of {0.9,0.7} = 0.9 → 0.9-0.6 = 0.3;
			//             task1 best of {0.8} → 0.8-0.7 = 0.1; mean 0.2
			name: "3 tasks with forgetting",
			m: Matrix{
				{0.9, 0.5, 0.4},
				{0.7, 0.8, 0.5},
				{0.6, 0.7, 0.9},
			},
			want: Summary{Tasks: 3, Avg: 6.0 / 9, Last: 2.2 / 3, Transfer: 0.475, BWT: -0.2, Forgetting: 0.2},
		},
		{
			// No forgetting, accuracy improves later: BWT positive, forgetting 0.
			// Avg = (0.5+0.2 + 0.8+0.6)/4 = 2.1/4 = 0.525; Last = 0.7;
			// Transfer = A[0][1] = 0.2; BWT = 0.8-0.5 = 0.3;
			// Forgetting = max{0.5} - 0.8 = -0.3
			name: "2 tasks improving",
			m:    Matrix{{0.5, 0.2}, {0.8, 0.6}},
			want: Summary{Tasks: 2, Avg: 0.525, Last: 0.7, Transfer: 0.2, BWT: 0.3, Forgetting: -0.3},
		},
		{
			// 4 tasks, percent units. Transfer: col1 {10} → 10; col2 {20,30} → 25;
			// col3 {40,50,60} → 50; mean (10+25+50)/3 = 28.333…
			// BWT = ((70-90)+(80-85)+(75-95))/3 = (-20-5-20)/3 = -15
			// Forgetting: best over rows 0..2 minus the final row 3:
			//   task0 max{90,88,70}=90 → 90-70 = 20; task1 max{85,82}=85 → 85-80 = 5;
			//   task2 max{95}=95 → 95-75 = 20; mean (20+5+20)/3 = 15
			// Last = (70+80+75+92)/4 = 79.25
			// Avg = sum/16: row0 90+10+20+40=160, row1 88+85+30+50=253,
			//       row2 70+82+95+60=307, row3 70+80+75+92=317 → 1037/16 = 64.8125
			name: "4 tasks in percent",
			m: Matrix{
				{90, 10, 20, 40},
				{88, 85, 30, 50},
				{70, 82, 95, 60},
				{70, 80, 75, 92},
			},
			want: Summary{Tasks: 4, Avg: 64.8125, Last: 79.25, Transfer: 85.0 / 3, BWT: -15, Forgetting: 15},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Summarize(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			check := func(field string, g, w float64) {
				if math.Abs(g-w) > 1e-9 {
					t.Errorf("%s = %v, want %v", field, g, w)
				}
			}
			if got.Tasks != tc.want.Tasks {
				t.Errorf("Tasks = %d", got.Tasks)
			}
			check("Avg", got.Avg, tc.want.Avg)
			check("Last", got.Last, tc.want.Last)
			check("Transfer", got.Transfer, tc.want.Transfer)
			check("BWT", got.BWT, tc.want.BWT)
			check("Forgetting", got.Forgetting, tc.want.Forgetting)
		})
	}
}

func TestSingleTask(t *testing.T) {
	m := Matrix{{0.8}}
	s, err := Summarize(m)
	if err != nil {
		t.Fatal(err)
	}
	if s.Avg != 0.8 || s.Last != 0.8 || !math.IsNaN(s.BWT) || !math.IsNaN(s.Transfer) || !math.IsNaN(s.Forgetting) {
		t.Errorf("single task summary %+v", s)
	}
	if _, err := BWT(m); !errors.Is(err, ErrTooFewTasks) {
		t.Errorf("BWT(1 task) = %v", err)
	}
}

func TestInvalidMatrices(t *testing.T) {
	for _, m := range []Matrix{nil, {{1, 2}}, {{1, 2}, {3}}, {{math.NaN()}}} {
		if _, err := Summarize(m); err == nil {
			t.Errorf("Summarize(%v) accepted", m)
		}
		if _, err := Avg(m); err == nil {
			t.Errorf("Avg(%v) accepted", m)
		}
	}
}

func ExampleSummarize() {
	s, _ := Summarize(Matrix{
		{0.9, 0.5},
		{0.7, 0.8},
	})
	fmt.Printf("Avg %.3f Last %.2f Transfer %.2f BWT %.2f\n", s.Avg, s.Last, s.Transfer, s.BWT)
	// Output: Avg 0.725 Last 0.75 Transfer 0.50 BWT -0.20
}
