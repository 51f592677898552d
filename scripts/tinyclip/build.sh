#!/usr/bin/env bash
# Builds models/tinyclip from scratch: renders the training set with the Go
# world, trains the tiny CLIP on it (CPU, 2 threads), exports float ONNX and
# writes tokenizer.json, manifest.yaml, metrics.json and reference.json, then
# quantizes the int8 variant (image_int8.onnx, text_int8.onnx).
#
#   scripts/tinyclip/build.sh                  # what `make model` runs
#   scripts/tinyclip/build.sh --quantize-only  # re-quantize the committed float model
#   TINYCLIP_DATA=/tmp/x scripts/tinyclip/build.sh
#
# The export (~2 GB of raw pixels) goes to tmp/tinyclip-data (gitignored) and
# is reused when its export.json matches the requested options.
set -euo pipefail
cd "$(dirname "$0")/../.."

GO="${GO:-go}"
PY=/usr/bin/python3
DATA="${TINYCLIP_DATA:-tmp/tinyclip-data}"
OUT="${TINYCLIP_OUT:-models/tinyclip}"
TRAIN="${TINYCLIP_TRAIN:-16000}"
EPOCHS="${TINYCLIP_EPOCHS:-8}"
SEED="${TINYCLIP_SEED:-0}"
EXPORT_SEED="${TINYCLIP_EXPORT_SEED:-1}"

QUANTIZE_ONLY=0
case "${1:-}" in
  "") ;;
  --quantize-only) QUANTIZE_ONLY=1 ;;
  *) echo "usage: $0 [--quantize-only]" >&2; exit 2 ;;
esac

want="seed=$EXPORT_SEED train=$TRAIN"
if [[ -f "$DATA/export.json" && -f "$DATA/.options" && "$(cat "$DATA/.options")" == "$want" ]]; then
  echo "tinyclip: reusing the world export in $DATA ($want)"
else
  echo "tinyclip: rendering the world export into $DATA ($want)"
  mkdir -p "$DATA"
  rm -f "$DATA/.options"
  CGO_ENABLED=0 "$GO" run ./world/cmd/worldgen export --out "$DATA" --seed "$EXPORT_SEED" --train "$TRAIN"
  echo "$want" > "$DATA/.options"
fi

mkdir -p "$OUT"
[[ $QUANTIZE_ONLY == 1 ]] || "$PY" scripts/tinyclip/train.py --data "$DATA" --out "$OUT" --seed "$SEED" --epochs "$EPOCHS"
# Calibrates on the export's training pictures, so it needs the export above.
"$PY" scripts/tinyclip/quantize.py --data "$DATA" --model "$OUT"
du -b "$OUT"/*.onnx "$OUT"/*.json "$OUT"/manifest.yaml
