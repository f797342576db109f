# mcz: the user-facing commands. The build itself is CMake's (into build/).
#   make demo    install what is missing, build, run a short tour (scripts/demo.sh)
#   make test    install what is missing (ONNX Runtime and the real models into a cache outside
#                the repository: $MCZ_CACHE, default ~/.cache/mcz), build, run ctest
#   make build   configure and build into build/
#   make clean   remove build/

MCZ_CACHE ?= $(or $(HOME),/root)/.cache/mcz
export MCZ_CACHE
BUILD := build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all build demo test clean deps ort models fuzz

all: build

deps:
	bash scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	MCZ_BUILD=$(abspath $(BUILD)) bash scripts/demo.sh

ort: deps
	bash scripts/ort-setup.sh

models: deps
	bash tests/fetch-models.sh

test: build ort models
	ctest --test-dir $(BUILD) --output-on-failure -j2

# make fuzz SECONDS=N: every fuzz target under libFuzzer for N seconds (clang, ASan + UBSan)
fuzz: deps
	SECONDS_PER_TARGET=$(or $(SECONDS),60) bash scripts/fuzz.sh

clean:
	rm -rf $(BUILD)
