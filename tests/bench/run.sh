#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make bench`: lmp side by side with libbpf-tools and bpftrace, in one run on this machine
# (issue 8; method and latest numbers in docs/performance.md).
#
# Every comparison runs in rounds: each round runs every configuration once, one after the
# other (tracer started, workload run, tracer stopped), so slow and fast moments of a busy
# machine fall on every column alike. Figures are min / median / max over REPS rounds.
# Workload costs are CPU time of the workload (user + system, which includes the BPF
# programs run on its behalf) unless a column says wall. Compare the columns of one run with
# each other, never with a number from another day or machine.
set -u
BUILD=${BUILD:-build}
LMP=${LMP:-$BUILD/lmp}
REPS=${REPS:-5}
ITER=${ITER:-200000}	 # sysloop iterations per round
NEXEC=${NEXEC:-500}	 # exec storm: processes per round
NOPEN=${NOPEN:-100000}	 # open storm: opens per round
NIO=${NIO:-20000}	 # direct 4 KiB reads per round
EXTRA_REPS=${EXTRA_REPS:-3} # runs per figure in the bench_*.sh scripts
S1_ONLY=${S1_ONLY:-0}	 # 1: section 1 only (the syscall loop) and bench_sysdisp.sh, a short run
LMP_BASE=${LMP_BASE:-}	 # another lmp binary (say, main's): section 1 adds its --probes all, same rounds
B=$BUILD/bench
FIXTURES=${LMP_FIXTURES:-tests/fixtures}

[ "$(id -u)" = 0 ] || { echo "bench: needs root (loads BPF programs)" >&2; exit 1; }
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
T=$(mktemp -d /dev/shm/lmp-bench.XXXXXX)
LOOP=
cleanup() {
	[ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
T0=$(date +%s)

# --- helpers ----------------------------------------------------------------------------

# numbers on stdin -> "min median max" with DIGITS decimals (default 1)
stats() {
	sort -g | awk -v d="${1:-1}" '{a[NR]=$1} END {if (NR==0) {print "- - -"; exit}
		f="%." d "f %." d "f %." d "f"; printf f, a[1], a[int((NR+1)/2)], a[NR]}'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a/b; else print "-"}'; }
kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; } # value of key in an agentstat line
have() { command -v "$1" >/dev/null; }
SECTION_T0=$(date +%s)
took() { # end of a section: its wall time, so the budget (~10 min) can be checked
	echo "# ($(($(date +%s) - SECTION_T0)) s)"
	SECTION_T0=$(date +%s)
	echo
}

# run LOAD under the tracers (agentstat groups after --): first line of the result is the
# load's own output, the second agentstat's key=value line. With no tracer, LOAD alone.
run() { # load, [-- tracer groups...]
	local load=$1; shift
	if [ $# -eq 0 ]; then
		sh -c "$load"
		echo "none"
	else
		"$B/agentstat" -l "$load" "$@"
	fi
}
# record: file, value — one sample per round
rec() { echo "$2" >>"$T/res.$1"; }
samples() { cat "$T/res.$1" 2>/dev/null; }

LMPRUN=("$LMP" run --listen none --interval 5)
BPFTRACE_COUNT='tracepoint:raw_syscalls:sys_enter { @[args->id] = count(); }'

echo "# lmp benchmarks — $(date -u +%FT%TZ)"
echo "# machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
	"kernel $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# lmp $("$LMP" version | cut -d' ' -f2); peers: libbpf-tools" \
	"$(dpkg-query -W -f='${Version}' libbpf-tools 2>/dev/null || echo '(not installed)'), bpftrace" \
	"$(bpftrace --version 2>/dev/null | awk '{print $2}' || echo '(not installed)')"
echo "# reps=$REPS rounds; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" \
	"(other work on this machine makes wall-clock figures noisy)"
echo

# --- 1. syscall-heavy loop --------------------------------------------------------------
echo "## 1. syscall-heavy loop: $ITER x (getppid + 1-byte read), ns per iteration"
S1=(none lmp_syscall lmp_syscount lmp_syscount_count lmp_all peer_syscount peer_syscount_l bpftrace)
[ -n "$LMP_BASE" ] && S1+=(base_all)
for _ in $(seq "$REPS"); do
	for c in "${S1[@]}"; do
		load="$B/sysloop $ITER"
		case $c in
		none) r=$(run "$load") ;;
		lmp_syscall) r=$(run "$load" -- /dev/null ready: "${LMPRUN[@]}" --probes syscall --output none) ;;
		lmp_syscount) r=$(run "$load" -- /dev/null ready: "${LMPRUN[@]}" --probes syscount --output none) ;;
		lmp_syscount_count) r=$(run "$load" -- /dev/null ready: "${LMPRUN[@]}" --probes syscount \
			--syscount-latency=false --output none) ;;
		lmp_all) r=$(run "$load" -- /dev/null ready: "${LMPRUN[@]}" --probes all --output none) ;;
		base_all) r=$(run "$load" -- /dev/null ready: "$LMP_BASE" "${LMPRUN[@]:1}" --probes all \
			--output none) ;;
		peer_syscount) have syscount || continue
			r=$(run "$load" -- "$T/out" @attached syscount) ;;
		peer_syscount_l) have syscount || continue
			r=$(run "$load" -- "$T/out" @attached syscount -L) ;;
		bpftrace) have bpftrace || continue
			r=$(run "$load" -- "$T/out" @attached bpftrace -e "$BPFTRACE_COUNT") ;;
		esac
		read -r wall cpu <<<"$(head -1 <<<"$r")"
		[ -n "${cpu:-}" ] || continue
		rec "s1.$c.wall" "$wall"
		rec "s1.$c.cpu" "$cpu"
	done
done
base=$(samples s1.none.cpu | median)
peer=$(samples s1.peer_syscount.cpu | median)
printf '%-38s %-22s %-22s %9s %12s\n' "" "wall min/med/max" "CPU min/med/max" "slowdown" \
	"vs syscount"
for c in "${S1[@]}"; do
	case $c in
	none) label="no tracing" ;; lmp_syscall) label="lmp --probes syscall" ;;
	lmp_syscount) label="lmp --probes syscount" ;; lmp_all) label="lmp --probes all" ;;
	lmp_syscount_count) label="lmp syscount --syscount-latency=false" ;;
	peer_syscount) label="libbpf-tools syscount" ;; bpftrace) label="bpftrace count by syscall" ;;
	peer_syscount_l) label="libbpf-tools syscount -L" ;;
	base_all) label="LMP_BASE --probes all" ;;
	esac
	[ -s "$T/res.s1.$c.cpu" ] || { echo "$label: not run (peer not installed: make bench-deps)"; continue; }
	m=$(samples "s1.$c.cpu" | median)
	printf '%-38s %-22s %-22s %8sx %11sx\n' "$label" "$(samples "s1.$c.wall" | stats 0)" \
		"$(samples "s1.$c.cpu" | stats 0)" "$(ratio "$m" "$base")" \
		"$(ratio "$(awk -v m="$m" -v b="$base" 'BEGIN {print m - b}')" \
			"$(awk -v m="$peer" -v b="$base" 'BEGIN {print m - b}')")"
done
echo "# slowdown: CPU median / untraced CPU median. vs syscount: added CPU per iteration"
echo "# (median - untraced median) over libbpf-tools syscount's, in this run. Targets (issue 16):"
add() { awk -v m="$(samples "s1.$1.cpu" | median)" -v b="$base" 'BEGIN {printf "%.0f", m - b}'; }
xa() { ratio "$(add "$1")" "$(add "$2")"; } # added cost of $1 over added cost of $2
echo "#   lmp all: $(add lmp_all) ns added = $(xa lmp_all peer_syscount) x syscount's" \
	"$(add peer_syscount) (target <= 2.0, aim 1.0)"
echo "#   lmp syscount (latency + errors): $(add lmp_syscount) = $(xa lmp_syscount peer_syscount_l)" \
	"x syscount -L's $(add peer_syscount_l) (target <= 1.0)"
echo "#   lmp syscount --syscount-latency=false: $(add lmp_syscount_count) =" \
	"$(xa lmp_syscount_count peer_syscount) x syscount's (target <= 1.0);" \
	"lmp syscall (counts): $(add lmp_syscall) = $(xa lmp_syscall peer_syscount) x"
[ -n "$LMP_BASE" ] && echo "#   LMP_BASE ($LMP_BASE) all: $(add base_all) = $(xa base_all peer_syscount) x"
took

if [ "$S1_ONLY" = 1 ]; then # with the dispatcher's BPF time per program run, less disturbed
	LMP=$LMP LMP_BASE=$LMP_BASE BUILD=$BUILD REPS=$REPS ITER=$ITER B=$B bash tests/bench/bench_sysdisp.sh
	exit 0
fi

# --- 2. exec storm ------------------------------------------------------------------------
echo "## 2. exec storm: $NEXEC fork+exec of a static do-nothing binary, 2 workers, per round"
printf 'int main(void){return 0;}\n' | ${CC:-cc} -O2 -static -x c - -o "$T/lmpbx"
S2=(none lmp peer)
for _ in $(seq "$REPS"); do
	for c in "${S2[@]}"; do
		load="$B/execstorm $NEXEC 2 $T/lmpbx"
		rm -f "$T/out" "$T/out2"
		case $c in
		none) r=$(run "$load") ;;
		lmp) r=$(run "$load" -- "$T/out" ready: "${LMPRUN[@]}" --probes process --output json) ;;
		peer) have execsnoop && have exitsnoop || continue
			r=$(run "$load" -- "$T/out" @attached execsnoop -- "$T/out2" @attached exitsnoop) ;;
		esac
		read -r _ _ rate us <<<"$(head -1 <<<"$r")"
		[ -n "${us:-}" ] || continue
		rec "s2.$c.rate" "$rate"
		rec "s2.$c.us" "$us"
		case $c in
		lmp)
			rec s2.lmp.exec "$(grep -c '"probe":"process","event":"exec",.*"comm":"lmpbx"' "$T/out")"
			rec s2.lmp.exit "$(grep -c '"probe":"process","event":"exit",.*"comm":"lmpbx"' "$T/out")"
			rec s2.lmp.lost "$(kv lost "$(tail -1 <<<"$r")")" ;;
		peer)
			rec s2.peer.exec "$(awk '$1 == "lmpbx"' "$T/out" | wc -l)"
			rec s2.peer.exit "$(awk '$1 == "lmpbx"' "$T/out2" | wc -l)"
			rec s2.peer.lost "$(kv lost "$(tail -1 <<<"$r")")" ;;
		esac
	done
done
base=$(samples s2.none.us | median)
printf '%-34s %-20s %-10s %-9s %-16s %-16s %s\n' "" "execs/s min/med/max" "us/exec" "slowdown" \
	"exec events" "exit events" "lost (reported)"
for c in "${S2[@]}"; do
	case $c in
	none) label="no tracing" ;; lmp) label="lmp --probes process" ;;
	peer) label="libbpf-tools execsnoop + exitsnoop" ;;
	esac
	[ -s "$T/res.s2.$c.us" ] || { echo "$label: not run (peer not installed: make bench-deps)"; continue; }
	m=$(samples "s2.$c.us" | median)
	ev() { [ -s "$T/res.s2.$c.$1" ] && echo "$(samples "s2.$c.$1" | stats 0 | awk '{print $1 "/" $2 "/" $3}') of $NEXEC" || echo "-"; }
	printf '%-34s %-20s %-10s %8sx %-16s %-16s %s\n' "$label" "$(samples "s2.$c.rate" | stats 0)" \
		"$m" "$(ratio "$m" "$base")" "$(ev exec)" "$(ev exit)" \
		"$([ -s "$T/res.s2.$c.lost" ] && samples "s2.$c.lost" | stats 0 | awk '{print $1 "/" $2 "/" $3}' || echo -)"
done
echo "# events: min/median/max captured per round of the storm's own processes (comm lmpbx)"
took

# --- 3. open storm ------------------------------------------------------------------------
echo "## 3. open storm: $NOPEN open+close of one file per round, one process"
: >"$T/openme"
S3=(none lmp peer)
for _ in $(seq "$REPS"); do
	for c in "${S3[@]}"; do
		load="$B/openstorm $NOPEN 0 $T/openme"
		rm -f "$T/out"
		case $c in
		none) r=$(run "$load") ;;
		lmp) r=$(run "$load" -- "$T/out" ready: "${LMPRUN[@]}" --probes opensnoop --output json) ;;
		peer) have opensnoop || continue
			r=$(run "$load" -- "$T/out" @attached opensnoop) ;;
		esac
		read -r _ _ rate ns <<<"$(head -1 <<<"$r")"
		[ -n "${ns:-}" ] || continue
		rec "s3.$c.rate" "$rate"
		rec "s3.$c.ns" "$ns"
		case $c in
		lmp) rec s3.lmp.ev "$(grep -c "\"comm\":\"openstorm\".*\"path\":\"$T/openme\"" "$T/out")"
			rec s3.lmp.lost "$(kv lost "$(tail -1 <<<"$r")")" ;;
		peer) rec s3.peer.ev "$(grep -c " openstorm .* $T/openme\$" "$T/out")"
			rec s3.peer.lost "$(kv lost "$(tail -1 <<<"$r")")" ;;
		esac
	done
done
base=$(samples s3.none.ns | median)
printf '%-26s %-24s %-9s %-9s %-28s %s\n' "" "opens/s min/med/max" "ns/open" "slowdown" \
	"events captured min/med/max" "lost (reported)"
for c in "${S3[@]}"; do
	case $c in
	none) label="no tracing" ;; lmp) label="lmp --probes opensnoop" ;;
	peer) label="libbpf-tools opensnoop" ;;
	esac
	[ -s "$T/res.s3.$c.ns" ] || { echo "$label: not run (peer not installed: make bench-deps)"; continue; }
	m=$(samples "s3.$c.ns" | median)
	printf '%-26s %-24s %-9s %8sx %-28s %s\n' "$label" "$(samples "s3.$c.rate" | stats 0)" "$m" \
		"$(ratio "$m" "$base")" \
		"$([ -s "$T/res.s3.$c.ev" ] && echo "$(samples "s3.$c.ev" | stats 0 | tr ' ' /) of $NOPEN" || echo -)" \
		"$([ -s "$T/res.s3.$c.lost" ] && samples "s3.$c.lost" | stats 0 | tr ' ' / || echo -)"
done
echo "# ns/open: wall clock, so the consumer's own work on the second CPU shows as well"
took

# --- 4. direct block I/O on a loop device -------------------------------------------------
truncate -s 256M "$T/disk.img"
LOOP=$(losetup --find --show "$T/disk.img" 2>/dev/null)
if [ -n "$LOOP" ]; then
	echo "## 4. direct block I/O: $NIO random 4 KiB O_DIRECT reads of $LOOP (file on tmpfs), one at a time"
	S4=(none lmp peer)
	for _ in $(seq "$REPS"); do
		for c in "${S4[@]}"; do
			load="$B/dio $LOOP $NIO"
			case $c in
			none) r=$(run "$load") ;;
			lmp) r=$(run "$load" -- /dev/null ready: "${LMPRUN[@]}" --probes biolatency,bitesize --output none) ;;
			peer) have biolatency && have bitesize || continue
				r=$(run "$load" -- "$T/out" @attached biolatency -- "$T/out2" @attached bitesize) ;;
			esac
			read -r _ _ iops us <<<"$(head -1 <<<"$r")"
			[ -n "${us:-}" ] || continue
			rec "s4.$c.iops" "$iops"
			rec "s4.$c.us" "$us"
		done
	done
	base=$(samples s4.none.us | median)
	printf '%-38s %-24s %-9s %s\n' "" "IOPS min/med/max" "us/io" "slowdown"
	for c in "${S4[@]}"; do
		case $c in
		none) label="no tracing" ;; lmp) label="lmp --probes biolatency,bitesize" ;;
		peer) label="libbpf-tools biolatency + bitesize" ;;
		esac
		[ -s "$T/res.s4.$c.us" ] || { echo "$label: not run (peer not installed: make bench-deps)"; continue; }
		m=$(samples "s4.$c.us" | median)
		printf '%-38s %-24s %-9s %8sx\n' "$label" "$(samples "s4.$c.iops" | stats 0)" "$m" \
			"$(ratio "$m" "$base")"
	done
else
	echo "## 4. direct block I/O: skipped, no free loop device (losetup --find failed)"
fi
took

# --- 5. event pipeline ------------------------------------------------------------------
echo "## 5. event pipeline: ring buffer -> decode -> JSON (to /dev/null), the agent's code path"
echo "# rate_target  consumed/s (wall)            per consumer-CPU-second        lost %"
for rate in 100000 500000 1000000 0; do
	res=$(for _ in 1 2 3; do "$B/pipeline" "$rate" 2; done)
	label=$rate; [ "$rate" = 0 ] && label=max
	printf '%-12s %-28s %-30s %s\n' "$label" \
		"$(awk '{print $2}' <<<"$res" | stats 0)" "$(awk '{print $3}' <<<"$res" | stats 0)" \
		"$(awk '{print $4}' <<<"$res" | stats 4)"
done
echo "# targets: >= 1,000,000 events per consumer-CPU-second; 0 lost at 100,000/s"
took

# --- 6. the agent itself, all probes --------------------------------------------------------
echo "## 6. the agent itself, --probes all"
for _ in $(seq "$REPS"); do
	r=$("$B/agentstat" -h 3 -- /dev/null ready: "${LMPRUN[@]}" --probes all --output none)
	for k in ready_ms start_cpu_ms rss_kb hwm_kb stop_ms; do rec "s6.$k" "$(kv $k "$r")"; done
done
printf '%-44s %s\n' "start-up to ready, wall ms (target <= 1500)" "$(samples s6.ready_ms | stats 0)"
printf '%-44s %s\n' "start-up CPU ms" "$(samples s6.start_cpu_ms | stats 0)"
printf '%-44s %s\n' "RSS idle, 3 s after ready, KiB" "$(samples s6.rss_kb | stats 0)"
printf '%-44s %s\n' "peak RSS (VmHWM, start-up), KiB" "$(samples s6.hwm_kb | stats 0)"
printf '%-44s %s\n' "stop on SIGINT, ms" "$(samples s6.stop_ms | stats 0)"
for _ in 1 2 3; do
	r=$("$B/agentstat" -k 500 -f "$FIXTURES" -x "$T/lmpbx" -i 3 -h 5 -- "$T/k8s.json" ready: \
		"$LMP" run --listen none --interval 1 --probes all --output json)
	rec s6.k8s.rss "$(kv rss_kb "$r")"
	rec s6.k8s.rssmax "$(kv rss_max_kb "$r")"
	rec s6.k8s.labelled "$(grep -o '"pod":"bench-pod-[0-9]*","container":"c[01]"' "$T/k8s.json" | sort -u | wc -l)"
	rm -f "$T/k8s.json"
done
printf '%-44s %s\n' "RSS with 1,000 pod cgroups, KiB (target <= 40960)" "$(samples s6.k8s.rss | stats 0)"
printf '%-44s %s\n' "  highest sample during those 5 s, KiB" "$(samples s6.k8s.rssmax | stats 0)"
printf '%-44s %s\n' "  containers seen labelled in events" "$(samples s6.k8s.labelled | stats 0) of 1000"
echo "# 500 pods x 2 containers from a kubelet PodList served on loopback, each container a real"
echo "# kubepods cgroup in which one process ran, so every one is resolved, labelled and has series;"
echo "# the profile probe's user-symbol cache follows whatever else runs on the machine"
for rate in 10000 100000; do
	for _ in 1 2 3; do
		r=$(run "$B/openstorm $((rate * 4)) $rate $T/openme 2" -- /dev/null ready: \
			"${LMPRUN[@]}" --probes all --output json)
		read -r _ _ got _ <<<"$(head -1 <<<"$r")"
		rec "s6.cpu$rate" "$(kv cpu_pct "$(tail -1 <<<"$r")")"
		rec "s6.got$rate" "$got"
		rec "s6.lost$rate" "$(kv lost "$(tail -1 <<<"$r")")"
	done
	printf '%-44s %s   (opens/s reached: %s; lost: %s)\n' "CPU % at $rate opens/s (JSON events)" \
		"$(samples "s6.cpu$rate" | stats 1)" "$(samples "s6.got$rate" | stats 0 | tr ' ' /)" \
		"$(samples "s6.lost$rate" | stats 0 | tr ' ' /)"
done
echo "# CPU %: the agent's user+system time over the storm's wall time (100 = one CPU); each open"
echo "# is one opensnoop event on stdout (/dev/null) besides what the other probes aggregate"
took

# --- 7 and beyond: the other bench_*.sh (k8s identity, syscount and per-probe BPF cost) -----
for extra in tests/bench/bench_*.sh; do
	[ -f "$extra" ] || continue
	LMP=$LMP LMP_BASE=$LMP_BASE BUILD=$BUILD REPS=$EXTRA_REPS ITER=$ITER PASSES=1 B=$B T=$T LOOP=$LOOP \
		bash "$extra"
	took
done
echo "# make bench took $(($(date +%s) - T0)) s"
