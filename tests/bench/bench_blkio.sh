#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Called by tests/bench/run.sh. Block I/O probes next to the libbpf-tools that run here
# (biolatency, bitesize, biopattern; libbpf-tools biosnoop cannot load without fentry or
# kprobes). Workload: O_DIRECT 4 KiB reads of a private tmpfs-backed loop device, so the
# device is as fast as it gets and the tracer's share is as large as it gets.
# Figures, median of REPS runs: BPF time per request measured by the kernel
# (kernel.bpf_stats_enabled: all programs of the tracer, divided by the run count of its
# busiest one, i.e. per request), and the workload's wall time.
set -u
BUILD=${BUILD:-build}
LMP=${LMP:-$BUILD/lmp}
REPS=${REPS:-5}
PASSES=${PASSES:-2} # reads of the whole 64 MiB device per run: 16384 requests each

median() { sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "-")}'; }

img=/dev/shm/lmp-bench-blkio-$$.img
truncate -s 64M "$img" || exit 0
dev=$(losetup -f --show "$img") || { rm -f "$img"; echo "bench_blkio: no loop device"; exit 0; }
old=$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo 0)
trap 'echo "$old" > /proc/sys/kernel/bpf_stats_enabled; losetup -d "$dev"; rm -f "$img"' EXIT
echo 1 > /proc/sys/kernel/bpf_stats_enabled || { echo "bench_blkio: cannot enable bpf_stats"; exit 0; }

workload() { # prints ms
	local s e
	s=$(date +%s%N)
	for _ in $(seq "$PASSES"); do
		dd if="$dev" of=/dev/null bs=4k iflag=direct count=16384 2>/dev/null
	done
	e=$(date +%s%N)
	echo $(((e - s) / 1000000))
}

# BPF run time of all programs pid holds, as "total_ns max_run_cnt"
prog_stats() {
	local ids
	ids=$(grep -h '^prog_id' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u)
	[ -n "$ids" ] || { echo "0 0"; return; }
	for id in $ids; do bpftool prog show id "$id" -j; echo; done | awk '
		match($0, /"run_time_ns":[0-9]+/) { t += substr($0, RSTART + 14, RLENGTH - 14) }
		match($0, /"run_cnt":[0-9]+/) { c = substr($0, RSTART + 10, RLENGTH - 10); if (c > m) m = c }
		END { printf "%d %d\n", t, m }'
}

measure() { # label, ready-pattern, tracer command... (empty command: no tracer)
	local label=$1 pattern=$2; shift 2
	local ns="" ms="" log
	for _ in $(seq "$REPS"); do
		local pid="" a b t
		if [ $# -gt 0 ]; then
			log=$(mktemp) # fresh per run: an old "ready" line must not count
			stdbuf -oL "$@" >"$log" 2>&1 &
			pid=$!
			for _ in $(seq 100); do
				grep -q "$pattern" "$log" 2>/dev/null &&
					grep -qs '^prog_id' /proc/"$pid"/fdinfo/* && break
				sleep 0.1
			done
			sleep 0.3
			rm -f "$log"
			a=$(prog_stats "$pid")
		fi
		t=$(workload)
		ms="$ms $t"
		if [ -n "$pid" ]; then
			b=$(prog_stats "$pid")
			ns="$ns $(awk -v a="$a" -v b="$b" 'BEGIN {split(a, x, " "); split(b, y, " ");
				n = y[2] - x[2]; printf "%.0f", (n > 0 ? (y[1] - x[1]) / n : 0)}')"
			kill -INT "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		fi
	done
	printf '%-34s %8s %10s\n' "$label" "$(tr ' ' '\n' <<<"$ns" | grep . | median)" \
		"$(tr ' ' '\n' <<<"$ms" | grep . | median)"
}

workload >/dev/null # first touch of the device and its backing pages, outside the figures
echo "## block I/O: $((PASSES * 16384)) O_DIRECT 4 KiB reads of a tmpfs loop device, median of $REPS"
printf '%-34s %8s %10s\n' "tracer" "ns/req" "wall ms"
measure "no tracing" ""
for p in biolatency bitesize biopattern biosnoop; do
	measure "lmp --probes $p" 'ready:' "$LMP" run --probes "$p" --output none --listen none
	if [ "$p" != biosnoop ] && command -v "$p" >/dev/null; then
		measure "libbpf-tools $p" 'Tracing' "$p"
	fi
done
measure "lmp, all four" 'ready:' "$LMP" run --probes biolatency,bitesize,biopattern,biosnoop \
	--output none --listen none
command -v biolatency >/dev/null || echo "libbpf-tools: not installed (make bench-deps)"
