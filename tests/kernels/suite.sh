#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The kernel suite: one agent with every probe (--probes all, funclatency and memleak
# configured), a real workload in a cgroup of its own, and for each probe the hook it
# attached with and whether it produced the events or summaries that workload must cause.
# Runs on the host or inside a VM of tests/kernels/vm.sh, as root.
#
#   suite.sh [--label NAME] [--results FILE]
#     --label    the column name in the results (default: uname -r)
#     --results  append "label<TAB>probe<TAB>hook<TAB>result" lines to FILE
#   env: LMP (default build/lmp), KWORKLOAD (default build/tests/kernels/kworkload),
#        LMP_READY_TIMEOUT (seconds for the agent to attach everything, default 600),
#        LMP_SUITE_KEEP=DIR copies the agent's output and log to DIR/lmp-kern.*
#
# Prints one row per probe: hook chosen, then "ok", "FAIL: reason" or "unsupported: reason"
# (only a missing hardware PMU is accepted as unsupported). Exit status 1 if any row failed.
set -uo pipefail

LMP=${LMP:-build/lmp}
KW=${KWORKLOAD:-build/tests/kernels/kworkload}
label=$(uname -r) results=""
while [ $# -gt 0 ]; do
	case $1 in
	--label) label=${2:?}; shift 2 ;;
	--results) results=${2:?}; shift 2 ;;
	*) echo "usage: suite.sh [--label NAME] [--results FILE]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "suite.sh: needs root (loads BPF programs)" >&2; exit 2; }
for f in "$LMP" "$KW"; do [ -x "$f" ] || { echo "suite.sh: $f is missing: make test-build" >&2; exit 2; }; done
command -v jq >/dev/null || { echo "suite.sh: jq is missing: apt-get install jq" >&2; exit 2; }
LMP=$(realpath "$LMP") KW=$(realpath "$KW")
t0=$SECONDS

D=$(mktemp -d /tmp/lmp-kern.XXXXXX)
agent=0 loop="" work="" memcg=""
cleanup() {
	[ "$agent" -gt 0 ] && kill -KILL "$agent" 2>/dev/null
	jobs -p | xargs -r kill -KILL 2>/dev/null
	wait 2>/dev/null
	[ -n "$loop" ] && losetup -d "$loop"
	for d in "$work" "$memcg"; do
		[ -n "$d" ] && [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	if [ -n "${LMP_SUITE_KEEP:-}" ]; then
		rm -f "$D/disk.img"
		cp -r "$D" "$LMP_SUITE_KEEP" && echo "suite.sh: files kept in $LMP_SUITE_KEEP/${D##*/}"
	fi
	rm -rf "$D"
}
trap cleanup EXIT

# --- cgroups: the workload's own v2 cgroup, and a 32 MiB memory cgroup for the OOM kill
# (v2 memory.max where the memory controller is on v2, else v1 memory.limit_in_bytes)
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
memv1=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ { print $2; exit }' /proc/mounts)
cgid=""
if [ -n "$cg2" ]; then
	work=$cg2/lmp-kern-$$
	mkdir -p "$work/run"
	cgid=$(stat -c %i "$work/run")
	if grep -qw memory "$cg2/cgroup.controllers"; then
		echo +memory >"$cg2/cgroup.subtree_control"
		echo +memory >"$work/cgroup.subtree_control"
		mkdir "$work/oom"
		echo 32M >"$work/oom/memory.max"
		[ -f "$work/oom/memory.swap.max" ] && echo 0 >"$work/oom/memory.swap.max"
		memcg=$work/oom
	fi
fi
if [ -z "$memcg" ] && [ -n "$memv1" ]; then
	memcg=$memv1/lmp-kern-$$
	mkdir "$memcg"
	echo 32M >"$memcg/memory.limit_in_bytes"
	[ -f "$memcg/memory.memsw.limit_in_bytes" ] && echo 32M >"$memcg/memory.memsw.limit_in_bytes"
fi
layout="v2 at $cg2"
[ -z "$cg2" ] && layout="no cgroup v2"
[ -n "$memv1" ] && layout="$layout, v1 memory at $memv1"
# run in the workload cgroup (and, with oom, the memory cgroup): ( join; exec ... ) &
join() {
	[ -n "$work" ] && echo "$BASHPID" >"$work/run/cgroup.procs"
	if [ "${1:-}" = oom ]; then echo "$BASHPID" >"$memcg/cgroup.procs"; fi
}
# spawn [--oom] VAR COMMAND...: COMMAND in the background, joined as above, its output in
# $D/VAR.out; its pid in the variable VAR
spawn() {
	local where=""
	[ "$1" = --oom ] && { where=oom; shift; }
	(join $where; exec "${@:2}") >"$D/$1.out" 2>&1 &
	printf -v "$1" %s $!
}

truncate -s 64M "$D/disk.img"
loop=$(losetup -f --show "$D/disk.img") || { echo "suite.sh: losetup failed" >&2; exit 1; }
disk=${loop#/dev/}

# memleak follows one process, which must exist before the agent starts
spawn hold "$KW" hold "$D/go" 1048576 8

# --- the agent, after `lmp probes` as a user would run them
echo "== $label: $(uname -r), cgroups: $layout, loop device $disk"
"$LMP" probes --json >"$D/probes.json" 2>"$D/probes.log"
t_probes=$((SECONDS - t0))
"$LMP" run --probes all --interval 2 --top 1000 --listen 127.0.0.1:0 --log-level debug \
	--ringbuf-kb 1024 --tcpconnlat-min-ms 0 --biosnoop-min-latency-us 0 --sigsnoop-ignore none \
	--funclatency-target "$KW:kw_target" --memleak-pid "$hold" >"$D/events.json" 2>"$D/agent.log" &
agent=$!
ready_by=$((SECONDS + ${LMP_READY_TIMEOUT:-600}))
while ! grep -q 'ready:' "$D/agent.log"; do
	if ! kill -0 "$agent" 2>/dev/null || [ $SECONDS -ge $ready_by ]; then
		break
	fi
	sleep 0.5
done
ready=0
grep -q 'ready:' "$D/agent.log" && ready=1
t_ready=$((SECONDS - t0))
port=$(sed -n 's/.*serving .* (port \([0-9]*\)).*/\1/p' "$D/agent.log" | head -1)

# --- the workload, each step's pids kept for the checks
if [ $ready = 1 ]; then
	spawn p_exec /bin/echo lmp-kern-exec "$$"
	spawn p_exit sh -c 'exit 7'
	echo data >"$D/open-me"
	spawn p_open cat "$D/open-me" "$D/missing"
	spawn p_file dd if=/dev/zero of="$D/file-io" bs=4096 count=16 conv=fsync status=none
	spawn p_tcp "$KW" tcp
	(join; sleep 30 & echo $! >"$D/sig.target"; kill -USR1 $!; wait 2>/dev/null) &
	p_sig=$!
	mkdir "$D/mnt"
	spawn p_mount unshare -m busybox mount -t tmpfs lmpkern "$D/mnt"
	spawn p_cap setpriv --reuid=65534 --regid=65534 --clear-groups busybox hostname lmpkern
	spawn p_dio dd if=/dev/zero of="$loop" bs=4096 count=16 oflag=direct status=none
	wait $p_dio
	spawn p_dread dd if="$loop" of=/dev/null bs=8192 count=8 skip=1000 iflag=direct status=none
	spawn p_fsync dd if=/dev/zero of="$loop" bs=4096 count=16 seek=4000 conv=fsync status=none
	spawn p_burn "$KW" burn 3
	spawn p_func "$KW" funclat 20 2000
	touch "$D/go"
	spawn --oom p_oom "$KW" hog 256
	wait $p_oom 2>/dev/null
	oom_status=$?
	wait $p_exec $p_exit $p_open $p_file $p_tcp $p_sig $p_mount $p_cap $p_dread $p_fsync \
		$p_burn $p_func 2>/dev/null
	sig_target=$(cat "$D/sig.target")
	tcp_port=$(sed -n 's/^port=//p' "$D/p_tcp.out")
	refused_port=$(sed -n 's/^refused_port=//p' "$D/p_tcp.out")
	# summaries are read every 2 s; wait for two more rounds (slower under emulation)
	sleep 5
	[ -n "$port" ] && curl -sf --max-time 30 "http://127.0.0.1:$port/metrics" >"$D/metrics"
	wait $hold
fi
t_work=$((SECONDS - t0))
if kill -0 "$agent" 2>/dev/null; then
	kill -TERM "$agent"
	for _ in $(seq 120); do kill -0 "$agent" 2>/dev/null || break; sleep 0.5; done
fi
kill -0 "$agent" 2>/dev/null && { echo "suite.sh: the agent did not stop in 60 s" >&2; kill -KILL "$agent"; }
wait "$agent"
agent_status=$?
agent=0
t_stop=$((SECONDS - t0))

# --- the checks
# Only the workload's events are kept: its pids, its cgroup, its loop device (and, without
# cgroup v2, the per-cgroup summaries, which are all the root's then). A stdout line that is
# not JSON fails the run.
pids="[${p_exec:-0},${p_exit:-0},${p_open:-0},${p_file:-0},${p_tcp:-0},${p_sig:-0},${sig_target:-0},${p_mount:-0},${p_cap:-0},${p_dio:-0},${p_dread:-0},${p_fsync:-0},${p_burn:-0},${p_func:-0},${p_oom:-0},$hold]"
jq -cR --argjson pids "$pids" --arg cg "${cgid:-none}" --arg disk "$disk" \
	'fromjson? // "bad" | if . == "bad" then . else select(.pid as $p | ($pids | index($p)) or
	(.cgroup_id | tostring) == $cg or .disk == $disk or ($cg == "none" and .pid == 0)) end' \
	"$D/events.json" >"$D/ev" 2>/dev/null
bad=$(grep -c '^"bad"$' "$D/ev")
t_filter=$((SECONDS - t0))

# Each check: a probe, the reason printed when it fails, and a jq condition on the array of
# events $ev. All are evaluated in one jq run (each jq start costs a second under TCG).
c_probe=() c_why=() c_expr=()
need() { c_probe+=("$1"); c_why+=("$2"); c_expr+=("$3"); }
has() { echo "any(\$ev[]; .probe == \"$1\" and ($2))"; }
count() { echo "([\$ev[] | select(.probe == \"$1\" and ($2))] | $3)"; }
# With cgroup v2 the workload's events carry its cgroup; without v2 every task is in the v2
# root (id 1) and there is neither a cgroup path nor a pod (DESIGN.md): the pid or the device
# says which events are the workload's.
if [ -n "$cgid" ]; then
	cg=".cgroup_id == $cgid and .cgroup == \"${work#$cg2}/run\""
	oom_memcg=".memcg.hierarchy == \"v2\" and .memcg.path == \"${memcg#$cg2}\""
else
	cg='.cgroup_id == 1 and .cgroup == null and .k8s == null'
	oom_memcg=".memcg.hierarchy == \"v1\" and .memcg.path == \"${memcg#$memv1}\""
fi
[ -n "$cg2" ] && [ "$memcg" = "$memv1/lmp-kern-$$" ] &&
	oom_memcg=".memcg.hierarchy == \"v1\" and .memcg.path == \"${memcg#$memv1}\""

if [ $ready = 1 ]; then
	need oomkill "the hog was not OOM-killed (status $oom_status)" "$([ "$oom_status" = 137 ] && echo true || echo false)"
	# The checks, one a line, fields split by tabs: the probe; the reason printed when it
	# fails; what one of its events must meet; and, where given, what the array of all those
	# that meet it must meet (summaries cover one interval each: a step may straddle two).
	# Without the last field one such event is enough.
	while IFS=$'\t' read -r probe why cond all; do
		if [ -n "$all" ]; then
			need "$probe" "$why" "$(count "$probe" "$cond" "$all")"
		else
			need "$probe" "$why" "$(has "$probe" "$cond")"
		fi
	done <<CHECKS
process	no exec event of /bin/echo (pid $p_exec) in the workload's cgroup	.event == "exec" and .pid == $p_exec and .filename == "/bin/echo" and .argv[1] == "lmp-kern-exec" and $cg
process	no exit event with code 7 (pid $p_exit)	.event == "exit" and .pid == $p_exit and .exit_code == 7
process	no exit event by SIGUSR1 (pid $sig_target)	.event == "exit" and .pid == $sig_target and .signal == "SIGUSR1"
syscall	no summaries of dd (pid $p_dio) with its 16 writes	.event == "summary" and .pid == $p_dio and $cg	[.[].syscalls[] | select(.syscall == "write") | .count] | add >= 16
file	no summaries of 16 writes, 65536 bytes to file-io (pid $p_file)	.event == "summary" and .pid == $p_file and .file == "file-io" and $cg	(map(.writes) | add == 16) and (map(.write_bytes) | add == 65536)
tcp	no successful connect to port $tcp_port (pid $p_tcp)	.event == "connect" and .pid == $p_tcp and .dport == $tcp_port and .daddr == "127.0.0.1" and .result == "success" and $cg
tcp	no refused connect to port $refused_port	.event == "connect" and .pid == $p_tcp and .dport == $refused_port and .result == "ECONNREFUSED"
oomkill	no kill event of pid $p_oom with its 32 MiB memcg (${memcg#/sys/fs/cgroup})	.event == "kill" and .pid == $p_oom and .memcg.limit_bytes == 33554432 and $oom_memcg
sigsnoop	no SIGUSR1 from $p_sig to $sig_target	.event == "signal" and .pid == $p_sig and .sig == 10 and .target_pid == $sig_target and $cg
bindsnoop	no bind of 127.0.0.1:$tcp_port (pid $p_tcp)	.event == "bind" and .pid == $p_tcp and .addr == "127.0.0.1" and .bound_port == $tcp_port and .protocol == "TCP"
mountsnoop	no tmpfs mount on $D/mnt (pid $p_mount)	.event == "mount" and .pid == $p_mount and .fstype == "tmpfs" and .target == "$D/mnt" and .source == "lmpkern" and .result == null
opensnoop	no open of $D/open-me (pid $p_open)	.event == "open" and .pid == $p_open and .path == "$D/open-me" and .result == null and .fd >= 3
opensnoop	no failed open of $D/missing	.event == "open" and .pid == $p_open and .path == "$D/missing" and .result == "ENOENT"
capable	no denied CAP_SYS_ADMIN check of sethostname (pid $p_cap)	.event == "check" and .pid == $p_cap and .capability == "CAP_SYS_ADMIN" and .granted == false and .result == "EPERM"
biolatency	no summary of $disk	.event == "summary" and .disk == "$disk"	map(.ios) | add >= 16
biopattern	no summary of $disk with the sequential direct writes	.event == "summary" and .disk == "$disk"	map(.sequential) | add >= 8
biosnoop	not the 16 direct 4 KiB writes of pid $p_dio on $disk	.event == "io" and .pid == $p_dio and .disk == "$disk" and .op == "write" and .bytes == 4096	length == 16
biostacks	no stack of I/O on $disk	.event == "stack" and .disk == "$disk" and .count >= 1 and (.kernel_stack | length) > 0
bitesize	no summary of $disk with the 4 KiB writes	.event == "summary" and .disk == "$disk"	map(.size_hist_bytes["4096-8191"] // 0) | add >= 16
syscount	no summary with writes for the workload's cgroup	.event == "summary" and $cg and .calls > 0 and any(.syscalls[]; .syscall == "write")
tcpconnlat	no connect to port $tcp_port (pid $p_tcp)	.event == "connect" and .pid == $p_tcp and .dport == $tcp_port and .latency_s > 0
tcprtt	no RTT summary for the workload's cgroup	.event == "summary" and $cg and .samples > 0
runqlat	no run-queue latency summary for the workload's cgroup	.event == "summary" and $cg and .samples > 0 and .avg_s > 0
funclatency	not the 20 calls of kw_target (pid $p_func)	.event == "latency" and .function == "$KW:kw_target" and $cg	map(.count) | add == 20
funclatency	kw_target calls shorter than their 2 ms sleep	.event == "latency" and .function == "$KW:kw_target" and .avg_ns >= 2000000
memleak	no outstanding 1 MiB user allocation of pid $hold	.event == "outstanding" and .pid == $hold and .allocator == "user" and .outstanding_bytes >= 1048576
profile	no stack sample of the CPU burner (pid $p_burn)	.event == "stack" and .pid == $p_burn and .samples >= 1 and $cg
llcstat	no summary	.event == "summary"
CHECKS
	prog=". as \$ev | [$(IFS=,; echo "${c_expr[*]}")] | .[]"
	mapfile -t c_ok < <(jq -s "$prog" "$D/ev" 2>"$D/jq.err")
	[ ${#c_ok[@]} = ${#c_expr[@]} ] || { echo "suite.sh: jq: $(head -3 "$D/jq.err")" >&2; exit 1; }
fi
check_probe() { # probe -> prints the first failure reason, nothing when the probe did its job
	local i any=0
	for i in "${!c_probe[@]}"; do
		[ "${c_probe[$i]}" = "$1" ] || continue
		any=1
		[ "${c_ok[$i]}" = true ] || { echo "${c_why[$i]}"; return; }
	done
	[ $any = 1 ] || echo "no check written for this probe"
}

probes=()
mapfile -t probes < <(jq -r '.[].name' "$D/probes.json")
declare -A lmp_said # what `lmp probes` said of each probe: "ready (attach)" or "state (reason)"
while IFS=$'\t' read -r name said; do
	lmp_said[$name]=$said
done < <(jq -r '.[] | "\(.name)\t\(.state) (\(.attach // .reason))"' "$D/probes.json")
[ ${#probes[@]} -gt 0 ] || { echo "suite.sh: lmp probes --json listed nothing" >&2; exit 1; }
# how each probe ended its start in the agent's log (the last of "attached (...)", "failed,
# skipped: ...", "skipped: ...", "unsupported on this node: ..."), and
# what /metrics says, each read once: every process started costs a second under TCG
declare -A logged up
while IFS= read -r l; do
	[[ $l =~ lmp\ [a-z]+:\ probe\ ([a-z0-9_]+):\ (.*)$ ]] || continue
	name=${BASH_REMATCH[1]} msg=${BASH_REMATCH[2]}
	[[ $msg =~ ^(attached\ \(|failed|skipped|unsupported|not\ built) ]] && logged[$name]=$msg
done < <(grep -E 'lmp [a-z]+: probe [a-z0-9_]+: ' "$D/agent.log")
while read -r series value; do
	[[ $series =~ probe=\"([a-z0-9_]+)\" ]] && up[${BASH_REMATCH[1]}]=$value
done < <(grep '^lmp_probe_up{' "$D/metrics" 2>/dev/null)
fails=0
printf '%-12s %-44s %s\n' PROBE HOOK RESULT
for p in "${probes[@]}"; do
	line=${logged[$p]:-}
	if [[ $line == "attached ("* ]]; then
		hook=${line#attached (}
		hook=${hook%)}
		if [ $ready = 0 ]; then
			result="FAIL: the agent never got ready"
		elif [ "${up[$p]:-}" != 1 ]; then
			result="FAIL: /metrics does not say lmp_probe_up{probe=\"$p\"} 1"
		else
			reason=$(check_probe "$p")
			result=${reason:+FAIL: $reason}
			result=${result:-ok}
		fi
	else
		hook="-"
		if [ -z "$line" ]; then
			result="FAIL: not started (agent: $(grep -m1 -E 'error|fatal' "$D/agent.log" | cut -c1-200))"
		elif [ "$p" = llcstat ] && [[ $line == *"no hardware cache counters"* ]]; then
			result="unsupported: ${line#unsupported on this node: }"
		else
			result="FAIL: $line"
		fi
	fi
	said=${lmp_said[$p]:-}
	[[ $result == FAIL* && $said == ready* ]] && result="$result; lmp probes said $said"
	[[ $result == FAIL* ]] && fails=$((fails + 1))
	printf '%-12s %-44s %s\n' "$p" "$hook" "$result"
	[ -n "$results" ] && printf '%s\t%s\t%s\t%s\n' "$label" "$p" "$hook" "$result" >>"$results"
done
t_end=$((SECONDS - t0))
echo "-- lmp probes took ${t_probes}s, agent ready after ${t_ready}s, workload done at ${t_work}s, agent stopped at ${t_stop}s, $(wc -l <"$D/events.json") events filtered to $(wc -l <"$D/ev") at ${t_filter}s, checks done at ${t_end}s; agent exit status $agent_status; $bad unparsable stdout lines"
grep -E 'lmp (warn|error)' "$D/agent.log" | grep -v 'in the last interval' | sed 's/^/   agent: /' | head -20
if [ "$agent_status" != 0 ] && [ $ready = 1 ]; then
	echo "FAIL: the agent exited with status $agent_status after SIGTERM"
	fails=$((fails + 1))
fi
[ $bad -gt 0 ] && { echo "FAIL: $bad stdout lines are not JSON"; fails=$((fails + 1)); }
if [ $fails -gt 0 ]; then
	echo "== $label: $fails failed"
	exit 1
fi
echo "== $label: every probe ok"
