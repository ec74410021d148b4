#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Every hook alternative of every non-syscall probe, run for real (issue 14, point 2).
# Meant for a kernel that has them all (Debian 12's 6.1 under QEMU has fentry and kprobes):
# for each probe, --disable-hooks rules out kinds until each alternative the kernel offers
# has been chosen once; each run makes a real workload inside the cgroup /lmphook-<pid>
# (exec, TCP with data and a refused connect, capability checks, O_DIRECT I/O on a loop
# device, an OOM kill in a 32M memcg, a CPU burn, malloc) and the run passes when the
# probe's lines for that cgroup carry the same event names as on the probe's best hook
# (the first run), and for streamed events the same count.
#
#   tests/kernels/hooks.sh [LMP]      (root; LMP defaults to build/lmp)
#
# Prints one row per run: probe, --disable-hooks, attach chosen, events, result; then the
# alternatives never chosen (the kernel lacks them, or the probe failed on them). Exit 1
# when a run fails, 2 on bad usage.
set -u
LMP=${1:-build/lmp}
[ -x "$LMP" ] || { echo "hooks.sh: $LMP: not an executable (usage: hooks.sh [LMP])" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "hooks.sh: needs root" >&2; exit 2; }
PROBES=${HOOKS_PROBES:-process tcp tcpconnlat tcprtt oomkill capable biolatency biopattern biosnoop bitesize biostacks memleak profile}
START_S=${HOOKS_START_S:-60} # under software emulation an agent takes seconds to load
CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$CG2" ] || { echo "hooks.sh: no cgroup v2 mount" >&2; exit 2; }
NAME=lmphook-$$
CG=$CG2/$NAME
WORK=$(mktemp -d /tmp/lmp-hooks.XXXXXX)
LOOPDEV=

cleanup() {
	[ -n "$LOOPDEV" ] && losetup -d "$LOOPDEV" 2>/dev/null
	for d in "$CG/oom" "$CG/w" "$CG"; do
		[ -d "$d" ] || continue
		while read -r p; do kill -9 "$p" 2>/dev/null; done <"$d/cgroup.procs"
		rmdir "$d" 2>/dev/null
	done
	rm -rf "$WORK"
}
# the agent of a run interrupted by a signal goes too
trap 'kill -TERM $agent 2>/dev/null; exit 1' INT TERM
trap cleanup EXIT

# workloads run in the leaf $CG/w, the OOM in $CG/oom: a cgroup that hands the memory
# controller to its children may hold no process itself
mkdir -p "$CG" || exit 1
echo "+memory" >"$CG2/cgroup.subtree_control" 2>/dev/null
echo "+memory" >"$CG/cgroup.subtree_control" 2>/dev/null
mkdir -p "$CG/w" || exit 1
truncate -s 16M "$WORK/disk.img"
LOOPDEV=$(losetup -f --show "$WORK/disk.img") || { echo "hooks.sh: no loop device" >&2; exit 1; }

# the workload of one probe, run inside $CG (the caller moved this shell there)
workload() {
	case $1 in
	process) for i in 1 2 3; do /bin/true; done ;;
	tcp | tcpconnlat | tcprtt)
		python3 - <<-'EOF'
		import socket, threading
		srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(4)
		port = srv.getsockname()[1]
		def serve():
		    for _ in range(3):
		        c, _ = srv.accept()
		        while c.recv(65536): pass
		        c.close()
		t = threading.Thread(target=serve); t.start()
		for _ in range(3):
		    s = socket.create_connection(("127.0.0.1", port))
		    for _ in range(64): s.sendall(b"x" * 4096)
		    s.close()
		t.join()
		c = socket.socket(); c.bind(("127.0.0.1", 0)); dead = c.getsockname()[1]; c.close()
		try: socket.create_connection(("127.0.0.1", dead), timeout=2)
		except OSError: pass
		EOF
		;;
	capable) # each chown to another owner asks for CAP_CHOWN
		for i in 1 2 3; do chown 65534 "$WORK/disk.img" && chown 0 "$WORK/disk.img"; done ;;
	oomkill)
		mkdir -p "$CG/oom" && echo 32M >"$CG/oom/memory.max" && echo 0 >"$CG/oom/memory.swap.max" 2>/dev/null
		sh -c "echo \$\$ > $CG/oom/cgroup.procs; exec python3 -c 'b = []
while True: b.append(bytearray(1 << 20))'" 2>/dev/null
		sleep 0.5
		rmdir "$CG/oom" 2>/dev/null
		;;
	bio*)
		dd if=/dev/zero of="$LOOPDEV" bs=4096 count=64 oflag=direct 2>/dev/null
		dd if="$LOOPDEV" of=/dev/null bs=4096 count=64 iflag=direct 2>/dev/null
		;;
	bitesize) dd if=/dev/zero of="$LOOPDEV" bs=8192 count=32 oflag=direct 2>/dev/null ;;
	memleak) python3 -c 'import ctypes; l = ctypes.CDLL(None); [l.malloc(4096) for _ in range(64)]; import time; time.sleep(2.5)' ;;
	profile) timeout 2 sh -c 'while :; do :; done' || [ $? = 124 ] ;;
	esac
}

extra_args() {
	case $1 in
	tcpconnlat) echo "--tcpconnlat-min-ms 0" ;;
	capable) echo "--capable-stream all" ;;
	memleak) echo "--memleak-cgroup /$NAME/w" ;;
	biosnoop) echo "--biosnoop-min-latency-us 0" ;;
	esac
}

# "event names|count of streamed lines" of probe $1 for our cgroup in file $2
signature() {
	python3 - "$1" "$2" "/$NAME" <<-'EOF'
	import json, sys
	probe, path, cg = sys.argv[1:4]
	names, n = set(), 0
	for line in open(path):
	    try: o = json.loads(line)
	    except ValueError: continue
	    if o.get("probe") != probe or not str(o.get("cgroup", "")).startswith(cg): continue
	    names.add(o.get("event"))
	    n += o.get("event") != "summary"  # summaries depend on when the interval ticks
	exact = {"process", "tcp", "tcpconnlat", "oomkill", "biosnoop"}  # counts that must match
	streamed = n if probe in exact else "-"
	print(",".join(sorted(names)) + "|" + str(streamed))
	EOF
}

# sets of kinds to rule out, tried in order; runs choosing an attach seen before are skipped
DISABLES=("" "fentry,fexit" "fentry,fexit,kprobe,kretprobe" "tp_btf" "tp_btf,fentry,fexit"
	"tp_btf,fentry,fexit,kprobe,kretprobe" "tp_btf,raw_tp" "tp_btf,raw_tp,fentry,fexit"
	"tp_btf,raw_tp,tracepoint" "tp_btf,raw_tp,tracepoint,fentry,fexit")

# the hook kinds each probe lists, from one `lmp probes --json` ("probe kind kind ...")
"$LMP" probes --json 2>/dev/null | python3 -c 'import json,sys
for p in json.load(sys.stdin):
    k = []
    [k.append(h["kind"]) for h in p.get("hooks", []) if h["kind"] not in k]
    print(p["name"], " ".join(k))' >"$WORK/kinds"

fails=0
agent=
printf '%-11s %-30s %-44s %-22s %s\n' PROBE DISABLED ATTACH EVENTS RESULT
for probe in $PROBES; do
	kinds=" $(awk -v p="$probe" '$1 == p { $1 = ""; print }' "$WORK/kinds") "
	best=
	seen=" "
	tried=" "
	declare -A used=()
	for dis in "${DISABLES[@]}"; do
		# only the kinds this probe lists make a difference
		d=
		for k in ${dis//,/ }; do case $kinds in *" $k "*) d=$d${d:+,}$k ;; esac; done
		case $tried in *" [$d] "*) continue ;; esac
		tried="$tried[$d] "
		out=$WORK/$probe.out
		# shellcheck disable=SC2046
		"$LMP" run --listen none --probes "$probe" --disable-hooks "$d" --interval 2 \
			--output json $(extra_args "$probe") >"$out" 2>"$WORK/$probe.err" &
		agent=$!
		for _ in $(seq 1 "$((START_S * 10))"); do
			grep -q "ready:\|no probe could attach" "$WORK/$probe.err" && break
			sleep 0.1
		done
		got=$(grep -o "probe $probe: attached ([^)]*)" "$WORK/$probe.err" | sed 's/.*(\(.*\))/\1/')
		if [ -z "$got" ] || case $seen in *" $got "*) true ;; *) false ;; esac; then
			# nothing left to attach with, or an attach already run: not a new alternative
			kill -TERM "$agent" 2>/dev/null
			wait "$agent"
			continue
		fi
		seen="$seen$got "
		(echo $BASHPID >"$CG/w/cgroup.procs" && workload "$probe") >/dev/null 2>&1 ||
			echo "hooks.sh: $probe: the workload failed" >&2
		sleep 3 # one more --interval: the aggregating probes print their summaries
		kill -TERM "$agent" 2>/dev/null
		wait "$agent"
		sig=$(signature "$probe" "$out")
		result=ok
		if [ "${sig%%|*}" = "" ]; then
			result="FAIL: no events of the workload"
		elif [ -z "$best" ]; then
			best=$sig
		elif [ "$sig" != "$best" ]; then
			result="FAIL: differs from the best hook ($best)"
		fi
		[ "$result" = ok ] || fails=$((fails + 1))
		[ "$result" = ok ] && for kv in ${got//,/ }; do used[${kv#*=}]=1; done
		printf '%-11s %-30s %-44s %-22s %s\n' "$probe" "${d:--}" "$got" "$sig" "$result"
	done
	missing=
	for k in $kinds; do [ -n "${used[$k]:-}" ] || missing="$missing $k"; done
	[ -n "$missing" ] && printf '%-11s never exercised here:%s\n' "$probe" "$missing"
	unset used
done
echo "hooks: $fails failed runs"
[ "$fails" = 0 ]
