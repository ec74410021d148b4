// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "sym/ksyms.h"
#include "expose/out.h"
#include "sym/stacks.h"
#include "sym/usyms.h"

/* no kernel function is this long; beyond it an address belongs to code loaded later */
#define LMP_KSYM_MAX_OFFSET (1ULL << 20)

struct lmp_stacks {
	struct lmp_usyms *usyms;
};

/*
 * One user symbol cache for every probe that prints stacks (profile, memleak): they sample
 * the same binaries, and its bound is then the agent's, not one per probe. The agent runs
 * probes from one thread, so a count of users is all the sharing needs.
 */
static struct lmp_usyms *shared_usyms;
static unsigned int shared_users;

int lmp_stacks_new(struct lmp_stacks **out)
{
	struct lmp_stacks *s = calloc(1, sizeof(*s));
	int err;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	if (!shared_usyms) {
		err = lmp_usyms_new(0, &shared_usyms);
		if (err < 0) {
			free(s);
			return err;
		}
	}
	shared_users++;
	s->usyms = shared_usyms;
	*out = s;
	return 0;
}

void lmp_stacks_free(struct lmp_stacks *s)
{
	if (!s)
		return;
	if (--shared_users == 0) {
		lmp_usyms_free(shared_usyms);
		shared_usyms = NULL;
	}
	free(s);
}

void lmp_stacks_interval(struct lmp_stacks *s)
{
	if (s)
		lmp_usyms_forget_pids(s->usyms);
}

int lmp_stacks_read(int fd, __s32 id, __u64 ips[LMP_STACK_DEPTH])
{
	int n = 0;

	if (id < 0)
		return id;
	if (bpf_map_lookup_elem(fd, &id, ips) < 0)
		return -errno;
	while (n < LMP_STACK_DEPTH && ips[n])
		n++;
	return n;
}

void lmp_stacks_delete(int fd, __s32 id)
{
	if (id >= 0)
		bpf_map_delete_elem(fd, &id);
}

static const char *missing_reason(int n)
{
	switch (n) {
	case -EEXIST:
		return "[lost: stack map collision]";
	case -ENOMEM:
		return "[lost: stack map full]";
	case -EFAULT:
		return NULL; /* no stack of this kind (a kernel thread has no user stack) */
	case -ENOENT:
		return "[lost: stack evicted]";
	default:
		return "[lost: stack unreadable]";
	}
}

static const struct lmp_ksyms *kernel_table(void)
{
	const struct lmp_ksyms *ks = NULL;

	lmp_ksyms_default(&ks); /* on failure frames print as addresses */
	return ks;
}

/*
 * One frame as text. Frames after the first are return addresses: the instruction after a
 * call, which for a call that never returns is already the next function. Looking up ip - 1
 * names the caller correctly; the printed offset stays that of the return address.
 */
static void frame_text(struct lmp_stacks *s, bool kernel, __u32 pid, __u64 ip, bool ret_addr,
		       bool bare, char *buf, size_t len)
{
	__u64 look = ret_addr && ip ? ip - 1 : ip, adj = look != ip;

	if (kernel) {
		const struct lmp_ksym *k;
		__u64 off;

		k = lmp_ksyms_resolve(kernel_table(), look, &off);
		/* far past the nearest symbol: code loaded after kallsyms was read (a module, a
		 * BPF program); an address is honest where that symbol's name would not be */
		if (k && off > LMP_KSYM_MAX_OFFSET)
			k = NULL;
		if (!k)
			snprintf(buf, len, bare ? "[unknown]_[k]" : "0x%llx",
				 (unsigned long long)ip);
		else if (bare)
			snprintf(buf, len, "%s_[k]", k->name);
		else if (k->module)
			snprintf(buf, len, "%s+0x%llx [%s]", k->name,
				 (unsigned long long)(off + adj), k->module);
		else
			snprintf(buf, len, "%s+0x%llx", k->name, (unsigned long long)(off + adj));
	} else {
		struct lmp_usym u;

		if (lmp_usyms_resolve(s->usyms, pid, look, &u) < 0)
			snprintf(buf, len, bare ? "[unknown]" : "0x%llx", (unsigned long long)ip);
		else if (u.name)
			snprintf(buf, len, bare ? "%s" : "%s+0x%llx", u.name,
				 (unsigned long long)(u.offset + adj));
		else
			snprintf(buf, len, bare ? "[%s]" : "[%s+0x%llx]", u.module,
				 (unsigned long long)(u.offset + adj));
	}
	if (!bare)
		return;
	/* ';' separates frames and ' ' the count: neither may appear inside a frame */
	for (char *p = buf; *p; p++)
		if (*p == ';' || *p == ' ')
			*p = '_';
}

/*
 * A kernel stack taken inside a BPF program starts with the machinery that ran it (the
 * program, bpf_trace_run1, the tracepoint's perf glue); which frames those are depends on
 * the attach type and the kernel version, so they are recognised by name, not counted.
 */
static int skip_bpf_frames(bool kernel, const __u64 *ips, int n)
{
	static const char *const prefixes[] = { "bpf_prog_",	 "bpf_trace_run",  "__bpf_trace_",
						"perf_trace_",	 "trace_call_bpf", "__traceiter_",
						"bpf_get_stack", "__bpf_prog_run" };
	const struct lmp_ksyms *ks = kernel ? kernel_table() : NULL;
	int i = 0;

	for (; kernel && i < n - 1; i++) {
		__u64 off;
		const struct lmp_ksym *k = lmp_ksyms_resolve(ks, ips[i], &off);
		bool bpf = false;

		if (!k || off > LMP_KSYM_MAX_OFFSET)
			break;
		if (k->module && strcmp(k->module, "bpf") == 0)
			bpf = true;
		for (size_t p = 0; !bpf && p < sizeof(prefixes) / sizeof(prefixes[0]); p++)
			bpf = strncmp(k->name, prefixes[p], strlen(prefixes[p])) == 0;
		if (!bpf)
			break;
	}
	return i;
}

void lmp_stacks_out(struct lmp_stacks *s, struct lmp_out *o, const char *key, bool kernel,
		    __u32 pid, const __u64 *ips, int n)
{
	int skip = n > 0 ? skip_bpf_frames(kernel, ips, n) : 0;
	char buf[320];

	lmp_out_array_begin(o, key);
	if (n < 0 && missing_reason(n))
		lmp_out_str(o, NULL, missing_reason(n));
	for (int i = skip; i < n; i++) {
		frame_text(s, kernel, pid, ips[i], i > 0, false, buf, sizeof(buf));
		lmp_out_str(o, NULL, buf);
	}
	lmp_out_array_end(o);
}

static size_t append(char *buf, size_t len, size_t used, const char *s)
{
	int r;

	if (used >= len)
		return used;
	r = snprintf(buf + used, len - used, "%s%s", used ? ";" : "", s);
	return r < 0 ? used : used + r;
}

void lmp_stacks_folded(struct lmp_stacks *s, const char *comm, __u32 pid, const __u64 *uips, int un,
		       const __u64 *kips, int kn, char *buf, size_t len)
{
	char frame[320], c[32];
	size_t used = 0;

	if (!len)
		return;
	buf[0] = 0;
	snprintf(c, sizeof(c), "%s", comm && *comm ? comm : "[unknown]");
	for (char *p = c; *p; p++)
		if (*p == ';' || *p == ' ')
			*p = '_';
	used = append(buf, len, used, c);
	if (un < 0 && missing_reason(un))
		used = append(buf, len, used, "[lost]");
	for (int i = un - 1; i >= 0; i--) {
		frame_text(s, false, pid, uips[i], i > 0, true, frame, sizeof(frame));
		used = append(buf, len, used, frame);
	}
	if (kn < 0 && missing_reason(kn))
		used = append(buf, len, used, "[lost]_[k]");
	for (int i = kn - 1, skip = kn > 0 ? skip_bpf_frames(true, kips, kn) : 0; i >= skip; i--) {
		frame_text(s, true, pid, kips[i], i > 0, true, frame, sizeof(frame));
		used = append(buf, len, used, frame);
	}
	if (used >= len && len > 4) /* cut: say so rather than end mid-name silently */
		memcpy(buf + len - 4, "...", 4);
}
