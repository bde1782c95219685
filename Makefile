# Front door. `make run` and `make test` are the whole quickstart on a fresh Debian 12 machine.
BUILD      ?= build
export CCACHE_BASEDIR := $(CURDIR)
BUILD_TYPE ?= RelWithDebInfo
DATA_DIR   ?= ./var
CMAKE_FLAGS ?=

.PHONY: all deps build run test test-asan bench format format-check clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD)

run: build
	$(BUILD)/emporium up --data-dir=$(DATA_DIR) --simulator-demo=true

# Starts PostgreSQL, Redis and Kafka for the tests (in temp dirs, on free ports), builds, runs
# every test, stops the servers.
test: deps $(BUILD)/build.ninja
	tests/harness/run-tests.sh $(BUILD)

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	$(MAKE) test BUILD=build-asan BUILD_TYPE=Debug CMAKE_FLAGS=-DEMPORIUM_SANITIZE=ON

bench: build
	bench/run.sh $(BUILD)

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

format-check:
	git ls-files '*.cc' '*.h' | xargs clang-format --dry-run --Werror

clean:
	rm -rf $(BUILD) build-asan
