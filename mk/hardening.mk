# SPDX-License-Identifier: Apache-2.0
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

# the unit tests under valgrind (tools/valgrind-unit.sh says what fails and what is "slow")
VALGRIND_OPTS ?= --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--show-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no
test-valgrind: deps
	$(Q)$(MAKE) --no-print-directory $(UNIT_BINS)
	$(Q)VALGRIND_OPTS="$(VALGRIND_OPTS)" tools/valgrind-unit.sh $(UNIT_BINS)
