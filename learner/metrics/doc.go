// Package metrics computes the continual-learning scores of an accuracy
// matrix, as defined for the MTIL benchmark (Zheng et al., "Preventing
// Zero-Shot Transfer Degradation in Continual Learning of Vision-Language
// Models", ICCV 2023) plus the classic backward transfer and forgetting.
//
// A[i][j] is the accuracy on task j evaluated after training on tasks
// 0..i (T tasks, T×T). Entries above the diagonal (j > i) measure tasks not
// trained yet, i.e. zero-shot transfer; the last row is the final model.
package metrics
