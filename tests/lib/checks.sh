# SPDX-License-Identifier: Apache-2.0
# What the shell test scripts share (sourced): pass and fail counters, and checks that keep
# a command's output in $work/log and show its last $log_tail lines (default 25) when it
# fails. The script sets work (a directory of its own) before the first check.
passed=0
failed=0
ok() {
	passed=$((passed + 1))
	echo "ok      $1"
}
not_ok() {
	failed=$((failed + 1))
	echo "FAILED  $1"
	[ -s "$work/log" ] && sed 's/^/        /' "$work/log" | tail -n "${log_tail:-25}"
	return 0
}
# check NAME CMD...: CMD must succeed.
check() {
	local name=$1
	shift
	if "$@" >"$work/log" 2>&1; then ok "$name"; else not_ok "$name"; fi
}
# check_fails NAME PATTERN CMD...: CMD must fail and its output must match PATTERN.
check_fails() {
	local name=$1 pattern=$2
	shift 2
	if "$@" >"$work/log" 2>&1; then
		echo "(succeeded, expected a failure)" >>"$work/log"
		not_ok "$name"
	elif grep -Eq -- "$pattern" "$work/log"; then
		ok "$name"
	else
		echo "(failed, but the message does not match /$pattern/)" >>"$work/log"
		not_ok "$name"
	fi
}
