#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The kernel matrix: tests/kernels/suite.sh on this host and on each Debian kernel under
# QEMU (tests/kernels/vm.sh), then one table of probe x kernel. `make test-kernels` runs it.
#
#   run.sh [ENTRY...]    default: host 5.10 6.1 6.12 6.1:v1
#     ENTRY: host (this machine, as it is), KERNEL (5.10, 6.1, 6.12: pure cgroup v2) or
#            KERNEL:v1 / KERNEL:hybrid (that cgroup layout in the VM)
#   env: LMP, KWORKLOAD (as suite.sh), LMP_KERNELS_CACHE (as vm.sh),
#        KERNEL_TIMEOUT (seconds per VM, default 600)
#
# Writes the logs, results.tsv and matrix.md to $LMP_KERNELS_CACHE/results/<time>/. Ends
# with "N passed, N failed, N skipped" over all (entry, probe) cells; unsupported probes
# (no hardware PMU) are the skipped ones. Exit status 1 if any cell failed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export LMP_KERNELS_CACHE=${LMP_KERNELS_CACHE:-$repo/.output/kernels}
export LMP=${LMP:-build/lmp} KWORKLOAD=${KWORKLOAD:-build/tests/kernels/kworkload}
entries=("$@")
[ ${#entries[@]} -gt 0 ] || entries=(host 5.10 6.1 6.12 6.1:v1)

res=$LMP_KERNELS_CACHE/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$res"
: >"$res/results.tsv"
declare -A took status
for e in "${entries[@]}"; do
	start=$SECONDS
	log=$res/$(echo "$e" | tr ':' '_').log
	echo "== $e"
	if [ "$e" = host ]; then
		"$here/suite.sh" --label host --results "$res/results.tsv" >"$log" 2>&1
	else
		kernel=${e%%:*} cg=v2
		[[ $e == *:* ]] && cg=${e#*:}
		"$here/vm.sh" --timeout "${KERNEL_TIMEOUT:-600}" --cgroup "$cg" --out "$res" "$kernel" -- \
			"$here/suite.sh" --label "$e" --results "$res/results.tsv" >"$log" 2>&1
	fi
	status[$e]=$?
	took[$e]=$((SECONDS - start))
	# a run that never reached its table (VM did not boot, timed out) fails every probe
	if ! grep -q "^$e	" "$res/results.tsv"; then
		echo -e "$e\t(all)\t-\tFAIL: no result (exit status ${status[$e]}; log: $log)" >>"$res/results.tsv"
	fi
	sed -n '/^PROBE /,$p' "$log" | sed 's/^/  /'
	grep -E '^vm.sh:|^  (soft|rcu|BUG|watchdog)' "$log" | sed 's/^/  /'
	echo "  ($e: ${took[$e]}s, exit status ${status[$e]}; log: $log)"
done

# probe x entry: the hook kinds chosen ("fexit", "tp_btf", ...) and the result
{
	printf '| probe |'
	for e in "${entries[@]}"; do printf ' %s |' "$e"; done
	printf '\n|---|'
	for e in "${entries[@]}"; do printf -- '---|'; done
	printf '\n'
	for p in $(cut -f2 "$res/results.tsv" | awk '!seen[$0]++'); do
		printf '| %s |' "$p"
		for e in "${entries[@]}"; do
			row=$(awk -F'\t' -v e="$e" -v p="$p" '$1 == e && ($2 == p || $2 == "(all)")' "$res/results.tsv" | head -1)
			hook=$(echo "$row" | cut -f3 | tr ',' '\n' | sed 's/^[a-z_]*=//; s/^shared:.*/shared/' |
				awk '!seen[$0]++' | paste -sd+)
			result=$(echo "$row" | cut -f4)
			case $result in
			ok) cell="$hook ok" ;;
			unsupported*) cell="unsupported" ;;
			"") cell="?" ;;
			*) cell="**FAIL** ${hook/#-/}" ;;
			esac
			printf ' %s |' "$cell"
		done
		printf '\n'
	done
	printf '| (run time) |'
	for e in "${entries[@]}"; do printf ' %s s |' "${took[$e]}"; done
	printf '\n'
	echo
	echo "Failures and unsupported probes:"
	echo
	awk -F'\t' '$4 != "ok" { printf "- %s %s: %s\n", $1, $2, $4 }' "$res/results.tsv"
} >"$res/matrix.md"
echo
cat "$res/matrix.md"
pass=$(awk -F'\t' '$4 == "ok"' "$res/results.tsv" | wc -l)
skip=$(awk -F'\t' '$4 ~ /^unsupported/' "$res/results.tsv" | wc -l)
fail=$(awk -F'\t' '$4 ~ /^FAIL/' "$res/results.tsv" | wc -l)
echo
echo "results: $res"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
