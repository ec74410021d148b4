// SPDX-License-Identifier: Apache-2.0
/*
 * cgroup path -> (pod UID, container ID, runtime, QoS).
 *
 * The kubelet names a pod's cgroup after the pod UID, in one of two spellings:
 *   systemd driver:  .../kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid_>.slice/
 *                    (Guaranteed: kubepods-pod<uid_>.slice, "-" in the UID written "_")
 *   cgroupfs driver: .../kubepods/<qos>/pod<uid>/ (Guaranteed: directly under kubepods)
 * and the runtime names the container's cgroup below it: docker-<id>.scope,
 * cri-containerd-<id>.scope, crio-<id>.scope, a bare <id>, or (containerd with the systemd
 * driver on cgroup v1) the pod segment itself carries it as "...slice:cri-containerd:<id>".
 *
 * The pod segment is searched from the leaf upwards, so that on a nested node (kind,
 * minikube, docker-in-docker) the innermost pod wins and the outer node container, which
 * also looks like a container, is never taken for the pod's. Outside a pod only the leaf
 * (or the leaf's parent when the leaf is crun's "container" sub-cgroup) may name a
 * container: a service cgroup inside a node container is not that container.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "k8s/podpath.h"

#define MAX_SEGS 128

struct seg {
	const char *s;
	size_t n;
};

static bool seg_is(const struct seg *g, const char *lit)
{
	size_t n = strlen(lit);

	return g->n == n && memcmp(g->s, lit, n) == 0;
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return n > 0;
}

static bool is_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

/* 8-4-4-4-12 hex with sep ('-' or the systemd '_') between groups */
static bool is_uuid(const char *s, size_t n, char sep)
{
	static const size_t dash[] = { 8, 13, 18, 23 };

	if (n != 36)
		return false;
	for (size_t i = 0, d = 0; i < n; i++) {
		if (d < 4 && i == dash[d]) {
			if (s[i] != sep)
				return false;
			d++;
		} else if (!is_hex(s + i, 1)) {
			return false;
		}
	}
	return true;
}

/* A pod UID as the kubelet prints it: dashed UUID, or a static pod's 32-hex config hash. */
static bool take_uid(const char *s, size_t n, char sep, struct lmp_podpath *out)
{
	if (!(is_uuid(s, n, sep) || (n == 32 && is_hex(s, n))))
		return false;
	memcpy(out->pod_uid, s, n);
	out->pod_uid[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (out->pod_uid[i] == '_')
			out->pod_uid[i] = '-';
	return true;
}

static void take_id(struct lmp_podpath *out, const char *s, size_t n)
{
	if (n >= sizeof(out->container_id))
		return;
	memcpy(out->container_id, s, n);
	out->container_id[n] = '\0';
}

static const struct {
	const char *name; /* as in "<name>-<id>.scope" and "slice:<name>:<id>" */
	enum lmp_runtime rt;
} prefixes[] = {
	/* crio-conmon before crio: the longer prefix must win */
	{ "crio-conmon", LMP_RUNTIME_CRIO_CONMON },   { "crio", LMP_RUNTIME_CRIO },
	{ "cri-containerd", LMP_RUNTIME_CONTAINERD }, { "docker", LMP_RUNTIME_DOCKER },
	{ "libpod-conmon", LMP_RUNTIME_NONE },	      { "libpod", LMP_RUNTIME_PODMAN },
};

/* A runtime-prefixed ID: only a full 64-hex ID is a container; conmon is a monitor. */
static enum lmp_runtime prefixed(enum lmp_runtime rt, const char *id, size_t n,
				 struct lmp_podpath *out)
{
	if (n != 64 || !is_hex(id, n) || rt == LMP_RUNTIME_NONE)
		return LMP_RUNTIME_NONE;
	if (rt != LMP_RUNTIME_CRIO_CONMON)
		take_id(out, id, n);
	return rt;
}

/*
 * Does this one segment name a container? A bare ID is accepted as 64 hex, and inside a pod
 * also as a UUID (some runtimes use those). Unit suffixes other than .scope (.mount,
 * .service) never name a container, even when an ID is embedded in them.
 */
static enum lmp_runtime classify(const struct seg *g, bool in_pod, struct lmp_podpath *out)
{
	const char *s = g->s;
	size_t n = g->n;
	bool scope = n > 6 && memcmp(s + n - 6, ".scope", 6) == 0;

	if (scope)
		n -= 6;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t pl = strlen(prefixes[i].name);

		if (n > pl + 1 && memcmp(s, prefixes[i].name, pl) == 0 && s[pl] == '-')
			return prefixed(prefixes[i].rt, s + pl + 1, n - pl - 1, out);
	}
	if (scope)
		return LMP_RUNTIME_NONE;
	if ((n == 64 && is_hex(s, n)) || (in_pod && is_uuid(s, n, '-'))) {
		take_id(out, s, n);
		return LMP_RUNTIME_UNKNOWN;
	}
	return LMP_RUNTIME_NONE;
}

/* "slice:<runtime>:<id>" tail of a containerd/cgroup-v1 systemd-driver pod segment */
static enum lmp_runtime colon_form(const char *s, size_t n, struct lmp_podpath *out)
{
	const char *c = memchr(s, ':', n);

	if (!c)
		return LMP_RUNTIME_NONE;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t pl = strlen(prefixes[i].name);

		if ((size_t)(c - s) == pl && memcmp(s, prefixes[i].name, pl) == 0)
			return prefixed(prefixes[i].rt, c + 1, n - pl - 1, out);
	}
	return LMP_RUNTIME_NONE;
}

/*
 * systemd driver: [<prefix>-]kubepods[-burstable|-besteffort]-pod<uid_>.slice[:rt:id]
 * (the kind systemd node prefixes "kubelet-"). Returns true for a pod segment.
 */
static bool systemd_pod(const struct seg *g, struct lmp_podpath *out, enum lmp_runtime *rt)
{
	const char *s = g->s, *end = g->s + g->n, *p, *u, *dot;

	for (p = s; (p = memmem(p, end - p, "kubepods", 8)); p++)
		if (p == s || p[-1] == '-')
			break;
	if (!p)
		return false;
	p += 8;
	out->qos = LMP_QOS_GUARANTEED;
	if (end - p > 10 && !memcmp(p, "-burstable", 10)) {
		out->qos = LMP_QOS_BURSTABLE;
		p += 10;
	} else if (end - p > 11 && !memcmp(p, "-besteffort", 11)) {
		out->qos = LMP_QOS_BESTEFFORT;
		p += 11;
	}
	if (end - p < 4 || memcmp(p, "-pod", 4))
		return false;
	u = p + 4;
	dot = memmem(u, end - u, ".slice", 6);
	if (!dot || !(dot + 6 == end || dot[6] == ':'))
		return false;
	if (!take_uid(u, dot - u, '_', out))
		return false;
	if (dot + 6 < end)
		*rt = colon_form(dot + 7, end - dot - 7, out);
	return true;
}

/* cgroupfs driver: pod<uid> under kubepods or kubepods/{burstable,besteffort} */
static bool cgroupfs_pod(const struct seg *g, int i, struct lmp_podpath *out)
{
	enum lmp_qos qos = LMP_QOS_GUARANTEED;
	int parent = i - 1;

	if (g[i].n < 4 || memcmp(g[i].s, "pod", 3) || parent < 0)
		return false;
	if (seg_is(&g[parent], "burstable") || seg_is(&g[parent], "besteffort")) {
		qos = seg_is(&g[parent], "burstable") ? LMP_QOS_BURSTABLE : LMP_QOS_BESTEFFORT;
		parent--;
	}
	if (parent < 0 || !seg_is(&g[parent], "kubepods"))
		return false;
	if (!take_uid(g[i].s + 3, g[i].n - 3, '-', out))
		return false;
	out->qos = qos;
	return true;
}

static int split(const char *path, struct seg *g)
{
	int n = 0;

	for (const char *p = path; *p;) {
		const char *e = strchrnul(p, '/');
		struct seg s = { p, (size_t)(e - p) };

		p = *e ? e + 1 : e;
		if (s.n == 0 || seg_is(&s, ".") || seg_is(&s, ".."))
			continue;
		if (n == MAX_SEGS) { /* absurdly deep: the leaf end is what matters */
			memmove(g, g + 1, (MAX_SEGS - 1) * sizeof(*g));
			n--;
		}
		g[n++] = s;
	}
	/* a control file (pixie and others record ".../cgroup.procs") is not a cgroup */
	if (n > 0 && g[n - 1].n > 7 && !memcmp(g[n - 1].s, "cgroup.", 7))
		n--;
	return n;
}

static void outside_pod(const struct seg *g, int n, struct lmp_podpath *out)
{
	const struct seg *leaf = &g[n - 1];

	if (seg_is(leaf, "container") && n >= 2) {
		/* crun/podman put the payload in a "container" child of the scope */
		out->runtime = classify(&g[n - 2], false, out);
		if (out->runtime == LMP_RUNTIME_UNKNOWN) { /* only a runtime scope has that child */
			out->runtime = LMP_RUNTIME_NONE;
			out->container_id[0] = '\0';
		}
		return;
	}
	/* AWS ECS: /ecs/<task 32 hex>/<task>-<n> */
	if (n >= 3 && seg_is(&g[n - 3], "ecs") && g[n - 2].n == 32 && is_hex(g[n - 2].s, 32) &&
	    leaf->n > 33 && !memcmp(leaf->s, g[n - 2].s, 32) && leaf->s[32] == '-' &&
	    is_digits(leaf->s + 33, leaf->n - 33)) {
		take_id(out, leaf->s, leaf->n);
		out->runtime = LMP_RUNTIME_ECS;
		return;
	}
	out->runtime = classify(leaf, false, out);
	if (out->runtime == LMP_RUNTIME_UNKNOWN && n >= 2 && seg_is(&g[n - 2], "docker"))
		out->runtime = LMP_RUNTIME_DOCKER; /* docker's cgroupfs driver: /docker/<id> */
}

void lmp_podpath_parse(const char *path, struct lmp_podpath *out)
{
	struct seg g[MAX_SEGS];
	int n;

	memset(out, 0, sizeof(*out));
	if (!path)
		return;
	n = split(path, g);
	for (int i = n - 1; i >= 0; i--) {
		enum lmp_runtime rt = LMP_RUNTIME_NONE;

		if (systemd_pod(&g[i], out, &rt) || cgroupfs_pod(g, i, out)) {
			if (rt == LMP_RUNTIME_NONE && i + 1 < n)
				rt = classify(&g[i + 1], true, out);
			out->runtime = rt;
			return;
		}
		/* a failed systemd match may have left a QoS or a half-copied UID behind */
		memset(out, 0, sizeof(*out));
	}
	if (n > 0)
		outside_pod(g, n, out);
}

static int line_rank(const char *ctrl, size_t cn, const struct lmp_podpath *pp)
{
	bool v2 = cn == 0, systemd = cn == 12 && !memcmp(ctrl, "name=systemd", 12);

	if (pp->pod_uid[0])
		return v2 ? 6 : systemd ? 5 : 4;
	if (pp->container_id[0])
		return v2 ? 3 : systemd ? 2 : 1;
	return 0;
}

int lmp_podpath_from_proc_cgroup(const char *text, struct lmp_podpath *out, char *path,
				 size_t pathlen)
{
	int best = 0;

	memset(out, 0, sizeof(*out));
	if (path && pathlen)
		path[0] = '\0';
	for (const char *l = text; l && *l;) {
		const char *eol = strchrnul(l, '\n'), *c1, *c2;
		char buf[4096];
		struct lmp_podpath pp;
		size_t n;
		int rank;

		while (l < eol && (*l == ' ' || *l == '\t'))
			l++;
		/* hierarchy-ID:controllers:path; the path itself may hold colons */
		c1 = memchr(l, ':', eol - l);
		c2 = c1 ? memchr(c1 + 1, ':', eol - c1 - 1) : NULL;
		n = c2 ? (size_t)(eol - c2 - 1) : 0;
		while (n && (c2[n] == '\r' || c2[n] == ' ' || c2[n] == '\t'))
			n--;
		if (c2 && n < sizeof(buf)) {
			memcpy(buf, c2 + 1, n);
			buf[n] = '\0';
			lmp_podpath_parse(buf, &pp);
			rank = line_rank(c1 + 1, c2 - c1 - 1, &pp);
			if (rank > best) {
				best = rank;
				*out = pp;
				if (path && pathlen > n)
					memcpy(path, buf, n + 1);
			}
		}
		l = *eol ? eol + 1 : eol;
	}
	return best ? 0 : -ENOENT;
}

int lmp_podpath_bare_id(const char *field, char *out, size_t outlen)
{
	const char *id = field, *sep;
	size_t n;

	if (!field)
		return -EINVAL;
	sep = strstr(field, "://");
	if (sep) {
		if (sep == field)
			return -EINVAL;
		for (const char *p = field; p < sep; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
			      *p == '.' || *p == '+'))
				return -EINVAL;
		id = sep + 3;
	}
	n = strlen(id);
	/* runtimes print 64 hex; shorter hex IDs exist (16 and up), UUIDs after a scheme */
	if (!((n >= 16 && n <= 64 && is_hex(id, n)) || (sep && is_uuid(id, n, '-'))))
		return -EINVAL;
	if (n >= outlen)
		return -ENOSPC;
	memcpy(out, id, n + 1);
	return 0;
}

const char *lmp_runtime_name(enum lmp_runtime r)
{
	static const char *const names[] = {
		[LMP_RUNTIME_NONE] = "none",	 [LMP_RUNTIME_UNKNOWN] = "unknown",
		[LMP_RUNTIME_DOCKER] = "docker", [LMP_RUNTIME_CONTAINERD] = "containerd",
		[LMP_RUNTIME_CRIO] = "cri-o",	 [LMP_RUNTIME_CRIO_CONMON] = "cri-o-conmon",
		[LMP_RUNTIME_PODMAN] = "podman", [LMP_RUNTIME_ECS] = "ecs",
	};

	return (unsigned)r < _LMP_RUNTIME_MAX ? names[r] : "none";
}

const char *lmp_qos_name(enum lmp_qos q)
{
	static const char *const names[] = {
		[LMP_QOS_NONE] = "",
		[LMP_QOS_GUARANTEED] = "Guaranteed",
		[LMP_QOS_BURSTABLE] = "Burstable",
		[LMP_QOS_BESTEFFORT] = "BestEffort",
	};

	return (unsigned)q < _LMP_QOS_MAX ? names[q] : "";
}

enum lmp_qos lmp_qos_parse(const char *s)
{
	for (int q = LMP_QOS_GUARANTEED; s && q < _LMP_QOS_MAX; q++)
		if (!strcmp(s, lmp_qos_name(q)))
			return q;
	return LMP_QOS_NONE;
}
