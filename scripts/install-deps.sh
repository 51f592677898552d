#!/usr/bin/env bash
# Installs what clipfleet needs on Debian 12: apt packages (OpenCV, Mosquitto,
# ffmpeg, and for `make model` python3-torch/onnx) and the ONNX Runtime shared
# library taken from the onnxruntime-node npm package. Idempotent: does nothing
# when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION="${ORT_VERSION:-1.23.2}"
ORT_DIR="third_party/onnxruntime"
want_apt=(libopencv-dev pkg-config gstreamer1.0-plugins-base mosquitto mosquitto-clients ffmpeg)
if [[ "${1:-}" == "--model" ]]; then
  want_apt+=(python3-torch python3-onnx python3-numpy python3-pil)
fi
if [[ "${1:-}" == "--test" ]]; then
  want_apt+=(python3-numpy python3-pil)
fi

missing=()
# Node images ship npm outside dpkg; Debian's own npm package is the fallback.
command -v npm >/dev/null 2>&1 || missing+=(npm)
for p in "${want_apt[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: apt packages missing: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

case "$(uname -m)" in
  x86_64) ort_arch=x64 ;;
  aarch64|arm64) ort_arch=arm64 ;;
  *) echo "install-deps: no ONNX Runtime build for $(uname -m)" >&2; exit 1 ;;
esac
if [[ ! -f "$ORT_DIR/libonnxruntime.so.1" ]]; then
  echo "install-deps: fetching ONNX Runtime $ORT_VERSION ($ort_arch) from the onnxruntime-node npm package"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null)
  tar -xzf "$tmp"/onnxruntime-node-*.tgz -C "$tmp" "package/bin/napi-v6/linux/$ort_arch/libonnxruntime.so.1"
  mkdir -p "$ORT_DIR"
  cp "$tmp/package/bin/napi-v6/linux/$ort_arch/libonnxruntime.so.1" "$ORT_DIR/libonnxruntime.so.1.tmp"
  mv "$ORT_DIR/libonnxruntime.so.1.tmp" "$ORT_DIR/libonnxruntime.so.1"
  echo "$ORT_VERSION" > "$ORT_DIR/VERSION"
fi
