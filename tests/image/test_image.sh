#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Image test (`make test-image`, which builds the image first with `make image`): does the
# built image really run lmp, the way the DaemonSet runs it?
#
# `podman run` cannot run it on these machines (it raises rlimits, and the VM has no
# CAP_SYS_RESOURCE), so the image goes the long way: `podman save --format oci-dir`,
# `umoci unpack` into an OCI bundle, and `runc run` with rlimits no higher than the current
# ones. tests/image/oci_config.mjs makes the bundle's config what k8s/daemonset.yaml asks for:
# its capabilities only, read-only root, no_new_privs, host PID namespace, its hostPath mounts
# (/sys/kernel/btf, /sys/kernel/tracing, /sys/fs/cgroup, /sys/fs/bpf from the host), its
# environment and its limits. Then:
#   - image metadata: entrypoint, command, OCI labels, no build tools left in it;
#   - every shared library of /usr/bin/lmp resolves inside the image;
#   - `lmp version` and `lmp probes` run inside it;
#   - the container really has only the DaemonSet's capabilities and a read-only root;
#   - with those capabilities `lmp probes` says what it says with every capability;
#   - the agent starts (--duration), attaches the same probes as with every capability,
#     answers /healthz, /readyz, /metrics and /api/v1/probes inside its network namespace,
#     reports a process exec'd on the host with the node name from the pod environment, and
#     stops by itself with status 0;
#   - without CAP_BPF, or without CAP_PERFMON, it attaches fewer probes (or refuses to run).
# Root only. Prints "N passed, N failed" last; exit status 1 on any failure.

set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
image=${IMAGE:-localhost/lmp:dev}
runc=${RUNC:-/usr/sbin/runc}
export LMP_K8S_TOOLS=${LMP_K8S_TOOLS:-${OUTPUT:-$root/.output}/k8s-tools}
daemonset=k8s/daemonset.yaml
node_name=image-test-node
duration=5

log_tail=30
. "$root/tests/lib/checks.sh"
finish() {
	echo
	echo "image: $passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit
}

work=$(mktemp -d /var/tmp/lmp-image-test.XXXXXX)
: >"$work/log"
ids=()
cleanup() {
	local id
	for id in "${ids[@]}"; do "$runc" delete --force "$id" >/dev/null 2>&1; done
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then
	echo "runc, podman save and host mounts need root" >"$work/log"
	not_ok "running as root"
	finish
fi
for cmd in podman umoci node nsenter curl "$runc"; do
	if ! command -v "$cmd" >/dev/null; then
		echo "$cmd not found (make image installs podman, runc and umoci)" >"$work/log"
		not_ok "tool $cmd"
		finish
	fi
done
# Nodes are expected to have tracefs mounted (systemd does it at boot; docs/deploy.md): the pod
# gets it through a hostPath and, without CAP_SYS_ADMIN, cannot mount it itself. These VMs do
# not mount it at boot, so do what the node would have done.
if mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing 2>"$work/log"; then
	ok "host tracefs at /sys/kernel/tracing (the node's job)"
else
	not_ok "host tracefs at /sys/kernel/tracing"
fi
if ! tools/get-helm.sh "$LMP_K8S_TOOLS" >/dev/null 2>"$work/log"; then
	not_ok "tools/get-helm.sh (yaml module for oci_config.mjs)"
	finish
fi

# ---- image metadata ----------------------------------------------------------------------
if ! podman image exists "$image"; then
	echo "$image not found: run 'make image' first" >"$work/log"
	not_ok "image $image exists"
	finish
fi
ok "image $image exists"
fmt='{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{index .Config.Labels "org.opencontainers.image.version"}} {{.Size}}'
read -r entrypoint cmd label_version size < <(podman image inspect --format "$fmt" "$image")
[ "$entrypoint" = '["/usr/bin/lmp"]' ] && ok "ENTRYPOINT lmp" ||
	{ echo "$entrypoint" >"$work/log"; not_ok "ENTRYPOINT lmp"; }
[ "$cmd" = '["run"]' ] && ok "CMD run" || { echo "$cmd" >"$work/log"; not_ok "CMD run"; }
for l in title version revision source licenses; do
	if podman image inspect --format '{{json .Config.Labels}}' "$image" |
		grep -q "\"org.opencontainers.image.$l\""; then ok "label org.opencontainers.image.$l"; else
		podman image inspect --format '{{json .Config.Labels}}' "$image" >"$work/log"
		not_ok "label org.opencontainers.image.$l"
	fi
done
echo "        image size: $((size / 1000000)) MB"

# ---- OCI bundle ----------------------------------------------------------------------------
start=$SECONDS
if podman save --format oci-dir -o "$work/oci" "$image" >"$work/log" 2>&1 &&
	umoci unpack --image "$work/oci:$image" "$work/bundle" >>"$work/log" 2>&1; then
	ok "podman save --format oci-dir + umoci unpack ($((SECONDS - start)) s)"
else
	not_ok "podman save --format oci-dir + umoci unpack"
	finish
fi
rootfs="$work/bundle/rootfs"
cp "$work/bundle/config.json" "$work/config.orig.json"

leftovers=$(cd "$rootfs" && ls -d usr/bin/gcc* usr/bin/clang* usr/bin/cc usr/sbin/bpftool usr/include/bpf \
	usr/include/curl usr/lib/llvm-* 2>/dev/null)
[ -z "$leftovers" ] && ok "runtime image carries no compiler, bpftool or headers" ||
	{ echo "$leftovers" >"$work/log"; not_ok "runtime image carries no compiler, bpftool or headers"; }
[ -x "$rootfs/usr/bin/lmp" ] && ok "/usr/bin/lmp in the image" ||
	{ : >"$work/log"; not_ok "/usr/bin/lmp in the image"; }

# run_ctr NAME CAPS ARGS_JSON [oci_config options...]: run one container in the foreground;
# its stdout/stderr land in $work/NAME.out/.err, its exit status in $work/NAME.rc.
nofile="$(ulimit -Sn):$(ulimit -Hn)"
run_ctr() {
	local name=$1 caps=$2 args=$3 id="lmp-imgtest-$$-$1"
	shift 3
	cp "$work/config.orig.json" "$work/bundle/config.json"
	local extra=()
	[ "$args" != - ] && extra=(--args "$args")
	node tests/image/oci_config.mjs "$work/bundle/config.json" "$daemonset" --node-name "$node_name" \
		--caps "$caps" --nofile "$nofile" "${extra[@]}" "$@" || return 99
	ids+=("$id")
	"$runc" run --bundle "$work/bundle" "$id" </dev/null >"$work/$name.out" 2>"$work/$name.err"
	echo $? >"$work/$name.rc"
	"$runc" delete --force "$id" >/dev/null 2>&1
	return "$(cat "$work/$name.rc")"
}
logs() { cat "$work/$1.err" "$work/$1.out" >"$work/log" 2>/dev/null; }

# ---- inside the image ----------------------------------------------------------------------
if run_ctr ldd ds '["/usr/bin/ldd","/usr/bin/lmp"]' && ! grep -q 'not found' "$work/ldd.out"; then
	ok "every library of lmp resolves in the image ($(grep -c '=>' "$work/ldd.out") libraries)"
else
	logs ldd
	not_ok "every library of lmp resolves in the image"
fi

if run_ctr version ds '["/usr/bin/lmp","version"]' && grep -Eq '^lmp [^ ]+$' "$work/version.out"; then
	ok "lmp version in the image: $(cat "$work/version.out")"
	if [ -n "$label_version" ] && grep -qF -- "$label_version" "$work/version.out"; then
		ok "version label matches lmp version ($label_version)"
	else
		echo "label '$label_version', lmp says '$(cat "$work/version.out")'" >"$work/log"
		not_ok "version label matches lmp version"
	fi
else
	logs version
	not_ok "lmp version in the image"
fi

ds_caps=$(node tests/e2e/packaging_query.mjs get "$daemonset" DaemonSet \
	'spec.template.spec.containers[0].securityContext.capabilities.add' | tr -d '[]"')
want_mask=$(node tests/image/oci_config.mjs capmask "$ds_caps")
if run_ctr caps ds '["/bin/sh","-c","grep -E \"^Cap(Eff|Prm|Bnd):\" /proc/self/status; touch /lmp-rw-test"]'; then
	echo "touch on the root filesystem succeeded" >"$work/log"
	not_ok "root filesystem is read-only"
else
	grep -q 'Read-only file system' "$work/caps.err" && ok "root filesystem is read-only" ||
		{ logs caps; not_ok "root filesystem is read-only"; }
fi
got=$(awk '/^Cap(Eff|Prm|Bnd):/ { print $2 }' "$work/caps.out" | sort -u)
if [ "$got" = "$want_mask" ]; then
	ok "container has exactly the DaemonSet's capabilities ($ds_caps = $want_mask)"
else
	logs caps
	echo "want $want_mask" >>"$work/log"
	not_ok "container has exactly the DaemonSet's capabilities"
fi

# Why SYS_PTRACE and SYSLOG (docs/security.md), shown with and without each. SYS_PTRACE: the
# symbolizer and uprobes open binaries of other containers through /proc/<pid>/root and
# /proc/<pid>/exe, which the kernel guards with a ptrace access check.
sleep 30 &
victim=$!
without() { tr ',' '\n' <<<"$ds_caps" | grep -vx "$1" | paste -sd,; }
peek="[\"/bin/sh\",\"-c\",\"readlink /proc/$victim/exe && test -r /proc/$victim/root/bin/sh\"]"
if run_ctr ptrace ds "$peek" && grep -q sleep "$work/ptrace.out"; then
	if run_ctr no-ptrace "$(without SYS_PTRACE)" "$peek"; then
		logs no-ptrace
		not_ok "without SYS_PTRACE /proc/<pid>/exe and /root of a host process are refused"
	else
		ok "SYS_PTRACE opens /proc/<pid>/exe and /root of host processes (refused without it)"
	fi
else
	logs ptrace
	not_ok "with the DaemonSet's capabilities /proc/<pid>/exe and /root of a host process open"
fi
kill "$victim" 2>/dev/null
wait "$victim" 2>/dev/null
# SYSLOG: with kernel.kptr_restrict=1 (the default of several distributions) /proc/kallsyms
# shows addresses only to CAP_SYSLOG, and kernel stacks cannot be symbolized without them.
# The sysctl is raised for the two runs only; root processes on the host keep their view.
kptr=$(cat /proc/sys/kernel/kptr_restrict)
kallsyms='["/bin/sh","-c","grep -m 1 \" _stext$\" /proc/kallsyms"]'
restore_kptr() { echo "$kptr" >/proc/sys/kernel/kptr_restrict; }
trap 'restore_kptr; cleanup' EXIT
if [ "$kptr" -le 1 ] && echo 1 >/proc/sys/kernel/kptr_restrict; then
	run_ctr ksyms ds "$kallsyms"
	run_ctr no-ksyms "$(without SYSLOG)" "$kallsyms"
	restore_kptr
	with_addr=$(awk '{ print $1 }' "$work/ksyms.out")
	without_addr=$(awk '{ print $1 }' "$work/no-ksyms.out")
	if [ -n "$with_addr" ] && [ "${with_addr//0/}" != "" ] && [ "${without_addr//0/}" = "" ]; then
		ok "SYSLOG shows kallsyms addresses under kptr_restrict=1 ($with_addr; without it: $without_addr)"
	else
		cat "$work/ksyms.out" "$work/no-ksyms.out" >"$work/log" 2>&1
		not_ok "SYSLOG shows kallsyms addresses under kptr_restrict=1"
	fi
else
	echo "kernel.kptr_restrict is $kptr (2 hides addresses from everyone)" >"$work/log"
	not_ok "SYSLOG shows kallsyms addresses under kptr_restrict=1"
fi

probes_json() { # NAME CAPS
	run_ctr "$1" "$2" '["/usr/bin/lmp","probes","--json"]' &&
		node -e '
			const p = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
			const list = Array.isArray(p) ? p : p.probes;
			if (!Array.isArray(list) || list.length === 0) process.exit(1);
			for (const x of list) console.log(x.name + " " + (x.state || x.status));
		' "$work/$1.out" >"$work/$1.states"
}
if probes_json probes ds; then
	ok "lmp probes --json in the image ($(wc -l <"$work/probes.states") probes)"
else
	logs probes
	not_ok "lmp probes --json in the image"
fi
if probes_json probes-all all && cmp -s "$work/probes.states" "$work/probes-all.states"; then
	ok "lmp probes: the DaemonSet's capabilities give the same answer as all of them"
else
	diff "$work/probes.states" "$work/probes-all.states" >"$work/log" 2>&1
	not_ok "lmp probes: the DaemonSet's capabilities give the same answer as all of them"
fi
if run_ctr probes-text ds '["/usr/bin/lmp","probes"]' && grep -q '^process' "$work/probes-text.out"; then
	ok "lmp probes (table) in the image"
else
	logs probes-text
	not_ok "lmp probes (table) in the image"
fi

# ---- the agent -------------------------------------------------------------------------------
# attached NAME: the probes an agent run said it attached, sorted.
attached() { sed -n 's/.*probe \([a-z0-9_]*\): attached.*/\1/p' "$work/$1.err" | sort -u; }

marker="$work/lmpimgmark"
cp /bin/true "$marker"
# Start the agent in the background, exercise it while it runs, and collect its exit status.
run_ctr agent ds - --env "LMP_DURATION=$duration" &
runner=$!
id="lmp-imgtest-$$-agent"
ready=0
for _ in $(seq 1 600); do
	grep -q 'ready:' "$work/agent.err" 2>/dev/null && { ready=1; break; }
	kill -0 "$runner" 2>/dev/null || break
	sleep 0.1
done
if [ "$ready" = 1 ]; then
	ok "agent ready in the image: $(grep -o 'ready:.*' "$work/agent.err" | head -n 1)"
	pid=$("$runc" state "$id" 2>/dev/null | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).pid)')
	for _ in 1 2 3; do "$marker"; done
	for ep in /healthz /readyz /metrics /api/v1/probes; do
		code=$(nsenter -t "$pid" -n curl -s -o "$work/http.body" -w '%{http_code}' \
			--max-time 2 "http://127.0.0.1:9464$ep")
		if [ "$code" = 200 ]; then
			ok "GET $ep inside the pod network namespace: 200"
		else
			{ echo "HTTP $code"; cat "$work/http.body"; } >"$work/log" 2>/dev/null
			not_ok "GET $ep inside the pod network namespace"
		fi
		[ "$ep" = /metrics ] && cp "$work/http.body" "$work/metrics.txt"
	done
	grep -q '^lmp_probe_up{' "$work/metrics.txt" 2>/dev/null && ok "/metrics has lmp_probe_up" ||
		{ head -n 20 "$work/metrics.txt" >"$work/log" 2>/dev/null; not_ok "/metrics has lmp_probe_up"; }
else
	logs agent
	not_ok "agent ready in the image"
fi
wait "$runner"
rc=$(cat "$work/agent.rc" 2>/dev/null)
if [ "$rc" = 0 ] && grep -q "duration $duration" "$work/agent.err"; then
	ok "agent stopped by itself after --duration $duration with status 0"
else
	logs agent
	echo "exit status ${rc:-?}" >>"$work/log"
	not_ok "agent stopped by itself after --duration $duration with status 0"
fi
if node -e '
	const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
	let mine = 0;
	for (const l of lines) {
		const e = JSON.parse(l);
		if (e.node !== process.argv[2]) throw new Error("node is " + e.node + ": " + l);
		if (e.probe === "process" && e.event === "exec" && e.comm === "lmpimgmark") mine++;
	}
	console.log(lines.length + " events, " + mine + " exec of the marker");
	if (mine < 3) process.exit(1);
' "$work/agent.out" "$node_name" >"$work/log" 2>&1; then
	ok "events are JSON lines from node $node_name, the host's exec seen: $(cat "$work/log")"
else
	grep -m 5 lmpimgmark "$work/agent.out" >>"$work/log"
	not_ok "events are JSON lines from node $node_name, with the host's exec of the marker"
fi

attached agent >"$work/agent.attached"
run_ctr agent-all all - --env "LMP_DURATION=1" --env LMP_LISTEN=none --env LMP_OUTPUT=none
attached agent-all >"$work/agent-all.attached"
if [ -s "$work/agent.attached" ] && cmp -s "$work/agent.attached" "$work/agent-all.attached"; then
	ok "the DaemonSet's capabilities attach what every capability attaches ($(wc -l <"$work/agent.attached") probes)"
else
	diff "$work/agent.attached" "$work/agent-all.attached" >"$work/log" 2>&1
	not_ok "the DaemonSet's capabilities attach what every capability attaches"
fi

# Each of BPF and PERFMON is needed: without it the agent attaches less, or refuses to run.
for cap in BPF PERFMON; do
	others=$(without "$cap")
	run_ctr "no-$cap" "$others" - --env "LMP_DURATION=1" --env LMP_LISTEN=none --env LMP_OUTPUT=none
	n=$(attached "no-$cap" | wc -l)
	if [ "$n" -lt "$(wc -l <"$work/agent.attached")" ]; then
		ok "without CAP_$cap: $n probes attach (exit $(cat "$work/no-$cap.rc")): $(grep -m 1 -Eo '(error|warn)[^.]*' "$work/no-$cap.err" | head -c 100)"
	else
		logs "no-$cap"
		not_ok "without CAP_$cap the agent attaches less"
	fi
done

finish
