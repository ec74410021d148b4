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
	libcurl4-openssl-dev libjansson-dev libcgroup-dev libmicrohttpd-dev libcmocka-dev clang-format-14 \
	openssl iproute2 util-linux procps prometheus
BENCH_PKGS := libbpf-tools bpftrace
# what the suites run besides the build: the image suite (podman, runc, umoci, debootstrap:
# container/build-base.sh), curl, python3, mkfs.ext4, capsh, git, node (tools/get-helm.sh
# installs npm and unzip when their commands are missing: a nodesource node carries npm)
TEST_PKGS := podman runc umoci debootstrap curl python3 e2fsprogs libcap2-bin git nodejs \
	busybox-static

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
	@echo 'make check      clang-format-14 check (part of make test; make fmt applies it)'
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

fmt:
	$(Q)$(CLANG_FORMAT) -i $(FMT_SRCS)

clean:
	rm -rf $(OUTPUT) $(BUILD)

.DELETE_ON_ERROR:
.SECONDARY:

# Packaging (docs/deploy.md). `make image`: the container image, offline (a debootstrap base
# imported into podman, built with runc; no Docker engine, no registry). `make chart`: helm
# lint, template, schema validation and package. `make test-image`: build the image and run
# lmp inside it with runc. The chart/manifest tests (tests/e2e/test_packaging.sh) run in
# `make test`; test-packaging runs them alone.
IMAGE ?= localhost/lmp:$(VERSION)
BASE_IMAGE ?= localhost/debian:bookworm
RUNC ?= /usr/sbin/runc
K8S_TOOLS := $(OUTPUT)/k8s-tools
HELM := $(K8S_TOOLS)/bin/helm
.PHONY: image chart test-packaging test-image

$(HELM): tools/get-helm.sh tools/k8s-tools/package-lock.json
	$(Q)tools/get-helm.sh $(K8S_TOOLS) >/dev/null

image:
	$(Q)container/build-base.sh
	$(Q)podman --runtime $(RUNC) build --network host -f container/Dockerfile \
		--build-arg BUILD_IMAGE=$(BASE_IMAGE) --build-arg BASE_IMAGE=$(BASE_IMAGE) \
		--build-arg TARGETARCH=$$(dpkg --print-architecture) --build-arg VERSION=$(VERSION) \
		--build-arg REVISION=$$(git rev-parse HEAD 2>/dev/null || echo unknown) \
		--build-arg CREATED=$$(date -u +%Y-%m-%dT%H:%M:%SZ) -t $(IMAGE) .

chart: $(HELM) | $(BUILD)
	$(Q)$(HELM) lint --strict helm/lmp
	$(Q)$(HELM) template lmp helm/lmp --namespace lmp > $(BUILD)/lmp-chart.yaml
	$(Q)LMP_K8S_TOOLS=$(K8S_TOOLS) node tools/k8s-validate.mjs $(BUILD)/lmp-chart.yaml
	$(Q)$(HELM) package helm/lmp --destination $(BUILD)

test-packaging: $(HELM)
	$(Q)OUTPUT=$(OUTPUT) LMP_K8S_TOOLS=$(K8S_TOOLS) tests/e2e/test_packaging.sh

test-image: image
	$(Q)IMAGE=$(IMAGE) RUNC=$(RUNC) LMP_K8S_TOOLS=$(K8S_TOOLS) tests/image/test_image.sh

# Hardening (docs/hardening.md). `make fuzz`: every libFuzzer harness of tests/fuzz for
# FUZZ_SECONDS each (or FUZZ_RUNS executions), corpora kept in $(BUILD)/fuzz/corpus; a short
# run of each is part of `make test` (tests/e2e/test_fuzz_short.sh). The agent library is
# rebuilt with clang, coverage and ASan/UBSan for the harnesses. `make soak`: 10 minutes of
# load while 1,000 pod cgroups come and go, then 5,000 short-lived cgroups under
# `--probes all` (tests/soak/churn.c) (not part of `make test`). `make test-valgrind`:
# the unit tests under valgrind, failing on definite or indirect leaks and memory errors.
DEB_PKGS += libclang-rt-16-dev valgrind
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?=
FUZZ_CFLAGS := $(filter-out -O2 -fsanitize=%,$(CFLAGS)) -O1 -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_LIB := $(OUTPUT)/fuzz/libagent.a
FUZZ_LIB_OBJS := $(patsubst %.c,$(OUTPUT)/fuzz/%.o,$(filter-out agent/core/main.c,$(AGENT_SRCS)))
.PHONY: fuzz fuzz-build soak test-valgrind

$(OUTPUT)/fuzz/agent/%.o: agent/%.c $(AGENT_HDRS) $(wildcard include/lmp/*.h) $(SKELS)
	$(Q)mkdir -p $(@D)
	$(call msg,FUZZCC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	$(Q)mkdir -p $(@D)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined $< $(FUZZ_LIB) \
		$(LDLIBS) -o $@

fuzz-build: $(FUZZ_BINS)
test-build: $(FUZZ_BINS)

fuzz: deps
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)BUILD=$(BUILD) FUZZ_RUNS=$(FUZZ_RUNS) tests/fuzz/run.sh $(FUZZ_SECONDS)

# test_loss drives the bench load generator (tests/bench/flood.bpf.c) through the probe code
$(BUILD)/tests/integration/test_loss: $(BENCH_BPF)

$(BUILD)/tests/soak:
	$(Q)mkdir -p $@
$(BUILD)/tests/soak/soak $(BUILD)/tests/soak/churn: | $(BUILD)/tests/soak

SOAK_SECONDS ?= 600
SOAK_PODS ?= 1000
CHURN_CGROUPS ?= 5000
soak: deps
	$(Q)$(MAKE) --no-print-directory $(LMP) $(BUILD)/tests/soak/soak $(BUILD)/tests/soak/churn
	$(Q)LMP=$(LMP) SOAK_SECONDS=$(SOAK_SECONDS) SOAK_PODS=$(SOAK_PODS) $(BUILD)/tests/soak/soak
	$(Q)LMP=$(LMP) CHURN_CGROUPS=$(CHURN_CGROUPS) $(BUILD)/tests/soak/churn

# A memory error or a definite/indirect leak fails (valgrind exits 99). A test whose own
# assertions fail only under valgrind's ~20x slowdown (TLS handshakes past a 2 s timeout,
# rate limits measured in ms) is run a second time and, if it fails again without any
# valgrind error, reported as "slow" rather than failed: its memory was still checked.
VALGRIND_OPTS ?= --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--show-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no
test-valgrind: deps
	$(Q)$(MAKE) --no-print-directory $(UNIT_BINS)
	$(Q)fail=0; for t in $(UNIT_BINS); do \
		log=$$t.valgrind.log; n=$$(basename $$t); \
		valgrind $(VALGRIND_OPTS) $$t >$$log 2>&1; rc=$$?; \
		if [ $$rc -ne 0 ] && [ $$rc -ne 99 ]; then \
			valgrind $(VALGRIND_OPTS) $$t >$$log 2>&1; rc=$$?; \
		fi; \
		if [ $$rc -eq 0 ]; then \
			printf '  ok    %s\n' "$$n"; \
		elif [ $$rc -ne 99 ] && grep -q 'ERROR SUMMARY: 0 errors' $$log; then \
			printf '  slow  %s: no memory error, no leak; timing assertions failed under valgrind: %s\n' \
				"$$n" "$$(grep -o 'FAILED  \] test_[a-z0-9_]*' $$log | sed 's/.* //' | sort -u | tr '\n' ' ')"; \
		else \
			printf '  FAIL  %s (log: %s)\n' "$$n" "$$log"; \
			grep -E '^==[0-9]+== (Invalid|Conditional|.*definitely|.*indirectly|ERROR SUMMARY)' $$log | head -20; \
			fail=1; \
		fi; \
	done; [ $$fail -eq 0 ]

# SANITIZE=...: a sanitizer report fails the run instead of scrolling past (UBSan recovers
# by default); the agent and every test binary abort on the first one.
ifneq ($(SANITIZE),)
CFLAGS += -fno-sanitize-recover=all
endif

# Kernel matrix (docs/kernel-support.md). `make test-kernels`: tests/kernels/suite.sh (every
# probe under a real workload) on this host and, under QEMU in software emulation, on
# Debian's 5.10, 6.1 and 6.12 kernels (pure cgroup v2) and on 6.1 with cgroup v1 only. The
# kernels are fetched with apt into $(OUTPUT)/kernels, outside the host's apt configuration.
KERNEL_PKGS := qemu-system-x86 busybox-static jq curl cpio kmod xz-utils zstd util-linux
KERNELS ?= host 5.10 6.1 6.12 6.1:v1
KWORKLOAD := $(BUILD)/tests/kernels/kworkload
.PHONY: test-kernels

$(KWORKLOAD): tests/kernels/kworkload.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -o $@

test-build: $(KWORKLOAD)

test-kernels:
	$(Q)$(MAKE) --no-print-directory deps EXTRA_PKGS="$(KERNEL_PKGS)"
	$(Q)$(MAKE) --no-print-directory $(LMP) $(KWORKLOAD)
	$(Q)LMP=$(LMP) KWORKLOAD=$(KWORKLOAD) LMP_KERNELS_CACHE=$(OUTPUT)/kernels \
		tests/kernels/run.sh $(KERNELS)

# Every hook alternative of the non-syscall probes forced one at a time (docs/hooks.md), in
# the VM of HOOKS_KERNEL (default 6.1: fentry, kprobes, tp_btf, raw_tp and tracepoints all
# present). Long under emulation (about 40 agent starts), so not part of test-kernels.
HOOKS_KERNEL ?= 6.1
.PHONY: test-hooks
test-hooks:
	$(Q)$(MAKE) --no-print-directory deps EXTRA_PKGS="$(KERNEL_PKGS)"
	$(Q)$(MAKE) --no-print-directory $(LMP)
	$(Q)LMP_KERNELS_CACHE=$(OUTPUT)/kernels tests/kernels/vm.sh --timeout 3600 $(HOOKS_KERNEL) -- \
		tests/kernels/hooks.sh $(LMP)
