#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fetches a Debian kernel (vmlinuz + its modules) and builds the busybox initramfs that
# tests/kernels/vm.sh boots it with. Usage: fetch.sh KERNEL   (5.10, 6.1 or 6.12)
# Prints the directory holding vmlinuz, initramfs.cpio.gz and release.
#
# apt runs with a private sources list and private state under the cache directory
# ($LMP_KERNELS_CACHE, default .output/kernels of this repository): nothing is added to the
# host's apt configuration. The mirror is the one the host's own sources use.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${LMP_KERNELS_CACHE:-$repo/.output/kernels}

die() { echo "fetch.sh: $*" >&2; exit 2; }

# Debian suite of each kernel in the matrix: the suite's linux-image-amd64 metapackage.
suite_of() {
	case $1 in
	5.10) echo bullseye ;;
	6.1) echo bookworm ;;
	6.12) echo trixie ;;
	*) return 1 ;;
	esac
}

# modules.dep resolution: print the module files to insmod, dependencies first.
declare -A seen
mod_order() { # moddir, module path relative to moddir
	local dir=$1 m=$2 d
	[ -n "${seen[$m]:-}" ] && return 0
	seen[$m]=1
	for d in $(sed -n "s|^$m:||p" "$dir/modules.dep"); do
		mod_order "$dir" "$d"
	done
	echo "$m"
}

[ $# -eq 1 ] || die "usage: fetch.sh KERNEL (5.10, 6.1 or 6.12)"
kernel=$1
suite=$(suite_of "$kernel") || die "unknown kernel '$kernel' (known: 5.10, 6.1, 6.12)"
out=$cache/$kernel
fresh() { # the cached kernel and an initramfs built from the current init and this script
	[ -s "$out/initramfs.cpio.gz" ] && [ -s "$out/vmlinuz" ] &&
		[ "$out/initramfs.cpio.gz" -nt "$here/init" ] && [ "$out/initramfs.cpio.gz" -nt "$0" ]
}
if fresh; then
	echo "$out"
	exit 0
fi

busybox=$(command -v busybox || echo /bin/busybox)
[[ $(LANG=C ldd "$busybox" 2>&1) == *"not a dynamic executable"* ]] || die "no static busybox: apt-get install busybox-static"
for tool in cpio depmod xz zstd; do
	command -v $tool >/dev/null || die "$tool is missing (make test-kernels installs it)"
done

mkdir -p "$cache"
exec 9>"$cache/.lock-$kernel"
flock 9 # two runs of the same kernel at once fetch it once
if fresh; then
	echo "$out"
	exit 0
fi

# The kernel package is downloaded once; delete $cache/debs/KERNEL to take a newer one.
debs=$cache/debs/$kernel
deb=$(ls "$debs"/*.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
	mirror=$("$here/../../tools/debian-mirror.sh") || die "no Debian mirror"
	apt_dir=$cache/apt/$suite
	mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/parts" "$apt_dir/prefs"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" >"$apt_dir/sources.list"
	: >"$apt_dir/status"
	apt=(apt-get -qq -o Dir::Etc::sourcelist="$apt_dir/sources.list" -o Dir::Etc::sourceparts="$apt_dir/parts"
		-o Dir::Etc::preferencesparts="$apt_dir/prefs" -o Dir::State="$apt_dir/state"
		-o Dir::State::status="$apt_dir/status" -o Dir::Cache="$apt_dir/cache" -o APT::Architecture=amd64
		-o APT::Architectures=amd64 -o APT::Sandbox::User=root -o Debug::NoLocking=1)
	echo "fetch.sh: $kernel: apt update of $suite from $mirror" >&2
	"${apt[@]}" update >&2 || die "apt-get update of $suite failed"
	# the metapackage names the suite's current kernel package
	pkg=$("${apt[@]/apt-get/apt-cache}" depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -1)
	[ -n "$pkg" ] || die "linux-image-amd64 of $suite names no kernel package"
	echo "fetch.sh: $kernel: downloading $pkg" >&2
	rm -rf "$debs.tmp"
	mkdir -p "$debs.tmp"
	(cd "$debs.tmp" && "${apt[@]}" download "$pkg" >&2) || die "apt-get download $pkg failed"
	rm -rf "$debs"
	mv "$debs.tmp" "$debs"
	deb=$(ls "$debs"/*.deb | head -1)
fi
pkg=$(dpkg-deb -f "$deb" Package)
rm -rf "$out.tmp"
mkdir -p "$out.tmp/root"
dpkg-deb -x "$deb" "$out.tmp/root"

vmlinuz=$(ls "$out.tmp"/root/boot/vmlinuz-* | head -1)
release=${vmlinuz##*/vmlinuz-}
moddir=$(ls -d "$out.tmp"/root/lib/modules/"$release" "$out.tmp"/root/usr/lib/modules/"$release" 2>/dev/null | head -1 || true)
[ -d "$moddir" ] || die "$pkg has no modules directory"
# modules.dep is made by depmod at install time, not shipped in the package
depmod -b "${moddir%/lib/modules/*}" "$release" || die "depmod of $release failed"

# The initramfs: busybox, /init, and the modules needed to mount the host's root over 9p
# under an overlay, plus loop for the block tests, with whatever they depend on. Modules
# built into this kernel are not in modules.dep and need nothing.
ird=$out.tmp/initramfs
mkdir -p "$ird"/{bin,dev,proc,sys,mnt/lower,mnt/rw,mnt/root,lib/modules}
cp "$busybox" "$ird/bin/busybox"
cp "$here/init" "$ird/init"
chmod 755 "$ird/init"
: >"$ird/modules.order"
for want in virtio_pci 9pnet_virtio 9p overlay loop; do
	file=$(grep -E "(^|/)$want\.ko(\.[a-z]+)?:" "$moddir/modules.dep" | cut -d: -f1 | head -1 || true)
	if [ -z "$file" ]; then
		grep -qE "(^|/)$want\.ko" "$moddir/modules.builtin" || die "$want: neither a module nor built into $release"
		continue
	fi
	for m in $(mod_order "$moddir" "$file"); do
		base=$(basename "$m")
		grep -qx "${base%.ko*}.ko" "$ird/modules.order" && continue
		case $base in # busybox insmod wants plain .ko files
		*.ko.xz) xz -dc "$moddir/$m" >"$ird/lib/modules/${base%.xz}"; base=${base%.xz} ;;
		*.ko.zst) zstd -qdc "$moddir/$m" >"$ird/lib/modules/${base%.zst}"; base=${base%.zst} ;;
		*.ko.gz) gzip -dc "$moddir/$m" >"$ird/lib/modules/${base%.gz}"; base=${base%.gz} ;;
		*) cp "$moddir/$m" "$ird/lib/modules/$base" ;;
		esac
		echo "$base" >>"$ird/modules.order"
	done
done
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp/initramfs.cpio.gz"
cp "$vmlinuz" "$out.tmp/vmlinuz"
echo "$release" >"$out.tmp/release"
echo "$pkg" >"$out.tmp/package"
rm -rf "$out.tmp/initramfs" "$out.tmp/root" "$out"
mv "$out.tmp" "$out"
echo "fetch.sh: $kernel: $pkg ($release) ready" >&2
echo "$out"
