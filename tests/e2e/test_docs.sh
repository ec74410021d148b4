#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Docs that match the code: every probe the binary lists has its page and its row in
# docs/probes.md, and every option `lmp help` prints is in README.md or a probe page.
# The registry (`lmp probes --names`) is the list: the Helm chart's schema and README, the
# probe table and pages must name exactly its probes, and each probe option is on its page.
set -u
LMP=${LMP:-build/lmp}
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
names=$("$LMP" probes --names)
[ -n "$names" ] || fail "lmp probes --names printed nothing"
for p in $names; do
	[ -f "docs/probes/$p.md" ] || fail "docs/probes/$p.md missing"
	grep -q "^| $p |" docs/probes.md || fail "$p not in docs/probes.md"
done
rows=$(sed -n 's/^| \([a-z0-9]*\) | .*(probes\/\1\.md) |$/\1/p' docs/probes.md)
[ "$(sort <<<"$rows")" = "$(sort <<<"$names")" ] ||
	fail "docs/probes.md's tables list $(echo $rows), the registry $(echo $names)"
# helm/lmp/values.schema.json: the array form's enum and the string form's pattern
list=$(tr '\n' '|' <<<"$names" | sed 's/|$//')
schema=$(python3 -c '
import json, sys
p = json.load(open("helm/lmp/values.schema.json"))["properties"]["probes"]["oneOf"]
print("|".join(p[1]["items"]["enum"]))
print(p[0]["pattern"])')
[ "$(sed -n 1p <<<"$schema")" = "$list" ] ||
	fail "helm/lmp/values.schema.json probes enum is $(sed -n 1p <<<"$schema"), the registry $list"
[ "$(sed -n 2p <<<"$schema")" = "^all\$|^($list)(,($list))*\$" ] ||
	fail "helm/lmp/values.schema.json probes pattern does not list the registry's probes: want ^all\$|^($list)(,($list))*\$"
readme=$(sed -n 's/^| `probes` | .*probe names: \([a-z0-9, ]*\) |$/\1/p' helm/lmp/README.md)
[ "$readme" = "$(sed 's/|/, /g' <<<"$list")" ] ||
	fail "helm/lmp/README.md probes row lists '$readme', the registry '$(sed 's/|/, /g' <<<"$list")'"
for opt in $("$LMP" help | grep -o -- '^  --[a-z0-9-]*' | sed 's/^ *//'); do
	grep -rqE -- "$opt([^a-z0-9-]|\$)" README.md docs/ || fail "option $opt is documented nowhere"
done
# a probe's options (--<probe>-..., the section after "Probe options") on the probe's page
for opt in $("$LMP" help | sed -n '/^Probe options/,/^$/p' | grep -o -- '^  --[a-z0-9-]*'); do
	p=$(for n in $names; do case $opt in --$n-*) echo "$n" ;; esac; done)
	[ -n "$p" ] && grep -qE -- "$opt([^a-z0-9-]|\$)" "docs/probes/$p.md" ||
		fail "probe option $opt is not on its probe's page docs/probes/${p:-?}.md"
done
for m in $(grep -ho '"lmp_[a-z0-9_]*"' $(find agent -name "*.c") | tr -d '"' | sort -u); do
	grep -q "\`$m\`" docs/metrics.md || fail "metric $m not in docs/metrics.md"
done
echo "docs: $fails failures"
[ $fails -eq 0 ]
