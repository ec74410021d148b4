# SPDX-License-Identifier: Apache-2.0
# Included by the Makefile: the Debian packages lmp needs and `make deps`, which installs
# the missing ones (a fresh Debian machine gets everything from here).

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
