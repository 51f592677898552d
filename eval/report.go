package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the results as a JSON array, one object per method.
func WriteJSON(w io.Writer, results []*Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(results); err != nil {
		return fmt.Errorf("eval: writing JSON: %w", err)
	}
	return nil
}

// WriteMarkdown writes a summary table (one row per method) and each
// method's accuracy matrix. Columns: Transfer, Avg, Last, BWT (MTIL
// definitions, learner/metrics), held-out zero-shot retention (mean over
// the zero-shot sets of final minus initial accuracy, points), never-named
// few-shot accuracy, update cost (µs of learning per taught example, all
// passes included) and memory (the final state's footprint, KiB).
func WriteMarkdown(w io.Writer, results []*Result) error {
	var b strings.Builder
	b.WriteString("| method | Transfer | Avg | Last | BWT | held-out zero-shot retention | " + neverNamedHeader(results) + " | update µs/example | memory KiB |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		var mem int64
		if n := len(r.Footprint); n > 0 {
			mem = r.Footprint[n-1].Total
		}
		nn := "–"
		if r.NeverNamed != nil {
			nn = fmt.Sprintf("%.1f", *r.NeverNamed)
			if r.NeverNamedDraws > 1 && r.NeverNamedMin != nil && r.NeverNamedMax != nil {
				nn += fmt.Sprintf(" (%.1f–%.1f)", *r.NeverNamedMin, *r.NeverNamedMax)
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %.1f | %.1f | %s | %s | %s | %.1f | %.1f |\n", r.Method, opt(r.Transfer), r.Avg, r.Last,
			opt(r.BWT), signed(mean(r.Retention)), nn, r.UpdateMicros, float64(mem)/1024)
	}
	writePerClass(&b, results)
	for _, r := range results {
		fmt.Fprintf(&b, "\n**%s** — accuracy (%%) on task j (columns) after learning task i (rows)", r.Method)
		if r.OracleRoute {
			b.WriteString("; each task's test set scored with its own task route given")
		}
		b.WriteString("\n\n")
		b.WriteString("| after \\ on | " + strings.Join(r.Tasks, " | ") + " |\n|---|")
		b.WriteString(strings.Repeat("---:|", len(r.Tasks)) + "\n")
		if r.Initial != nil {
			b.WriteString("| (zero-shot) |")
			for _, v := range r.Initial {
				fmt.Fprintf(&b, " %.1f |", v)
			}
			b.WriteString("\n")
		}
		for i, row := range r.Matrix {
			fmt.Fprintf(&b, "| %s |", r.Tasks[i])
			for _, v := range row {
				fmt.Fprintf(&b, " %.1f |", v)
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// neverNamedHeader names the never-named column after the measurement:
// "never-named 10-shot", with "(+K views)" when views were taught and
// ", mean (min–max) of N draws" when averaged.
func neverNamedHeader(results []*Result) string {
	shots, views, draws := 10, 0, 0
	for _, r := range results {
		if r.NeverNamed != nil {
			if r.FewShot > 0 {
				shots = r.FewShot
			}
			views, draws = r.TeachViews, r.NeverNamedDraws
			break
		}
	}
	h := fmt.Sprintf("never-named %d-shot", shots)
	if views > 0 {
		h += fmt.Sprintf(" (+%d views)", views)
	}
	if draws > 1 {
		h += fmt.Sprintf(", mean (min–max) of %d draws", draws)
	}
	return h
}

// writePerClass writes each method's never-named accuracy per class (mean
// over the draws), the classes above 80%% (the goal) in bold.
func writePerClass(b *strings.Builder, results []*Result) {
	var classes []string
	for _, r := range results {
		if len(r.NeverNamedPerClass) > 0 {
			classes = r.NeverNamedClasses
			break
		}
	}
	if len(classes) == 0 {
		return
	}
	fmt.Fprintf(b, "\n**%s** — accuracy (%%) on each never-named class's test pictures (mean over the draws); bold: above 80%%\n\n", neverNamedHeader(results))
	b.WriteString("| method | " + strings.Join(classes, " | ") + " | classes above 80% |\n|---|")
	b.WriteString(strings.Repeat("---:|", len(classes)) + "---:|\n")
	for _, r := range results {
		if len(r.NeverNamedPerClass) != len(classes) {
			continue
		}
		above := 0
		fmt.Fprintf(b, "| %s |", r.Method)
		for _, v := range r.NeverNamedPerClass {
			if v > 80 {
				above++
				fmt.Fprintf(b, " **%.1f** |", v)
			} else {
				fmt.Fprintf(b, " %.1f |", v)
			}
		}
		fmt.Fprintf(b, " %d/%d |\n", above, len(classes))
	}
}

func opt(v *float64) string {
	if v == nil {
		return "–"
	}
	return signed(*v)
}

func signed(v float64) string { return fmt.Sprintf("%+.1f", v) }

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
