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

# Debian packages: build + run + test. `deps` installs whichever are missing.
DEB_PKGS := make gcc clang-16 llvm-16 bpftool pkg-config libbpf-dev libelf-dev zlib1g-dev \
	libcurl4-openssl-dev libjansson-dev libcgroup-dev libmicrohttpd-dev libcmocka-dev \
	openssl iproute2 util-linux procps prometheus
BENCH_PKGS := libbpf-tools bpftrace

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

AGENT_SRCS := $(sort $(wildcard agent/*.c agent/probes/*.c))
AGENT_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(AGENT_SRCS))
LIB_OBJS := $(filter-out $(OUTPUT)/agent/main.o,$(AGENT_OBJS))
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

.PHONY: all deps bench-deps run test test-unit test-integration test-e2e bench check fmt \
	clean vmlinux help
.DEFAULT_GOAL := all

all: $(LMP)

help:
	@echo 'make            build build/lmp (BPF objects, skeletons, agent)'
	@echo 'make run        install packages if missing, build, run the agent (ARGS="...")'
	@echo 'make test       install packages if missing, build, run unit + integration + e2e tests'
	@echo 'make bench      benchmarks side by side with libbpf-tools and bpftrace'
	@echo 'make check      clang-format check'
	@echo 'make deps       install the Debian packages lmp needs'

# Install what is missing, and only that: a fresh Debian machine gets everything from here.
deps:
	@missing=""; for p in $(DEB_PKGS) $(EXTRA_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "lmp: missing packages:$$missing (run 'make deps' as root)" >&2; exit 1; fi; \
		echo "  DEPS    installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

bench-deps:
	@$(MAKE) --no-print-directory deps EXTRA_PKGS="$(BENCH_PKGS)"

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > include/vmlinux/$(ARCH)/vmlinux.h

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h include/lmp/*.h) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp.o
	$(Q)$(BPFTOOL) gen object $@ $@.tmp.o && rm -f $@.tmp.o

$(OUTPUT)/skel/%.skel.h: $(OUTPUT)/bpf/%.bpf.o | $(OUTPUT)/skel
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

$(OUTPUT)/agent/%.o: agent/%.c $(wildcard agent/*.h include/lmp/*.h) $(SKELS) | $(OUTPUT)/agent/probes
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIBAGENT): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LMP): $(OUTPUT)/agent/main.o $(LIBAGENT) | $(BUILD)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $(OUTPUT)/agent/main.o -Wl,--whole-archive $(LIBAGENT) \
		-Wl,--no-whole-archive $(LDLIBS) -o $@

$(OUTPUT)/tests/lib/%.o: tests/lib/%.c $(wildcard tests/lib/*.h) | $(OUTPUT)/tests/lib
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/lib -c $< -o $@

# A unit test may name the symbols it mocks in a line "/* wrap: sym1 sym2 */". The agent
# library is linked whole: probe descriptors are reached only through weak references.
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

$(OUTPUT)/bpf $(OUTPUT)/skel $(OUTPUT)/agent/probes $(OUTPUT)/tests/lib $(BUILD) \
$(BUILD)/tests/unit $(BUILD)/tests/integration $(BUILD)/tests/e2e $(BUILD)/bench:
	$(Q)mkdir -p $@

ARGS ?=
run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(LMP) run --listen 127.0.0.1:9464 $(ARGS)

test-build: $(LMP) $(UNIT_BINS) $(INTEG_BINS) $(E2E_BINS)

test: deps
	$(Q)$(MAKE) --no-print-directory test-build
	$(Q)LMP=$(LMP) BUILD=$(BUILD) tests/run.sh $(SUITES)

test-unit test-integration test-e2e: deps
	$(Q)$(MAKE) --no-print-directory test-build
	$(Q)LMP=$(LMP) BUILD=$(BUILD) tests/run.sh $(patsubst test-%,%,$@)

bench: bench-deps
	$(Q)$(MAKE) --no-print-directory $(LMP) $(BENCH_BINS)
	$(Q)LMP=$(LMP) BUILD=$(BUILD) tests/bench/run.sh

FMT_SRCS = $(shell git ls-files '*.c' '*.h' | grep -v '^include/vmlinux/')
check:
	$(Q)clang-format --dry-run --Werror $(FMT_SRCS)

fmt:
	$(Q)clang-format -i $(FMT_SRCS)

clean:
	rm -rf $(OUTPUT) $(BUILD)

.DELETE_ON_ERROR:
.SECONDARY:
