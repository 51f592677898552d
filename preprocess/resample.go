package preprocess

// resampler holds the scratch memory of one two-pass resize so steady-state
// frames allocate nothing. Not safe for concurrent use.
type resampler struct {
	tmp []byte  // horizontal pass output, rows [vy.lo, vy.hi) of the window columns
	acc []int32 // one output row of vertical-pass accumulators
}

// window resizes the packed RGB image src (w×h) to ow×oh the way PIL's
// Image.resize(..., BICUBIC) does for an 8-bit RGB image, but writes only the
// nx×ny window at (x0, y0) of that result into dst (len nx*ny*3). hx and vy are
// the axis tables for that window, nil when the axis keeps its size (PIL skips
// the pass then; the identity kernel would give the same bytes anyway).
//
// Order and precision follow Resample.c: horizontal pass first, over just the
// input rows the vertical pass reads; each pass accumulates in int32 fixed
// point, rounds and clips to 8 bits before the next.
func (r *resampler) window(dst, src []byte, w int, hx, vy *axisTable, x0, y0, nx, ny int) {
	stride := w * 3
	rowBytes := nx * 3

	// Rows the vertical pass needs (or the crop rows when there is no vertical pass).
	r0, r1 := y0, y0+ny
	if vy != nil {
		r0, r1 = vy.lo(), vy.hi()
	}

	// mid/midStride/midOff describe the image the vertical pass reads: the
	// horizontal output, or the source itself when width is unchanged.
	mid, midStride, midOff := src[r0*stride:], stride, x0*3
	if hx != nil {
		r.tmp = grow(r.tmp, (r1-r0)*rowBytes)
		horizontal(r.tmp, rowBytes, src[r0*stride:r1*stride], stride, hx)
		mid, midStride, midOff = r.tmp, rowBytes, 0
	}

	if vy == nil {
		for y := 0; y < ny; y++ {
			copy(dst[y*rowBytes:(y+1)*rowBytes], mid[y*midStride+midOff:][:rowBytes])
		}
		return
	}
	r.acc = grow(r.acc, rowBytes)
	vertical(dst, mid, midStride, midOff, r0, vy, r.acc)
}

// horizontal resamples every row of src (rows of stride bytes) into dst rows
// of dstStride bytes, one output pixel per entry of t. Taps go four at a time
// (about a quarter faster than one at a time); the loops walk by reslicing,
// guarded by length checks the compiler uses to drop per-tap bounds checks.
func horizontal(dst []byte, dstStride int, src []byte, stride int, t *axisTable) {
	rows := len(src) / stride
	for y := 0; y < rows; y++ {
		srow := src[y*stride : (y+1)*stride]
		d := dst[y*dstStride : (y+1)*dstStride]
		for xx, k := range t.k {
			s := srow[t.start[xx]*3:]
			ss0, ss1, ss2 := roundHalf, roundHalf, roundHalf
			for len(k) >= 4 && len(s) >= 12 {
				k0, k1, k2, k3 := k[0], k[1], k[2], k[3]
				ss0 += int32(s[0])*k0 + int32(s[3])*k1 + int32(s[6])*k2 + int32(s[9])*k3
				ss1 += int32(s[1])*k0 + int32(s[4])*k1 + int32(s[7])*k2 + int32(s[10])*k3
				ss2 += int32(s[2])*k0 + int32(s[5])*k1 + int32(s[8])*k2 + int32(s[11])*k3
				s, k = s[12:], k[4:]
			}
			for _, kv := range k {
				if len(s) < 3 {
					break // unreachable: tables keep taps inside the row
				}
				ss0 += int32(s[0]) * kv
				ss1 += int32(s[1]) * kv
				ss2 += int32(s[2]) * kv
				s = s[3:]
			}
			if len(d) < 3 {
				break // unreachable: dst rows hold len(t.k) pixels
			}
			d[0], d[1], d[2] = clip8(ss0), clip8(ss1), clip8(ss2)
			d = d[3:]
		}
	}
}

// vertical resamples columns: output row yy mixes input rows
// t.start[yy]-base … of mid. Rows are accumulated whole into acc (sequential
// memory), four taps at a time to cut accumulator traffic; int32 addition is
// associative modulo 2^32, so the grouping cannot change the result.
func vertical(dst, mid []byte, midStride, midOff, base int, t *axisTable, acc []int32) {
	n := len(acc)
	for yy, k := range t.k {
		off := (t.start[yy]-base)*midStride + midOff
		for j := range acc {
			acc[j] = roundHalf
		}
		for len(k) >= 4 {
			a := mid[off : off+n]
			b := mid[off+midStride : off+midStride+n]
			c := mid[off+2*midStride : off+2*midStride+n]
			d := mid[off+3*midStride : off+3*midStride+n]
			ka, kb, kc, kd := k[0], k[1], k[2], k[3]
			acc := acc[:len(a)]
			b, c, d = b[:len(a)], c[:len(a)], d[:len(a)]
			for j := range a {
				acc[j] += int32(a[j])*ka + int32(b[j])*kb + int32(c[j])*kc + int32(d[j])*kd
			}
			k = k[4:]
			off += 4 * midStride
		}
		for _, kv := range k {
			a := mid[off : off+n]
			acc := acc[:len(a)]
			for j := range a {
				acc[j] += int32(a[j]) * kv
			}
			off += midStride
		}
		out := dst[yy*n : (yy+1)*n]
		out = out[:len(acc)]
		for j, v := range acc {
			out[j] = clip8(v)
		}
	}
}

// clip8 drops the fraction bits and saturates to a byte, as PIL's clip8
// lookup does.
func clip8(v int32) byte {
	v >>= precisionBits
	if uint32(v) <= 255 {
		return byte(v)
	}
	if v < 0 {
		return 0
	}
	return 255
}

// grow returns s resized to n elements, reusing its array when large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}
