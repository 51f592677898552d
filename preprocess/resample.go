package preprocess

// resampler holds the scratch memory of one two-pass resize so steady-state
// frames allocate nothing. Not safe for concurrent use.
//
// Both passes compute two outputs per multiply: PIL's accumulators are
// int32 and never overflow (8-bit pixels times weights of 22 fraction bits
// plus headroom), so two of them fit in the halves of a uint64 ("lanes").
// A lane pair holds A + B·2³² modulo 2⁶⁴; multiplying by a weight and
// adding keep that form, and unpack recovers A and B exactly because each
// lies in int32 range. The bytes are those of one accumulator at a time.
type resampler struct {
	pk   []uint64   // two source rows of the horizontal pass, one per lane
	mid  []uint64   // ring of rows for the vertical pass, pixels xx and xx+hp in one word
	taps [][]uint64 // the rows of mid one output row reads, in tap order
	acc  []uint64   // one packed row of vertical-pass accumulators
}

// laneHalf is PIL's rounding constant in both lanes.
const laneHalf = uint64(uint32(roundHalf)) | uint64(uint32(roundHalf))<<32

// unpack splits a lane pair into its two accumulators and clips each to a
// byte: the low lane is the low word read as int32; removing it leaves the
// high lane, exactly, in the high word.
func unpack(v uint64) (lo, hi byte) {
	a := int32(uint32(v))
	b := int32(uint32((v - uint64(int64(a))) >> 32))
	return clip8(a), clip8(b)
}

// weight is a fixed-point weight in lane arithmetic (two's complement).
func weight(k int32) uint64 { return uint64(int64(k)) }

// window resizes the packed RGB image src (w×h) to ow×oh the way PIL's
// Image.resize(..., BICUBIC) does for an 8-bit RGB image, but writes only the
// nx×ny window at (x0, y0) of that result into dst (len nx*ny*3). hx and vy are
// the axis tables for that window, nil when the axis keeps its size (PIL skips
// the pass then; the identity kernel would give the same bytes anyway).
//
// Order and precision follow Resample.c: horizontal pass first, over just the
// input rows the vertical pass reads; each pass accumulates in int32 fixed
// point, rounds and clips to 8 bits before the next. The passes are
// interleaved row by row, so the rows an output row reads are still in
// cache when it is computed.
func (r *resampler) window(dst, src []byte, w int, hx, vy *axisTable, x0, y0, nx, ny int) {
	stride := w * 3
	rowBytes := nx * 3
	if hx != nil {
		r.pk = grow(r.pk, (hx.hi()-hx.lo())*3)
	}

	if vy == nil {
		for y := y0; y < y0+ny; y += 2 {
			d0 := dst[(y-y0)*rowBytes : (y-y0+1)*rowBytes]
			s0 := src[y*stride : (y+1)*stride]
			var d1, s1 []byte
			if y+1 < y0+ny {
				d1 = dst[(y-y0+1)*rowBytes : (y-y0+2)*rowBytes]
				s1 = src[(y+1)*stride : (y+2)*stride]
			}
			if hx == nil {
				copy(d0, s0[x0*3:])
				copy(d1, s1[min(x0*3, len(s1)):])
				continue
			}
			packRows(r.pk, s0, s1, hx)
			horizontal(d0, d1, r.pk, hx)
		}
		return
	}

	// The vertical pass reads rows [lo, hi) of the horizontal output, each
	// packed so that pixel xx of the window shares a word with pixel
	// xx+hp. Output rows read overlapping, advancing runs of input rows,
	// so the rows live in a ring just big enough for one output's taps
	// plus the row computed ahead with its pair: a few kilobytes that stay
	// in cache, instead of a frame-sized buffer that would also push the
	// encoder's data out of it.
	lo, hi := vy.lo(), vy.hi()
	hp := (nx + 1) / 2
	half := hp * 3
	ring := 0
	for _, k := range vy.k {
		ring = max(ring, len(k)+1)
	}
	r.mid = grow(r.mid, ring*half)
	r.acc = grow(r.acc, half)
	row := func(y int) []uint64 {
		i := (y - lo) % ring
		return r.mid[i*half : (i+1)*half]
	}
	next := lo // first row not yet computed
	for yy, k := range vy.lane {
		first := vy.start[yy]
		for need := first + len(k); next < need; next += 2 {
			m0 := row(next)
			s0 := src[next*stride : (next+1)*stride]
			var m1 []uint64
			var s1 []byte
			if next+1 < hi {
				m1 = row(next + 1)
				s1 = src[(next+1)*stride : (next+2)*stride]
			}
			if hx == nil {
				packColumns(m0, s0[x0*3:x0*3+rowBytes])
				if m1 != nil {
					packColumns(m1, s1[x0*3:x0*3+rowBytes])
				}
				continue
			}
			packRows(r.pk, s0, s1, hx)
			horizontalPacked(m0, m1, r.pk, hx, hp)
		}
		r.taps = r.taps[:0]
		for y := first; y < first+len(k); y++ {
			r.taps = append(r.taps, row(y))
		}
		vertical(dst[yy*rowBytes:(yy+1)*rowBytes], r.taps, k, r.acc)
	}
}

// packRows puts the bytes of source rows s0 and s1 (s1 may be nil) that
// t reads side by side in pk, one row per lane, so the horizontal pass
// resamples both rows with the same multiplies.
func packRows(pk []uint64, s0, s1 []byte, t *axisTable) {
	lo, hi := t.lo()*3, t.hi()*3
	a := s0[lo:hi]
	pk = pk[:len(a)]
	if s1 == nil {
		for i, v := range a {
			pk[i] = uint64(v)
		}
		return
	}
	b := s1[lo:hi]
	b = b[:len(a)]
	for i, v := range a {
		pk[i] = uint64(v) | uint64(b[i])<<32
	}
}

// hpixel is output pixel xx of the horizontal pass over packed rows: one
// accumulator pair per channel. Taps go two at a time; the loop walks by
// reslicing, guarded by length checks the compiler uses to drop per-tap
// bounds checks.
func hpixel(pk []uint64, t *axisTable, xx int) (r, g, b uint64) {
	k := t.lane[xx]
	s := pk[(t.start[xx]-t.start[0])*3:]
	s = s[:len(k)*3]
	r, g, b = laneHalf, laneHalf, laneHalf
	for j, kv := range k {
		p := s[j*3 : j*3+3 : j*3+3]
		r += p[0] * kv
		g += p[1] * kv
		b += p[2] * kv
	}
	return r, g, b
}

// horizontal resamples the two rows packed in pk into byte rows d0 and d1
// (d1 nil when pk holds one row).
func horizontal(d0, d1 []byte, pk []uint64, t *axisTable) {
	d0 = d0[:len(t.k)*3]
	if d1 != nil {
		d1 = d1[:len(d0)]
	}
	for xx := range t.k {
		r, g, b := hpixel(pk, t, xx)
		r0, r1 := unpack(r)
		g0, g1 := unpack(g)
		b0, b1 := unpack(b)
		i := xx * 3
		if i+2 >= len(d0) {
			break // unreachable: d0 holds len(t.k) pixels
		}
		d0[i], d0[i+1], d0[i+2] = r0, g0, b0
		if i+2 < len(d1) {
			d1[i], d1[i+1], d1[i+2] = r1, g1, b1
		}
	}
}

// horizontalPacked is horizontal writing straight into the vertical pass's
// packing (see packColumns): output pixels xx and xx+hp share a word of
// m0 (first row) and m1 (second row, nil when pk holds one row).
func horizontalPacked(m0, m1 []uint64, pk []uint64, t *axisTable, hp int) {
	n := len(t.k)
	m0 = m0[:hp*3]
	if m1 != nil {
		m1 = m1[:len(m0)]
	}
	for xx := 0; xx < hp; xx++ {
		r, g, b := hpixel(pk, t, xx)
		var r2, g2, b2 uint64
		if xx+hp < n {
			r2, g2, b2 = hpixel(pk, t, xx+hp)
		}
		r0, r1 := unpack(r)
		g0, g1 := unpack(g)
		b0, b1 := unpack(b)
		R0, R1 := unpack(r2)
		G0, G1 := unpack(g2)
		B0, B1 := unpack(b2)
		i := xx * 3
		if i+2 >= len(m0) {
			break // unreachable: m0 holds hp pixels
		}
		m0[i] = uint64(r0) | uint64(R0)<<32
		m0[i+1] = uint64(g0) | uint64(G0)<<32
		m0[i+2] = uint64(b0) | uint64(B0)<<32
		if i+2 < len(m1) {
			m1[i] = uint64(r1) | uint64(R1)<<32
			m1[i+1] = uint64(g1) | uint64(G1)<<32
			m1[i+2] = uint64(b1) | uint64(B1)<<32
		}
	}
}

// packColumns writes row (window width, RGB bytes) into m: byte j of the
// first half of the pixels in the low lane of m[j], the same byte of the
// second half in the high lane. An odd pixel count leaves the last high
// lanes zero.
func packColumns(m []uint64, row []byte) {
	half := len(m)
	lo := row[:half]
	hi := row[half:]
	for j, v := range lo {
		m[j] = uint64(v)
	}
	m = m[:len(hi)]
	for j, v := range hi {
		m[j] |= uint64(v) << 32
	}
}

// vertical computes one output row from its taps' packed rows and writes
// both lanes: the low ones to the first half of out, the high ones after.
// Taps go four at a time to cut accumulator traffic; modular addition is
// associative, so the grouping cannot change the result.
func vertical(out []byte, rows [][]uint64, k []uint64, acc []uint64) {
	for j := range acc {
		acc[j] = laneHalf
	}
	half := len(acc)
	for len(k) >= 4 && len(rows) >= 4 {
		a, b, c, d := rows[0][:half], rows[1][:half], rows[2][:half], rows[3][:half]
		ka, kb, kc, kd := k[0], k[1], k[2], k[3]
		for j := range acc {
			acc[j] += a[j]*ka + b[j]*kb + c[j]*kc + d[j]*kd
		}
		k, rows = k[4:], rows[4:]
	}
	for i, kv := range k {
		if i >= len(rows) {
			break // unreachable: one row per tap
		}
		a := rows[i][:half]
		for j := range acc {
			acc[j] += a[j] * kv
		}
	}
	first := out[:half]
	second := out[half:]
	for j, v := range acc {
		lo, hi := unpack(v)
		first[j] = lo
		if j < len(second) {
			second[j] = hi
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
