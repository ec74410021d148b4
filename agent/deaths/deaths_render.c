// SPDX-License-Identifier: Apache-2.0
/* A decided container death in plain words and as its JSON record; see deaths_int.h. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lmp/sigsnoop.h"
#include "deaths/deaths_int.h"
#include "expose/out.h"
#include "probe/probe.h"

static void fmt_bytes(char *buf, size_t len, __u64 b)
{
	if (b >= (1ULL << 30))
		snprintf(buf, len, "%.1f GiB", b / (double)(1ULL << 30));
	else if (b >= (1ULL << 20))
		snprintf(buf, len, "%llu MiB", (unsigned long long)(b >> 20));
	else
		snprintf(buf, len, "%llu KiB", (unsigned long long)(b >> 10));
}

static const char *sig_name(__u32 sig, char *buf, size_t len)
{
	const char *n = lmp_signal_name(sig);

	if (n)
		return n;
	snprintf(buf, len, "signal %u", sig);
	return buf;
}

/* "kubelet (pid 12)", "pod default/web container nginx (sh, pid 40)", "the kernel" */
static void fmt_sender(char *buf, size_t len, const struct sig_rec *s)
{
	if (!strcmp(s->role, "kernel"))
		snprintf(buf, len, "the kernel");
	else if (!strcmp(s->role, "itself"))
		snprintf(buf, len, "the process itself");
	else if (!strcmp(s->role, "same_container"))
		snprintf(buf, len, "the container itself (%s, pid %u)", s->sender_comm,
			 s->sender_pid);
	else if (!strcmp(s->role, "pod"))
		snprintf(buf, len, "pod %s/%s (%s, pid %u)", s->ns, s->pod, s->sender_comm,
			 s->sender_pid);
	else if (!strcmp(s->role, "host"))
		snprintf(buf, len, "host process %s (pid %u)", s->sender_comm, s->sender_pid);
	else
		snprintf(buf, len, "%s (pid %u)", s->role, s->sender_pid);
}

void lmp_deaths_summary(char *buf, size_t len, const struct lmp_process_exit *e, bool main_process,
			const struct lmp_death_verdict *v)
{
	char a[400], b[400], n1[24], n2[24];
	size_t k = 0;

#define ADD(...) (k += snprintf(buf + k, k < len ? len - k : 0, __VA_ARGS__))
	buf[0] = '\0';
	if (!strcmp(v->cause, "oom_kill")) {
		const struct lmp_oomkill_event *o = &v->oom->ev;

		/* figures the kernel had at the kill: what user space reads a moment later no
		 * longer holds the victim's memory (the OOM reaper frees it at once) */
		fmt_bytes(b, sizeof(b), o->anon_rss_bytes);
		if (o->scope == LMP_OOM_SCOPE_GLOBAL) {
			ADD("OOM-killed: the node ran out of memory (victim anon %s)", b);
		} else if (o->memcg_found && o->memcg_limit_bytes != ~0ULL) {
			fmt_bytes(a, sizeof(a), o->memcg_limit_bytes);
			fmt_bytes(n2, sizeof(n2), o->memcg_usage_bytes);
			ADD("OOM-killed: %s memory limit %s reached (usage %s, victim anon %s)",
			    o->memcg_up ? "pod" : "container", a, n2, b);
		} else {
			ADD("OOM-killed (victim anon %s)", b);
		}
		ADD("; killed by the kernel");
		if (o->trigger_pid && o->trigger_pid != e->hdr.pid)
			ADD(" while %.16s (pid %u) allocated", o->trigger_comm, o->trigger_pid);
	} else if (!strcmp(v->cause, "kernel_signal")) {
		ADD("%s", sig_name(e->signal, n1, sizeof(n1)));
		if (v->fatal && v->fatal->sender_pid == e->hdr.pid &&
		    v->fatal->via != LMP_SIG_VIA_KERNEL)
			ADD(" raised by the process itself");
		else if (e->signal == SIGSEGV || e->signal == SIGBUS)
			ADD(": crashed on a bad memory access");
		else if (e->signal == SIGFPE)
			ADD(": crashed on an arithmetic fault");
		else if (e->signal == SIGILL)
			ADD(": crashed on an illegal instruction");
		else
			ADD(" from the kernel");
		if (e->core_dumped)
			ADD("; core dumped");
	} else if (!strcmp(v->cause, "signal")) {
		if (!v->fatal) {
			ADD("%s from an unknown sender", sig_name(e->signal, n1, sizeof(n1)));
		} else {
			fmt_sender(a, sizeof(a), v->fatal);
			ADD("%s from %s", sig_name(e->signal, n1, sizeof(n1)), a);
		}
		if (v->fatal && v->first) {
			fmt_sender(b, sizeof(b), v->first);
			ADD(" %.1f s after %s from %s", (v->fatal->ts_ns - v->first->ts_ns) / 1e9,
			    sig_name(v->first->sig, n2, sizeof(n2)), b);
			if (e->signal == SIGKILL)
				ADD(": grace period ran out");
		}
	} else {
		ADD("exited with code %d", e->exit_code);
		if (v->first) {
			fmt_sender(b, sizeof(b), v->first);
			ADD(", %.1f s after %s from %s", (e->hdr.ts_ns - v->first->ts_ns) / 1e9,
			    sig_name(v->first->sig, n2, sizeof(n2)), b);
		}
	}
	if (main_process)
		ADD("; the container's main process: the container stops");
	else
		ADD("; not the container's main process: the container keeps running");
#undef ADD
}

static json_t *sig_json(const struct sig_rec *s, __u64 death_ns)
{
	char n[24];
	json_t *o = json_object(), *snd = json_object();

	json_object_set_new(o, "signal", json_string(sig_name(s->sig, n, sizeof(n))));
	json_object_set_new(o, "before_death_s", json_real((death_ns - s->ts_ns) / 1e9));
	json_object_set_new(snd, "pid", json_integer(s->sender_pid));
	json_object_set_new(snd, "comm", json_string(s->sender_comm));
	json_object_set_new(snd, "role", json_string(s->role));
	if (strcmp(s->role, "kernel")) {
		json_object_set_new(snd, "cgroup_id", json_integer(s->sender_cgroup_id));
		if (*s->cgroup)
			json_object_set_new(snd, "cgroup", json_string(s->cgroup));
		json_object_set_new(snd, "cmdline", json_string(s->cmdline));
		json_object_set_new(snd, "host",
				    json_boolean(!*s->pod && strcmp(s->role, "itself") &&
						 strcmp(s->role, "same_container")));
	}
	if (*s->pod) {
		json_t *k = json_object();

		json_object_set_new(k, "namespace", json_string(s->ns));
		json_object_set_new(k, "pod", json_string(s->pod));
		if (*s->container)
			json_object_set_new(k, "container", json_string(s->container));
		json_object_set_new(snd, "k8s", k);
	}
	json_object_set_new(o, "sender", snd);
	return o;
}

static json_t *oom_json(const struct oom_rec *r)
{
	const struct lmp_oomkill_event *e = &r->ev;
	const struct lmp_oompm *pm = &r->pm;
	static const char *const scopes[] = { "unknown", "global", "memcg" };
	json_t *o = json_object();

	json_object_set_new(o, "scope", json_string(e->scope < 3 ? scopes[e->scope] : "unknown"));
	if (e->memcg_found) {
		json_object_set_new(o, "limit_bytes",
				    e->memcg_limit_bytes == ~0ULL ?
					    json_null() :
					    json_integer(e->memcg_limit_bytes));
		json_object_set_new(o, "usage_bytes", json_integer(e->memcg_usage_bytes));
		if (*r->memcg_path)
			json_object_set_new(o, "memcg_path", json_string(r->memcg_path));
	}
	json_object_set_new(o, "victim_anon_bytes", json_integer(e->anon_rss_bytes));
	json_object_set_new(
		o, "victim_rss_bytes",
		json_integer(e->anon_rss_bytes + e->file_rss_bytes + e->shmem_rss_bytes));
	json_object_set_new(o, "oom_score_adj", json_integer(e->oom_score_adj));
	if (e->trigger_pid != e->hdr.pid) {
		json_t *t = json_object();

		json_object_set_new(t, "pid", json_integer(e->trigger_pid));
		json_object_set_new(t, "comm",
				    json_stringn(e->trigger_comm,
						 strnlen(e->trigger_comm, LMP_COMM_LEN)));
		json_object_set_new(o, "trigger", t);
	}
	json_object_set_new(o, "read_after_ms", json_real(pm->read_after_ns / 1e6));
	if (pm->stat_read) {
		json_t *m = json_object();
#define V(k, f) json_object_set_new(m, k, pm->f.have ? json_integer(pm->f.v) : json_null())
		V("anon_bytes", anon);
		V("file_bytes", file);
		V("kernel_bytes", kernel);
		V("slab_bytes", slab);
		V("shmem_bytes", shmem);
		V("sock_bytes", sock);
#undef V
		json_object_set_new(o, "memory_stat", m);
	}
	return o;
}

json_t *lmp_deaths_record(const struct lmp_process_exit *e, bool main_process,
			  const struct lmp_death_verdict *v, const char *line)
{
	json_t *o = json_object(), *seq = json_array();
	char n[24];

	json_object_set_new(o, "main_process", json_boolean(main_process));
	json_object_set_new(o, "ns_pid", json_integer(e->ns_pid));
	json_object_set_new(o, "exit_code", e->signal ? json_null() : json_integer(e->exit_code));
	json_object_set_new(o, "signal",
			    e->signal ? json_string(sig_name(e->signal, n, sizeof(n))) :
					json_null());
	/* what the runtime reports as the container's exit code (137 for SIGKILL) */
	json_object_set_new(o, "status_code",
			    json_integer(e->signal ? 128 + (int)e->signal : e->exit_code));
	json_object_set_new(o, "core_dumped", json_boolean(e->core_dumped));
	json_object_set_new(o, "lifetime_s", json_real(e->lifetime_ns / 1e9));
	json_object_set_new(o, "cause", json_string(v->cause));
	if (v->fatal && strcmp(v->cause, "oom_kill")) {
		json_t *s = sig_json(v->fatal, e->hdr.ts_ns);

		json_object_set(o, "sender", json_object_get(s, "sender"));
		json_decref(s);
	}
	if (v->fatal && v->first && e->signal == SIGKILL && strcmp(v->cause, "oom_kill"))
		json_object_set_new(o, "grace_period_s",
				    json_real((v->fatal->ts_ns - v->first->ts_ns) / 1e9));
	if (v->first)
		json_array_append_new(seq, sig_json(v->first, e->hdr.ts_ns));
	if (v->fatal)
		json_array_append_new(seq, sig_json(v->fatal, e->hdr.ts_ns));
	json_object_set_new(o, "signals", seq);
	if (v->oom)
		json_object_set_new(o, "oom", oom_json(v->oom));
	json_object_set_new(o, "summary", json_string(line));
	return o;
}

void lmp_deaths_out_json(struct lmp_out *out, const char *key, json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		lmp_out_object_begin(out, key);
		json_object_foreach(v, k, x)
			lmp_deaths_out_json(out, k, x);
		lmp_out_object_end(out);
		break;
	case JSON_ARRAY:
		lmp_out_array_begin(out, key);
		json_array_foreach(v, i, x)
			lmp_deaths_out_json(out, NULL, x);
		lmp_out_array_end(out);
		break;
	case JSON_STRING:
		lmp_out_str(out, key, json_string_value(v));
		break;
	case JSON_INTEGER:
		lmp_out_s64(out, key, json_integer_value(v));
		break;
	case JSON_REAL:
		lmp_out_double(out, key, json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		lmp_out_bool(out, key, json_is_true(v));
		break;
	case JSON_NULL:
		lmp_out_null(out, key);
		break;
	}
}
