# SPDX-License-Identifier: Apache-2.0
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
