#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `make test-fresh-root`: run `make test` as a new user would, in a clean Debian bookworm root
# that holds nothing but a clone of this repository's HEAD. The root is made with debootstrap
# (minbase, plus git and make: what a user who cloned the repository has) and /proc, /sys and
# /dev of the host are bound in, since the tests load real BPF programs and make real cgroups
# and loop devices. Everything else (compilers, libraries, podman ...) `make test` installs
# itself. The debootstrap result is cached as a tarball under $OUTPUT/fresh-root; each run
# unpacks it into a new scratch directory that is removed at the end, even on failure.
#
# Usage: tests/fresh-root.sh [make arguments, default: test]
# Environment:
#   OUTPUT             cache directory (default .output)
#   LMP_DEBIAN_MIRROR  Debian mirror (default http://deb.debian.org/debian)
#   FRESH_ROOT_KEEP=1  keep the scratch root after the run (for a look inside)
set -euo pipefail

repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
output=${OUTPUT:-$repo/.output}
mirror=${LMP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
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
mounted=()
cleanup() {
	local rc=$?
	local i
	# innermost first; the binds are slaves, so unmounting them never reaches the host's
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount -R "${mounted[$i]}" 2>/dev/null || umount -R -l "${mounted[$i]}" || true
	done
	if [ "${FRESH_ROOT_KEEP:-0}" = 1 ]; then
		echo "fresh-root.sh: root kept in $root"
	elif ! findmnt -R -n "$root" >/dev/null 2>&1 || [ -z "$(findmnt -R -n -o TARGET "$root" | grep -v "^$root\$")" ]; then
		rm -rf --one-file-system "$root"
	else
		echo "fresh-root.sh: mounts left under $root, not removed" >&2
		rc=1
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tar --numeric-owner -C "$root" -xf "$base"
for fs in proc sys dev; do
	mount --rbind "/$fs" "$root/$fs"
	mount --make-rslave "$root/$fs"
	mounted+=("$root/$fs")
done
mount -t tmpfs -o mode=755 tmpfs "$root/run"
mounted+=("$root/run")
cp /etc/resolv.conf "$root/etc/resolv.conf"

# a clone of HEAD, as anyone cloning the public repository gets it: no build output, no
# untracked file, nothing of this machine
git clone -q --no-local "$repo" "$root/src/lmp"
git -C "$root/src/lmp" checkout -q "$(git -C "$repo" rev-parse HEAD)"

echo "fresh-root.sh: make ${targets[*]} in a clean bookworm root ($root)"
start=$SECONDS
set +e
chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	bash -c 'cd /src/lmp && make "$@"' make "${targets[@]}"
rc=$?
set -e
echo "fresh-root.sh: make ${targets[*]} exited $rc after $((SECONDS - start)) s"
exit $rc
