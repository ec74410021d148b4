// SPDX-License-Identifier: GPL-2.0-only
/*
 * memleak: outstanding allocations of a target (one process, or every process of a cgroup),
 * by the stack that made them. Each allocation is one entry of `allocs` until its free;
 * the agent sums the live entries by stack every interval.
 *
 * Hooks (agent/probes/memleak.c):
 *   user space: uprobes on the libc allocator family (malloc, calloc, realloc, free,
 *     memalign, posix_memalign, aligned_alloc, valloc, pvalloc), entry and return,
 *     attached per target process so other processes never hit a breakpoint (4.x+)
 *   kernel, each: tp_btf (5.5+) > raw_tp (4.17+) > tracepoint (needs tracefs)
 *     kmem/kmalloc, kmem/kfree, kmem/kmem_cache_alloc, kmem/kmem_cache_free,
 *     kmem/mm_page_alloc, kmem/mm_page_free, kmem/mm_page_free_batched,
 *     percpu/percpu_alloc_percpu, percpu/percpu_free_percpu
 * Kernel allocations are charged to the target when the allocating task is one of its
 * tasks; frees are matched by address whoever frees. An allocation made in interrupt
 * context while a target task was interrupted is charged to it too, as in libbpf-tools:
 * telling interrupt context apart needs preempt_count, a per-CPU variable that a kernel
 * without CONFIG_KALLSYMS_ALL (like the development VMs) does not let BPF address. libbpf-tools memleak uses the same
 * tracepoints for the kernel and the same uprobes for user space, for one process only.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lmp/memleak.h"
#include "lmp.bpf.h"
#include "lmp_stack.bpf.h"

#define PAGE_SIZE 4096

/* the target: a tgid, or (cfg_cgroup) the cgroup in cgroup_filter and its descendants */
const volatile __u32 cfg_pid = 0;
const volatile __u32 cfg_cgroup = 0;

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_filter SEC(".maps");

/*
 * Live allocations; sized for a leaking service, not for a whole node (~7 MiB). It must be
 * preallocated: a map that allocates on update would trace its own kmallocs, made in
 * the target's context, and feed on itself until full.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct lmp_memleak_key);
	__type(value, struct lmp_memleak_alloc);
} allocs SEC(".maps");

/*
 * Stacks of live allocations, never freed while referenced, so a new stack that hashes to
 * a taken bucket is lost (counted). User and kernel stacks have a map each: the kernel's
 * many paths (page faults, exec, file creation) would otherwise crowd out the few user
 * stacks a leak hunt is about. 4 MiB + 2 MiB.
 */
LMP_STACK_MAP(ustacks, 8192);

LMP_STACK_MAP(kstacks, 4096);

/* between a user allocator's entry and its return, by thread */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} sizes SEC(".maps");

/* posix_memalign's out-parameter, by thread */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} memptrs SEC(".maps");

static __always_inline bool is_target(void)
{
	if (cfg_pid)
		return (bpf_get_current_pid_tgid() >> 32) == cfg_pid;
	if (cfg_cgroup)
		return bpf_current_task_under_cgroup(&cgroup_filter, 0) == 1;
	return false;
}

static __always_inline void record(void *ctx, __u64 addr, __u64 size, __u32 space, __u32 allocator,
				   __u64 stack_flags)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct lmp_memleak_alloc a = {};
	struct lmp_memleak_key k = {};

	if (!addr)
		return;
	k.addr = addr;
	k.space = space;
	k.pid = space == LMP_MEMLEAK_SPACE_USER ? id >> 32 : 0;
	a.size = size;
	a.ts_ns = bpf_ktime_get_ns();
	a.cgroup_id = bpf_get_current_cgroup_id();
	a.pid = id >> 32;
	a.allocator = allocator;
	if (stack_flags & BPF_F_USER_STACK)
		a.stack_id = lmp_stackid(ctx, &ustacks, stack_flags);
	else
		a.stack_id = lmp_stackid(ctx, &kstacks, stack_flags);
	if (bpf_map_update_elem(&allocs, &k, &a, BPF_ANY))
		lmp_count_drop(LMP_DROP_MAPFULL);
}

static __always_inline void forget(__u64 addr, __u32 space, __u32 pid)
{
	struct lmp_memleak_key k = { .addr = addr, .pid = pid, .space = space };

	if (addr)
		bpf_map_delete_elem(&allocs, &k);
}

/* ---- user space ---- */

static __always_inline int user_enter(__u64 size)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_update_elem(&sizes, &tid, &size, BPF_ANY);
	return 0;
}

static __always_inline void user_free(__u64 ptr)
{
	forget(ptr, LMP_MEMLEAK_SPACE_USER, bpf_get_current_pid_tgid() >> 32);
}

/* malloc(size), valloc(size), pvalloc(size) */
SEC("uprobe")
int BPF_KPROBE(uprobe_size_arg1, __u64 size)
{
	return user_enter(size);
}

/* memalign(align, size), aligned_alloc(align, size) */
SEC("uprobe")
int BPF_KPROBE(uprobe_size_arg2, __u64 align, __u64 size)
{
	return user_enter(size);
}

SEC("uprobe")
int BPF_KPROBE(uprobe_calloc, __u64 nmemb, __u64 size)
{
	return user_enter(nmemb * size);
}

/* the old block is gone whatever happens next; the new one is recorded at return */
SEC("uprobe")
int BPF_KPROBE(uprobe_realloc, __u64 ptr, __u64 size)
{
	user_free(ptr);
	return user_enter(size);
}

SEC("uprobe")
int BPF_KPROBE(uprobe_free, __u64 ptr)
{
	user_free(ptr);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_posix_memalign, __u64 memptr, __u64 align, __u64 size)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_update_elem(&memptrs, &tid, &memptr, BPF_ANY);
	return user_enter(size);
}

/* return of every allocator that returns the block */
SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_alloc)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *size = bpf_map_lookup_elem(&sizes, &tid), sz;

	if (!size)
		return 0;
	sz = *size;
	bpf_map_delete_elem(&sizes, &tid);
	record(ctx, PT_REGS_RC(ctx), sz, LMP_MEMLEAK_SPACE_USER, LMP_MEMLEAK_USER,
	       BPF_F_USER_STACK);
	return 0;
}

/* posix_memalign returns 0 and stores the block through its first argument */
SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_posix_memalign)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *size = bpf_map_lookup_elem(&sizes, &tid), *memptr, sz, ptr = 0;

	memptr = bpf_map_lookup_elem(&memptrs, &tid);
	if (!size || !memptr)
		return 0;
	sz = *size;
	if (PT_REGS_RC(ctx) == 0)
		bpf_probe_read_user(&ptr, sizeof(ptr), (void *)*memptr);
	bpf_map_delete_elem(&sizes, &tid);
	bpf_map_delete_elem(&memptrs, &tid);
	record(ctx, ptr, sz, LMP_MEMLEAK_SPACE_USER, LMP_MEMLEAK_USER, BPF_F_USER_STACK);
	return 0;
}

/* ---- kernel ---- */

static __always_inline int kernel_alloc(void *ctx, __u64 addr, __u64 size, __u32 space,
					__u32 allocator)
{
	if (is_target())
		record(ctx, addr, size, space, allocator, 0);
	return 0;
}

static __always_inline int kernel_free(__u64 addr, __u32 space)
{
	forget(addr, space, 0);
	return 0;
}

LMP_TP_BTF_AND_RAW(kmalloc, "kmalloc",
		   kernel_alloc(ctx, (__u64)ptr, alloc, LMP_MEMLEAK_SPACE_SLAB,
				LMP_MEMLEAK_KMALLOC),
		   unsigned long call_site, const void *ptr, size_t req, size_t alloc);

SEC("tracepoint/kmem/kmalloc")
int tp_kmalloc(struct trace_event_raw_kmalloc *ctx)
{
	return kernel_alloc(ctx, (__u64)ctx->ptr, ctx->bytes_alloc, LMP_MEMLEAK_SPACE_SLAB,
			    LMP_MEMLEAK_KMALLOC);
}

LMP_TP_BTF_AND_RAW(kfree, "kfree", kernel_free((__u64)ptr, LMP_MEMLEAK_SPACE_SLAB),
		   unsigned long call_site, const void *ptr);

SEC("tracepoint/kmem/kfree")
int tp_kfree(struct trace_event_raw_kfree *ctx)
{
	return kernel_free((__u64)ctx->ptr, LMP_MEMLEAK_SPACE_SLAB);
}

LMP_TP_BTF_AND_RAW(kmem_cache_alloc, "kmem_cache_alloc",
		   kernel_alloc(ctx, (__u64)ptr, BPF_CORE_READ(s, size), LMP_MEMLEAK_SPACE_SLAB,
				LMP_MEMLEAK_KMEM_CACHE),
		   unsigned long call_site, const void *ptr, struct kmem_cache *s);

SEC("tracepoint/kmem/kmem_cache_alloc")
int tp_kmem_cache_alloc(struct trace_event_raw_kmem_cache_alloc *ctx)
{
	return kernel_alloc(ctx, (__u64)ctx->ptr, ctx->bytes_alloc, LMP_MEMLEAK_SPACE_SLAB,
			    LMP_MEMLEAK_KMEM_CACHE);
}

LMP_TP_BTF_AND_RAW(kmem_cache_free, "kmem_cache_free",
		   kernel_free((__u64)ptr, LMP_MEMLEAK_SPACE_SLAB), unsigned long call_site,
		   const void *ptr);

SEC("tracepoint/kmem/kmem_cache_free")
int tp_kmem_cache_free(struct trace_event_raw_kmem_cache_free *ctx)
{
	return kernel_free((__u64)ctx->ptr, LMP_MEMLEAK_SPACE_SLAB);
}

/* pages: keyed by struct page * where the hook passes it, by pfn on the tracepoint */
LMP_TP_BTF_AND_RAW(mm_page_alloc, "mm_page_alloc",
		   kernel_alloc(ctx, (__u64)page, (__u64)PAGE_SIZE << order, LMP_MEMLEAK_SPACE_PAGE,
				LMP_MEMLEAK_PAGE),
		   struct page *page, unsigned int order);

SEC("tracepoint/kmem/mm_page_alloc")
int tp_mm_page_alloc(struct trace_event_raw_mm_page_alloc *ctx)
{
	/* pfn 0 exists but is never handed out; a failed allocation reports -1UL */
	if (ctx->pfn == (unsigned long)-1)
		return 0;
	return kernel_alloc(ctx, ctx->pfn, (__u64)PAGE_SIZE << ctx->order, LMP_MEMLEAK_SPACE_PAGE,
			    LMP_MEMLEAK_PAGE);
}

LMP_TP_BTF_AND_RAW(mm_page_free, "mm_page_free", kernel_free((__u64)page, LMP_MEMLEAK_SPACE_PAGE),
		   struct page *page);

SEC("tracepoint/kmem/mm_page_free")
int tp_mm_page_free(struct trace_event_raw_mm_page_free *ctx)
{
	return kernel_free(ctx->pfn, LMP_MEMLEAK_SPACE_PAGE);
}

LMP_TP_BTF_AND_RAW(mm_page_free_batched, "mm_page_free_batched",
		   kernel_free((__u64)page, LMP_MEMLEAK_SPACE_PAGE), struct page *page);

SEC("tracepoint/kmem/mm_page_free_batched")
int tp_mm_page_free_batched(struct trace_event_raw_mm_page_free_batched *ctx)
{
	return kernel_free(ctx->pfn, LMP_MEMLEAK_SPACE_PAGE);
}

LMP_TP_BTF_AND_RAW(percpu_alloc_percpu, "percpu_alloc_percpu",
		   kernel_alloc(ctx, (__u64)ptr, bytes_alloc, LMP_MEMLEAK_SPACE_PERCPU,
				LMP_MEMLEAK_PERCPU),
		   unsigned long call_site, bool reserved, bool atomic, size_t size, size_t align,
		   void *base, int off, void *ptr, size_t bytes_alloc);

/* before 5.19: no call_site and no bytes_alloc; size is what one CPU's unit holds */
LMP_TP_BTF_AND_RAW(percpu_alloc_percpu_old, "percpu_alloc_percpu",
		   kernel_alloc(ctx, (__u64)ptr, size, LMP_MEMLEAK_SPACE_PERCPU,
				LMP_MEMLEAK_PERCPU),
		   bool reserved, bool atomic, size_t size, size_t align, void *base, int off,
		   void *ptr);

SEC("tracepoint/percpu/percpu_alloc_percpu")
int tp_percpu_alloc_percpu(struct trace_event_raw_percpu_alloc_percpu *ctx)
{
	__u64 bytes = bpf_core_field_exists(ctx->bytes_alloc) ? BPF_CORE_READ(ctx, bytes_alloc) :
								BPF_CORE_READ(ctx, size);

	return kernel_alloc(ctx, (__u64)BPF_CORE_READ(ctx, ptr), bytes, LMP_MEMLEAK_SPACE_PERCPU,
			    LMP_MEMLEAK_PERCPU);
}

LMP_TP_BTF_AND_RAW(percpu_free_percpu, "percpu_free_percpu",
		   kernel_free((__u64)ptr, LMP_MEMLEAK_SPACE_PERCPU), void *base, int off,
		   void *ptr);

SEC("tracepoint/percpu/percpu_free_percpu")
int tp_percpu_free_percpu(struct trace_event_raw_percpu_free_percpu *ctx)
{
	return kernel_free((__u64)ctx->ptr, LMP_MEMLEAK_SPACE_PERCPU);
}

char LICENSE[] SEC("license") = "GPL";
