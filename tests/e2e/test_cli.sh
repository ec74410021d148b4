#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The binary as a user runs it: usage errors exit 2 with one line on stderr naming the
# option, nothing on stdout; help and version exit 0.
set -u
LMP=${LMP:-build/lmp}
fails=0

check_usage_error() { # expected-text, args...
	local want=$1; shift
	local out err rc
	out=$("$LMP" "$@" 2>/tmp/lmp-cli-err.$$); rc=$?
	err=$(cat /tmp/lmp-cli-err.$$)
	if [ $rc -ne 2 ] || [ -n "$out" ] || [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ] ||
		! grep -qF -- "$want" <<<"$err"; then
		echo "FAIL: lmp $* -> rc=$rc stdout='$out' stderr='$err' (want exit 2 and '$want')"
		fails=$((fails + 1))
	fi
}

check_usage_error "--probes" run --probes nosuchprobe
check_usage_error "--probes" --probes ""
check_usage_error "--output" --output yaml
check_usage_error "--listen" --listen localhost
check_usage_error "--interval" --interval 0
check_usage_error "--duration" --duration forever
check_usage_error "--node-name" --node-name
check_usage_error "--kubelet-url" --kubelet-url gopher://x
check_usage_error "--ringbuf-kb" --ringbuf-kb 3
check_usage_error "--top" --top 0
check_usage_error "--metrics-max-series" --metrics-max-series 1
check_usage_error "--log-level" --log-level chatty
check_usage_error "unknown option '--frobnicate'" --frobnicate
check_usage_error "unknown command" frobnicate
check_usage_error "expected NAMESPACE/POD [CONTAINER]" why
check_usage_error "expected NAMESPACE/POD, got 'web-1'" why web-1
check_usage_error "expected NAMESPACE/POD, got 'a/b/c'" why a/b/c
check_usage_error "unexpected argument 'extra'" why shop/web-1 nginx extra
check_usage_error "option -o: expected json or text" why shop/web-1 -o yaml
check_usage_error "--once does not apply to 'why'" why shop/web-1 --once
# issue 15: the option edges, each refused before anything starts
tmpd=$(mktemp -d /tmp/lmp-cli.XXXXXX)
mkfifo "$tmpd/fifo"
check_usage_error "--btf-path: '$tmpd/fifo' is not a regular file" run --btf-path "$tmpd/fifo"
check_usage_error "--btf-path: '$tmpd/fifo' is not a regular file" probes --btf-path "$tmpd/fifo"
check_usage_error "--btf-path: '/dev/zero' is not a regular file" --btf-path /dev/zero
check_usage_error "--node-name: control characters" --node-name $'node\r\nlevel=error forged'
check_usage_error "--kubelet-url: control characters" --kubelet-url $'https://h/pods\nX: y'
check_usage_error "--kubelet-url: no host" --kubelet-url https://
check_usage_error "--kubelet-url: IPv6 address not closed" --kubelet-url 'http://[::1'
check_usage_error "--kubelet-url: port must be 1..65535" --kubelet-url http://h:0/pods
check_usage_error "--listen: expected ADDR:PORT" --listen ''
check_usage_error "--include-namespaces: empty item" --include-namespaces ',,,'
check_usage_error "--probes: empty item" --probes ','
check_usage_error "--interval: surrounding spaces" --interval ' 5'
check_usage_error "--interval: surrounding spaces" --interval '5 '
for v in "LMP_BTF_PATH=$tmpd/fifo" "LMP_NODE_NAME=a"$'\n'"b" "LMP_KUBELET_URL=https://" \
	"LMP_LISTEN=" "LMP_INCLUDE_NAMESPACES=,,," "LMP_INTERVAL= 5" "LMP_INTERVAL=5 "; do
	out=$(env "$v" timeout 10 "$LMP" run 2>&1); rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <<<"$out")" -eq 1 ] && grep -q "environment ${v%%=*}," <<<"$out" ||
		{ echo "FAIL: $v -> $rc $out"; fails=$((fails + 1)); }
done
# a port in use: exit 2, the one error line names --listen, before any probe is loaded
# the holder binds port 0 itself and says which it got: no window for another process
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(20)' >"$tmpd/port" &
holder=$!
for _ in $(seq 50); do [ -s "$tmpd/port" ] && break; sleep 0.1; done
port=$(cat "$tmpd/port")
out=$(timeout 20 "$LMP" run --probes process --output none --listen "127.0.0.1:$port" 2>&1); rc=$?
kill $holder; wait $holder 2>/dev/null
if [ $rc -ne 2 ] || [ "$(grep -c ' error: ' <<<"$out")" -ne 1 ] ||
	! grep -q "error: option --listen 127.0.0.1:$port: cannot serve HTTP: Address already in use" <<<"$out" ||
	grep -q "probe process" <<<"$out"; then
	echo "FAIL: port in use -> rc=$rc $out"; fails=$((fails + 1))
fi
rm -rf "$tmpd"

out=$(LMP_OUTPUT=csv "$LMP" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "LMP_OUTPUT" <<<"$out" || { echo "FAIL: LMP_OUTPUT=csv -> $rc $out"; fails=$((fails + 1)); }
out=$(LMP_DURATION=-5 "$LMP" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "LMP_DURATION" <<<"$out" || { echo "FAIL: LMP_DURATION=-5 -> $rc $out"; fails=$((fails + 1)); }

"$LMP" --help | grep -q -- "--kubelet-token-file" || { echo "FAIL: --help lacks options"; fails=$((fails + 1)); }
"$LMP" version | grep -Eq '^lmp [0-9a-g.-]+' || { echo "FAIL: version"; fails=$((fails + 1)); }
n=$("$LMP" probes | tail -n +2 | wc -l)
[ "$n" -eq 23 ] || { echo "FAIL: lmp probes lists $n probes, want 23"; fails=$((fails + 1)); }
rm -f /tmp/lmp-cli-err.$$
echo "cli: $fails failures"
[ $fails -eq 0 ]
