#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Called by tests/bench/run.sh. What each probe costs per event: the kernel's own count of
# runs and run time of every BPF program (kernel.bpf_stats_enabled) of `lmp --probes all`
# while a standard mixed load runs: syscalls, execs, opens, direct block I/O, loopback TCP.
# Programs are put to their probe through the object's BTF (one per probe) and the probe's
# .rodata map ("<probe>_bpf" cut to 8 characters by libbpf). bpf_stats itself adds the two
# clock reads per run it takes to measure (tens of ns here); other work on the machine runs
# the same programs too, so the runs include theirs.
set -u
BUILD=${BUILD:-build}
LMP=${LMP:-$BUILD/lmp}
B=${B:-$BUILD/bench}
LOOP=${LOOP:-}
OWN_T=
if [ -z "${T:-}" ]; then
	T=$(mktemp -d)
	OWN_T=$T
fi

old=$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo 0)
pid=
finish() {
	[ -n "$pid" ] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	echo "$old" >/proc/sys/kernel/bpf_stats_enabled
	[ -n "$OWN_T" ] && rm -rf "$OWN_T"
}
trap finish EXIT
echo 1 >/proc/sys/kernel/bpf_stats_enabled || { echo "bench_bpfcost: cannot enable bpf_stats"; exit 0; }

REPS=${REPS:-3}
median() { sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "-")}'; }
kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
[ -x "$T/lmpbx" ] || printf 'int main(void){return 0;}\n' | ${CC:-cc} -O2 -static -x c - -o "$T/lmpbx"
: >"$T/openme"

# BPF ns per operation of the load: all the tracer's programs' run time / operations
per_op() { # ops, load, agentstat tracer groups...
	local ops=$1 load=$2; shift 2
	for _ in $(seq "$REPS"); do
		r=$("$B/agentstat" -l "$load >/dev/null" "$@" | tail -1)
		awk -v t="$(kv bpf_ns "$r")" -v n="$ops" 'BEGIN {if (t != "") printf "%.0f\n", t / n}'
	done | median
}
echo "## BPF time per operation, lmp vs libbpf-tools (ns, kernel bpf_stats, median of $REPS)"
printf '%-28s %-34s %10s   %-34s %10s\n' operation lmp ns peer ns
L=("$LMP" run --listen none --interval 5)
printf '%-28s %-34s %10s   %-34s %10s\n' "exec + exit of a process" "--probes process" \
	"$(per_op 200 "$B/execstorm 200 2 $T/lmpbx" -- /dev/null ready: "${L[@]}" --probes process --output json)" \
	"execsnoop + exitsnoop" \
	"$(per_op 200 "$B/execstorm 200 2 $T/lmpbx" -- /dev/null @attached execsnoop -- /dev/null @attached exitsnoop)"
printf '%-28s %-34s %10s   %-34s %10s\n' "open + close" "--probes opensnoop" \
	"$(per_op 20000 "$B/openstorm 20000 0 $T/openme" -- /dev/null ready: "${L[@]}" --probes opensnoop --output json)" \
	"opensnoop" \
	"$(per_op 20000 "$B/openstorm 20000 0 $T/openme" -- /dev/null @attached opensnoop)"
if [ -n "$LOOP" ]; then
	printf '%-28s %-34s %10s   %-34s %10s\n' "4 KiB O_DIRECT read" "--probes biolatency,bitesize" \
		"$(per_op 10000 "$B/dio $LOOP 10000" -- /dev/null ready: "${L[@]}" --probes biolatency,bitesize --output none)" \
		"biolatency + bitesize" \
		"$(per_op 10000 "$B/dio $LOOP 10000" -- /dev/null @attached biolatency -- /dev/null @attached bitesize)"
fi
echo "# includes the storm's side effects each tool hooks too (the exec's own opens are not:"
echo "# only the probes named run); bpf_stats adds two clock reads per program run"
echo

echo "## per-probe BPF cost: ns per program run under a standard load, lmp --probes all"
"$LMP" run --probes all --output json --listen none --interval 5 >/dev/null 2>"$T/bpfcost.err" &
pid=$!
for _ in $(seq 300); do grep -q 'ready:' "$T/bpfcost.err" 2>/dev/null && break; sleep 0.1; done
grep -q 'ready:' "$T/bpfcost.err" || { echo "bench_bpfcost: the agent did not start"; exit 0; }
echo "# load: sysloop 100000, execstorm 200, openstorm 20000, tcpstorm 300${LOOP:+, dio $LOOP 10000}"
{
	"$B/sysloop" 100000
	"$B/execstorm" 200 2 "$T/lmpbx"
	"$B/openstorm" 20000 0 "$T/openme"
	"$B/tcpstorm" 300
	[ -n "$LOOP" ] && "$B/dio" "$LOOP" 10000
} >/dev/null

ids() { grep -h "^$1" /proc/"$pid"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un; }
probes=$("$LMP" probes --json | sed -n 's/.*"name": *"\([a-z0-9_]*\)".*/\1/p')
# btf_id -> probe, from the .rodata maps
for id in $(ids map_id); do bpftool map show id "$id" -j; echo; done | awk -v probes="$probes" '
	BEGIN { n = split(probes, p, "\n"); for (i = 1; i <= n; i++) pfx[substr(p[i] "_bpf", 1, 8)] = p[i] }
	match($0, /"name":"[^"]*\.rodata"/) {
		name = substr($0, RSTART + 8, RLENGTH - 9); sub(/\.rodata$/, "", name)
		if (match($0, /"btf_id":[0-9]+/) && (name in pfx))
			print substr($0, RSTART + 9, RLENGTH - 9), pfx[name] }' >"$T/btf2probe"
for id in $(ids prog_id); do bpftool prog show id "$id" -j; echo; done | awk '
	function num(key,   r) { if (match($0, "\"" key "\":[0-9]+")) return substr($0, RSTART + length(key) + 3, RLENGTH - length(key) - 3); return 0 }
	NR == FNR { probe[$1] = $2; next }
	match($0, /"name":"[^"]*"/) {
		name = substr($0, RSTART + 8, RLENGTH - 9); btf = num("btf_id")
		runs = num("run_cnt"); ns = num("run_time_ns")
		p = (btf in probe) ? probe[btf] : "?"
		printf "%-12s %-34s %10d %10s %10.1f\n", p, name, runs, runs ? sprintf("%.0f", ns / runs) : "-", ns / 1e6
	}' "$T/btf2probe" - | sort -k1,1 -k5,5gr >"$T/bpfcost"
printf '%-12s %-34s %10s %10s %10s\n' probe program runs ns/run total_ms
awk '$3 > 0' "$T/bpfcost"
echo "# not run during the load: $(awk '$3 == 0 {print $1 "/" $2}' "$T/bpfcost" | tr '\n' ' ')"
