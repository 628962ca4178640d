# A thin wrapper over meson/ninja so the two README commands stay short.
#   make deps     install missing Debian packages (scripts/debian-packages)
#   make          build into build/ (the binary is build/oomwarden)
#   make check    everything: deps, build, unit + sanitizer + fuzz-corpus + CLI + live + VM tests
#   make bench    the benchmarks under bench/ (prints ratios against the usual tools)

BUILD ?= build

.PHONY: all deps build check bench clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	meson setup $(BUILD) >/dev/null

build: $(BUILD)/build.ninja
	@ninja -C $(BUILD) >/dev/null

check: deps
	@tests/run

bench: deps build
	@scripts/install-deps --bench
	@bench/run-all

clean:
	rm -rf build build-asan build-fuzz
