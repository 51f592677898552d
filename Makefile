# clipfleet — `make run` starts the daemon on embedded defaults, `make test` runs the whole suite.
# Both install what they need first (apt packages, the ONNX Runtime library).
SHELL := /bin/bash
GO ?= go
ORT_LIB := $(CURDIR)/third_party/onnxruntime/libonnxruntime.so.1
export CLIPFLEET_ORT_LIB ?= $(ORT_LIB)
export CGO_ENABLED := 1

.PHONY: run test deps deps-test deps-model build vet bench bench-pipeline model clean

deps:
	./scripts/install-deps.sh

deps-test:
	./scripts/install-deps.sh --test

deps-model:
	./scripts/install-deps.sh --model

build: deps
	$(GO) build -o bin/edge ./cmd/edge

run: build
	./bin/edge fleet-demo
	./bin/edge run --set pipeline.event_format=text

vet:
	$(GO) vet ./...

# The whole suite: vet, race-enabled tests with every external dependency
# required (a missing one fails instead of skipping).
test: deps-test
	$(GO) vet ./...
	CLIPFLEET_REQUIRE_ALL=1 $(GO) test -race -count=1 -timeout 30m ./...
	# gocv Mat leak check: needs gocv rebuilt with its matprofile tag.
	CLIPFLEET_REQUIRE_ALL=1 $(GO) test -race -tags matprofile -count=1 -run MatProfile ./capture/cv/

# The README's pipeline table: edge bench on the committed models and on a
# generated stand-in with CLIP ViT-B/32's compute cost (random weights).
bench-pipeline: build deps-model tmp/benchmodel/image.onnx tmp/benchmodel-vit/image.onnx
	./bin/edge bench --set log.level=warn --frames 300
	./bin/edge bench --set log.level=warn --frames 300 --set capture.source=synthetic --set capture.width=224 --set capture.height=224
	./bin/edge bench --set log.level=warn --frames 300 --set capture.source=synthetic --set capture.width=640 --set capture.height=480
	./bin/edge bench --set log.level=warn --frames 100 --warmup 5 --set accel.model_dir=tmp/benchmodel --set capture.source=synthetic --set capture.width=640 --set capture.height=480
	./bin/edge bench --set log.level=warn --frames 100 --warmup 5 --set accel.model_dir=tmp/benchmodel --set capture.source=synthetic --set capture.width=640 --set capture.height=480 --set pipeline.capture=inline
	./bin/edge bench --set log.level=warn --frames 60 --warmup 3 --set accel.model_dir=tmp/benchmodel-vit --set capture.source=synthetic --set capture.width=640 --set capture.height=480
	./bin/edge bench --set log.level=warn --frames 60 --warmup 3 --set accel.model_dir=tmp/benchmodel-vit --set capture.source=synthetic --set capture.width=640 --set capture.height=480 --set pipeline.capture=inline

# Stand-ins with a real encoder's cost (random weights): a CNN and CLIP
# ViT-B/32's architecture (351 MB, 25–45 s to export).
tmp/benchmodel/image.onnx: scripts/make_benchmodel.py
	/usr/bin/python3 scripts/make_benchmodel.py tmp/benchmodel
tmp/benchmodel-vit/image.onnx: scripts/make_benchmodel.py
	/usr/bin/python3 scripts/make_benchmodel.py --arch vit tmp/benchmodel-vit

bench: bench-pipeline
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Rebuilds models/tinyclip from scratch: renders the world, trains, exports
# float ONNX and quantizes the int8 variant (scripts/tinyclip/build.sh).
model: deps-model
	./scripts/tinyclip/build.sh

clean:
	rm -rf bin
