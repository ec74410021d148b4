#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// Validate Kubernetes manifests against the Kubernetes API schema, offline.
//
// `kubectl apply --dry-run=client` still asks an API server for the OpenAPI document; these
// machines have none. kubernetes-models ships validators generated from the Kubernetes OpenAPI
// schema (types, required fields, enums, formats), and @kubernetes-models/prometheus-operator
// the same for ServiceMonitor. Those validators do not reject unknown fields, which the API
// server does (strict field validation), and a typo such as "readOnlyRootFilesytem" would be
// silently dropped: so every object is handed to the validator through a Proxy that records
// which properties the schema asked for, and any property it never asked for is reported as
// unknown (maps such as labels, which the validator enumerates, are exempt).
//
// Usage: node tools/k8s-validate.mjs [--tools DIR] FILE... ("-" = stdin)
//   DIR holds node_modules from tools/get-helm.sh (default: .output/k8s-tools, or
//   $LMP_K8S_TOOLS). Exit status 0 when every object is valid, 1 otherwise, 2 on bad usage.

import { readFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
let toolsDir = process.env.LMP_K8S_TOOLS || join(here, "..", ".output", "k8s-tools");
const files = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
	if (argv[i] === "--tools" && i + 1 < argv.length) toolsDir = argv[++i];
	else if (argv[i] === "-h" || argv[i] === "--help") {
		console.log("usage: k8s-validate.mjs [--tools DIR] FILE... (- for stdin)");
		process.exit(0);
	} else files.push(argv[i]);
}
if (files.length === 0) {
	console.error("k8s-validate: no input files (usage: k8s-validate.mjs [--tools DIR] FILE...)");
	process.exit(2);
}
const modules = resolve(toolsDir, "node_modules");
if (!existsSync(join(modules, "kubernetes-models"))) {
	console.error(`k8s-validate: ${modules}/kubernetes-models missing: run tools/get-helm.sh first`);
	process.exit(2);
}

const load = (rel) => import(pathToFileURL(join(modules, rel)).href);
const YAML = (await load("yaml/dist/index.js")).default;
const { runValidateFunc } = await load("@kubernetes-models/validate/dist/index.js");

// apiVersion + kind -> the generated validator of that schema.
async function validatorFor(apiVersion, kind) {
	let modelFile;
	if (apiVersion.startsWith("monitoring.coreos.com/"))
		modelFile = join("@kubernetes-models/prometheus-operator", apiVersion, `${kind}.js`);
	else modelFile = join("kubernetes-models", apiVersion, `${kind}.js`);
	const abs = join(modules, modelFile);
	if (!existsSync(abs)) return null;
	// The model module imports its validator from ../../_schemas/<Name>.js; take the same one.
	const src = readFileSync(abs, "utf8");
	const m = src.match(/from\s*"((?:\.\.\/)+_schemas\/[A-Za-z0-9_.]+\.js)"/);
	if (!m) return null;
	const mod = await import(pathToFileURL(resolve(dirname(abs), m[1])).href);
	return mod.validate;
}

// Wrap a value so that every property the validator reads is recorded per object.
function tracker() {
	const seen = new WeakMap(); // target -> {keys: Set, enumerated: bool}
	const proxies = new WeakMap();
	const note = (t) => {
		let s = seen.get(t);
		if (!s) seen.set(t, (s = { keys: new Set(), enumerated: false }));
		return s;
	};
	const wrap = (v) => {
		if (v === null || typeof v !== "object") return v;
		if (proxies.has(v)) return proxies.get(v);
		const p = new Proxy(v, {
			get(t, k, r) {
				if (typeof k === "string") note(t).keys.add(k);
				return wrap(Reflect.get(t, k, r));
			},
			has(t, k) {
				if (typeof k === "string") note(t).keys.add(k);
				return Reflect.has(t, k);
			},
			getOwnPropertyDescriptor(t, k) {
				if (typeof k === "string") note(t).keys.add(k);
				return Reflect.getOwnPropertyDescriptor(t, k);
			},
			ownKeys(t) {
				note(t).enumerated = true;
				return Reflect.ownKeys(t);
			},
		});
		proxies.set(v, p);
		return p;
	};
	// Properties of objects the validator looked into but never asked about.
	const unknown = (v, path, out) => {
		if (v === null || typeof v !== "object") return out;
		if (Array.isArray(v)) {
			v.forEach((e, i) => unknown(e, `${path}/${i}`, out));
			return out;
		}
		const s = seen.get(v);
		for (const k of Object.keys(v)) {
			if (s && !s.enumerated && !s.keys.has(k)) out.push(`${path}/${k}`);
			else unknown(v[k], `${path}/${k}`, out);
		}
		return out;
	};
	return { wrap, unknown };
}

let objects = 0;
let failures = 0;
for (const file of files) {
	const text = file === "-" ? readFileSync(0, "utf8") : readFileSync(file, "utf8");
	let docs;
	try {
		docs = YAML.parseAllDocuments(text);
	} catch (e) {
		console.error(`${file}: not YAML: ${e.message}`);
		failures++;
		continue;
	}
	for (const doc of docs) {
		if (doc.errors.length) {
			console.error(`${file}: YAML error: ${doc.errors[0].message}`);
			failures++;
			continue;
		}
		const obj = doc.toJS();
		if (obj === null || obj === undefined) continue;
		// kustomize's own file is not an API object.
		if (obj.apiVersion && obj.apiVersion.startsWith("kustomize.config.k8s.io/")) continue;
		const what = `${file}: ${obj.kind || "?"}/${(obj.metadata && obj.metadata.name) || "?"}`;
		objects++;
		if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
			console.error(`${what}: apiVersion and kind are required`);
			failures++;
			continue;
		}
		const validate = await validatorFor(obj.apiVersion, obj.kind);
		if (!validate) {
			console.error(`${what}: no schema for ${obj.apiVersion} ${obj.kind}`);
			failures++;
			continue;
		}
		const t = tracker();
		try {
			runValidateFunc(validate, t.wrap(obj));
		} catch (e) {
			console.error(`${what}: ${e.message}`);
			failures++;
			continue;
		}
		const extra = t.unknown(obj, "", []);
		if (extra.length) {
			console.error(`${what}: unknown field(s): ${extra.map((p) => "data" + p).join(", ")}`);
			failures++;
		}
	}
}
console.log(`k8s-validate: ${objects} object(s), ${failures} invalid`);
process.exit(failures ? 1 : 0);
