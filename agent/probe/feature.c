// SPDX-License-Identifier: Apache-2.0
/*
 * Kernel feature detection. Each check asks the kernel the real question (load a one-
 * instruction program of that kind, open the PMU, look the tracepoint up) rather than
 * guessing from a version or a symbol: on some kernels vfs_read is in kallsyms while
 * kprobes are compiled out, and fentry programs exist in BTF but their load is refused.
 * Answers are cached per (kind, target): detection runs once per agent start.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "probe/feature.h"
#include "base/log.h"

#define CACHE_MAX 128 /* distinct (kind, target) pairs; the registry uses well under 100 */

struct answer {
	enum lmp_hook_kind kind;
	char *target;
	bool ok;
	char *why;
};

static struct {
	bool inited;
	struct btf *btf; /* NULL after lmp_feature_release_btf(): reloaded on demand */
	char *btf_path;
	char btf_err[128];
	const char *tracefs;
	char tracefs_err[160];
	struct answer cache[CACHE_MAX];
	size_t n_cache;
} F;

static const char *const kind_names[] = {
	[LMP_HOOK_FENTRY] = "fentry",	      [LMP_HOOK_FEXIT] = "fexit",
	[LMP_HOOK_TP_BTF] = "tp_btf",	      [LMP_HOOK_RAW_TP] = "raw_tp",
	[LMP_HOOK_TRACEPOINT] = "tracepoint", [LMP_HOOK_KPROBE] = "kprobe",
	[LMP_HOOK_KRETPROBE] = "kretprobe",   [LMP_HOOK_UPROBE] = "uprobe",
	[LMP_HOOK_PERF_SW] = "perf_sw",	      [LMP_HOOK_PERF_HW] = "perf_hw",
};

const char *lmp_hook_kind_name(enum lmp_hook_kind kind)
{
	return kind < _LMP_HOOK_KIND_MAX ? kind_names[kind] : "?";
}

static bool dir_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void init_tracefs(void)
{
	if (dir_exists("/sys/kernel/tracing/events")) {
		F.tracefs = "/sys/kernel/tracing";
		return;
	}
	if (dir_exists("/sys/kernel/debug/tracing/events")) {
		F.tracefs = "/sys/kernel/debug/tracing";
		return;
	}
	/* tp_btf and raw_tp attach without tracefs; classic tracepoints need it for ids */
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0) {
		lmp_log(LMP_LOG_INFO, "mounted tracefs at /sys/kernel/tracing");
		F.tracefs = "/sys/kernel/tracing";
		return;
	}
	snprintf(F.tracefs_err, sizeof(F.tracefs_err),
		 "tracefs is not mounted and mounting it at /sys/kernel/tracing failed: %s",
		 strerror(errno));
	lmp_log(LMP_LOG_WARN, "%s; tracepoint hooks are unavailable", F.tracefs_err);
}

static struct btf *kernel_btf(void)
{
	bool custom = F.btf_path && *F.btf_path;
	int err;

	if (F.btf || F.btf_err[0])
		return F.btf;
	F.btf = custom ? btf__parse(F.btf_path, NULL) : btf__load_vmlinux_btf();
	err = libbpf_get_error(F.btf);
	if (err) {
		char why[64];

		F.btf = NULL;
		libbpf_strerror(err, why, sizeof(why)); /* libbpf's own codes: "not an ELF"... */
		snprintf(F.btf_err, sizeof(F.btf_err), "no kernel BTF (%s: %s)",
			 custom ? F.btf_path : "/sys/kernel/btf/vmlinux", why);
		lmp_log(LMP_LOG_WARN, "%s; BTF-based hooks are unavailable", F.btf_err);
	}
	return F.btf;
}

int lmp_feature_init(const char *btf_path)
{
	if (F.inited)
		return 0;
	F.inited = true;
	init_tracefs();
	F.btf_path = btf_path ? strdup(btf_path) : NULL;
	kernel_btf();
	return 0;
}

const struct btf *lmp_feature_btf(void)
{
	return kernel_btf();
}

void lmp_feature_release_btf(void)
{
	btf__free(F.btf);
	F.btf = NULL;
}

void lmp_feature_fini(void)
{
	btf__free(F.btf);
	free(F.btf_path);
	for (size_t i = 0; i < F.n_cache; i++) {
		free(F.cache[i].target);
		free(F.cache[i].why);
	}
	memset(&F, 0, sizeof(F));
}

const char *lmp_feature_tracefs(void)
{
	return F.tracefs;
}

/* a program that only returns 0: enough for the verifier and the attach checks */
static int load_trivial(enum bpf_prog_type type, enum bpf_attach_type attach, __u32 btf_id)
{
	const struct bpf_insn insns[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = 0 }, /* r0 = 0 */
		{ .code = 0x95 },			  /* exit */
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach,
		    .attach_btf_id = btf_id);
	int fd = bpf_prog_load(type, NULL, "GPL", insns, 2, &opts);

	return fd < 0 ? -errno : fd;
}

static bool check_btf_prog(enum lmp_hook_kind kind, const char *target, char *why, size_t len)
{
	bool fentry = kind == LMP_HOOK_FENTRY || kind == LMP_HOOK_FEXIT;
	char name[160];
	int id, fd;

	if (!kernel_btf()) {
		snprintf(why, len, "%s", F.btf_err);
		return false;
	}
	snprintf(name, sizeof(name), "%s%s", fentry ? "" : "btf_trace_", target);
	id = btf__find_by_name_kind(F.btf, name, fentry ? BTF_KIND_FUNC : BTF_KIND_TYPEDEF);
	if (id < 0) {
		snprintf(why, len, "%s %s not in kernel BTF", fentry ? "function" : "tracepoint",
			 target);
		return false;
	}
	fd = load_trivial(BPF_PROG_TYPE_TRACING,
			  kind == LMP_HOOK_FENTRY ? BPF_TRACE_FENTRY :
			  kind == LMP_HOOK_FEXIT  ? BPF_TRACE_FEXIT :
						    BPF_TRACE_RAW_TP,
			  id);
	if (fd < 0) {
		snprintf(why, len, "%s program load refused by the kernel (%s)",
			 lmp_hook_kind_name(kind), strerror(-fd));
		return false;
	}
	close(fd);
	return true;
}

static bool check_raw_tp(const char *target, char *why, size_t len)
{
	int fd = load_trivial(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0), link;

	if (fd < 0) {
		snprintf(why, len, "raw_tracepoint program load refused (%s)", strerror(-fd));
		return false;
	}
	link = bpf_raw_tracepoint_open(target, fd);
	if (link < 0) {
		snprintf(why, len, "raw tracepoint %s: %s", target, strerror(errno));
		close(fd);
		return false;
	}
	close(link);
	close(fd);
	return true;
}

static bool check_tracepoint(const char *target, char *why, size_t len)
{
	char path[512];

	if (!F.tracefs) {
		snprintf(why, len, "%s", F.tracefs_err);
		return false;
	}
	snprintf(path, sizeof(path), "%s/events/%s/id", F.tracefs, target);
	if (access(path, R_OK) != 0) {
		snprintf(why, len, "tracepoint %s does not exist on this kernel", target);
		return false;
	}
	return true;
}

static bool ksym_exists(const char *sym)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512], name[256];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*s %*s %255s", name) == 1 && strcmp(name, sym) == 0;
	fclose(f);
	return found;
}

static bool check_kprobe(const char *target, char *why, size_t len)
{
	char path[512];

	/* the mechanism first: the symbol alone proves nothing when CONFIG_KPROBES is off */
	snprintf(path, sizeof(path), "%s/kprobe_events", F.tracefs ? F.tracefs : "/nonexistent");
	if (access("/sys/bus/event_source/devices/kprobe/type", R_OK) != 0 &&
	    access(path, F_OK) != 0) {
		snprintf(why, len,
			 "kprobes are not available (no kprobe PMU, no kprobe_events: "
			 "CONFIG_KPROBES is off)");
		return false;
	}
	if (target && !ksym_exists(target)) {
		snprintf(why, len, "kernel function %s not found", target);
		return false;
	}
	return true;
}

static bool check_uprobe(const char *target, char *why, size_t len)
{
	if (access("/sys/bus/event_source/devices/uprobe/type", R_OK) != 0) {
		snprintf(why, len,
			 "uprobes are not available (no uprobe PMU: CONFIG_UPROBES is off)");
		return false;
	}
	if (target && *target && access(target, R_OK) != 0) {
		snprintf(why, len, "%s: %s", target, strerror(errno));
		return false;
	}
	return true;
}

static bool check_perf(bool hw, char *why, size_t len)
{
	struct perf_event_attr attr = { .size = sizeof(attr), .disabled = 1 };
	int fd;

	if (hw) {
		attr.type = PERF_TYPE_HW_CACHE;
		attr.config = PERF_COUNT_HW_CACHE_LL | (PERF_COUNT_HW_CACHE_OP_READ << 8) |
			      (PERF_COUNT_HW_CACHE_RESULT_MISS << 16);
	} else {
		attr.type = PERF_TYPE_SOFTWARE;
		attr.config = PERF_COUNT_SW_CPU_CLOCK;
	}
	fd = syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		if (hw)
			snprintf(why, len, "no hardware cache counters (perf_event_open: %s)",
				 strerror(errno));
		else
			snprintf(why, len, "software perf events unavailable (%s)",
				 strerror(errno));
		return false;
	}
	close(fd);
	return true;
}

bool lmp_feature_hook(void *ctx, enum lmp_hook_kind kind, const char *target, const char **why)
{
	struct answer *a;
	char buf[256] = "";
	bool ok = false;

	for (size_t i = 0; i < F.n_cache; i++) {
		a = &F.cache[i];
		if (a->kind == kind && !strcmp(a->target, target ? target : "")) {
			*why = a->why;
			return a->ok;
		}
	}
	switch (kind) {
	case LMP_HOOK_FENTRY:
	case LMP_HOOK_FEXIT:
	case LMP_HOOK_TP_BTF:
		ok = check_btf_prog(kind, target, buf, sizeof(buf));
		break;
	case LMP_HOOK_RAW_TP:
		ok = check_raw_tp(target, buf, sizeof(buf));
		break;
	case LMP_HOOK_TRACEPOINT:
		ok = check_tracepoint(target, buf, sizeof(buf));
		break;
	case LMP_HOOK_KPROBE:
	case LMP_HOOK_KRETPROBE:
		ok = check_kprobe(target, buf, sizeof(buf));
		break;
	case LMP_HOOK_UPROBE:
		ok = check_uprobe(target, buf, sizeof(buf));
		break;
	case LMP_HOOK_PERF_SW:
	case LMP_HOOK_PERF_HW:
		ok = check_perf(kind == LMP_HOOK_PERF_HW, buf, sizeof(buf));
		break;
	default:
		snprintf(buf, sizeof(buf), "unknown hook kind %d", kind);
	}
	if (F.n_cache < CACHE_MAX) {
		a = &F.cache[F.n_cache++];
		a->kind = kind;
		a->target = strdup(target ? target : "");
		a->ok = ok;
		a->why = strdup(buf);
		if (!a->target || !a->why) { /* out of memory: answer, but do not cache */
			free(a->target);
			free(a->why);
			F.n_cache--;
			*why = "out of memory";
			return ok;
		}
		*why = a->why;
		return ok;
	}
	*why = "feature cache full";
	return ok;
}

int lmp_feature_tp_nargs(const char *tp)
{
	const struct btf_type *t;
	char name[160];
	int id;

	if (!kernel_btf())
		return -ENODATA;
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(F.btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -ENOENT;
	/* typedef void (*btf_trace_x)(void *__data, args...) */
	t = btf__type_by_id(F.btf, btf__resolve_type(F.btf, id));
	if (!t || !btf_is_ptr(t))
		return -EINVAL;
	t = btf__type_by_id(F.btf, t->type);
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 1)
		return -EINVAL;
	return btf_vlen(t) - 1;
}

bool lmp_feature_check(void *ctx, const struct lmp_hook *h, const char **why)
{
	static char buf[192]; /* the reason is read before the next check */
	int n;

	if (!lmp_feature_hook(ctx, h->kind, h->target, why))
		return false;
	if (!h->args || (h->kind != LMP_HOOK_TP_BTF && h->kind != LMP_HOOK_RAW_TP))
		return true;
	n = lmp_feature_tp_nargs(h->target);
	if (n == (int)h->args)
		return true;
	if (n < 0)
		snprintf(buf, sizeof(buf), "arguments of tracepoint %s unknown (%s)", h->target,
			 n == -ENODATA ? "no kernel BTF" : strerror(-n));
	else
		snprintf(buf, sizeof(buf), "tracepoint %s has %d arguments here, program for %u",
			 h->target, n, h->args);
	*why = buf;
	return false;
}
