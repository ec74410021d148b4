# SPDX-License-Identifier: Apache-2.0
# lmp: the only build entry point. `make` builds build/lmp; `make run` starts the agent on this
# host; `make test` runs every test suite. Both install the Debian packages they need first.

OUTPUT ?= $(CURDIR)/.output
BUILD ?= $(CURDIR)/build
LMP := $(BUILD)/lmp
ARCH ?= x86
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)

# clang-14 crashes on some CO-RE relocations; clang-16 is the one we test with.
CLANG ?= $(firstword $(wildcard /usr/bin/clang-16 /usr/bin/clang-19 /usr/bin/clang))
BPFTOOL ?= $(firstword $(wildcard /usr/sbin/bpftool /usr/bin/bpftool) bpftool)
CC ?= gcc
SANITIZE ?=

include mk/deps.mk

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-D_GNU_SOURCE -DLMP_VERSION='"$(VERSION)"' -Iinclude -Iagent -I$(OUTPUT)/skel
LDLIBS += -lbpf -lelf -lz -lcurl -ljansson -lmicrohttpd -lm -lpthread
ifneq ($(SANITIZE),)
CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
endif

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -Ibpf \
	-Iinclude/vmlinux/$(ARCH) -Wall -Wno-unused-function

BPF_SRCS := $(sort $(wildcard bpf/*.bpf.c))
PROBES := $(patsubst bpf/%.bpf.c,%,$(BPF_SRCS))
BPF_OBJS := $(patsubst %,$(OUTPUT)/bpf/%.bpf.o,$(PROBES))
SKELS := $(patsubst %,$(OUTPUT)/skel/%.skel.h,$(PROBES))

# agent/<layer>/*.c and agent/probes/lib/*.c: see docs/architecture.md for the layers
AGENT_SRCS := $(sort $(wildcard agent/*/*.c agent/probes/lib/*.c))
AGENT_HDRS := $(sort $(wildcard agent/*/*.h agent/probes/lib/*.h))
AGENT_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(AGENT_SRCS))
LIB_OBJS := $(filter-out $(OUTPUT)/agent/core/main.o,$(AGENT_OBJS))
LIBAGENT := $(OUTPUT)/libagent.a

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
INTEG_SRCS := $(sort $(wildcard tests/integration/test_*.c))
INTEG_BINS := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(INTEG_SRCS))
E2E_SRCS := $(sort $(wildcard tests/e2e/test_*.c))
E2E_BINS := $(patsubst tests/e2e/%.c,$(BUILD)/tests/e2e/%,$(E2E_SRCS))
TESTLIB_SRCS := $(sort $(wildcard tests/lib/*.c))
TESTLIB_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(TESTLIB_SRCS))
BENCH_SRCS := $(sort $(filter-out %.bpf.c,$(wildcard tests/bench/*.c)))
BENCH_BPF := $(patsubst tests/bench/%.bpf.c,$(OUTPUT)/skel/%.skel.h,$(wildcard tests/bench/*.bpf.c))
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(patsubst $(CURDIR)/%,%,$(2))";
endif

.PHONY: all deps bench-deps run test test-fresh-root test-unit test-integration test-e2e bench check fmt \
	clean vmlinux help
.DEFAULT_GOAL := all

all: $(LMP)

help:
	@echo 'make            build build/lmp (BPF objects, skeletons, agent)'
	@echo 'make run        install packages if missing, build, run the agent (ARGS="...")'
	@echo 'make test       install packages if missing, build, run unit + integration + e2e + image tests'
	@echo 'make test-kernels  the kernel matrix: every probe on this host and on 5.10, 6.1, 6.12 under QEMU'
	@echo 'make test-fresh-root  make test in a clean Debian bookworm root (debootstrap)'
	@echo 'make test-hooks every hook alternative of every non-syscall probe, in the 6.1 VM'
	@echo 'make bench      benchmarks side by side with libbpf-tools and bpftrace'
	@echo 'make check      clang-format-14 and the include layers (part of make test; make fmt formats)'
	@echo 'make deps       install the Debian packages lmp needs'


vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > include/vmlinux/$(ARCH)/vmlinux.h

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h include/lmp/*.h) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp.o
	$(Q)$(BPFTOOL) gen object $@ $@.tmp.o && rm -f $@.tmp.o

$(OUTPUT)/skel/%.skel.h: $(OUTPUT)/bpf/%.bpf.o | $(OUTPUT)/skel
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

$(OUTPUT)/agent/%.o: agent/%.c $(AGENT_HDRS) $(wildcard include/lmp/*.h) $(SKELS)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIBAGENT): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LMP): $(OUTPUT)/agent/core/main.o $(LIBAGENT) | $(BUILD)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $(OUTPUT)/agent/core/main.o -Wl,--whole-archive $(LIBAGENT) \
		-Wl,--no-whole-archive $(LDLIBS) -o $@

$(OUTPUT)/tests/lib/%.o: tests/lib/%.c $(wildcard tests/lib/*.h) | $(OUTPUT)/tests/lib
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/lib -DLMP_FIXTURES_DIR='"$(CURDIR)/tests/fixtures"' -c $< -o $@

# A unit test may name the symbols it mocks in a line "/* wrap: sym1 sym2 */". The agent
# library is linked whole, as into the agent; the registry's references to the descriptors
# are strong, so a missing or misspelled one fails this link as it fails the agent's.
$(BUILD)/tests/%: tests/%.c $(LIBAGENT) $(TESTLIB_OBJS) $(wildcard tests/lib/*.h) | $(BUILD)/tests/unit $(BUILD)/tests/integration $(BUILD)/tests/e2e
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/lib $(LDFLAGS) $< $(TESTLIB_OBJS) \
		-Wl,--whole-archive $(LIBAGENT) -Wl,--no-whole-archive \
		$(patsubst %,-Wl$(comma)--wrap=%,$(shell sed -n 's|.*/\* wrap: \(.*\) \*/.*|\1|p' $<)) \
		-lcmocka $(LDLIBS) -o $@

# bench-only BPF objects (load generators), same skeleton chain as the probes
$(OUTPUT)/bpf/%.bpf.o: tests/bench/%.bpf.c $(wildcard bpf/*.h include/lmp/*.h) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp.o
	$(Q)$(BPFTOOL) gen object $@ $@.tmp.o && rm -f $@.tmp.o

$(BUILD)/bench/%: tests/bench/%.c $(LIBAGENT) $(BENCH_BPF) | $(BUILD)/bench
	$(call msg,BENCH,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -Wl,--whole-archive $(LIBAGENT) \
		-Wl,--no-whole-archive $(LDLIBS) -o $@

comma := ,

$(OUTPUT)/bpf $(OUTPUT)/skel $(OUTPUT)/tests/lib $(BUILD) \
$(BUILD)/tests/unit $(BUILD)/tests/integration $(BUILD)/tests/e2e $(BUILD)/bench:
	$(Q)mkdir -p $@

ARGS ?=
run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(LMP) run --listen 127.0.0.1:9464 $(ARGS)

test-build: $(LMP) $(UNIT_BINS) $(INTEG_BINS) $(E2E_BINS)

test: EXTRA_PKGS += $(TEST_PKGS)
test: deps
	$(Q)$(MAKE) --no-print-directory check
	$(Q)$(MAKE) --no-print-directory test-build
	$(Q)LMP=$(LMP) BUILD=$(BUILD) tests/run.sh $(SUITES)

# `make test` as a new user gets it: a clean Debian bookworm root (debootstrap, cached under
# $(OUTPUT)/fresh-root) with proc, sys and dev bound in and a clone of HEAD, nothing else
test-fresh-root:
	$(Q)OUTPUT=$(OUTPUT) tests/fresh-root.sh test

test-unit test-integration test-e2e: deps
	$(Q)$(MAKE) --no-print-directory test-build
	$(Q)LMP=$(LMP) BUILD=$(BUILD) tests/run.sh $(patsubst test-%,%,$@)

bench: bench-deps
	$(Q)$(MAKE) --no-print-directory $(LMP) $(BENCH_BINS)
	$(Q)LMP=$(LMP) BUILD=$(BUILD) tests/bench/run.sh

FMT_SRCS = $(shell git ls-files '*.c' '*.h' | grep -v '^include/vmlinux/')
# one formatter version: another clang-format release formats the same tree differently
CLANG_FORMAT ?= clang-format-14
check:
	$(call msg,FORMAT,every tracked .c/.h)
	$(Q)$(CLANG_FORMAT) --dry-run --Werror $(FMT_SRCS)
	$(call msg,LAYERS,agent/ include graph (no cycle and no include upward))
	$(Q)tools/include-graph.sh >/dev/null || tools/include-graph.sh

fmt:
	$(Q)$(CLANG_FORMAT) -i $(FMT_SRCS)

clean:
	rm -rf $(OUTPUT) $(BUILD)

.DELETE_ON_ERROR:
.SECONDARY:

# SANITIZE=...: a sanitizer report fails the run instead of scrolling past (UBSan recovers
# by default); the agent and every test binary abort on the first one.
ifneq ($(SANITIZE),)
CFLAGS += -fno-sanitize-recover=all
endif

# packaging, hardening (fuzz, soak, valgrind) and the kernel matrix
include mk/package.mk mk/hardening.mk mk/kernels.mk
