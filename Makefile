# Thin wrapper over CMake and the test scripts. `make run` and `make test` are
# the two commands the README promises work on a fresh Debian 12 machine.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all setup build run test unit unit-asan e2e bench clean

all: build

setup:
	@bash scripts/setup.sh

$(BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: setup $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

run: build
	@bash scripts/run.sh

unit: build
	@bash scripts/unit.sh $(BUILD)

unit-asan: setup
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DRN_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1 bash scripts/unit.sh $(ASAN_BUILD)

e2e: build
	@bash scripts/e2e.sh

test: unit unit-asan e2e

bench: build
	@bash scripts/setup.sh --bench
	@bash bench/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
