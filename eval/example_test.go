package eval_test

import (
	"os"

	"github.com/clipfleet/clipfleet/eval"
)

func ExampleWriteMarkdown() {
	bwt, transfer, nn := -10.0, 25.0, 90.0
	res := &eval.Result{Method: "ncm", Avg: 60, Last: 70, BWT: &bwt, Transfer: &transfer,
		Tasks:      []string{"night", "fog"},
		Matrix:     [][]float64{{80, 25}, {70, 70}},
		NeverNamed: &nn, UpdateMicros: 12.5}
	_ = eval.WriteMarkdown(os.Stdout, []*eval.Result{res})
	// Output:
	// | method | Transfer | Avg | Last | BWT | held-out zero-shot retention | never-named 10-shot | update µs/example | memory KiB |
	// |---|---:|---:|---:|---:|---:|---:|---:|---:|
	// | ncm | +25.0 | 60.0 | 70.0 | -10.0 | +0.0 | 90.0 | 12.5 | 0.0 |
	//
	// **ncm** — accuracy (%) on task j (columns) after learning task i (rows)
	//
	// | after \ on | night | fog |
	// |---|---:|---:|
	// | night | 80.0 | 25.0 |
	// | fog | 70.0 | 70.0 |
}
