# convbank — make run: the edges bank over SampleImages into ./out; make test: the whole suite.
SWIFT ?= swift
APT_PACKAGES := libpng-dev libjpeg-dev libdeflate-dev pkg-config zlib1g-dev qemu-user libtiff-dev libwebp-dev libhdf5-dev
BANK ?= edges
OUT ?= out

.PHONY: deps build run test test-slurm bench bench-big fuzz docs consumer clean

# Installs missing system packages when root (apt-get update first); otherwise only checks.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	  else echo "missing system packages:$$missing (run as root, or: sudo apt-get install$$missing)"; exit 1; fi; \
	fi

build: deps
	$(SWIFT) build -c release

run: build
	.build/release/convbank apply SampleImages --bank $(BANK) --output $(OUT) --sheet --gallery --stats

# The suite (debug), then the optimised vector kernels: a release binary's maps bit-identical at every kernel level.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(SWIFT) build -c release --product convbank
	bash tests/kernels/run.sh .build/release/convbank

# A 4-task job array on a throw-away single-node Slurm it starts and stops itself (root; installs slurm-wlm and
# munge with apt-get if missing): the union of the tasks' outputs must equal one unsharded run, byte for byte.
test-slurm: deps
	$(SWIFT) build
	bash tests/slurm/run.sh .build/debug/convbank

# Release build, then stage and end-to-end figures (`name value unit`), medians of several runs.
bench: deps
	$(SWIFT) build -c release
	bash bench/run.sh $(PHOTOS)

# One ~1-gigapixel gray PNG through `sobel` with the pixel limit lifted: wall time and peak RSS (bench/big.sh;
# BIG_DIR holds the generated image, BIG_TIMEOUT bounds the run). Not part of `make bench`: it takes minutes.
bench-big: deps
	$(SWIFT) build -c release --product convbank
	bash bench/big.sh $(BIG_SIZE)

# libFuzzer + ASan/UBSan over the PNG, JPEG, TIFF and WebP decoders (fuzz/run.sh, from the committed seed corpus fuzz/seeds/)
# and over the .npz/.safetensors weight-file readers of `import` (fuzz/swift/readers.sh), its ONNX reader
# (fuzz/swift/onnx.sh) and its Keras HDF5/.keras readers (fuzz/swift/hdf5.sh; libhdf5 itself is not instrumented),
# then the hostile-input property test with many cases and a fresh seed (fuzz/property.sh), FUZZ_SECONDS each;
# non-zero exit if either finds anything.
FUZZ_SECONDS ?= 60
fuzz: deps
	bash fuzz/run.sh $(FUZZ_SECONDS)
	bash fuzz/swift/readers.sh $(FUZZ_SECONDS)
	bash fuzz/swift/onnx.sh $(FUZZ_SECONDS)
	bash fuzz/swift/hdf5.sh $(FUZZ_SECONDS)
	bash fuzz/property.sh $(FUZZ_SECONDS)

# DocC documentation of each library module (swift-docc-plugin), one catalog per module, into .build/docs/<module>;
# fails on any docc warning. Each archive is served on its own: python3 -m http.server -d .build/docs/<module>.
DOC_TARGETS := ConvBankEngine ConvBankImageIO ConvBankPictures ConvBankBatch
docs: deps
	@mkdir -p .build/docs; status=0; : >.build/docs.log; \
	for target in $(DOC_TARGETS); do \
	  $(SWIFT) package --allow-writing-to-directory .build/docs generate-documentation --target $$target \
	    --warnings-as-errors --output-path .build/docs/$$target >>.build/docs.log 2>&1 || status=$$?; \
	done; cat .build/docs.log; \
	if [ $$status -ne 0 ] || grep -q "^warning:" .build/docs.log; then echo "make docs: failed (docc warnings are errors)"; exit 1; fi; \
	echo "make docs: no warnings; browse a module with python3 -m http.server -d .build/docs/MODULE, then:"; \
	for target in $(DOC_TARGETS); do \
	  echo "  $$target: .build/docs/$$target -> http://localhost:8000/documentation/$$(echo $$target | tr A-Z a-z)"; \
	done

# examples/library-consumer against the library: by path (maps equal to `convbank apply --format npy`, byte for
# byte, and wall times), then by version from a throw-away clone of HEAD tagged 0.3.0.
consumer: deps
	bash examples/library-consumer/check.sh

clean:
	rm -rf .build $(OUT)
