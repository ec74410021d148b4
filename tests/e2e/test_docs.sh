#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Docs that match the code: every probe the binary lists has its page and its row in
# docs/probes.md, and every option `lmp help` prints is in README.md or a probe page.
set -u
LMP=${LMP:-build/lmp}
fails=0
for p in $("$LMP" probes | tail -n +2 | awk '{print $1}'); do
	[ -f "docs/probes/$p.md" ] || { echo "FAIL: docs/probes/$p.md missing"; fails=$((fails + 1)); }
	grep -q "^| $p |" docs/probes.md || { echo "FAIL: $p not in docs/probes.md"; fails=$((fails + 1)); }
done
for opt in $("$LMP" help | grep -o -- '^  --[a-z0-9-]*' | sed 's/^ *//'); do
	grep -rqF -- "$opt" README.md docs/ ||
		{ echo "FAIL: option $opt is documented nowhere"; fails=$((fails + 1)); }
done
for m in $(grep -ho '"lmp_[a-z0-9_]*"' $(find agent -name "*.c") | tr -d '"' | sort -u); do
	grep -q "\`$m\`" docs/metrics.md || { echo "FAIL: metric $m not in docs/metrics.md"; fails=$((fails + 1)); }
done
echo "docs: $fails failures"
[ $fails -eq 0 ]
