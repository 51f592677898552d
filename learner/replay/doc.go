// Package replay is a rehearsal memory for continual learning: a
// class-balanced reservoir of past examples, bounded in bytes, stored as
// int8-quantized embeddings with one float32 scale per vector (a 512-d
// embedding costs 529 bytes instead of 2 KiB), deterministic for a given
// seed, and persisted crash-safely so a restart does not forget it.
//
// Balancing follows class-balanced reservoir sampling (CBRS, Chrysakis &
// Moens 2020): while there is room everything is kept; once full, an example
// of a class that is not among the largest replaces a random example of the
// largest classes, and an example of a largest class replaces a random
// example of its own class with probability stored/seen (plain reservoir
// sampling within the class).
package replay
