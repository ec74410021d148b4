// SPDX-License-Identifier: Apache-2.0
/*
 * ELF symbol tables through libelf, and process mappings through procfs. A binary's table
 * keeps only what resolution needs: function symbols sorted by address (names copied into
 * one pool) and the PT_LOAD segments that turn a file offset into a virtual address. The
 * ELF file itself is closed right after reading. One file: both caches serve the one
 * lookup, address -> function. Where a uprobe goes is sym/proclib.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sysmacros.h>

#include "sym/usyms.h"

#define DEFAULT_MAX_BYTES (16u << 20)
#define MAX_PIDS 1024	     /* processes with cached mappings; beyond that, start over */
#define FAILED_BIN_BYTES 128 /* what a negative entry is charged against the bound */

struct usym {
	__u64 addr, size;
	__u32 name; /* pool offset */
	__u8 rank;  /* lower is a better name for an address shared by aliases */
};

struct seg {
	__u64 off, vaddr, filesz;
};

struct ubin {
	__u64 dev, ino;
	int err; /* <0: could not be read; kept so it is not retried for every frame */
	struct usym *syms;
	size_t n;
	char *pool;
	size_t pool_len, pool_cap;
	struct seg *segs;
	size_t nsegs;
	size_t bytes;
	__u64 last_use;
};

struct umap {
	__u64 start, end, pgoff, dev, ino;
	char *path; /* as maps shows it: "/usr/lib/x86_64-linux-gnu/libc.so.6", "[vdso]" */
};

struct uproc {
	__u32 pid;
	int err;
	struct umap *maps;
	size_t n;
};

struct lmp_usyms {
	size_t max_bytes, bytes;
	struct ubin **bins;
	size_t nbins, capbins;
	struct uproc *procs;
	size_t nprocs;
	__u64 tick;
	size_t loads, evictions;
};

static void bin_free(struct ubin *b)
{
	if (!b)
		return;
	free(b->syms);
	free(b->pool);
	free(b->segs);
	free(b);
}

static void proc_clear(struct uproc *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->maps[i].path);
	free(p->maps);
	p->maps = NULL;
	p->n = 0;
}

int lmp_usyms_new(size_t max_bytes, struct lmp_usyms **out)
{
	struct lmp_usyms *u = calloc(1, sizeof(*u));

	*out = NULL;
	if (!u)
		return -ENOMEM;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		free(u);
		return -ENOTSUP;
	}
	u->max_bytes = max_bytes ? max_bytes : DEFAULT_MAX_BYTES;
	u->procs = calloc(MAX_PIDS, sizeof(*u->procs));
	if (!u->procs) {
		free(u);
		return -ENOMEM;
	}
	*out = u;
	return 0;
}

void lmp_usyms_forget_pids(struct lmp_usyms *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nprocs; i++)
		proc_clear(&u->procs[i]);
	u->nprocs = 0;
}

void lmp_usyms_free(struct lmp_usyms *u)
{
	if (!u)
		return;
	lmp_usyms_forget_pids(u);
	free(u->procs);
	for (size_t i = 0; i < u->nbins; i++)
		bin_free(u->bins[i]);
	free(u->bins);
	free(u);
}

void lmp_usyms_get_stats(const struct lmp_usyms *u, struct lmp_usyms_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!u)
		return;
	for (size_t i = 0; i < u->nbins; i++)
		st->binaries += u->bins[i]->err == 0;
	st->bytes = u->bytes;
	st->loads = u->loads;
	st->evictions = u->evictions;
	st->pids = u->nprocs;
}

/* ---- ELF ---- */

static long pool_add(struct ubin *b, const char *s)
{
	size_t n = strlen(s), at = b->pool_len;

	if (b->pool_len + n + 1 > b->pool_cap) {
		size_t cap = b->pool_cap ? b->pool_cap * 2 : 4096;
		char *np;

		while (cap < b->pool_len + n + 1)
			cap *= 2;
		np = realloc(b->pool, cap);
		if (!np)
			return -ENOMEM;
		b->pool = np;
		b->pool_cap = cap;
	}
	memcpy(b->pool + at, s, n + 1);
	b->pool_len += n + 1;
	return at;
}

/* Prefer the public spelling among aliases: "malloc" over "__libc_malloc" */
static __u8 name_rank(const char *name, int bind)
{
	__u8 r = 0;

	while (name[r] == '_' && r < 8)
		r++;
	return r * 4 + (bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2);
}

static int read_symtab(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, struct ubin *b, size_t *cap)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count;

	if (!data || !sh->sh_entsize)
		return 0;
	count = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		const char *name;
		int type;
		long off;

		if (!gelf_getsym(data, i, &sym))
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
		    !sym.st_value)
			continue;
		name = elf_strptr(e, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		if (b->n == *cap) {
			size_t nc = *cap ? *cap * 2 : 1024;
			struct usym *ns = realloc(b->syms, nc * sizeof(*ns));

			if (!ns)
				return -ENOMEM;
			b->syms = ns;
			*cap = nc;
		}
		off = pool_add(b, name);
		if (off < 0)
			return -ENOMEM;
		b->syms[b->n++] = (struct usym){ sym.st_value, sym.st_size, (__u32)off,
						 name_rank(name, GELF_ST_BIND(sym.st_info)) };
	}
	return 0;
}

/* symbols of every SHT_SYMTAB (want_dyn false) or SHT_DYNSYM section */
static int read_symbols(Elf *e, struct ubin *b, size_t *cap, bool want_dyn, bool *found)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int err;

	while ((scn = elf_nextscn(e, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type != (want_dyn ? SHT_DYNSYM : SHT_SYMTAB))
			continue;
		*found = true;
		err = read_symtab(e, scn, &sh, b, cap);
		if (err < 0)
			return err;
	}
	return 0;
}

/* "/usr/lib/debug/.build-id/ab/cdef....debug" of e's GNU build id, or "" */
static void debug_path(Elf *e, char *out, size_t len)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	out[0] = 0;
	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *data;
		GElf_Nhdr nh;
		size_t off = 0, noff, doff;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		while (data && (off = gelf_getnote(data, off, &nh, &noff, &doff)) > 0) {
			const unsigned char *id = (const unsigned char *)data->d_buf + doff;
			size_t used;

			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_descsz < 2 || nh.n_namesz != 4 ||
			    memcmp((const char *)data->d_buf + noff, "GNU", 4) != 0)
				continue;
			used = snprintf(out, len, "/usr/lib/debug/.build-id/%02x/", id[0]);
			for (size_t i = 1; i < nh.n_descsz && used + 3 < len; i++)
				used += snprintf(out + used, len - used, "%02x", id[i]);
			snprintf(out + used, len > used ? len - used : 0, ".debug");
			return;
		}
	}
}

static int read_debug_file(const char *path, struct ubin *b, size_t *cap)
{
	bool found = false;
	int fd, err;
	Elf *e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	err = e && elf_kind(e) == ELF_K_ELF ? read_symbols(e, b, cap, false, &found) : -ENOEXEC;
	elf_end(e);
	close(fd);
	return err;
}

static int cmp_usym(const void *a, const void *b)
{
	const struct usym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
}

/*
 * After the sort: the pool still holds the names of the aliases dropped (and .dynsym's
 * repeats of .symtab), and growth by doubling leaves up to half of both arrays unused. Keep
 * only what lookups use, so the bytes counted against the bound are the bytes held.
 */
static void bin_shrink(struct ubin *b)
{
	struct usym *syms;
	size_t len = 0;
	char *pool;

	for (size_t i = 0; i < b->n; i++)
		len += strlen(b->pool + b->syms[i].name) + 1;
	pool = malloc(len);
	if (pool) { /* else the larger pool stays: still right */
		len = 0;
		for (size_t i = 0; i < b->n; i++) {
			size_t l = strlen(b->pool + b->syms[i].name) + 1;

			memcpy(pool + len, b->pool + b->syms[i].name, l);
			b->syms[i].name = len;
			len += l;
		}
		free(b->pool);
		b->pool = pool;
		b->pool_len = b->pool_cap = len;
	}
	syms = realloc(b->syms, b->n * sizeof(*syms));
	if (syms)
		b->syms = syms;
}

static int bin_load(struct ubin *b, int fd)
{
	bool has_symtab = false, has_dyn = false;
	size_t cap = 0, nph = 0, k = 0;
	char dbg[256];
	Elf *e;
	int err = 0;

	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto out;
	}
	if (elf_getphdrnum(e, &nph) != 0) {
		err = -ENOEXEC;
		goto out;
	}
	b->segs = calloc(nph ? nph : 1, sizeof(*b->segs));
	if (!b->segs) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, i, &ph) && ph.p_type == PT_LOAD)
			b->segs[b->nsegs++] = (struct seg){ ph.p_offset, ph.p_vaddr, ph.p_filesz };
	}
	err = read_symbols(e, b, &cap, false, &has_symtab);
	if (!err)
		err = read_symbols(e, b, &cap, true, &has_dyn);
	if (err)
		goto out;
	/* stripped binaries (distribution libraries): the separate debug file, if installed */
	if (!has_symtab) {
		debug_path(e, dbg, sizeof(dbg));
		if (dbg[0])
			read_debug_file(dbg, b, &cap); /* absent is the common case: not an error */
	}
	if (b->n) {
		qsort(b->syms, b->n, sizeof(*b->syms), cmp_usym);
		/* one symbol per address: the best-ranked alias, which the sort put first */
		for (size_t i = 1; i < b->n; i++)
			if (b->syms[i].addr != b->syms[k].addr)
				b->syms[++k] = b->syms[i];
			else if (!b->syms[k].size)
				b->syms[k].size = b->syms[i].size;
		b->n = k + 1;
		bin_shrink(b);
	}
out:
	elf_end(e);
	b->bytes = sizeof(*b) + b->n * sizeof(*b->syms) + b->pool_len + nph * sizeof(*b->segs);
	return err;
}

static void bins_evict(struct lmp_usyms *u, const struct ubin *keep)
{
	while (u->bytes > u->max_bytes) {
		size_t victim = u->nbins;

		for (size_t i = 0; i < u->nbins; i++) {
			if (u->bins[i] == keep)
				continue;
			if (victim == u->nbins || u->bins[i]->last_use < u->bins[victim]->last_use)
				victim = i;
		}
		if (victim == u->nbins)
			return; /* only the one in use is left: it may exceed the bound alone */
		u->bytes -= u->bins[victim]->bytes;
		bin_free(u->bins[victim]);
		u->bins[victim] = u->bins[--u->nbins];
		u->evictions++;
	}
}

static struct ubin *bin_get(struct lmp_usyms *u, __u32 pid, const struct umap *m)
{
	struct ubin *b;
	char path[PATH_MAX + 64];
	int fd;

	for (size_t i = 0; i < u->nbins; i++) {
		b = u->bins[i];
		if (b->dev == m->dev && b->ino == m->ino) {
			b->last_use = ++u->tick;
			return b;
		}
	}
	if (u->nbins == u->capbins) {
		size_t nc = u->capbins ? u->capbins * 2 : 32;
		struct ubin **nb = realloc(u->bins, nc * sizeof(*nb));

		if (!nb)
			return NULL;
		u->bins = nb;
		u->capbins = nc;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->dev = m->dev;
	b->ino = m->ino;
	/* map_files reaches the exact inode mapped, in any mount namespace, even if deleted */
	snprintf(path, sizeof(path), "/proc/%u/map_files/%llx-%llx", pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && m->path[0] == '/') {
		snprintf(path, sizeof(path), "/proc/%u/root%s", pid, m->path);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		b->err = -errno;
		b->bytes = FAILED_BIN_BYTES;
	} else {
		b->err = bin_load(b, fd);
		close(fd);
		u->loads++;
		if (b->err) {
			free(b->syms);
			free(b->pool);
			free(b->segs);
			b->syms = NULL;
			b->pool = NULL;
			b->segs = NULL;
			b->n = b->nsegs = 0;
			b->bytes = FAILED_BIN_BYTES;
		}
	}
	b->last_use = ++u->tick;
	u->bins[u->nbins++] = b;
	u->bytes += b->bytes;
	bins_evict(u, b);
	return b;
}

/* file offset -> ELF virtual address, through the PT_LOAD segment that holds it */
static bool bin_vaddr(const struct ubin *b, __u64 off, __u64 *vaddr)
{
	for (size_t i = 0; i < b->nsegs; i++) {
		const struct seg *s = &b->segs[i];

		if (off >= s->off && off < s->off + s->filesz) {
			*vaddr = off - s->off + s->vaddr;
			return true;
		}
	}
	return false;
}

static const struct usym *bin_lookup(const struct ubin *b, __u64 vaddr)
{
	size_t lo = 0, hi = b->n;
	const struct usym *s;

	if (!b->n || vaddr < b->syms[0].addr)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->syms[mid].addr <= vaddr)
			lo = mid;
		else
			hi = mid;
	}
	s = &b->syms[lo];
	/* a sized symbol covers only its size: past it lies code no symbol names */
	if (s->size && vaddr >= s->addr + s->size)
		return NULL;
	return s;
}

/* ---- process mappings ---- */

static int proc_read(struct uproc *p)
{
	char path[64], *line = NULL;
	size_t linecap = 0, cap = 0;
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%u/maps", p->pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (getline(&line, &linecap, f) > 0) {
		unsigned long long start, end, pgoff, ino;
		unsigned maj, min;
		char perms[8];
		int pos = 0;
		char *name;

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &pgoff,
			   &maj, &min, &ino, &pos) < 7 ||
		    !pos)
			continue;
		if (perms[2] != 'x') /* stacks hold code addresses only */
			continue;
		name = line + pos;
		name[strcspn(name, "\n")] = 0;
		if (p->n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct umap *nm = realloc(p->maps, nc * sizeof(*nm));

			if (!nm) {
				err = -ENOMEM;
				break;
			}
			p->maps = nm;
			cap = nc;
		}
		p->maps[p->n] = (struct umap){ start, end,
					       pgoff, makedev(maj, min),
					       ino,   strdup(*name ? name : "[anon]") };
		if (!p->maps[p->n].path) {
			err = -ENOMEM;
			break;
		}
		p->n++;
	}
	free(line);
	fclose(f);
	return err;
}

static struct uproc *proc_get(struct lmp_usyms *u, __u32 pid)
{
	struct uproc *p;

	for (size_t i = 0; i < u->nprocs; i++)
		if (u->procs[i].pid == pid)
			return &u->procs[i];
	if (u->nprocs == MAX_PIDS)
		lmp_usyms_forget_pids(u);
	p = &u->procs[u->nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->err = proc_read(p);
	return p;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

int lmp_usyms_resolve(struct lmp_usyms *u, __u32 pid, __u64 addr, struct lmp_usym *out)
{
	const struct umap *m = NULL;
	const struct usym *s;
	struct uproc *p;
	struct ubin *b;
	__u64 off, vaddr;

	memset(out, 0, sizeof(*out));
	p = proc_get(u, pid);
	if (p->err)
		return p->err;
	for (size_t i = 0; i < p->n; i++) {
		if (addr >= p->maps[i].start && addr < p->maps[i].end) {
			m = &p->maps[i];
			break;
		}
	}
	if (!m)
		return -ENOENT;
	out->module = base_name(m->path);
	off = addr - m->start + m->pgoff;
	out->offset = off;
	if (m->path[0] != '/' || !m->ino) /* [vdso], anonymous JIT code, ... */
		return 0;
	b = bin_get(u, pid, m);
	if (!b || b->err || !bin_vaddr(b, off, &vaddr))
		return 0;
	s = bin_lookup(b, vaddr);
	if (s) {
		out->name = b->pool + s->name;
		out->offset = vaddr - s->addr;
	}
	return 0;
}

int lmp_usyms_format(struct lmp_usyms *u, __u32 pid, __u64 addr, char *buf, size_t len)
{
	struct lmp_usym s;

	if (lmp_usyms_resolve(u, pid, addr, &s) < 0)
		return snprintf(buf, len, "0x%llx", (unsigned long long)addr);
	if (s.name)
		return snprintf(buf, len, "%s+0x%llx", s.name, (unsigned long long)s.offset);
	return snprintf(buf, len, "[%s+0x%llx]", s.module, (unsigned long long)s.offset);
}
