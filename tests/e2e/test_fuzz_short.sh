#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A short run (FUZZ_SHORT_SECONDS, default 5 s) of every libFuzzer harness of tests/fuzz, as
# part of `make test`: the harnesses build and run, the seed corpora (tests/fixtures)
# pass, and a few seconds of mutation find nothing. `make fuzz` is the long run.
set -u
BUILD=${BUILD:-build}
here=$(cd "$(dirname "$0")" && pwd)
n=0
for h in "$BUILD"/fuzz/fuzz_*; do
	case $h in *.*) continue ;; esac
	[ -x "$h" ] && n=$((n + 1))
done
if [ $n -lt 4 ]; then
	echo "expected 4 fuzz harnesses in $BUILD/fuzz, found $n (make test-build builds them)"
	exit 1
fi
# a corpus of its own, so the short run starts from the seeds every time
short=$(mktemp -d /tmp/lmp-fuzz-short.XXXXXX)
trap 'rm -rf "$short"' EXIT
mkdir -p "$short/fuzz"
for h in "$BUILD"/fuzz/fuzz_*; do
	case $h in *.*) continue ;; esac
	ln -s "$(cd "$(dirname "$h")" && pwd)/$(basename "$h")" "$short/fuzz/"
done
BUILD=$short "$here/../fuzz/run.sh" "${FUZZ_SHORT_SECONDS:-5}"
