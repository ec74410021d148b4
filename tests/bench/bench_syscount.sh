#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Called by tests/bench/run.sh. The cost of lmp's syscount BPF programs next to libbpf-tools
# syscount's, measured by the kernel itself (kernel.bpf_stats_enabled: run count and run time
# per program) while the sysloop workload runs. Two pairs, like for like: lmp's default
# syscount measures latency (sys_enter + sys_exit) as `syscount -L` does; with
# --syscount-latency=false it counts only (sys_exit alone) as plain `syscount` does.
# Figures: ns per syscall (all the programs of the tracer), median of REPS runs, and each lmp
# figure over its peer's.
# Run alone: `LMP=path/to/lmp BUILD=build bash tests/bench/bench_syscount.sh` as root, with
# $BUILD/bench/sysloop built (`make` builds it) and libbpf-tools installed (make bench-deps).
set -u
BUILD=${BUILD:-build}
LMP=${LMP:-$BUILD/lmp}
REPS=${REPS:-5}
ITER=${ITER:-1000000}
B=$BUILD/bench

median() { sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "-")}'; }

# ns per syscall of the BPF programs pid holds: sum of run_time_ns over all its programs,
# divided by the run count of the busiest one (each syscall runs enter and exit once)
prog_ns() {
	local ids
	ids=$(grep -h '^prog_id' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u)
	[ -n "$ids" ] || { echo "-"; return; }
	for id in $ids; do bpftool prog show id "$id" -j; echo; done | awk '
		match($0, /"run_time_ns":[0-9]+/) { t += substr($0, RSTART + 14, RLENGTH - 14) }
		match($0, /"run_cnt":[0-9]+/) { c = substr($0, RSTART + 10, RLENGTH - 10); if (c > m) m = c }
		END { if (m) printf "%.1f\n", t / m; else print "-" }'
}

# BPF links the process holds (libbpf-tools print their banner into a full stdio buffer
# when stdout is not a terminal, so "attached" is read from /proc instead)
links() { grep -h '^link_id' /proc/"$1"/fdinfo/* 2>/dev/null | wc -l; }

measure() { # ready-pattern (or @attached: links present, unchanged for 0.3 s), command...
	local pattern=$1; shift
	local log; log=$(mktemp)
	for _ in $(seq "$REPS"); do
		"$@" >/dev/null 2>"$log" &
		local pid=$! last=-1 n
		for _ in $(seq 100); do
			if [ "$pattern" = @attached ]; then
				n=$(links "$pid")
				[ "$n" -gt 0 ] && [ "$n" = "$last" ] && break
				last=$n
				sleep 0.3
			else
				grep -q "$pattern" "$log" 2>/dev/null && break
				sleep 0.1
			fi
		done
		sleep 0.3
		"$B/sysloop" "$ITER" >/dev/null
		prog_ns "$pid"
		kill -INT "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done | median
	rm -f "$log"
}

old=$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo 0)
trap 'echo "$old" > /proc/sys/kernel/bpf_stats_enabled' EXIT
echo 1 > /proc/sys/kernel/bpf_stats_enabled || { echo "bench_syscount: cannot enable bpf_stats"; exit 0; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a/b; else print "-"}'; }

echo "## syscount: BPF time per syscall (ns, all programs of the tracer, median of $REPS)"
lat=$(measure 'ready:' "$LMP" run --probes syscount --output none --listen none)
cnt=$(measure 'ready:' "$LMP" run --probes syscount --output none --listen none \
	--syscount-latency=false)
peer_l=- peer=-
if command -v syscount >/dev/null; then
	peer_l=$(measure @attached syscount -L)
	peer=$(measure @attached syscount)
fi
printf '%-52s %8s %12s\n' "" "ns" "/ peer"
printf '%-52s %8s %12s\n' "lmp --probes syscount (latency+errno, enter+exit)" "$lat" \
	"$(ratio "$lat" "$peer_l")"
printf '%-52s %8s %12s\n' "libbpf-tools syscount -L (latency, enter+exit)" "$peer_l" "(peer)"
printf '%-52s %8s %12s\n' "lmp syscount --syscount-latency=false (counts+errno)" "$cnt" \
	"$(ratio "$cnt" "$peer")"
printf '%-52s %8s %12s\n' "libbpf-tools syscount (counts, exit only)" "$peer" "(peer)"
command -v syscount >/dev/null || echo "libbpf-tools syscount: not installed (make bench-deps)"
