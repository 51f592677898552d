package eval_test

import (
	"os"

	"github.com/clipfleet/clipfleet/eval"
)

func ExampleWriteMarkdown() {
	bwt, transfer := -10.0, 25.0
	res := &eval.Result{Method: "ncm", Avg: 60, Last: 70, BWT: &bwt, Transfer: &transfer,
		Tasks:  []string{"night", "fog"},
		Matrix: [][]float64{{80, 25}, {70, 70}}}
	_ = eval.WriteMarkdown(os.Stdout, []*eval.Result{res})
	// Output:
	// | method | avg | last | bwt | transfer | zero-shot retention | learn s | memory KiB |
	// |---|---:|---:|---:|---:|---:|---:|---:|
	// | ncm | 60.0 | 70.0 | -10.0 | +25.0 | +0.0 | 0.00 | 0.0 |
	//
	// **ncm** — accuracy (%) on task j (columns) after learning task i (rows)
	//
	// | after \ on | night | fog |
	// |---|---:|---:|
	// | night | 80.0 | 25.0 |
	// | fog | 70.0 | 70.0 |
}
