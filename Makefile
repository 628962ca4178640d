# A thin wrapper over meson/ninja so the two README commands stay short.
#   make deps     install missing Debian packages (scripts/debian-packages: build and run)
#   make          build into build/ (the binary is build/oomwarden)
#   make check    everything: deps, build, unit + sanitizer + fuzz-corpus + CLI + live + VM tests
#   make bench    the benchmarks under bench/ (prints ratios against the usual tools)
#   make install  meson install from build/ (under /usr/local unless build/ was set up with
#                 another --prefix; DESTDIR honoured)
#   make deb      the Debian package: build/oomwarden_<version>_<arch>.deb
#   make image    the container image: build/oomwarden-image.oci.tar, oomwarden:<version>

BUILD ?= build

.PHONY: all deps build check bench install deb image clean

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

install: build
	meson install -C $(BUILD) --no-rebuild

# the packaging tools (debhelper, pandoc, lintian, umoci, skopeo) are in the test list
deb:
	@scripts/install-deps --test
	@scripts/deb

image: build
	@scripts/install-deps --test
	@scripts/image

clean:
	rm -rf build build-asan build-fuzz
