#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Called by tests/bench/run.sh. The cost of lmp's syscount BPF programs next to libbpf-tools
# syscount's, measured by the kernel itself (kernel.bpf_stats_enabled: run count and run time
# per program) while the sysloop workload runs. lmp's syscount always measures latency, so
# its like-for-like peer is `syscount -L`; plain `syscount` (counts only, no sys_enter) is
# shown as the floor. Figures: ns per syscall (enter + exit programs), median of REPS runs.
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

echo "## syscount: BPF time per syscall (enter + exit programs, ns, median of $REPS)"
printf '%-38s %s\n' "lmp --probes syscount (latency+errno)" \
	"$(measure 'ready:' "$LMP" run --probes syscount --output none --listen none)"
if command -v syscount >/dev/null; then
	printf '%-38s %s\n' "libbpf-tools syscount -L (latency)" "$(measure @attached syscount -L)"
	printf '%-38s %s\n' "libbpf-tools syscount (counts only)" "$(measure @attached syscount)"
else
	echo "libbpf-tools syscount: not installed (make bench-deps)"
fi
