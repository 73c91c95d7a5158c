# Thin front end to CMake. Programs land in build/bin/, test executables
# and test tools in build/tests/bin/.
BUILD       ?= build
ASAN_BUILD  ?= build-asan
TSAN_BUILD  ?= build-tsan
FUZZ_BUILD  ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS        ?= $(shell nproc)

PREFIX      ?= /usr/local
DESTDIR     ?=

.PHONY: all deps configure install deb test asan-test tsan-test fuzz fuzz-coverage memcheck memcheck-e2e bench demo lab content content-fast format clean

all: configure
	cmake --build $(BUILD) -j$(JOBS)

# Debian packages, then the browser test's npm modules at the versions
# tests/browser/package-lock.json pins (puppeteer-core drives Debian's
# chromium: no browser is downloaded).
deps:
	./scripts/install-deps.sh
	cd tests/browser && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund

configure:
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

# The libraries (shared and static), headers, pkg-config files, programs,
# man pages, sconed's units, configuration and rules helper, the Wireshark
# dissector and the Grafana dashboard (packaging/README.md). PREFIX is
# fixed at configure time (the units and pkg-config files name it), so a
# new PREFIX reconfigures.
install: configure
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)

# The Debian packages (debian/), built without the tests into build/deb/,
# then listed and checked with lintian (scripts/build-deb.sh; minutes, so
# not part of make test; needs debhelper and lintian).
deb:
	./scripts/build-deb.sh

test: all
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
asan-test:
	@test -f $(ASAN_BUILD)/CMakeCache.txt || cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSCONE_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j$(JOBS)

# The packet threads' test under ThreadSanitizer: the libraries below it
# and the test only, not the whole suite.
tsan-test:
	@test -f $(TSAN_BUILD)/CMakeCache.txt || cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread
	cmake --build $(TSAN_BUILD) -j$(JOBS) --target test_dp_threads
	cd $(TSAN_BUILD) && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -R '^test_dp_threads$$'

# Coverage-guided fuzzing of every parser, FUZZ_SECONDS each, from the seed corpus.
fuzz:
	@test -f $(FUZZ_BUILD)/CMakeCache.txt || CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSCONE_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j$(JOBS)
	./scripts/run-fuzzers.sh $(FUZZ_BUILD)/tests/bin $(FUZZ_SECONDS)

# Line coverage of the parsers by the committed corpora (llvm-cov), as the
# table in docs/reliability.md.
COV_BUILD ?= build-cov
fuzz-coverage:
	JOBS=$(JOBS) ./fuzz/coverage.sh $(COV_BUILD)

# Valgrind memcheck over every compiled test program of the build (unit
# suites, corpus replays); MEMCHECK_ARGS passes e.g. -R 'sconed'.
memcheck: all
	./scripts/memcheck.py $(BUILD) $(MEMCHECK_ARGS)

# The shell and Python suites (e2e, datapath, policy, player, ...) with
# every project program they start under valgrind (scripts/memcheck.py
# --programs); MEMCHECK_ARGS as above.
memcheck-e2e: all
	./scripts/memcheck.py $(BUILD) --programs $(MEMCHECK_ARGS)

bench: all
	./scripts/run-benches.sh $(BUILD)/bin

# The main job (scripts/lab-demo.sh): the QoE lab's short run, a 1.5 Mbit/s
# plan policed without SCONE against SCONE advice, about a minute as root;
# prints the QoE table and the plots' paths. Without root: the loopback
# SCONE session of scripts/demo.sh.
demo: all
	./scripts/lab-demo.sh $(BUILD)/bin $(BUILD)/demo

# The full QoE lab (docs/lab.md): every scenario s1-s6 and the DPI-targeted
# variant, both plans, three seeds, the draft's 67 s period. LAB_SCENARIOS
# picks some; LAB_JOBS sessions run side by side (docs/lab.md, "--jobs").
LAB_SCENARIOS ?= $(sort $(wildcard lab/scenarios/s[0-9]*.ini lab/scenarios/dpi-*.ini))
LAB_JOBS ?= 3
lab: all
	./lab/scone-lab run --jobs $(LAB_JOBS) --bin $(BUILD)/bin --out $(BUILD)/lab $(LAB_SCENARIOS)

# The DASH presentation (scripts/scone-content), made once with ffmpeg into
# $(BUILD)/content and reused; CONTENT_ARGS passes e.g. --duration 60.
# content-fast: synthetic segments of the right sizes, in well under a second.
content: all
	./scripts/scone-content $(CONTENT_ARGS) --tool $(BUILD)/bin/scone-video-content $(BUILD)/content

content-fast: all
	./scripts/scone-content --fast $(CONTENT_ARGS) --tool $(BUILD)/bin/scone-video-content $(BUILD)/content-fast

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(COV_BUILD)
