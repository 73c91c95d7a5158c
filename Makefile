# Thin front end to CMake. Programs land in build/bin/, test executables
# and test tools in build/tests/bin/.
BUILD       ?= build
ASAN_BUILD  ?= build-asan
FUZZ_BUILD  ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS        ?= $(shell nproc)

.PHONY: all deps configure test asan-test fuzz bench demo format clean

all: configure
	cmake --build $(BUILD) -j$(JOBS)

deps:
	./scripts/install-deps.sh

configure:
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

test: all
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
asan-test:
	@test -f $(ASAN_BUILD)/CMakeCache.txt || cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSCONE_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j$(JOBS)

# Coverage-guided fuzzing of every parser, FUZZ_SECONDS each, from the seed corpus.
fuzz:
	@test -f $(FUZZ_BUILD)/CMakeCache.txt || CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSCONE_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j$(JOBS)
	./scripts/run-fuzzers.sh $(FUZZ_BUILD)/tests/bin $(FUZZ_SECONDS)

bench: all
	./scripts/run-benches.sh $(BUILD)/bin

# One SCONE session end to end (scripts/demo.sh): client -- sconed -- server
# in network namespaces as root, over loopback through sconed --relay
# otherwise.
demo: all
	./scripts/demo.sh $(BUILD)/bin $(BUILD)/tests/bin

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
