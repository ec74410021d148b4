#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// Helper of tests/e2e/test_packaging.sh: reads rendered manifests and answers questions about
// them, so that the shell test can assert on structure rather than grep text.
//
//   packaging_query.mjs get FILE KIND[/NAME] PATH
//       Print the value at PATH in the (first) object of that kind: strings raw, anything
//       else as JSON. Exit 3 when the object or the path does not exist.
//       PATH: dot-separated keys; "list[key=value]" picks the element of a list whose field
//       key equals value, "list[3]" by index. e.g.
//       spec.template.spec.containers[name=lmp].env[name=LMP_PROBES].value
//       "list[a.b=value]" matches on a nested field; "\." is a literal dot in a key.
//   packaging_query.mjs batch
//       Many "get"s at once: stdin has FILE<TAB>KIND[/NAME]<TAB>PATH lines, stdout one value
//       per line ("<missing>" when absent).
//   packaging_query.mjs kinds FILE
//       Print "Kind/name" of every object, one per line, sorted.
//   packaging_query.mjs compare FILE_A FILE_B
//       Compare what must agree between the plain manifests and the chart: the DaemonSet's
//       pod security settings, mounts, volumes, environment, ports, probes, scheduling; the
//       Service's ports; the ClusterRole's rules. Print each difference; exit 1 if any.
//
// Module resolution: the yaml package from tools/get-helm.sh's directory ($LMP_K8S_TOOLS, or
// .output/k8s-tools).

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isDeepStrictEqual } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const tools = process.env.LMP_K8S_TOOLS || join(here, "..", "..", ".output", "k8s-tools");
const YAML = (await import(pathToFileURL(join(tools, "node_modules/yaml/dist/index.js")).href))
	.default;

function load(file) {
	return YAML.parseAllDocuments(readFileSync(file, "utf8"))
		.map((d) => d.toJS())
		.filter((o) => o && typeof o === "object");
}

function find(objs, sel) {
	const [kind, name] = sel.split("/");
	return objs.find((o) => o.kind === kind && (!name || (o.metadata && o.metadata.name === name)));
}

// Split PATH on the dots that are neither escaped ("\.") nor inside [...].
function split(path) {
	const parts = [];
	let cur = "", depth = 0;
	for (let i = 0; i < path.length; i++) {
		const ch = path[i];
		if (ch === "\\" && path[i + 1] === ".") {
			cur += ".";
			i++;
		} else if (ch === "." && depth === 0) {
			parts.push(cur);
			cur = "";
		} else {
			if (ch === "[") depth++;
			if (ch === "]") depth--;
			cur += ch;
		}
	}
	parts.push(cur);
	return parts.filter(Boolean);
}

function walk(v, path) {
	for (const part of split(path)) {
		const m = part.match(/^([^[]*)((?:\[[^\]]*\])*)$/);
		if (!m) return undefined;
		if (m[1] !== "") {
			if (v === null || typeof v !== "object" || !(m[1] in v)) return undefined;
			v = v[m[1]];
		}
		for (const [, sel] of m[2].matchAll(/\[([^\]]*)\]/g)) {
			if (!Array.isArray(v)) return undefined;
			const eq = sel.indexOf("=");
			if (eq < 0) v = v[Number(sel)];
			else {
				const key = sel.slice(0, eq), want = sel.slice(eq + 1);
				v = v.find((e) => {
					const got = walk(e, key);
					return got !== undefined && String(got) === want;
				});
			}
			if (v === undefined) return undefined;
		}
	}
	return v;
}

const show = (v) => (typeof v === "string" ? v : JSON.stringify(v));
const cache = new Map();
const loadCached = (f) => {
	if (!cache.has(f)) cache.set(f, load(f));
	return cache.get(f);
};

const [cmd, ...args] = process.argv.slice(2);
if (cmd === "get" && args.length === 3) {
	const obj = find(load(args[0]), args[1]);
	const v = obj === undefined ? undefined : walk(obj, args[2]);
	if (v === undefined) {
		console.error(`packaging_query: ${args[1]} ${args[2]}: not found in ${args[0]}`);
		process.exit(3);
	}
	console.log(show(v));
} else if (cmd === "batch" && args.length === 0) {
	// stdin: FILE<TAB>KIND<TAB>PATH per line; stdout: one value per line, newlines escaped,
	// "<missing>" when the object or the path does not exist.
	const lines = readFileSync(0, "utf8").split("\n").filter(Boolean);
	const out = lines.map((l) => {
		const [file, kind, path] = l.split("\t");
		const obj = find(loadCached(file), kind);
		const v = obj === undefined ? undefined : walk(obj, path);
		return v === undefined ? "<missing>" : show(v).replace(/\n/g, "\\n");
	});
	if (out.length) console.log(out.join("\n"));
} else if (cmd === "kinds" && args.length === 1) {
	for (const k of load(args[0])
		.map((o) => `${o.kind}/${o.metadata && o.metadata.name}`)
		.sort())
		console.log(k);
} else if (cmd === "compare" && args.length === 2) {
	const [a, b] = args.map(load);
	const diffs = [];
	const same = (what, x, y) => {
		if (!isDeepStrictEqual(x, y))
			diffs.push(`${what}:\n  ${args[0]}: ${JSON.stringify(x)}\n  ${args[1]}: ${JSON.stringify(y)}`);
	};
	const byName = (list) =>
		Object.fromEntries((list || []).map((e) => [e.name, { ...e, name: undefined }]));
	const ds = (objs) => {
		const d = find(objs, "DaemonSet");
		return d ? d.spec.template.spec : undefined;
	};
	const pa = ds(a), pb = ds(b);
	if (!pa || !pb) {
		console.error("packaging_query: a DaemonSet is missing");
		process.exit(1);
	}
	for (const k of ["hostPID", "hostNetwork", "priorityClassName", "tolerations", "nodeSelector",
		"automountServiceAccountToken", "terminationGracePeriodSeconds"])
		same(`pod ${k}`, pa[k], pb[k]);
	same("volumes", byName(pa.volumes), byName(pb.volumes));
	const ca = pa.containers[0], cb = pb.containers[0];
	for (const k of ["args", "securityContext", "resources", "startupProbe", "livenessProbe",
		"readinessProbe"])
		same(`container ${k}`, ca[k], cb[k]);
	same("container ports", byName(ca.ports), byName(cb.ports));
	same("volumeMounts", byName(ca.volumeMounts), byName(cb.volumeMounts));
	same("env", byName(ca.env), byName(cb.env));
	const svc = (objs) => (find(objs, "Service") || {}).spec;
	same("Service spec", svc(a), svc(b));
	const rules = (objs) => (find(objs, "ClusterRole") || {}).rules;
	same("ClusterRole rules", rules(a), rules(b));
	for (const d of diffs) console.log(d);
	console.log(`compare: ${diffs.length} difference(s)`);
	process.exit(diffs.length ? 1 : 0);
} else {
	console.error("usage: packaging_query.mjs get FILE KIND[/NAME] PATH | kinds FILE | compare A B");
	process.exit(2);
}
