package eval

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
)

// Plot geometry, in pixels. The picture has no text: the heatmaps read
// left to right in the order of the results (rows: after task i, columns:
// on task j, dark = 0 %, yellow = 100 %), and the line plot below has
// ticks every 25 % on the y axis and one per point on the x axis.
const (
	plotCell  = 20
	plotPad   = 8
	plotLineH = 120
	plotMinW  = 256
)

// PlotSize is the size of the picture Plot draws for n results over t tasks.
func PlotSize(n, t int) (w, h int) {
	w = max(plotPad+n*(t*plotCell+plotPad), plotMinW)
	h = plotPad + t*plotCell + plotPad + plotLineH + plotPad
	return w, h
}

var palette = []color.RGBA{
	{230, 25, 75, 255}, {60, 180, 75, 255}, {0, 130, 200, 255}, {245, 130, 48, 255},
	{145, 30, 180, 255}, {70, 240, 240, 255}, {240, 50, 230, 255}, {128, 128, 0, 255},
	{0, 128, 128, 255}, {170, 110, 40, 255}, {128, 0, 0, 255}, {0, 0, 128, 255},
}

// heat maps an accuracy in percent to a dark-blue → green → yellow ramp.
func heat(v float64) color.RGBA {
	f := min(max(v/100, 0), 1)
	if f < 0.5 {
		g := f * 2
		return color.RGBA{uint8(20 + 10*g), uint8(20 + 140*g), uint8(90 + 40*g), 255}
	}
	g := (f - 0.5) * 2
	return color.RGBA{uint8(30 + 220*g), uint8(160 + 70*g), uint8(130 - 100*g), 255}
}

// Series is what the line plot shows for a result: the drift curve of its
// first drift task at the end of the scenario, or, without a drift task,
// the mean accuracy over all tasks after each task.
func Series(r *Result) []float64 {
	if len(r.Drift) > 0 {
		return r.Drift[0].Final
	}
	out := make([]float64, len(r.Matrix))
	for i, row := range r.Matrix {
		out[i] = mean(row)
	}
	return out
}

// Plot draws every result's accuracy matrix as a heatmap, side by side, and
// their accuracy-over-time series as lines below, and writes a PNG.
func Plot(w io.Writer, results []*Result) error {
	if len(results) == 0 {
		return fmt.Errorf("eval: nothing to plot")
	}
	t := len(results[0].Matrix)
	for _, r := range results {
		if len(r.Matrix) != t {
			return fmt.Errorf("eval: results have different task counts")
		}
	}
	W, H := PlotSize(len(results), t)
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	fill(img, img.Bounds(), color.RGBA{255, 255, 255, 255})
	for k, r := range results {
		x0 := plotPad + k*(t*plotCell+plotPad)
		for i, row := range r.Matrix {
			for j, v := range row {
				c := image.Rect(x0+j*plotCell, plotPad+i*plotCell, x0+(j+1)*plotCell, plotPad+(i+1)*plotCell)
				fill(img, c, heat(v))
			}
		}
		// A coloured bar under each heatmap ties it to its line.
		fill(img, image.Rect(x0, plotPad+t*plotCell+2, x0+t*plotCell, plotPad+t*plotCell+5), palette[k%len(palette)])
	}
	// Line plot frame.
	top := plotPad + t*plotCell + plotPad
	area := image.Rect(plotPad+6, top, W-plotPad, top+plotLineH)
	grey := color.RGBA{160, 160, 160, 255}
	line(img, area.Min.X, area.Max.Y-1, area.Max.X-1, area.Max.Y-1, grey)
	line(img, area.Min.X, area.Min.Y, area.Min.X, area.Max.Y-1, grey)
	y := func(v float64) int {
		return area.Max.Y - 1 - int(min(max(v, 0), 100)/100*float64(area.Dy()-1))
	}
	for p := 0; p <= 100; p += 25 {
		line(img, area.Min.X-5, y(float64(p)), area.Min.X-1, y(float64(p)), grey)
	}
	for k, r := range results {
		s := Series(r)
		if len(s) == 0 {
			continue
		}
		x := func(i int) int {
			if len(s) == 1 {
				return area.Min.X + area.Dx()/2
			}
			return area.Min.X + i*(area.Dx()-1)/(len(s)-1)
		}
		c := palette[k%len(palette)]
		for i := range s {
			if k == 0 {
				line(img, x(i), area.Max.Y, x(i), area.Max.Y+3, grey)
			}
			if i > 0 {
				line(img, x(i-1), y(s[i-1]), x(i), y(s[i]), c)
			}
			fill(img, image.Rect(x(i)-1, y(s[i])-1, x(i)+2, y(s[i])+2), c)
		}
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("eval: writing PNG: %w", err)
	}
	return nil
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for yy := r.Min.Y; yy < r.Max.Y; yy++ {
		for xx := r.Min.X; xx < r.Max.X; xx++ {
			img.SetRGBA(xx, yy, c)
		}
	}
}

// line draws with Bresenham's algorithm.
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	for {
		if (image.Point{x0, y0}).In(img.Bounds()) {
			img.SetRGBA(x0, y0, c)
		}
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
