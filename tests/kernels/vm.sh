#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs one command on a Debian kernel under QEMU (software emulation) and exits with its
# status. The VM sees this host's root read-only under a tmpfs overlay, so build/lmp and
# the test binaries run there as they are; nothing it writes reaches the host, except into
# the directory given with --out.
#
#   tests/kernels/vm.sh [options] KERNEL -- COMMAND [ARG...]
#     KERNEL          5.10 (bullseye), 6.1 (bookworm) or 6.12 (trixie)
#     --cgroup MODE   v2 (pure, default), v1 (v1 controllers only) or hybrid
#     --timeout SECS  stop the VM after SECS (default 900); exit status 124
#     --out DIR       host directory mounted read-write at the same path in the VM
#     --console       copy the kernel console to stderr as it runs
#     --append ARGS   extra kernel command line
#
# Both vCPUs run on one host thread (TCG thread=single): on 2 host CPUs it is faster than a
# thread each, and it has no cross-modifying-code window (docs/kernel-support.md, the int3
# Oops); LMP_VM_TCG_THREAD=multi gives each vCPU its own thread.
#
# COMMAND runs as root in the current directory, in bash, with stdin from /dev/null; its
# output is copied to stdout as it runs. Exit status: COMMAND's; 124 on timeout; 125 when
# the VM did not get to run it. Kernel warnings (soft lockup, RCU stall, BUG, Oops, panic)
# are repeated on stderr with the path of the full console log.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${LMP_KERNELS_CACHE:-$repo/.output/kernels}
export LMP_KERNELS_CACHE=$cache

usage() { sed -n 's/^#   \{0,1\}//p' "$0" | sed -n '/vm.sh \[/,/--append/p' >&2; exit 2; }
die() { echo "vm.sh: $*" >&2; exit 2; }

cgroup=v2 timeout=900 out="" console=0 append=""
while [ $# -gt 0 ]; do
	case $1 in
	--cgroup) cgroup=${2:?}; shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--out) out=$(cd "${2:?}" && pwd) || die "--out: no directory $2"; shift 2 ;;
	--console) console=1; shift ;;
	--append) append=${2:?}; shift 2 ;;
	--) shift; break ;;
	-h | --help) usage ;;
	-*) die "unknown option $1" ;;
	*) [ -z "${kernel:-}" ] || die "one kernel only (got $kernel and $1)"; kernel=$1; shift ;;
	esac
done
[ -n "${kernel:-}" ] && [ $# -gt 0 ] || usage
case $cgroup in v1 | v2 | hybrid) ;; *) die "--cgroup: v1, v2 or hybrid, not '$cgroup'" ;; esac
[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout: seconds, not '$timeout'"
case $kernel in 5.10 | 6.1 | 6.12) ;; *) die "unknown kernel '$kernel' (5.10, 6.1 or 6.12)" ;; esac
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is missing: apt-get install qemu-system-x86"

kdir=$("$here/fetch.sh" "$kernel") || exit 125

# The run's own files: the command and its settings, as a second cpio archive the kernel
# unpacks over the cached initramfs; the console log; the command's output.
mkdir -p "$cache/runs"
find "$cache/runs" -mindepth 1 -maxdepth 1 -mmin +1440 -exec rm -rf {} + 2>/dev/null || true
run=$(mktemp -d "$cache/runs/$kernel.XXXXXX")
mkdir -p "$run/cpio/lmpvm"
{
	echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb'
	printf 'exec'
	printf ' %q' "$@"
	echo
} >"$run/cpio/lmpvm/cmd"
printf 'CGROUP=%s\nCWD=%q\nOUT=%q\n' "$cgroup" "$PWD" "$out" >"$run/cpio/lmpvm/env"
(cd "$run/cpio" && find . | cpio -o -H newc --quiet) >"$run/run.cpio"
cat "$kdir/initramfs.cpio.gz" >"$run/initrd"
gzip -1c "$run/run.cpio" >>"$run/initrd"
: >"$run/console.log"
: >"$run/output"

qemu=(qemu-system-x86_64 -accel "tcg,thread=${LMP_VM_TCG_THREAD:-single}" -cpu max -smp 2 -m 2G -nographic -no-reboot
	-monitor none -nic none -kernel "$kdir/vmlinuz" -initrd "$run/initrd"
	-append "console=ttyS0 panic=-1 loglevel=4 edd=off $append"
	-serial "file:$run/console.log" -serial "file:$run/output"
	-virtfs local,path=/,mount_tag=host,security_model=passthrough,readonly=on,multidevs=remap)
[ -n "$out" ] && qemu+=(-virtfs "local,path=$out,mount_tag=out,security_model=passthrough,multidevs=remap")

start=$SECONDS
"${qemu[@]}" </dev/null >"$run/qemu.log" 2>&1 &
qpid=$!
tail -n +1 -f --pid=$qpid "$run/output" &
tpid=$!
if [ $console = 1 ]; then
	tail -n +1 -f --pid=$qpid "$run/console.log" >&2 &
	cpid=$!
fi
stop() { kill "$qpid" 2>/dev/null || true; }
trap 'stop; exit 130' INT TERM
timed_out=0
while kill -0 "$qpid" 2>/dev/null; do
	if [ $((SECONDS - start)) -ge "$timeout" ]; then
		timed_out=1
		stop
		break
	fi
	sleep 1
done
wait "$qpid" 2>/dev/null || true
wait "$tpid" 2>/dev/null || true
[ -n "${cpid:-}" ] && { wait "$cpid" 2>/dev/null || true; }
trap - INT TERM

warn=$(tr -d '\r' <"$run/console.log" |
	grep -E 'soft lockup|hard LOCKUP|rcu.*stall|BUG:|Oops|Kernel panic|WARNING:|hung_task|LMPVM-ERROR' |
	head -20 || true)
rc=$(tr -d '\r' <"$run/console.log" | sed -n 's/.*LMPVM-EXIT \([0-9]*\)$/\1/p' | tail -1)
if [ $timed_out = 1 ]; then
	echo "vm.sh: $kernel: timed out after ${timeout}s (console: $run/console.log)" >&2
	rc=124
elif [ -z "$rc" ]; then
	echo "vm.sh: $kernel: the VM stopped without running the command (console: $run/console.log)" >&2
	sed 's/^/  qemu: /' "$run/qemu.log" >&2
	tr -d '\r' <"$run/console.log" | tail -20 | sed 's/^/  console: /' >&2
	rc=125
fi
if [ -n "$warn" ]; then
	echo "vm.sh: $kernel: kernel warnings (console: $run/console.log):" >&2
	echo "$warn" | sed 's/^/  /' >&2
fi
if [ "$rc" = 0 ] && [ -z "$warn" ]; then rm -rf "$run"; else rm -f "$run/initrd" "$run/run.cpio"; fi
exit "$rc"
