#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `make test-fresh-root`: run `make test` as a new user would, in a clean Debian bookworm root
# that holds nothing but a clone of this repository's HEAD. The root is made with debootstrap
# (minbase, plus git and make: what a user who cloned the repository has); proc, and the
# host's /sys and /dev are bound in, since the tests load real BPF programs and make real
# cgroups and loop devices. It runs in its own mount namespace, pivoted into the new root.
# Everything else (compilers, libraries, podman ...) `make test` installs itself. The
# debootstrap result is cached as a tarball under $OUTPUT/fresh-root; each run unpacks it
# into a new scratch directory that is removed at the end, even on failure.
#
# Usage: tests/fresh-root.sh [make arguments, default: test]
# Environment:
#   OUTPUT             cache directory (default .output)
#   LMP_DEBIAN_MIRROR  Debian mirror (default: the one the host's apt uses)
#   FRESH_ROOT_KEEP=1  keep the scratch root after the run (for a look inside)
set -euo pipefail

repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
output=${OUTPUT:-$repo/.output}
mirror=$("$repo/tools/debian-mirror.sh")
cache=$output/fresh-root
base=$cache/bookworm-base.tar
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(test)

if [ "$(id -u)" != 0 ]; then
	echo "fresh-root.sh: debootstrap, chroot and the tests need root" >&2
	exit 1
fi
command -v debootstrap >/dev/null || {
	echo "fresh-root.sh: installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		debootstrap >/dev/null
}

mkdir -p "$cache"
if [ ! -s "$base" ]; then
	start=$SECONDS
	tmp=$(mktemp -d /var/tmp/lmp-fresh-base.XXXXXX)
	echo "fresh-root.sh: debootstrap bookworm (minbase, git, make) from $mirror"
	if ! debootstrap --variant=minbase --include=ca-certificates,git,make bookworm \
		"$tmp/root" "$mirror" >"$tmp/debootstrap.log" 2>&1; then
		tail -n 20 "$tmp/debootstrap.log" >&2
		rm -rf --one-file-system "$tmp"
		exit 1
	fi
	tar --numeric-owner -C "$tmp/root" -cf "$base.tmp" .
	mv "$base.tmp" "$base"
	rm -rf --one-file-system "$tmp"
	echo "fresh-root.sh: base root cached in $base ($((SECONDS - start)) s)"
fi

root=$(mktemp -d /var/tmp/lmp-fresh-root.XXXXXX)
cleanup() {
	local rc=$?
	if [ "${FRESH_ROOT_KEEP:-0}" = 1 ]; then
		echo "fresh-root.sh: root kept in $root"
	else
		rm -rf --one-file-system "$root"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tar --numeric-owner -C "$root" -xf "$base"
# The network of this machine, not its software: its resolver, and the local CA certificates
# it trusts (a TLS-inspecting proxy's), for apt, curl and npm inside the root.
cp /etc/resolv.conf "$root/etc/resolv.conf"
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
	cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
	chroot "$root" update-ca-certificates >/dev/null 2>&1
fi
# a clone of HEAD, as anyone cloning the public repository gets it: no build output, no
# untracked file, nothing of this machine
git clone -q --no-local "$repo" "$root/src/lmp"
git -C "$root/src/lmp" checkout -q "$(git -C "$repo" rev-parse HEAD)"

echo "fresh-root.sh: make ${targets[*]} in a clean bookworm root ($root)"
start=$SECONDS
set +e
# A private mount namespace whose root is the new root (pivot_root, the old one detached):
# its mount table holds only the root, proc, sys (with the cgroup and tracefs mounts under
# it), dev and a tmpfs on /run, as on a machine of its own; nothing of it reaches the host's
# mount table, and it all goes when the last process in it exits, however the run ends.
unshare -m --propagation private /bin/bash -euc '
	root=$1; shift
	mount --bind "$root" "$root"
	mount -t proc proc "$root/proc"
	mount --rbind /sys "$root/sys"
	mount --rbind /dev "$root/dev"
	mount -t tmpfs -o mode=755 tmpfs "$root/run"
	cd "$root"
	mkdir -p .old-root
	pivot_root . .old-root
	umount -l /.old-root
	rmdir /.old-root
	exec /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
		/bin/bash -c "cd /src/lmp && exec make \"\$@\"" make "$@"
' fresh-root "$root" "${targets[@]}"
rc=$?
set -e
echo "fresh-root.sh: make ${targets[*]} exited $rc after $((SECONDS - start)) s"
exit $rc
