#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Offline route for the container image: build a minimal Debian bookworm root filesystem with
# debootstrap and import it into podman as localhost/debian:bookworm, so that
# `podman build --build-arg BUILD_IMAGE=localhost/debian:bookworm
#  --build-arg BASE_IMAGE=localhost/debian:bookworm` works on a machine that can reach the Debian
# package mirror but no container registry. `make image` calls this first.
#
# Usage: container/build-base.sh [--force]
#   --force            rebuild even when the image already exists
# Environment:
#   LMP_BASE_IMAGE     image name to create (default localhost/debian:bookworm)
#   LMP_DEBIAN_MIRROR  Debian mirror (default: the one the host's apt uses)
#   LMP_BASE_WORKDIR   scratch directory for the root filesystem (default: a mktemp dir)

set -euo pipefail

image=${LMP_BASE_IMAGE:-localhost/debian:bookworm}
mirror=$("$(dirname "$0")/../tools/debian-mirror.sh")
suite=bookworm
force=0

for arg in "$@"; do
	case "$arg" in
	--force) force=1 ;;
	-h | --help)
		sed -n '4,15p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "build-base.sh: unknown argument '$arg' (try --help)" >&2
		exit 2
		;;
	esac
done

if [ "$(id -u)" != 0 ]; then
	echo "build-base.sh: debootstrap and podman import need root" >&2
	exit 1
fi

# The tools of the offline route are Debian packages; install only the missing ones.
missing=""
for p in debootstrap podman runc umoci; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "build-base.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ "$force" = 0 ] && podman image exists "$image"; then
	echo "build-base.sh: $image already exists (use --force to rebuild)"
	exit 0
fi

workdir=${LMP_BASE_WORKDIR:-}
own_workdir=0
if [ -z "$workdir" ]; then
	workdir=$(mktemp -d /var/tmp/lmp-base.XXXXXX)
	own_workdir=1
fi
rootfs="$workdir/rootfs"
cleanup() {
	if [ "$own_workdir" = 1 ]; then
		rm -rf --one-file-system "$workdir"
	fi
}
trap cleanup EXIT

rm -rf --one-file-system "$rootfs"
mkdir -p "$rootfs"

echo "build-base.sh: debootstrap $suite (minbase) from $mirror"
debootstrap --variant=minbase --include=ca-certificates "$suite" "$rootfs" "$mirror" \
	>"$workdir/debootstrap.log" 2>&1 || {
	echo "build-base.sh: debootstrap failed, last lines of its log:" >&2
	tail -n 20 "$workdir/debootstrap.log" >&2
	exit 1
}

# Make it look like the official slim images: same apt sources (with security updates), no
# docs/man pages/locales installed by later apt-get runs, no apt caches, no machine identity.
cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $mirror-security $suite-security main
EOF
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/lmp-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
cat >"$rootfs/etc/apt/apt.conf.d/lmp-slim" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
	"$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log \
	"$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old \
	"$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/lintian
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
: >"$rootfs/etc/machine-id"
# debootstrap copies the host's resolver and hostname; a container gets its own at run time.
: >"$rootfs/etc/resolv.conf"
echo localhost >"$rootfs/etc/hostname"

echo "build-base.sh: importing as $image"
tar --numeric-owner --xattrs -C "$rootfs" -c . |
	podman import \
		--change 'CMD ["/bin/bash"]' \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--message "debootstrap --variant=minbase $suite" \
		- "$image" >/dev/null
podman image inspect --format '{{.Id}} {{.Size}}' "$image" |
	awk -v img="$image" '{ printf "build-base.sh: %s ready (id %.12s, %d MB)\n", img, $1, $2 / 1e6 }'
