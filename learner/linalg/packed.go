package linalg

// PackedLen is the number of entries of an n×n symmetric matrix's packed
// lower triangle.
func PackedLen(n int) int { return n * (n + 1) / 2 }

// RowOffset is the index of entry (i,0) in packed lower storage.
func RowOffset(i int) int { return i * (i + 1) / 2 }

// At returns entry (i,j) of a packed symmetric matrix (either triangle).
func At(p []float64, i, j int) float64 {
	if j > i {
		i, j = j, i
	}
	return p[RowOffset(i)+j]
}

// AddOuter adds w·x·xᵀ to the packed symmetric matrix p (n = len(x)). Zero
// components of x are skipped, which halves the cost for ReLU features.
func AddOuter(p []float64, x []float64, w float64) {
	off := 0
	for i, xi := range x {
		row := p[off : off+i+1]
		off += i + 1
		if xi == 0 {
			continue
		}
		c := w * xi
		xs := x[:i+1]
		for j, xj := range xs {
			row[j] += c * xj
		}
	}
}

// AddOuter32 is AddOuter for a float32 vector, accumulated in float64.
func AddOuter32(p []float64, x []float32, w float64) {
	off := 0
	for i, xi := range x {
		row := p[off : off+i+1]
		off += i + 1
		if xi == 0 {
			continue
		}
		c := w * float64(xi)
		xs := x[:i+1]
		for j, xj := range xs {
			row[j] += c * float64(xj)
		}
	}
}

// AddDiag adds v to every diagonal entry of the packed n×n matrix p.
func AddDiag(p []float64, n int, v float64) {
	for i := 0; i < n; i++ {
		p[RowOffset(i)+i] += v
	}
}

// Trace is the sum of the diagonal of the packed n×n matrix p.
func Trace(p []float64, n int) float64 {
	var s float64
	for i := 0; i < n; i++ {
		s += p[RowOffset(i)+i]
	}
	return s
}

// FrobeniusSq is the squared Frobenius norm of the packed symmetric n×n
// matrix p (off-diagonal entries count twice).
func FrobeniusSq(p []float64, n int) float64 {
	var s float64
	off := 0
	for i := 0; i < n; i++ {
		row := p[off : off+i+1]
		off += i + 1
		for j, v := range row {
			if j == i {
				s += v * v
			} else {
				s += 2 * v * v
			}
		}
	}
	return s
}

// QuadForm is xᵀ·P·x for the packed symmetric matrix p.
func QuadForm(p []float64, x []float64) float64 {
	var s float64
	off := 0
	for i, xi := range x {
		row := p[off : off+i+1]
		off += i + 1
		var r float64
		for j := 0; j < i; j++ {
			r += row[j] * x[j]
		}
		s += xi * (2*r + row[i]*xi)
	}
	return s
}

// Unpack returns p as a square row-major n×n matrix (for tests and debugging).
func Unpack(p []float64, n int) []float64 {
	out := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			v := p[RowOffset(i)+j]
			out[i*n+j], out[j*n+i] = v, v
		}
	}
	return out
}

// SymMatVec writes P·x into y for the packed symmetric matrix p.
func SymMatVec(p []float64, x, y []float64) {
	clear(y)
	off := 0
	for i, xi := range x {
		row := p[off : off+i+1]
		off += i + 1
		var s float64
		for j := 0; j < i; j++ {
			s += row[j] * x[j]
			y[j] += row[j] * xi
		}
		y[i] += s + row[i]*xi
	}
}
