#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the test suites (unit, integration, e2e; default all) and prints one closing line
# "N passed, N failed, N skipped". Each test binary is a cmocka program; shell tests
# (tests/e2e/test_*.sh) count as one test each. Integration and e2e tests need root.
set -u
BUILD=${BUILD:-build}
export LMP=${LMP:-$BUILD/lmp}
suites=${*:-unit integration e2e image}
passed=0 failed=0 skipped=0
failed_names=()
log_dir=$(mktemp -d /tmp/lmp-tests.XXXXXX)

run_one() { # name, command...
	local name=$1; shift
	local out="$log_dir/$(echo "$name" | tr / _).log"
	local start=$SECONDS
	"$@" >"$out" 2>&1
	local rc=$?
	# cmocka prints "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)..." / "[  SKIPPED ]"
	local p f s
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	s=$(grep -c '^\[  SKIPPED \]' "$out")
	if [ -z "$p" ] && [ -z "$f" ]; then # not a cmocka program: one test, by exit status
		if [ $rc -eq 0 ]; then p=1; f=0; else p=0; f=1; fi
	fi
	p=${p:-0}; f=${f:-0}
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # crashed before its summary
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	if [ "$f" -gt 0 ]; then
		failed_names+=("$name")
		printf '  FAIL  %-45s %3ds  (log: %s)\n' "$name" $((SECONDS - start)) "$out"
		sed 's/^/        | /' "$out" | tail -40
	else
		printf '  ok    %-45s %3ds  %s passed%s\n' "$name" $((SECONDS - start)) "$p" \
			"$([ "$s" -gt 0 ] && echo ", $s skipped")"
	fi
}

for suite in $suites; do
	echo "== $suite"
	if [ "$suite" != unit ] && [ "$(id -u)" != 0 ]; then
		echo "  FAIL  $suite tests load BPF programs and need root: run 'make test' as root"
		failed=$((failed + 1))
		continue
	fi
	if [ "$suite" = image ]; then
		# the container image, built offline and run with runc (issue: packaging); needs
		# podman, which .ci/run installs; without it this suite is not run at all
		if command -v podman >/dev/null; then
			run_one "image/build" make --no-print-directory -s image IMAGE=localhost/lmp:test
			run_one "image/test_image.sh" env IMAGE=localhost/lmp:test RUNC=/usr/sbin/runc \
				bash tests/image/test_image.sh
		else
			echo "  (podman not installed: image suite not run; 'apt-get install podman' to run it)"
		fi
		continue
	fi
	for t in "$BUILD"/tests/"$suite"/test_*; do
		[ -x "$t" ] || continue
		run_one "$suite/$(basename "$t")" "$t"
	done
	for t in tests/"$suite"/test_*.sh; do
		[ -f "$t" ] || continue
		run_one "$suite/$(basename "$t")" bash "$t"
	done
done

if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
