# libgoose - plain Makefile.  `make`, `make check`, `make demo`, `make deps`,
# `make install PREFIX=/usr/local DESTDIR=`, `make uninstall`, `make bench`,
# `make abi-check`.  Everything built goes to $(BUILD) (build/); only `make
# deps` and the targets that run something (demo, check, bench, fuzz,
# abi-check) install packages, through tools/deps.sh.

VERSION_H := include/goose/version.h
MAJOR := $(shell sed -n 's/^\#define GOOSE_VERSION_MAJOR \([0-9]*\)/\1/p' $(VERSION_H))
MINOR := $(shell sed -n 's/^\#define GOOSE_VERSION_MINOR \([0-9]*\)/\1/p' $(VERSION_H))
PATCH := $(shell sed -n 's/^\#define GOOSE_VERSION_PATCH \([0-9]*\)/\1/p' $(VERSION_H))
VERSION := $(MAJOR).$(MINOR).$(PATCH)

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=

CC ?= cc
BUILD ?= build
DEPS_PC := $(shell sh tools/deps.sh --modules)
OPT ?= -O2 -g
WARN := -Wall -Wextra -Wstrict-prototypes -Wwrite-strings -Werror
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

PKG_CFLAGS = $(shell pkg-config --cflags $(DEPS_PC) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(DEPS_PC) 2>/dev/null)

ifeq ($(SAN),1)
OPT := -O1 -g $(SAN_FLAGS)
LDSAN := $(SAN_FLAGS)
endif

CFLAGS_ALL = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -Iinclude -Ilib $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lpthread -lm

SONAME := libgoose.so.$(MAJOR)
SOFILE := $(BUILD)/libgoose.so.$(VERSION)
ARFILE := $(BUILD)/libgoose.a
# The version script: the exact list of abi/libgoose.symbols (tools/symbols-map.sh).
MAPFILE := $(BUILD)/libgoose.map

LIB_SRC := $(sort $(wildcard lib/*.c lib/*/*.c))
LIB_ASM := $(sort $(wildcard lib/*/*.S))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(LIB_ASM:%.S=$(BUILD)/obj/%.o)
TEST_SRC := $(sort $(wildcard tests/test-*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%) $(BUILD)/tests/gaggle-loadtest \
	$(BUILD)/tests/gaggle-loadtest-faults $(BUILD)/tests/serve-embedded
EXAMPLE_SRC := $(sort $(wildcard examples/*.c))
EXAMPLE_BIN := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)
TARGET_BIN := $(BUILD)/goose-target
MAN3 := $(sort $(wildcard man/man3/*.3))
MAN7 := $(sort $(wildcard man/man7/*.7))
DEPS_OK := $(BUILD)/.deps-ok

Q := @
ifeq ($(V),1)
Q :=
endif

.PHONY: all deps lib examples target tests check check-fast demo \
        install uninstall bench bench-overload bench-tls bench-read bench-data bench-assets bench-data-gaggle bench-serve \
        test-containers clean fuzz fuzz-http \
        fuzz-run fuzz-http-run \
        abi-lib abi-check abi-baseline

all: $(DEPS_OK) lib examples target

# The build only checks (pkg-config) and stops with what is missing; `make
# deps` installs it, with what the tests, demo, bench and fuzzers need
# (DEPS="build test" for some of it; tools/deps.sh --help lists the groups).
DEPS ?= build demo test bench fuzz
deps:
	$(Q)sh tools/deps.sh $(DEPS)
$(DEPS_OK):
	$(Q)sh tools/deps.sh --check
	$(Q)mkdir -p $(BUILD) && touch $(DEPS_OK)

lib: $(SOFILE) $(ARFILE)

$(BUILD)/obj/%.o: %.c $(DEPS_OK)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -fPIC -fvisibility=hidden -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.S $(DEPS_OK)
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -fPIC -c $< -o $@

$(MAPFILE): abi/libgoose.symbols tools/symbols-map.sh
	@mkdir -p $(dir $@)
	$(Q)sh tools/symbols-map.sh abi/libgoose.symbols >$@.tmp && mv $@.tmp $@

$(SOFILE): $(LIB_OBJ) $(MAPFILE)
	@echo "  LD      $@"
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=$(MAPFILE) \
		-Wl,--no-undefined $(LDSAN) -o $@ $(LIB_OBJ) $(LDLIBS_ALL) $(LDFLAGS)
	$(Q)ln -sf $(notdir $@) $(dir $@)$(SONAME)
	$(Q)ln -sf $(SONAME) $(dir $@)libgoose.so

$(ARFILE): $(LIB_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $(LIB_OBJ)

# Examples see only the public header, as a user's program would.
# examples/redis.c alone links hiredis (libhiredis-dev, tools/deps.sh's test
# group); without it that one example is left out, with a note.
HIREDIS := $(shell pkg-config --exists hiredis 2>/dev/null && echo yes)
ifneq ($(HIREDIS),yes)
EXAMPLE_BIN := $(filter-out $(BUILD)/examples/redis,$(EXAMPLE_BIN))
endif
examples: $(EXAMPLE_BIN)
ifneq ($(HIREDIS),yes)
	@echo "note: examples/redis.c not built: hiredis is missing (Debian: libhiredis-dev; make deps DEPS=test)"
endif
$(BUILD)/examples/redis: EXAMPLE_LIBS = $(shell pkg-config --cflags --libs hiredis)
$(BUILD)/examples/%: examples/%.c $(SOFILE) include/goose.h
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) -std=c11 $(OPT) $(WARN) -Iinclude $< -o $@ -L$(dir $(SOFILE)) \
		-Wl,-rpath,$(abspath $(dir $(SOFILE))) -lgoose $(shell pkg-config --libs libevent) \
		$(EXAMPLE_LIBS) $(LDSAN)

target: $(TARGET_BIN)
$(TARGET_BIN): tests/target/target.c $(DEPS_OK)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $< -o $@ $(shell pkg-config --libs libevent jansson) $(LDSAN)

# Tests link the static library: unit tests reach internal goose__ symbols.
tests: $(TEST_BIN)
$(BUILD)/tests/%: tests/%.c tests/test.h tests/e2e.h tests/gaggle.h $(wildcard tests/fuzz/*.h) \
		$(ARFILE)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -Itests $< -o $@ $(ARFILE) $(LDLIBS_ALL) $(LDSAN)

# test-lost: the metrics path (stats.c, collect.c) allocates through the
# test's own goose_test_malloc & co., which fail when the test says (copies
# of the two objects, their allocator symbols renamed; the library is as built).
FAULT_OBJ := $(BUILD)/tests/faults/stats.o $(BUILD)/tests/faults/collect.o
FAULT_HIST := $(BUILD)/tests/faults/histogram.o
FAULT_SYMS := $(foreach f,malloc calloc realloc strdup,--redefine-sym $(f)=goose_test_$(f))
$(BUILD)/tests/faults/stats.o: $(BUILD)/obj/lib/metrics/stats.o
	@mkdir -p $(dir $@)
	$(Q)objcopy $(FAULT_SYMS) $< $@
$(BUILD)/tests/faults/collect.o: $(BUILD)/obj/lib/run/collect.o
	@mkdir -p $(dir $@)
	$(Q)objcopy $(FAULT_SYMS) $< $@
$(BUILD)/tests/faults/histogram.o: $(BUILD)/obj/lib/metrics/histogram.o
	@mkdir -p $(dir $@)
	$(Q)objcopy $(FAULT_SYMS) $< $@
# The Gaggle load test whose metrics allocations fail with LOADTEST_FAULT=N
# (tests/faults.c): a Manager that runs out of memory taking Workers' metrics.
$(BUILD)/tests/gaggle-loadtest-faults: tests/gaggle-loadtest.c tests/faults.c $(FAULT_OBJ) \
		$(FAULT_HIST) $(ARFILE)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -Itests $< tests/faults.c $(FAULT_OBJ) $(FAULT_HIST) -o $@ $(ARFILE) \
		$(LDLIBS_ALL) $(LDSAN)
$(BUILD)/tests/test-lost: tests/test-lost.c tests/test.h tests/e2e.h $(FAULT_OBJ) $(ARFILE)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -Itests $< $(FAULT_OBJ) -o $@ $(ARFILE) $(LDLIBS_ALL) $(LDSAN)

# test-fallback: the own HTTP/1.1 client's transport (http/h1_transport.c)
# allocates through the test's goose_test_malloc & co., which always fail.
$(BUILD)/tests/faults/h1_transport.o: $(BUILD)/obj/lib/http/h1_transport.o
	@mkdir -p $(dir $@)
	$(Q)objcopy $(FAULT_SYMS) $< $@
$(BUILD)/tests/test-fallback: tests/test-fallback.c tests/test.h tests/e2e.h \
		$(BUILD)/tests/faults/h1_transport.o $(ARFILE)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -Itests $< $(BUILD)/tests/faults/h1_transport.o -o $@ $(ARFILE) \
		$(LDLIBS_ALL) $(LDSAN)

# The targets that run something install what they need first (as root;
# otherwise tools/deps.sh prints the apt-get line and they stop), then build.
SUBMAKE = $(MAKE) --no-print-directory

check-fast:
	$(Q)sh tools/deps.sh build test
	$(Q)$(SUBMAKE) all tests
	$(Q)GOOSE_BUILD=$(BUILD) bash tests/run.sh $(BUILD)/tests

check:
	$(Q)sh tools/deps.sh build test
	$(Q)$(SUBMAKE) all tests
	$(Q)GOOSE_BUILD=$(BUILD) GOOSE_CHECK_SAN=1 bash tests/check.sh

# libFuzzer on the Gaggle's frame reader and decoders, FUZZ_TIME seconds.
FUZZ_TIME ?= 60
FUZZ_CC ?= clang
FUZZ_SRC := $(LIB_SRC) $(LIB_ASM)
# (A make of its own after tools/deps.sh: the recipe's pkg-config flags are
# read when it starts.)
fuzz:
	$(Q)sh tools/deps.sh build fuzz
	$(Q)$(SUBMAKE) fuzz-run
fuzz-run: $(ARFILE)
	$(Q)mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/crashes
	$(Q)$(CC) $(CFLAGS_ALL) -Itests tests/fuzz/write-seeds.c $(ARFILE) $(LDLIBS_ALL) \
		-o $(BUILD)/fuzz/write-seeds
	$(Q)$(BUILD)/fuzz/write-seeds $(BUILD)/fuzz/corpus
	@echo "  FUZZ    tests/fuzz/libfuzzer.c ($(FUZZ_TIME) s)"
	$(Q)$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-Iinclude -Ilib -Itests $(PKG_CFLAGS) tests/fuzz/libfuzzer.c $(FUZZ_SRC) \
		$(LDLIBS_ALL) -o $(BUILD)/fuzz/gaggle-frames
	$(Q)cd $(BUILD)/fuzz && ./gaggle-frames -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
		-artifact_prefix=crashes/ corpus 2>&1 | tee fuzz.log | grep -E "^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::number|==[0-9]+==ERROR)" ; \
		test -z "$$(ls crashes)" || { echo "crashes in $(BUILD)/fuzz/crashes: copy them to tests/fuzz/regressions/frames"; exit 1; }

# libFuzzer on the own HTTP/1.1 client's response parser, then on the own
# HTTP/2 client's session (server bytes), FUZZ_TIME seconds each.
fuzz-http:
	$(Q)sh tools/deps.sh build fuzz
	$(Q)$(SUBMAKE) fuzz-http-run
fuzz-http-run: $(ARFILE)
	$(Q)mkdir -p $(BUILD)/fuzz-http/corpus $(BUILD)/fuzz-http/crashes
	$(Q)cp tests/fuzz/http-seeds/* $(BUILD)/fuzz-http/corpus/
	@echo "  FUZZ    tests/fuzz/http-libfuzzer.c ($(FUZZ_TIME) s)"
	$(Q)$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-Iinclude -Ilib -Itests $(PKG_CFLAGS) tests/fuzz/http-libfuzzer.c $(FUZZ_SRC) \
		$(LDLIBS_ALL) -o $(BUILD)/fuzz-http/http-responses
	$(Q)cd $(BUILD)/fuzz-http && ./http-responses -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
		-artifact_prefix=crashes/ corpus 2>&1 | tee fuzz.log | grep -E "^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::number|==[0-9]+==ERROR)" ; \
		test -z "$$(ls crashes)" || { echo "crashes in $(BUILD)/fuzz-http/crashes: copy them to tests/fuzz/regressions/http"; exit 1; }
	$(Q)mkdir -p $(BUILD)/fuzz-http/h2-corpus
	$(Q)cp tests/fuzz/h2-seeds/* $(BUILD)/fuzz-http/h2-corpus/
	@echo "  FUZZ    tests/fuzz/h2-libfuzzer.c ($(FUZZ_TIME) s)"
	$(Q)$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-Iinclude -Ilib -Itests $(PKG_CFLAGS) tests/fuzz/h2-libfuzzer.c $(FUZZ_SRC) \
		$(LDLIBS_ALL) -o $(BUILD)/fuzz-http/h2-session
	$(Q)cd $(BUILD)/fuzz-http && ./h2-session -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
		-rss_limit_mb=2048 -artifact_prefix=crashes/ h2-corpus 2>&1 | tee h2-fuzz.log | grep -E "^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::number|==[0-9]+==ERROR)" ; \
		test -z "$$(ls crashes)" || { echo "crashes in $(BUILD)/fuzz-http/crashes: copy them to tests/fuzz/regressions/http"; exit 1; }

# examples/docker for real: debian:12 base images made with debootstrap,
# the Dockerfile built and compose.yaml's Gaggle run with podman, the
# Manager's report against the target's counts (root, Debian's mirror; not
# part of `make check`, .ci/run runs it after).  tests/containers/test.sh.
test-containers:
	$(Q)GOOSE_BUILD=$(BUILD) bash tests/containers/test.sh

demo:
	$(Q)sh tools/deps.sh build demo
	$(Q)$(SUBMAKE) all
	$(Q)bash tools/demo.sh $(BUILD)

bench:
	$(Q)sh tools/deps.sh build bench
	$(Q)$(SUBMAKE) all
	$(Q)bash bench/run.sh $(BUILD)

bench-overload:
	$(Q)sh tools/deps.sh build bench
	$(Q)$(SUBMAKE) all
	$(Q)bash bench/overload.sh $(BUILD)

# goose_load_assets against nginx alone (bench/assets.sh, BENCH_ASSETS_TIME s per run).
bench-assets:
	$(Q)sh tools/deps.sh build bench
	$(Q)$(SUBMAKE) all
	$(Q)bash bench/assets.sh $(BUILD)

# Test data across a Gaggle alone (bench/data-gaggle.sh, BENCH_DATA_ROWS rows).
bench-data-gaggle:
	$(Q)sh tools/deps.sh build bench
	$(Q)$(SUBMAKE) all
	$(Q)bash bench/data-gaggle.sh $(BUILD)

# A Gaggle that stays up alone (bench/serve.sh): START turnaround against a
# fresh Manager per test, RSS and fds per test, BENCH_SERVE_TESTS tests.
bench-serve:
	$(Q)sh tools/deps.sh build bench
	$(Q)$(SUBMAKE) all $(BUILD)/tests/gaggle-loadtest
	$(Q)bash bench/serve.sh $(BUILD)

# The TLS and HTTP/2 part of `make bench` alone (BENCH_TLS_TIME s per run).
bench-tls:
	$(Q)sh tools/deps.sh build bench
	$(Q)$(SUBMAKE) all
	$(Q)BENCH_ONLY=tls bash bench/run.sh $(BUILD)

# The body readers' part of `make bench` alone: CPU per MB of each
# (bench/read.c), no server.
bench-read:
	$(Q)sh tools/deps.sh build bench
	$(Q)$(SUBMAKE) all
	$(Q)BENCH_ONLY=read bash bench/run.sh $(BUILD)

# The test data's part of `make bench` alone: a 1,000,000-row CSV file's
# memory (bench/data.c), no server.
bench-data:
	$(Q)sh tools/deps.sh build bench
	$(Q)$(SUBMAKE) all
	$(Q)BENCH_ONLY=data bash bench/run.sh $(BUILD)

# ABI: the library built again with -g in build-abi/ (the normal build is
# left as it is), dumped by abidw and compared with the newest committed
# baseline abi/libgoose-X.Y.Z.abi; an incompatible change fails unless the
# SONAME's major changed.  `make abi-baseline` writes the baseline of this
# version, to commit with a release.  See tools/abi-check.sh.
ABI_BUILD := build-abi
ABI_SO := $(ABI_BUILD)/libgoose.so.$(VERSION)
abi-lib:
	$(Q)sh tools/deps.sh build abi
	$(Q)$(MAKE) -s --no-print-directory BUILD=$(ABI_BUILD) SAN= OPT="-O2 -g" $(ABI_SO)

abi-check: abi-lib
	$(Q)bash tools/abi-check.sh $(ABI_SO)

abi-baseline: abi-lib
	$(Q)bash tools/abi-check.sh --baseline $(ABI_SO)

# The .pc is written straight to its place, never into the tree, so a .pc
# left by an earlier install with another PREFIX cannot be installed.
install: lib
	install -d $(DESTDIR)$(INCLUDEDIR)/goose $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man7
	install -m 644 include/goose.h $(DESTDIR)$(INCLUDEDIR)/goose.h
	install -m 644 include/goose/*.h $(DESTDIR)$(INCLUDEDIR)/goose/
	install -m 755 $(SOFILE) $(DESTDIR)$(LIBDIR)/
	ln -sf libgoose.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libgoose.so
	install -m 644 $(ARFILE) $(DESTDIR)$(LIBDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		pkgconfig/libgoose.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/libgoose.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/libgoose.pc
	$(if $(MAN3),install -m 644 $(MAN3) $(DESTDIR)$(MANDIR)/man3/)
	$(if $(MAN7),install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7/)
	$(if $(DESTDIR),,-ldconfig 2>/dev/null)

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/goose.h
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/goose/,$(notdir $(wildcard include/goose/*.h)))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/goose 2>/dev/null
	rm -f $(DESTDIR)$(LIBDIR)/libgoose.so $(DESTDIR)$(LIBDIR)/$(SONAME) \
		$(DESTDIR)$(LIBDIR)/libgoose.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libgoose.a
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/libgoose.pc
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(MAN3)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(MAN7)))
	$(if $(DESTDIR),,-ldconfig 2>/dev/null)

# lib/libgoose.*, pkgconfig/libgoose.pc: where older builds wrote them.
clean:
	rm -rf build build-san build-abi lib/libgoose.so* lib/libgoose.a pkgconfig/libgoose.pc \
		demo-report.json

-include $(LIB_OBJ:.o=.d)
