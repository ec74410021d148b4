#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Run every libFuzzer harness ($BUILD/fuzz/fuzz_*) for SECONDS each (FUZZ_RUNS=N: N
# executions instead), one after another, on a corpus kept in $BUILD/fuzz/corpus/<name> and
# seeded from tests/fixtures and tests/fuzz/seeds.sh. Prints one line per harness with
# the executions done; exits 1 if any harness crashed, leaked or timed out (the input that
# did it is saved under $BUILD/fuzz/artifacts/).
#   usage: tests/fuzz/run.sh SECONDS [harness...]
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-build}
secs=${1:-60}
shift || true
names=${*:-}
[ -n "$names" ] || names=$(cd "$BUILD/fuzz" 2>/dev/null && ls fuzz_* 2>/dev/null | grep -v '\.' )
[ -n "$names" ] || { echo "no harness in $BUILD/fuzz (make fuzz-build)" >&2; exit 1; }
fixtures=${LMP_FIXTURES:-$here/../fixtures}
[ -d "$fixtures/kubelet" ] || { echo "fixtures not found in $fixtures" >&2; exit 1; }
mkdir -p "$BUILD/fuzz/artifacts"
status=0
for name in $names; do
	bin=$BUILD/fuzz/$name
	corpus=$BUILD/fuzz/corpus/$name
	log=$BUILD/fuzz/$name.log
	[ -x "$bin" ] || { echo "  FAIL  $name: $bin not built"; status=1; continue; }
	mkdir -p "$corpus"
	"$here/seeds.sh" "${name#fuzz_}" "$corpus" "$fixtures" "$BUILD/fuzz/$name.dict"
	args=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -detect_leaks=1
		"-artifact_prefix=$BUILD/fuzz/artifacts/$name-")
	[ -s "$BUILD/fuzz/$name.dict" ] && args+=("-dict=$BUILD/fuzz/$name.dict")
	case $name in
	fuzz_podlist) args+=(-max_len=16384) ;; # a pod or two; whole replies are seeds only
	fuzz_http) args+=(-max_len=65536) ;;	 # the harness refuses more
	esac
	if [ -n "${FUZZ_RUNS:-}" ]; then
		args+=("-runs=$FUZZ_RUNS")
	else
		args+=("-max_total_time=$secs")
	fi
	start=$SECONDS
	"$bin" "${args[@]}" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ $rc -ne 0 ]; then
		echo "  FAIL  $name: exit $rc after ${execs:-?} executions (log: $log)"
		grep -E '^==[0-9]+==ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -8 |
			sed 's/^/        | /'
		status=1
	else
		printf '  ok    %-14s %10s executions in %4ds, 0 crashes, corpus %s inputs\n' \
			"$name" "${execs:-?}" $((SECONDS - start)) "$(ls "$corpus" | wc -l)"
	fi
done
exit $status
