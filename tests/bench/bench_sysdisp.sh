#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Called by tests/bench/run.sh. What each piece of the syscall dispatcher's work costs per
# program run (bpf/lmp_syscall.bpf.h), measured by the kernel (kernel.bpf_stats_enabled)
# while sysloop runs: under `lmp --probes syscall,syscount` with the dispatcher's sys_users
# array set so that its programs do nothing, only the (pid, syscall) count, or only
# syscount's latency; `--probes file` alone (its tail on reads); `--probes all`. With LMP_BASE
# set, also that binary's --probes all next to this one's (before/after of a change).
# Runs of other processes on the machine are in the figures (they run the same programs).
# Run alone: `LMP=build/lmp BUILD=build bash tests/bench/bench_sysdisp.sh` as root.
set -u
BUILD=${BUILD:-build}
LMP=${LMP:-$BUILD/lmp}
LMP_BASE=${LMP_BASE:-}
REPS=${REPS:-3}
ITER=${ITER:-200000}
B=${B:-$BUILD/bench}

median() { sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "-")}'; }
old=$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo 0)
log=$(mktemp)
pid=
finish() {
	[ -n "$pid" ] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	echo "$old" >/proc/sys/kernel/bpf_stats_enabled
	rm -f "$log"
}
trap finish EXIT
echo 1 >/proc/sys/kernel/bpf_stats_enabled || { echo "bench_sysdisp: cannot enable bpf_stats"; exit 0; }

# "name run_cnt run_time_ns" of the agent's sys_enter/sys_exit programs
progs() {
	for id in $(grep -h '^prog_id' /proc/"$pid"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un); do
		bpftool prog show id "$id" -j
		echo
	done | sed -n 's/.*"name":"\([a-z_]*sys_e[a-z]*\)".*"run_time_ns":\([0-9]*\),"run_cnt":\([0-9]*\).*/\1 \3 \2/p'
}

# one run: agent up, sys_users set to USERS (16 hex bytes: pid_count pid_latency cg_hist
# cg_count, little-endian u32s) unless empty, sysloop, "enter_ns exit_ns" per program run
one() { # bin users probes
	local bin=$1 users=$2 probes=$3 map
	"$bin" run --probes "$probes" --output none --listen none --interval 5 2>"$log" &
	pid=$!
	for _ in $(seq 300); do grep -q 'ready:' "$log" && break; sleep 0.1; done
	if [ -n "$users" ]; then
		map=$(for id in $(grep -h '^map_id' /proc/"$pid"/fdinfo/* | awk '{print $2}' | sort -un); do
			bpftool map show id "$id"; done 2>/dev/null | awk -F: '/name sys_users/ {print $1; exit}')
		[ -n "$map" ] && bpftool map update id "$map" key hex 00 00 00 00 value hex $users
	fi
	progs >"$log.a"
	# no sample when the map was not found, or no exit run was counted (the agent did not
	# come up, or another script turned bpf_stats off meanwhile)
	"$B/sysloop" "$ITER" >/dev/null
	progs | join <(sort "$log.a") <(sort -) | awk -v ok="$([ -z "$users" ] || [ -n "$map" ] && echo 1)" '
		{ side = ($1 ~ /enter/) ? "enter" : "exit"; r[side] += $4 - $2; t[side] += $5 - $3 }
		END { if (ok && r["exit"]) printf "%s %.0f\n",
			r["enter"] ? sprintf("%.0f", t["enter"] / r["enter"]) : "-", t["exit"] / r["exit"] }'
	rm -f "$log.a"
	kill -INT "$pid"
	wait "$pid" 2>/dev/null
	pid=
}
row() { # label bin users probes
	local label=$1 out
	out=$(for _ in $(seq "$REPS"); do one "$2" "$3" "$4"; done)
	printf '%-52s %10s %10s\n' "$label" "$(awk '$1 != "-" {print $1}' <<<"$out" | median)" \
		"$(awk '{print $2}' <<<"$out" | median)"
}

echo "## syscall dispatcher: BPF ns per program run under sysloop (bpf_stats, median of $REPS)"
printf '%-52s %10s %10s\n' "" enter exit
W="syscall,syscount"
row "nothing to do (sys_users zeroed)" "$LMP" \
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00" "$W"
row "syscall: (pid, nr) count only" "$LMP" "01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00" "$W"
row "syscount: latency only" "$LMP" "00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00" "$W"
row "--probes file alone (the tail on reads)" "$LMP" "" file
row "--probes all" "$LMP" "" all
[ -n "$LMP_BASE" ] && row "LMP_BASE --probes all" "$LMP_BASE" "" all
echo "# file's tail runs inside the exit program (tail calls are not counted apart); every"
echo "# run includes bpf_stats' own two clock reads"
