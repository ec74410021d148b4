// SPDX-License-Identifier: GPL-2.0-only
/*
 * file: read/write calls and bytes per process and file (filetop), aggregated in the kernel.
 *
 * Hooks, best first (agent/probes/file.c), one choice for reads and one for writes:
 *   fexit vfs_read / vfs_write (5.5+; the return value and the struct file in one program)
 * > kprobe + kretprobe vfs_read / vfs_write (the file kept in task storage between them)
 * > the syscall dispatcher's exit (lmp_syscall.bpf.h: tp_btf, else raw_tp), which tail-calls
 *   tail_*_exit for read, pread64, readv, write, pwrite64 and writev only: the fd is still
 *   in pt_regs at exit, so one program run per call, with no entry program and no state
 *   kept between entry and exit
 * > tracepoints syscalls/sys_{enter,exit}_{read,pread64,readv} and _{write,pwrite64,writev}
 *   (needs tracefs and CONFIG_FTRACE_SYSCALLS): the fd is kept at entry.
 * Either syscall path resolves the fd at exit, when the call returned >= 0 bytes, to its
 * struct file through task->files->fdt->fd[]. They work on kernels without kprobes and
 * fentry; the dispatcher is shared with the other syscall probes and costs, per read,
 * a fraction of the two perf-event tracepoint runs (docs/probes/file.md). The first two
 * see every vfs_read/vfs_write (read, pread64, and kernel users of vfs_read) but not
 * readv/writev, as libbpf-tools filetop; the syscall paths see exactly the six syscalls.
 *
 * A key is (cgroup, pid, device, inode); its names (comm, file and directory name, type) go
 * to an LRU map when the key is first seen in an interval, so the hot path only counts.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lmp/file.h"
#include "lmp.bpf.h"
#include "lmp_syscall.bpf.h"

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFREG 0100000
#define S_IFIFO 0010000

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 10240);
	__type(key, struct lmp_file_key);
	__type(value, struct lmp_file_val);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, struct lmp_file_key);
	__type(value, struct lmp_file_info);
} infos SEC(".maps");

/* what an entry hook leaves for its exit hook, per thread */
struct pending {
	__u64 arg; /* fd (tracepoints) or struct file * (kprobe) */
	__u32 op;  /* FOP_* + 1; 0 = nothing pending */
	__u32 _pad;
};

/* task storage, or on 5.10 an LRU hash by thread id (lmp_task_local()) */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending);
} pend SEC(".maps");

/* the write-side syscall numbers, for the dispatcher's tail (set by the agent) */
const volatile __s32 cfg_nr_write = -1;
const volatile __s32 cfg_nr_pwrite64 = -1;
const volatile __s32 cfg_nr_writev = -1;

/* scratch for the names, too big for the 512-byte stack next to the rest */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lmp_file_info);
} scratch SEC(".maps");

enum { FOP_READ = 0, FOP_WRITE = 1 };

static __always_inline __u32 file_type(__u32 mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return LMP_FILE_REGULAR;
	case S_IFSOCK:
		return LMP_FILE_SOCKET;
	case S_IFIFO:
		return LMP_FILE_PIPE;
	default:
		return LMP_FILE_OTHER;
	}
}

static __always_inline void record_names(const struct lmp_file_key *key, struct file *file,
					 struct inode *inode)
{
	struct dentry *dentry = BPF_CORE_READ(file, f_path.dentry);
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct lmp_file_info *info;
	__u32 zero = 0;

	info = bpf_map_lookup_elem(&scratch, &zero);
	if (!info)
		return;
	info->mode = BPF_CORE_READ(inode, i_mode);
	info->type = file_type(info->mode);
	BPF_CORE_READ_STR_INTO(&info->comm, task, group_leader, comm);
	bpf_probe_read_kernel_str(info->name, sizeof(info->name),
				  BPF_CORE_READ(dentry, d_name.name));
	bpf_probe_read_kernel_str(info->dir, sizeof(info->dir),
				  BPF_CORE_READ(dentry, d_parent, d_name.name));
	bpf_map_update_elem(&infos, key, info, BPF_ANY);
}

/* one completed read or write of `bytes` on file by the current task, in cgroup_id */
static __always_inline void account(struct file *file, __u64 bytes, __u32 op, __u64 cgroup_id)
{
	static const struct lmp_file_val zero;
	struct lmp_file_key key = {};
	struct lmp_file_val *v;
	struct inode *inode;
	long err;

	if (!file)
		return;
	inode = BPF_CORE_READ(file, f_inode);
	if (!inode)
		return;
	key.cgroup_id = cgroup_id;
	key.pid = bpf_get_current_pid_tgid() >> 32;
	key.ino = BPF_CORE_READ(inode, i_ino);
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	v = bpf_map_lookup_elem(&stats, &key);
	if (!v) {
		err = bpf_map_update_elem(&stats, &key, &zero, BPF_NOEXIST);
		if (err && err != -17 /* EEXIST: inserted meanwhile by another CPU */) {
			lmp_count_drop(LMP_DROP_MAPFULL);
			return;
		}
		record_names(&key, file, inode);
		v = bpf_map_lookup_elem(&stats, &key);
		if (!v)
			return;
	}
	if (op == FOP_WRITE) {
		v->writes++;
		v->write_bytes += bytes;
	} else {
		v->reads++;
		v->read_bytes += bytes;
	}
}

/* --- fexit ------------------------------------------------------------------------- */

SEC("fexit/vfs_read")
int BPF_PROG(fexit_vfs_read, struct file *file, char *buf, size_t count, loff_t *pos, ssize_t ret)
{
	if (ret >= 0 && !lmp_is_self())
		account(file, ret, FOP_READ, bpf_get_current_cgroup_id());
	return 0;
}

SEC("fexit/vfs_write")
int BPF_PROG(fexit_vfs_write, struct file *file, const char *buf, size_t count, loff_t *pos,
	     ssize_t ret)
{
	if (ret >= 0 && !lmp_is_self())
		account(file, ret, FOP_WRITE, bpf_get_current_cgroup_id());
	return 0;
}

/* --- kprobe + kretprobe, and the syscall tracepoints: an entry leaves a note ------------ */

static __always_inline int enter(__u64 arg, __u32 op)
{
	struct pending *p;

	static const struct pending zero;

	if (lmp_is_self())
		return 0;
	p = lmp_task_local(&pend, &zero, true);
	if (p) {
		p->arg = arg;
		p->op = op + 1;
	}
	return 0;
}

/* the note of this thread's pending call, if it is an `op`; cleared either way */
static __always_inline bool take(__u32 op, __u64 *arg)
{
	struct pending *p = lmp_task_local(&pend, NULL, false);
	bool ok;

	if (!p || !p->op)
		return false;
	ok = p->op == op + 1;
	*arg = p->arg;
	p->op = 0;
	return ok;
}

static __always_inline int kret(long ret, __u32 op)
{
	__u64 file;

	if (take(op, &file) && ret >= 0)
		account((struct file *)file, ret, op, bpf_get_current_cgroup_id());
	return 0;
}

#define KPROBE_PAIR(fn, op)                            \
	SEC("kprobe/" #fn)                             \
	int BPF_KPROBE(kprobe_##fn, struct file *file) \
	{                                              \
		return enter((__u64)file, op);         \
	}                                              \
	SEC("kretprobe/" #fn)                          \
	int BPF_KRETPROBE(kretprobe_##fn, long ret)    \
	{                                              \
		return kret(ret, op);                  \
	}

KPROBE_PAIR(vfs_read, FOP_READ)
KPROBE_PAIR(vfs_write, FOP_WRITE)

/* fd -> struct file of the current task, as fdget() would find it (NULL if closed). With
 * bpf_get_current_task_btf() the walk to the fd array is direct loads; the array itself is
 * untyped to the verifier, so its slot is a probe read either way. */
static __always_inline struct file *fd_file(__u64 fd)
{
	struct file **fds, *file = NULL;
	struct fdtable *fdt;
	__u32 max_fds;

	if (sys_task_btf) {
		fdt = bpf_get_current_task_btf()->files->fdt;
		max_fds = fdt->max_fds;
		fds = fdt->fd;
	} else {
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();

		fdt = BPF_CORE_READ(task, files, fdt);
		if (!fdt)
			return NULL;
		max_fds = BPF_CORE_READ(fdt, max_fds);
		fds = BPF_CORE_READ(fdt, fd);
	}
	if (fd >= max_fds)
		return NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file;
}

static __always_inline int sys_exit(long ret, __u32 op)
{
	__u64 fd;

	if (take(op, &fd) && ret >= 0)
		account(fd_file(fd), ret, op, bpf_get_current_cgroup_id());
	return 0;
}

#define SYSCALL_PAIR(name, op)                                         \
	SEC("tp/syscalls/sys_enter_" #name)                            \
	int tp_sys_enter_##name(struct trace_event_raw_sys_enter *ctx) \
	{                                                              \
		return enter(ctx->args[0], op);                        \
	}                                                              \
	SEC("tp/syscalls/sys_exit_" #name)                             \
	int tp_sys_exit_##name(struct trace_event_raw_sys_exit *ctx)   \
	{                                                              \
		return sys_exit(ctx->ret, op);                         \
	}

/* the dispatcher's tail: routed only the six calls, by the agent (the agent itself is
 * never routed) */
static __always_inline int tail_exit(struct pt_regs *regs, long nr, long ret, bool btf)
{
	__u32 op = nr == cfg_nr_write || nr == cfg_nr_pwrite64 || nr == cfg_nr_writev ? FOP_WRITE :
											FOP_READ;

	if (ret >= 0)
		account(fd_file(SYS_ARG(1, regs, btf)), ret, op,
			btf ? sys_cgroup_id() : bpf_get_current_cgroup_id());
	return 0;
}

LMP_SYS_TAILS_EXIT(tail_exit)

SYSCALL_PAIR(read, FOP_READ)
SYSCALL_PAIR(pread64, FOP_READ)
SYSCALL_PAIR(readv, FOP_READ)
SYSCALL_PAIR(write, FOP_WRITE)
SYSCALL_PAIR(pwrite64, FOP_WRITE)
SYSCALL_PAIR(writev, FOP_WRITE)

char LICENSE[] SEC("license") = "GPL";
