// Package worldcli is the command line of the procedural world, shared by
// `edge world` and the standalone world/cmd/worldgen (which `make model`
// uses because it builds without cgo).
//
//	world render --scenario default --out DIR [--n 8] [--split test] [--size 224] [--sets a,b]
//	world export --out DIR [--train 16000] [--seed 1] [--eval-per-pair 3]
//	world check  --scenario FILE|NAME
package worldcli
