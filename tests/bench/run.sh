#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make bench`: lmp side by side with libbpf-tools and bpftrace, in one run on this machine.
# Every figure is min / median / max over REPS runs. Machines here are noisy: compare the
# columns of one run with each other, never with a number from another day.
set -u
BUILD=${BUILD:-build}
LMP=${LMP:-$BUILD/lmp}
REPS=${REPS:-5}
ITER=${ITER:-1000000}
B=$BUILD/bench

[ "$(id -u)" = 0 ] || { echo "bench: needs root (loads BPF programs)" >&2; exit 1; }
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing

stats() { # numbers on stdin -> "min median max"
	sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "- - -"; exit}
		printf "%.1f %.1f %.1f", a[1], a[int((NR+1)/2)], a[NR]}'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}'; }

# run a tracer in the background, wait until it is attached, run the loop REPS times
under() { # ready-pattern, tracer command...
	local pattern=$1; shift
	local log; log=$(mktemp)
	"$@" >/dev/null 2>"$log" &
	local pid=$!
	for _ in $(seq 100); do grep -q "$pattern" "$log" 2>/dev/null && break; sleep 0.1; done
	sleep 0.5
	for _ in $(seq "$REPS"); do "$B/sysloop" "$ITER"; done
	kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null
	rm -f "$log"
}

echo "# lmp benchmarks — $(date -u +%FT%TZ)"
echo "# machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
	"kernel $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# lmp $("$LMP" version | cut -d' ' -f2), reps=$REPS"
echo

echo "## 1. syscall-heavy loop (getppid + 1-byte read), ns per iteration: min median max, slowdown vs none"
base=$(for _ in $(seq "$REPS"); do "$B/sysloop" "$ITER"; done)
bmed=$(median <<<"$base")
row() { # label, samples
	local s; s=$(stats <<<"$2")
	local m; m=$(median <<<"$2")
	printf '%-34s %-26s %5.2fx\n' "$1" "$s" "$(awk -v a="$m" -v b="$bmed" 'BEGIN {print a/b}')"
}
row "no tracing" "$base"
row "lmp --probes syscall" "$(under 'ready:' "$LMP" run --probes syscall --output none --listen none)"
row "lmp --probes syscount" "$(under 'ready:' "$LMP" run --probes syscount --output none --listen none)"
row "lmp --probes all" "$(under 'ready:' "$LMP" run --probes all --output none --listen none)"
if command -v syscount >/dev/null; then
	row "libbpf-tools syscount" "$(under 'Tracing' syscount)"
else
	echo "libbpf-tools syscount: not installed (make bench-deps)"
fi
if command -v bpftrace >/dev/null; then
	row "bpftrace count by syscall" "$(under 'Attaching' bpftrace -e 'tracepoint:raw_syscalls:sys_enter { @[args->id] = count(); }')"
else
	echo "bpftrace: not installed (make bench-deps)"
fi
echo

echo "## 2. event pipeline: ring buffer -> decode -> JSON (to /dev/null), the agent's code path"
echo "# rate_target  consumed/s(wall)  consumed per consumer-CPU-second  lost%"
for rate in 100000 500000 1000000 0; do
	res=$(for _ in $(seq 3); do "$B/pipeline" "$rate" 2; done)
	label=$rate; [ "$rate" = 0 ] && label=max
	printf '%-12s %-28s %-28s %s\n' "$label" \
		"$(awk '{print $2}' <<<"$res" | stats)" "$(awk '{print $3}' <<<"$res" | stats)" \
		"$(awk '{print $4}' <<<"$res" | stats)"
done
for extra in tests/bench/bench_*.sh; do
	[ -f "$extra" ] || continue
	echo
	LMP=$LMP BUILD=$BUILD REPS=$REPS bash "$extra"
done
