#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Seed corpus and dictionary of one harness.
#   usage: tests/fuzz/seeds.sh podlist|podpath|config|http CORPUS_DIR FIXTURES_DIR DICT_FILE
# Seeds come from the real captures in tests/fixtures where there are some (kubelet
# PodLists, cgroup paths, /proc/<pid>/cgroup files, mount tables) and from hand-written
# inputs; config's dictionary is read from the option tables (agent/core/config.c and the
# probes' descriptors), so it follows new options without edits here.
set -eu
kind=$1 corpus=$2 fx=$3 dict=$4
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$corpus"
: >"$dict"
seed() { printf "$2" >"$corpus/seed-$1"; } # name, printf format (\0 for NUL)
words() { for w in "$@"; do printf '"%s"\n' "$w"; done >>"$dict"; }

case $kind in
podlist)
	for f in "$fx"/kubelet/*.json; do cp "$f" "$corpus/seed-$(basename "$f")"; done
	# whole replies are 100 KB; one-pod lists keep each execution fast (run.sh caps
	# podlist inputs at 16 KiB), so each real pod also becomes a seed of its own
	if command -v python3 >/dev/null; then
		python3 - "$corpus" "$fx"/kubelet/*.json <<'PY'
import json, sys
out = sys.argv[1]
for path in sys.argv[2:]:
    try:
        items = json.load(open(path)).get('items') or []
    except Exception:
        continue
    for i, pod in enumerate(items):
        doc = json.dumps({'kind': 'PodList', 'apiVersion': 'v1', 'items': [pod]})
        if len(doc) <= 16384:
            name = path.rsplit('/', 1)[-1].replace('.json', '')
            open(f'{out}/seed-{name}-{i}.json', 'w').write(doc)
PY
	fi
	seed empty '{"kind":"PodList","apiVersion":"v1","items":[]}'
	seed nullitem '{"kind":"PodList","items":[null,1,"x",{}]}'
	seed status '{"kind":"Status","status":"Failure","message":"forbidden","code":403}'
	seed ctrl '{"items\\"limits\\\n:`]}' # an error quoting a newline (once a finding)
	seed one '{"items":[{"metadata":{"name":"p","namespace":"n","uid":"u-1"},"status":{"qosClass":"Burstable","containerStatuses":[{"name":"c","containerID":"containerd://0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}]}}]}'
	words items metadata uid name namespace status qosClass Guaranteed Burstable BestEffort \
		containerStatuses initContainerStatuses ephemeralContainerStatuses containerID \
		lastState terminated 'containerd://' 'docker://' 'cri-o://' null true false \
		PodList Status '{' '}' '[' ']' ':' ','
	;;
podpath)
	n=0
	while IFS=$'\t' read -r path _; do
		[ "$path" = path ] && continue
		n=$((n + 1))
		printf '%s' "$path" >"$corpus/seed-path-$n"
	done <"$fx/cgroup/cgroup_paths.tsv"
	while IFS=$'\t' read -r field _; do
		[ "$field" = containerID_field ] && continue
		n=$((n + 1))
		printf '%s' "$field" >"$corpus/seed-cid-$n"
	done <"$fx/cgroup/kubelet_containerID_formats.tsv"
	for f in "$fx"/cgroup/proc_cgroup/* "$fx"/cgroup/mounts/*; do
		cp "$f" "$corpus/seed-$(basename "$f")"
	done
	words kubepods kubepods.slice kubepods-burstable kubepods-besteffort .slice .scope \
		docker- cri-containerd- crio- crio-conmon- libpod- pod besteffort burstable '0::/' \
		'1:name=systemd:' cgroup2 cgroup ' - ' /sys/fs/cgroup /sys/fs/cgroup/unified \
		'/host/sys/fs/cgroup' '\\040' ecs '..' 'containerd://' 'docker://' 'cri-o://' \
		'slice:cri-containerd:'
	;;
config)
	seed run 'run\0--probes\0process,syscall\0--interval\0005\0--output\0text'
	seed env '@PROBES=tcp\0@INTERVAL=2\0@NODE_NAME=n1\0run\0--listen=[::1]:0'
	seed probes 'probes\0--json\0--disable-hooks\0tp_btf,raw_tp\0--btf-path\0/x'
	seed top 'top\0-o\0json\0--agent\0http://127.0.0.1:9464\0--once'
	seed bad 'run\0--ringbuf-kb\0003\0--interval=0\0--nope'
	seed redact 'run\0--redact-patterns\0+mycorp_key,token\0--no-redact\0--drop-caps=false'
	seed sig 'run\0--sigsnoop-ignore\0SIGCHLD,9,SIGRTMIN+3\0--profile-event\0cycles'
	for o in $(sed -n 's/^[[:space:]]*{ "\([a-z0-9-]*\)", .*/\1/p' "$src/agent/core/config.c"); do
		words "--$o"
	done
	for e in $(grep -o '"LMP_[A-Z0-9_]*"' "$src/agent/core/config.c" | tr -d '"' | sort -u); do
		words "@$e="
	done
	# probe options, in their descriptors: --<probe>-x-y is read from LMP_<PROBE>_X_Y
	for e in $(grep -ho '"LMP_[A-Z0-9_]*"' "$src"/agent/probes/*.c | tr -d '"' | sort -u); do
		words "@$e=" "--$(echo "${e#LMP_}" | tr 'A-Z_' 'a-z-')"
	done
	words run probes top version help true false none all json text '\x00' 4294967295 \
		127.0.0.1:9464 'https://' 'http://'
	;;
http)
	seed metrics 'GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip;q=0.5, br\r\n\r\n'
	seed probes 'GET /api/v1/probes HTTP/1.0\r\n\r\n'
	seed pods 'HEAD /api/v1/pods HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
	seed ready 'GET /readyz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'
	seed post 'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello'
	seed chunked 'PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'
	seed notfound 'GET /../../etc/passwd?x=1#y HTTP/1.1\r\nHost: x\r\n\r\n'
	# dictionary escapes are \xNN only
	words 'GET ' 'HEAD ' 'POST ' 'DELETE ' 'OPTIONS ' ' HTTP/1.1\x0d\x0a' ' HTTP/1.0\x0d\x0a' '\x0d\x0a' \
		'Host: ' 'Accept-Encoding: ' gzip x-gzip identity 'q=0' 'q=1' 'Content-Length: ' \
		'Transfer-Encoding: chunked' /metrics /healthz /readyz /api/v1/probes /api/v1/pods \
		'Connection: close' 'Connection: keep-alive' 'Expect: 100-continue' '%00' '%2e%2e'
	;;
*)
	echo "seeds.sh: unknown harness '$kind'" >&2
	exit 1
	;;
esac
