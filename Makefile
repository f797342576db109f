# mcz: the user-facing commands. The build itself is CMake's (into build/).
#   make demo    install what is missing, build, run a short tour (scripts/demo.sh)
#   make test    install what is missing (ONNX Runtime and the real models into a cache outside
#                the repository: $MCZ_CACHE, default ~/.cache/mcz), build, run ctest
#   make build   configure and build into build/
#   make test-asan  the whole ctest suite under ASan + UBSan, in build-asan/ (BUILD_ASAN=DIR)
#   make clean   remove build/

MCZ_CACHE ?= $(or $(HOME),/root)/.cache/mcz
export MCZ_CACHE
BUILD := build
BUILD_ASAN ?= build-asan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all build demo test test-asan clean deps test-deps ort models fuzz bench

# CMake's generated makefiles run make recursively: no "Entering/Leaving directory" lines
MAKEFLAGS += --no-print-directory

all: build

deps:
	bash scripts/deps.sh

# what only the tests need (node, npm, chromium, valgrind, the conformance corpus...), in one
# announced step before anything is built, so that the build's test list is complete
test-deps:
	bash scripts/deps.sh test

# quiet: configure says only warnings; the build shows a line per target built (progress),
# warnings and errors, not a line per file
build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo --log-level=WARNING
	bash -o pipefail -c 'cmake --build $(BUILD) -j$(JOBS) 2>&1 | sed -u -E "/^\[ *[0-9]+%\] (Building|Linking) /d"'

demo: build
	MCZ_BUILD=$(abspath $(BUILD)) bash scripts/demo.sh

ort: test-deps
	bash scripts/ort-setup.sh

models: test-deps
	bash tests/fetch-models.sh

test: test-deps build ort models
	ctest --test-dir $(BUILD) --output-on-failure -j2

# make test-asan: configure build-asan with -DMCZ_SANITIZE=ON (ASan + UBSan everywhere) and run
# the whole suite there; any sanitizer report fails its test.
test-asan: test-deps ort models
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMCZ_SANITIZE=ON
	cmake --build $(BUILD_ASAN) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(BUILD_ASAN) --output-on-failure -j2

# make fuzz SECONDS=N: every fuzz target under libFuzzer for N seconds (clang, ASan + UBSan)
fuzz: deps
	SECONDS_PER_TARGET=$(or $(SECONDS),60) bash scripts/fuzz.sh

# make bench [BENCH_MAX=16M|256M|1G]: the benchmark suite (scripts/bench.sh) -> docs/benchmarks.md
# and docs/benchmarks-size-error.svg; BENCH_MAX=16M takes a few minutes, the default 1G hours
bench: build models
	MCZ_BUILD=$(abspath $(BUILD)) BENCH_MAX=$(or $(BENCH_MAX),1G) bash scripts/bench.sh

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
