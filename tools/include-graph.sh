#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The include graph of agent/, one node per module (foo.c and foo.h are one node, named
# "folder/foo"): an edge A -> B where a file of A has `#include "B.h"`. Prints every cycle
# and exits 1 if there is one; also fails on an include upward across the layers below.
# Run by `make check`. Usage: tools/include-graph.sh [--edges]
set -eu
cd "$(dirname "$0")/.."
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT

# "from to" per include of a header that lives under agent/; a module's private header
# foo_int.h belongs to module foo
for f in $(find agent -name '*.[ch]' | sort); do
	from=${f#agent/}
	from=${from%.[ch]}
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
		while read -r inc; do
			[ -f "agent/$inc" ] || continue
			to=${inc%.h}
			to=${to%_int}
			[ "$to" = "$from" ] || echo "$from $to"
		done
done | sort -u >"$edges"

[ "${1:-}" = "--edges" ] && cat "$edges"
status=0

# Layers, lowest first: a module may include its own folder and the folders below it. The
# one exception: core/config.h, the settings struct every layer reads (its parser, in
# core/config.c, needs the probe registry, so it cannot sit in base).
layers="base k8s expose sym probe deaths probes/lib probes core"
layer=$(awk -v layers="$layers" '
	BEGIN { k = split(layers, l, " "); for (i = 1; i <= k; i++) rank[l[i]] = i }
	function folder(m) { return m ~ /^probes\/lib\// ? "probes/lib" : substr(m, 1, index(m, "/") - 1) }
	{
		a = folder($1); b = folder($2)
		if (!(a in rank) || !(b in rank)) { print "  " $1 " -> " $2 " (folder not in the layer list)"; next }
		if (rank[b] > rank[a] && $2 != "core/config") print "  " $1 " -> " $2
	}' "$edges")
if [ -n "$layer" ]; then
	echo "includes upward across layers ($layers):"
	echo "$layer"
	status=1
fi

# Cycles: the strongly connected components of more than one module (Tarjan), and for each
# of their modules the shortest cycle through it, written from its least module.
cycles=$(awk '
	{ n[$1] = n[$2] = 1; adj[$1] = adj[$1] " " $2 }
	function strong(v,   k, a, w, i) {
		idx[v] = low[v] = ++count; stack[++sp] = v; on[v] = 1
		k = split(adj[v], a, " ")
		for (i = 1; i <= k; i++) {
			w = a[i]
			if (!(w in idx)) { strong(w); if (low[w] < low[v]) low[v] = low[w] }
			else if (on[w] && idx[w] < low[v]) low[v] = idx[w]
		}
		if (low[v] == idx[v]) {
			ncomp++; size = 0
			do { w = stack[sp--]; on[w] = 0; comp[w] = ncomp; size++ } while (w != v)
			csize[ncomp] = size; croot[ncomp] = v
		}
	}
	# a shortest path from s back to s inside its component (breadth-first)
	function loop(s,   q, h, t, k, a, i, u, w, seen, prev, path) {
		h = t = 1; q[1] = s; delete seen; delete prev
		while (h <= t) {
			u = q[h++]; k = split(adj[u], a, " ")
			for (i = 1; i <= k; i++) {
				w = a[i]
				if (comp[w] != comp[s]) continue
				if (w == s) {
					path = s; for (; u != s; u = prev[u]) path = u " -> " path
					return least(s " -> " path)
				}
				if (!(w in seen)) { seen[w] = 1; prev[w] = u; q[++t] = w }
			}
		}
	}
	# the cycle "a -> b -> c -> a" rotated to start at its least module
	function least(cyc,   k, m, i, j, best, r) {
		k = split(cyc, m, " -> ") - 1
		best = 1
		for (i = 2; i <= k; i++) if (m[i] < m[best]) best = i
		r = m[best]
		for (j = 1; j <= k; j++) r = r " -> " m[(best + j - 1) % k + 1]
		return r
	}
	END {
		for (v in n) if (!(v in idx)) strong(v)
		for (v in n) if (csize[comp[v]] > 1) print "  " loop(v)
	}' "$edges" | sort -u)
if [ -n "$cycles" ]; then
	echo "include cycles (module -> module):"
	echo "$cycles"
	status=1
fi
[ "$status" = 0 ] && echo "include graph: $(wc -l <"$edges") edges between modules, no cycle"
exit "$status"
