#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// Helper of tests/image/test_image.sh: turn the OCI runtime config that `umoci unpack` wrote
// for the lmp image into the container that k8s/daemonset.yaml describes, so that runc runs
// lmp the way a kubelet would: the same capabilities (and no others), read-only root
// filesystem, no_new_privs, the host's PID namespace (hostPID), the same hostPath mounts, the
// same environment, the same memory and CPU limits. Kubernetes-only parts are stood in for:
// downward-API values come from --node-name (NODE_IP is left out: outside a cluster there is
// no kubelet), the pod network is a fresh network namespace with loopback only.
//
// Usage: oci_config.mjs CONFIG.json DAEMONSET.yaml [options]
//   --node-name NAME        value of spec.nodeName (default: image-test-node)
//   --caps all|ds|LIST      capabilities: all that the caller has (its bounding set: runc
//                           cannot grant more), the DaemonSet's (default), or a comma list
//                           such as BPF,PERFMON
//   --args JSON             process args, e.g. '["/usr/bin/lmp","version"]'
//                           (default: the image entrypoint + the DaemonSet's args)
//   --env K=V               extra environment (repeatable), after the DaemonSet's
//   --nofile SOFT:HARD      RLIMIT_NOFILE (must not exceed the caller's: runc cannot raise it)
//   --writable-root         leave the root filesystem writable
// CONFIG.json is rewritten in place.
//
// oci_config.mjs capmask LIST  prints the /proc/<pid>/status hex mask of a comma list of
// capability names (e.g. BPF,PERFMON -> 000000c000000000).

import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const tools = process.env.LMP_K8S_TOOLS || join(here, "..", "..", ".output", "k8s-tools");
const YAML = (await import(pathToFileURL(join(tools, "node_modules/yaml/dist/index.js")).href))
	.default;

const ALL_CAPS = [
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
	"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
	"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
];

// ALL_CAPS is in kernel order: the index is the capability number.
const mask = (names) =>
	names.reduce((m, n) => {
		const i = ALL_CAPS.indexOf(n);
		if (i < 0) throw new Error(`unknown capability ${n}`);
		return m | (1n << BigInt(i));
	}, 0n);
if (process.argv[2] === "capmask") {
	console.log(mask(process.argv[3].split(",").filter(Boolean)).toString(16).padStart(16, "0"));
	process.exit(0);
}
const ownBounding = () => {
	const hex = readFileSync("/proc/self/status", "utf8").match(/^CapBnd:\s*([0-9a-f]+)/m)[1];
	const bits = BigInt("0x" + hex);
	return ALL_CAPS.filter((_, i) => bits & (1n << BigInt(i)));
};

const [configPath, dsPath, ...rest] = process.argv.slice(2);
if (!configPath || !dsPath) {
	console.error("usage: oci_config.mjs CONFIG.json DAEMONSET.yaml [options]");
	process.exit(2);
}
const opt = { nodeName: "image-test-node", caps: "ds", args: null, env: [], nofile: null, writableRoot: false };
for (let i = 0; i < rest.length; i++) {
	const a = rest[i];
	if (a === "--node-name") opt.nodeName = rest[++i];
	else if (a === "--caps") opt.caps = rest[++i];
	else if (a === "--args") opt.args = JSON.parse(rest[++i]);
	else if (a === "--env") opt.env.push(rest[++i]);
	else if (a === "--nofile") opt.nofile = rest[++i].split(":").map(Number);
	else if (a === "--writable-root") opt.writableRoot = true;
	else {
		console.error(`oci_config: unknown option ${a}`);
		process.exit(2);
	}
}

const config = JSON.parse(readFileSync(configPath, "utf8"));
const ds = YAML.parseAllDocuments(readFileSync(dsPath, "utf8"))
	.map((d) => d.toJS())
	.find((o) => o && o.kind === "DaemonSet");
const pod = ds.spec.template.spec;
const ctr = pod.containers[0];
const sc = ctr.securityContext || {};

// Capabilities: Kubernetes "drop: [ALL], add: [X]" gives a uid-0 process exactly X in every set.
let caps;
if (opt.caps === "all") caps = ownBounding();
else if (opt.caps === "ds") caps = sc.capabilities.add;
else caps = opt.caps.split(",").filter(Boolean);
const capNames = caps.map((c) => `CAP_${c}`);
config.process.capabilities = {
	bounding: capNames, effective: capNames, permitted: capNames, inheritable: [], ambient: [],
};
config.process.noNewPrivileges = sc.allowPrivilegeEscalation === false;
config.process.terminal = false;
config.process.user = { uid: sc.runAsUser ?? 0, gid: sc.runAsGroup ?? 0 };
config.root.readonly = opt.writableRoot ? false : sc.readOnlyRootFilesystem === true;

// Arguments: the image's entrypoint followed by the container's args, as the kubelet does.
if (opt.args) config.process.args = opt.args;
else config.process.args = [config.process.args[0], ...(ctr.args || [])];

// Environment: image env, then the pod's (downward API resolved), then extras.
const env = new Map(config.process.env.map((e) => [e.split("=")[0], e]));
for (const e of ctr.env || []) {
	if (e.valueFrom) {
		const path = e.valueFrom.fieldRef && e.valueFrom.fieldRef.fieldPath;
		if (path === "spec.nodeName") env.set(e.name, `${e.name}=${opt.nodeName}`);
		// status.hostIP (NODE_IP) is left out: no kubelet to talk to outside a cluster.
		continue;
	}
	env.set(e.name, `${e.name}=${e.value}`);
}
for (const kv of opt.env) env.set(kv.split("=")[0], kv);
config.process.env = [...env.values()];

if (opt.nofile) config.process.rlimits = [{ type: "RLIMIT_NOFILE", soft: opt.nofile[0], hard: opt.nofile[1] }];

// Namespaces: hostPID shares the host's PID namespace; /proc is then mounted from it, which is
// what a hostPID pod sees.
config.linux.namespaces = config.linux.namespaces.filter(
	(n) => !(pod.hostPID && n.type === "pid") && n.type !== "user" && n.type !== "cgroup");

// Mounts: the image's standard ones, minus what a hostPath volume replaces, plus the hostPath
// volumes themselves (bind, read-only where the DaemonSet says so, slave propagation for
// HostToContainer).
const volumes = new Map((pod.volumes || []).map((v) => [v.name, v]));
const hostMounts = (ctr.volumeMounts || []).map((m) => {
	const v = volumes.get(m.name);
	if (!v || !v.hostPath) throw new Error(`volume ${m.name}: only hostPath volumes are supported`);
	const options = ["rbind", "nosuid", "nodev", m.readOnly ? "ro" : "rw"];
	if (m.mountPropagation === "HostToContainer") options.push("rslave");
	else options.push("rprivate");
	return { destination: m.mountPath, type: "bind", source: v.hostPath.path, options };
});
const replaced = new Set(hostMounts.map((m) => m.destination));
config.mounts = config.mounts.filter((m) => !replaced.has(m.destination)).concat(hostMounts);

// Resources: limits become the container cgroup's limits; requests only matter to a scheduler.
const parseMem = (s) => {
	const m = String(s).match(/^(\d+)(Ki|Mi|Gi)?$/);
	return Number(m[1]) * ({ Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2]] || 1);
};
const parseCpu = (s) => (String(s).endsWith("m") ? parseInt(s, 10) / 1000 : Number(s));
const limits = (ctr.resources && ctr.resources.limits) || {};
config.linux.resources = config.linux.resources || {};
if (limits.memory) config.linux.resources.memory = { limit: parseMem(limits.memory) };
if (limits.cpu) config.linux.resources.cpu = { period: 100000, quota: Math.round(parseCpu(limits.cpu) * 100000) };
// seccompProfile Unconfined: no filter (umoci writes none either).
if (sc.seccompProfile && sc.seccompProfile.type === "Unconfined") delete config.linux.seccomp;

writeFileSync(configPath, JSON.stringify(config, null, "\t"));
