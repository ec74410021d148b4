#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the test suites (unit, integration, e2e; default all) and prints one closing line
# "N passed, N failed, N skipped". Each test binary is a cmocka program; shell tests
# (tests/e2e/test_*.sh) count as one test each. Integration and e2e tests need root. At the
# end, anything a test made and left (cgroups, loop devices, mounts) fails the run.
set -u
BUILD=${BUILD:-build}
export LMP=${LMP:-$BUILD/lmp}
suites=${*:-unit integration e2e image}
passed=0 failed=0 skipped=0
failed_names=()
log_dir=$(mktemp -d /tmp/lmp-tests.XXXXXX)
test_pids=() # pid of each test run: the names of what a test makes carry it

# What tests make and must remove, even when they fail: cgroups (lmp-test/* in v2, lmp-test*
# in the v1 controllers), loop devices (with their backing files) and mounts.
snapshot() {
	{
		for d in /sys/fs/cgroup/lmp-test /sys/fs/cgroup/*/lmp-test; do
			[ -d "$d" ] && find "$d" -mindepth 1 -maxdepth 1 -type d -printf 'cgroup %p\n'
		done
		find /sys/fs/cgroup /sys/fs/cgroup/* -mindepth 1 -maxdepth 1 -type d \
			-name 'lmp-test?*' -printf 'cgroup %p\n' 2>/dev/null
		losetup -l -n -O NAME,BACK-FILE 2>/dev/null | sed 's/^/loop /'
		# tests mount below /tmp, on loop devices, or name their mounts lmp-*
		findmnt -r -n -o TARGET,SOURCE,FSTYPE | grep -E '^/tmp/|/dev/loop|lmp' |
			sed 's/^/mount /'
	} | sort -u
}

# Left by this run: new since the start, and either named with the pid of one of this run's
# tests (as tests name what they make) or with no pid at all. On a shared machine another
# user's tests make and leave things too: their names carry other pids.
leftovers() {
	comm -13 "$log_dir/before" <(snapshot) | while read -r line; do
		pids=$(grep -o -- '-[0-9]\{2,\}' <<<"$line" | tr -d -)
		ours=0
		[ -z "$pids" ] && ours=1
		for n in $pids; do
			[[ " ${test_pids[*]} " == *" $n "* ]] && ours=1
		done
		[ "$ours" = 1 ] && echo "$line"
	done
}
snapshot >"$log_dir/before"

run_one() { # name, command...
	local name=$1; shift
	local out="$log_dir/$(echo "$name" | tr / _).log"
	local start=$SECONDS
	# in the foreground (a background job would ignore SIGINT, and so would the agents it
	# starts), through exec so that the pid recorded is the test's own
	sh -c 'echo $$ >"$0"; exec "$@"' "$log_dir/pid" "$@" >"$out" 2>&1
	local rc=$?
	test_pids+=("$(cat "$log_dir/pid" 2>/dev/null)")
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
		# the container image, built offline and run with runc; needs podman, runc, umoci
		# and debootstrap, which `make test` installs
		if command -v podman >/dev/null; then
			run_one "image/build" make --no-print-directory -s image IMAGE=localhost/lmp:test
			run_one "image/test_image.sh" env IMAGE=localhost/lmp:test RUNC=/usr/sbin/runc \
				bash tests/image/test_image.sh
		else
			echo "  FAIL  image suite: podman is not installed ('make test' installs it)"
			failed=$((failed + 1))
			failed_names+=("image")
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

# nothing a test made may outlive it
sleep 1 # the kernel detaches an autoclear loop device a moment after its last close
left=$(leftovers)
if [ -n "$left" ]; then
	echo "== leftovers"
	echo "  FAIL  tests left behind (cgroups, loop devices, mounts):"
	sed 's/^/        | /' <<<"$left"
	failed=$((failed + 1))
	failed_names+=("leftovers")
fi

if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
