// Package linalg is the small dense linear algebra the learner's closed-form
// methods need, in float64 and pure Go: symmetric matrices stored as their
// packed lower triangle, in-place Cholesky factorisation, and triangular
// solves.
//
// Packed lower storage keeps row i's entries (i,0)…(i,i) contiguous, which
// is exactly what row-oriented (Cholesky–Banachiewicz) factorisation and
// forward substitution read, so the hot loops are unit-stride dot products
// and the matrix takes half the memory of a square one.
package linalg
