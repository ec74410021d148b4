#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `make test-valgrind`: each unit test binary given runs under valgrind. A memory error or a
# definite/indirect leak fails (valgrind exits 99). A test whose own assertions fail only
# under valgrind's slowdown (TLS handshakes past their timeout, rate limits counted in ms) is
# run a second time and, if it fails again without any valgrind error, reported as "slow"
# rather than failed: its memory was still checked.
# usage: tools/valgrind-unit.sh TEST_BINARY...   (VALGRIND_OPTS from the environment)
set -u
opts=${VALGRIND_OPTS:---leak-check=full --errors-for-leak-kinds=definite,indirect \
--show-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no}
fail=0
for t in "$@"; do
	log=$t.valgrind.log
	n=$(basename "$t")
	# shellcheck disable=SC2086 # opts is a list of options
	valgrind $opts "$t" >"$log" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 99 ]; then
		valgrind $opts "$t" >"$log" 2>&1
		rc=$?
	fi
	if [ $rc -eq 0 ]; then
		printf '  ok    %s\n' "$n"
	elif [ $rc -ne 99 ] && grep -q 'ERROR SUMMARY: 0 errors' "$log"; then
		printf '  slow  %s: no memory error, no leak; timing assertions failed under valgrind: %s\n' \
			"$n" "$(grep -o 'FAILED  \] test_[a-z0-9_]*' "$log" | sed 's/.* //' | sort -u | tr '\n' ' ')"
	else
		printf '  FAIL  %s (log: %s)\n' "$n" "$log"
		grep -E '^==[0-9]+== (Invalid|Conditional|.*definitely|.*indirectly|ERROR SUMMARY)' "$log" | head -20
		fail=1
	fi
done
exit $fail
