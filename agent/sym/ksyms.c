// SPDX-License-Identifier: Apache-2.0
/*
 * kallsyms parsing. The table is kept for the life of the agent, so it is laid out for size
 * (docs/performance.md, "Resident memory"):
 *
 * - symbols: one sorted array of 8-byte entries, {32-bit offset from a base address, 32-bit
 *   name offset}. Kernel text and modules span less than 4 GB on x86_64, so there is one
 *   base; a table that spans more is cut into segments, each with its own base.
 * - names: one blob. A name that is the tail of the name stored just before it shares its
 *   bytes: since 6.2 (CONFIG_CALL_PADDING) every function "f" follows its "__pfx_f", and
 *   that halves the blob.
 * - modules: each name stored once, referenced by runs of consecutive symbols of the same
 *   module, not by a pointer per symbol.
 *
 * struct lmp_ksym (what callers get) is built on demand for the symbols a lookup returns and
 * kept until the table is freed, so a returned pointer stays valid and the same symbol is
 * the same pointer every time. Stacks name a small part of the table.
 *
 * Only text symbols are kept: stacks hold code addresses, and a data symbol between two
 * functions would otherwise steal the tail of the function before it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "sym/ksyms.h"

#define NO_MODULE UINT32_MAX
#define CHUNK_SHIFT 8 /* built symbols are allocated 256 at a time, never moved */

struct ksym_ent {
	__u32 off;  /* from the base of the segment */
	__u32 name; /* blob offset */
};

/* symbols [first, next segment's first) lie in [base, base + 4 GB) */
struct ksym_seg {
	__u64 base;
	__u32 first;
};

/* symbols [first, next run's first) belong to module (blob offset, or NO_MODULE) */
struct ksym_run {
	__u32 first;
	__u32 module;
};

/* the struct lmp_ksym handed out so far, by symbol index */
struct ksym_cache {
	__u64 *slots; /* open addressing: (symbol index + 1) << 32 | built index; 0 = empty */
	__u32 cap, used;
	struct lmp_ksym **chunks;
	__u32 nchunks;
};

struct lmp_ksyms {
	struct ksym_ent *ents;
	__u32 n;
	char *names;
	struct ksym_seg *segs; /* in this allocation, after the struct */
	__u32 nsegs;
	struct ksym_run *runs; /* likewise */
	__u32 nruns;
	struct ksym_cache *cache; /* allocated by the first lookup that returns a symbol */
};

/* one parsed line; the sort needs the full address, so entries are compacted afterwards */
struct raw_sym {
	__u64 addr;
	__u32 name;   /* blob offset, increasing in file order: the tie-break for aliases */
	__u32 module; /* index + 1 into the parser's module list, 0 for the core kernel */
};

struct parser {
	char *blob;
	size_t len, cap;
	size_t last, last_len; /* the name stored last, which the next may share */
	__u32 *mods;	       /* blob offsets of the module names seen */
	size_t nmods, capmods;
};

static long blob_add(struct parser *p, const char *s, size_t n)
{
	size_t at = p->len;

	if (!lmp_array_reserve(&p->blob, &p->cap, p->len + n + 1, 1, 1 << 16))
		return -ENOMEM;
	if (p->len + n + 1 > UINT32_MAX) /* offsets are 32-bit */
		return -E2BIG;
	memcpy(p->blob + p->len, s, n);
	p->blob[p->len + n] = 0;
	p->len += n + 1;
	return at;
}

/*
 * A symbol name's blob offset. A tail of the previous name shares it, but only at a higher
 * offset than that name's own: offsets then keep file order, which decides between aliases.
 */
static long name_add(struct parser *p, const char *s, size_t n, long prev)
{
	long at;

	if (p->len && n <= p->last_len) {
		at = p->last + p->last_len - n;
		if (at > prev && memcmp(p->blob + at, s, n) == 0)
			return at;
	}
	at = blob_add(p, s, n);
	if (at >= 0) {
		p->last = at;
		p->last_len = n;
	}
	return at;
}

/* index + 1 of the module named s[0..n) in p->mods, added on first sight */
static long module_add(struct parser *p, const char *s, size_t n, __u32 hint)
{
	long at;

	/* a module's symbols come in one block: the last one seen usually matches */
	if (hint && strlen(p->blob + p->mods[hint - 1]) == n &&
	    memcmp(p->blob + p->mods[hint - 1], s, n) == 0)
		return hint;
	for (size_t i = 0; i < p->nmods; i++)
		if (strlen(p->blob + p->mods[i]) == n && memcmp(p->blob + p->mods[i], s, n) == 0)
			return i + 1;
	if (!lmp_array_reserve(&p->mods, &p->capmods, p->nmods + 1, sizeof(*p->mods), 16))
		return -ENOMEM;
	at = blob_add(p, s, n);
	if (at < 0)
		return at;
	p->mods[p->nmods++] = at;
	return p->nmods;
}

static int cmp_raw(const void *a, const void *b)
{
	const struct raw_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* stable order for aliases: the first listed wins */
	return x->name < y->name ? -1 : x->name > y->name;
}

static bool is_text(char type)
{
	return type == 't' || type == 'T' || type == 'w' || type == 'W';
}

void lmp_ksyms_free(struct lmp_ksyms *ks)
{
	if (!ks)
		return;
	if (ks->cache) {
		for (__u32 i = 0; i < ks->cache->nchunks; i++)
			free(ks->cache->chunks[i]);
		free(ks->cache->chunks);
		free(ks->cache->slots);
		free(ks->cache);
	}
	free(ks->ents);
	free(ks->names);
	free(ks);
}

/*
 * Sorted raw symbols -> the table. Entries are written over the raw array they are read
 * from (8 bytes over 16, never ahead of the reading), which then shrinks to fit.
 */
static int build(struct raw_sym *raw, size_t n, struct parser *p, struct lmp_ksyms **out)
{
	size_t skip = 0, nsegs = 0, nruns = 0;
	__u64 base = 0;
	__u32 mod = 0;
	struct lmp_ksyms *ks;
	struct ksym_ent *ents;

	while (skip < n && !raw[skip].addr) /* hidden addresses sort first */
		skip++;
	for (size_t i = skip; i < n; i++) {
		if (i == skip || raw[i].addr - base > UINT32_MAX) {
			base = raw[i].addr;
			nsegs++;
		}
		if (i == skip || raw[i].module != mod) {
			mod = raw[i].module;
			nruns++;
		}
	}
	ks = calloc(1, sizeof(*ks) + nsegs * sizeof(*ks->segs) + nruns * sizeof(*ks->runs));
	if (!ks)
		return -ENOMEM;
	ks->segs = (struct ksym_seg *)(ks + 1);
	ks->runs = (struct ksym_run *)(ks->segs + nsegs);
	ents = (struct ksym_ent *)raw;
	for (size_t i = skip; i < n; i++) {
		struct raw_sym r = raw[i];
		__u32 j = i - skip;

		if (j == 0 || r.addr - base > UINT32_MAX) {
			base = r.addr;
			ks->segs[ks->nsegs++] = (struct ksym_seg){ base, j };
		}
		if (j == 0 || r.module != mod) {
			mod = r.module;
			ks->runs[ks->nruns++] =
				(struct ksym_run){ j, mod ? p->mods[mod - 1] : NO_MODULE };
		}
		ents[j] = (struct ksym_ent){ r.addr - base, r.name };
	}
	ks->n = n - skip;
	/* shrinking cannot fail in glibc; if it did, the larger block is still right */
	ks->ents = realloc(raw, ks->n * sizeof(*ents)) ?: ents;
	ks->names = realloc(p->blob, p->len) ?: p->blob;
	p->blob = NULL;
	*out = ks;
	return 0;
}

int lmp_ksyms_load(const char *path, struct lmp_ksyms **out)
{
	struct raw_sym *raw = NULL;
	size_t n = 0, cap = 0, nonzero = 0;
	struct parser p = { 0 };
	long prev_name = -1;
	__u32 last_mod = 0;
	char *line = NULL;
	size_t linecap = 0;
	FILE *f;
	int err = 0;

	*out = NULL;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &linecap, f) > 0) {
		char *s = line, *end, *name, *mod;
		unsigned long long addr;
		char type, sep;
		long noff, midx = 0;

		addr = strtoull(s, &end, 16);
		if (end == s || *end != ' ')
			continue;
		s = end + 1;
		type = *s;
		if (!type || s[1] != ' ' || !is_text(type))
			continue;
		name = s + 2;
		end = name + strcspn(name, " \t\n");
		if (end == name)
			continue;
		sep = *end;
		*end = 0;
		if (sep == ' ' || sep == '\t') {
			mod = end + 1 + strspn(end + 1, " \t");
			if (*mod == '[') {
				midx = module_add(&p, mod + 1, strcspn(mod + 1, "]\n"), last_mod);
				if (midx < 0) {
					err = midx;
					goto out;
				}
				last_mod = midx;
			}
		}
		noff = name_add(&p, name, end - name, prev_name);
		if (noff < 0) {
			err = noff;
			goto out;
		}
		prev_name = noff;
		/* symbol indexes are 32-bit */
		if (n == UINT32_MAX || !lmp_array_reserve(&raw, &cap, n + 1, sizeof(*raw), 4096)) {
			err = -ENOMEM;
			goto out;
		}
		raw[n++] = (struct raw_sym){ addr, noff, midx };
		nonzero += addr != 0;
	}
	if (ferror(f)) {
		err = -EIO;
		goto out;
	}
	if (!n) {
		err = -ENODATA;
		goto out;
	}
	if (!nonzero) { /* kptr_restrict: names without addresses are useless */
		err = -EPERM;
		goto out;
	}
	qsort(raw, n, sizeof(*raw), cmp_raw);
	err = build(raw, n, &p, out);
	if (!err)
		raw = NULL; /* the table's entries now */
out:
	free(p.blob);
	free(p.mods);
	free(raw);
	free(line);
	fclose(f);
	return err;
}

size_t lmp_ksyms_count(const struct lmp_ksyms *ks)
{
	return ks ? ks->n : 0;
}

/* the segment holding symbol i */
static const struct ksym_seg *seg_of(const struct lmp_ksyms *ks, __u32 i)
{
	__u32 lo = 0, hi = ks->nsegs;

	while (hi - lo > 1) {
		__u32 mid = lo + (hi - lo) / 2;

		if (ks->segs[mid].first <= i)
			lo = mid;
		else
			hi = mid;
	}
	return &ks->segs[lo];
}

static const char *module_of(const struct lmp_ksyms *ks, __u32 i)
{
	__u32 lo = 0, hi = ks->nruns;

	while (hi - lo > 1) {
		__u32 mid = lo + (hi - lo) / 2;

		if (ks->runs[mid].first <= i)
			lo = mid;
		else
			hi = mid;
	}
	return ks->runs[lo].module == NO_MODULE ? NULL : ks->names + ks->runs[lo].module;
}

static __u32 slot_hash(__u32 i, __u32 cap)
{
	return (i * 0x9e3779b1u) & (cap - 1);
}

static int cache_grow(struct ksym_cache *c)
{
	__u32 cap = c->cap ? c->cap * 2 : 256;
	__u64 *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (__u32 k = 0; k < c->cap; k++) {
		__u32 h;

		if (!c->slots[k])
			continue;
		for (h = slot_hash((c->slots[k] >> 32) - 1, cap); slots[h]; h = (h + 1) & (cap - 1))
			;
		slots[h] = c->slots[k];
	}
	free(c->slots);
	c->slots = slots;
	c->cap = cap;
	return 0;
}

/* the struct lmp_ksym of symbol i, built on first use; NULL only when out of memory */
static const struct lmp_ksym *sym_at(const struct lmp_ksyms *ks, __u32 i)
{
	struct ksym_cache *c = ks->cache;
	struct lmp_ksym *s;
	__u32 h, b;

	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return NULL;
		/* the table is const to callers; the cache of built symbols is not part of it */
		((struct lmp_ksyms *)ks)->cache = c;
	}
	for (h = c->cap ? slot_hash(i, c->cap) : 0; c->cap && c->slots[h];
	     h = (h + 1) & (c->cap - 1)) {
		if ((c->slots[h] >> 32) == (__u64)i + 1) {
			b = (__u32)c->slots[h];
			return &c->chunks[b >> CHUNK_SHIFT][b & ((1u << CHUNK_SHIFT) - 1)];
		}
	}
	/* at most half full, so probes stay short */
	if ((c->used + 1) * 2 > c->cap && cache_grow(c) < 0)
		return NULL;
	b = c->used;
	if ((b >> CHUNK_SHIFT) == c->nchunks) {
		struct lmp_ksym **nc = realloc(c->chunks, (c->nchunks + 1) * sizeof(*nc));

		if (!nc)
			return NULL;
		c->chunks = nc;
		c->chunks[c->nchunks] = malloc(sizeof(struct lmp_ksym) << CHUNK_SHIFT);
		if (!c->chunks[c->nchunks])
			return NULL;
		c->nchunks++;
	}
	s = &c->chunks[b >> CHUNK_SHIFT][b & ((1u << CHUNK_SHIFT) - 1)];
	s->addr = seg_of(ks, i)->base + ks->ents[i].off;
	s->name = ks->names + ks->ents[i].name;
	s->module = module_of(ks, i);
	for (h = slot_hash(i, c->cap); c->slots[h]; h = (h + 1) & (c->cap - 1))
		;
	c->slots[h] = ((__u64)i + 1) << 32 | b;
	c->used++;
	return s;
}

const struct lmp_ksym *lmp_ksyms_resolve(const struct lmp_ksyms *ks, __u64 addr, __u64 *off)
{
	const struct ksym_seg *seg;
	__u32 lo, hi, first;
	__u64 delta;

	if (!ks || !ks->n || addr < ks->segs[0].base)
		return NULL;
	seg = seg_of(ks, ks->n - 1);
	while (seg->base > addr)
		seg--;
	first = seg->first;
	hi = seg == &ks->segs[ks->nsegs - 1] ? ks->n : seg[1].first;
	delta = addr - seg->base;
	lo = first;
	if (delta > UINT32_MAX) {
		lo = hi - 1; /* past every offset of the segment: its last symbol */
	} else {
		/* invariant: ents[lo].off <= delta, and every index >= hi is above it */
		while (hi - lo > 1) {
			__u32 mid = lo + (hi - lo) / 2;

			if (ks->ents[mid].off <= delta)
				lo = mid;
			else
				hi = mid;
		}
	}
	/* aliases share an address (and so a segment): report the first, as the sort put it */
	while (lo > first && ks->ents[lo - 1].off == ks->ents[lo].off)
		lo--;
	if (off)
		*off = delta - ks->ents[lo].off;
	return sym_at(ks, lo);
}

const struct lmp_ksym *lmp_ksyms_find(const struct lmp_ksyms *ks, const char *name)
{
	for (__u32 i = 0; ks && i < ks->n; i++)
		if (strcmp(ks->names + ks->ents[i].name, name) == 0)
			return sym_at(ks, i);
	return NULL;
}

int lmp_ksyms_format(const struct lmp_ksyms *ks, __u64 addr, char *buf, size_t len)
{
	const struct lmp_ksym *s;
	__u64 off;

	s = lmp_ksyms_resolve(ks, addr, &off);
	if (!s)
		return snprintf(buf, len, "0x%llx", (unsigned long long)addr);
	if (s->module)
		return snprintf(buf, len, "%s+0x%llx [%s]", s->name, (unsigned long long)off,
				s->module);
	return snprintf(buf, len, "%s+0x%llx", s->name, (unsigned long long)off);
}

static __u64 addr_at(const struct lmp_ksyms *ks, __u32 i)
{
	return seg_of(ks, i)->base + ks->ents[i].off;
}

/* true when name is a core-kernel function with a plausible end: the next higher symbol */
static bool range_of(const struct lmp_ksyms *ks, const char *name, struct lmp_ksym_range *r)
{
	for (__u32 i = 0; i < ks->n; i++) {
		if (strcmp(ks->names + ks->ents[i].name, name) || module_of(ks, i))
			continue;
		r->start = addr_at(ks, i);
		for (__u32 j = i + 1; j < ks->n; j++) {
			r->end = addr_at(ks, j);
			/* past its aliases; a larger gap than any function's is a hole in the table */
			if (r->end > r->start)
				return r->end - r->start <= (1u << 20);
		}
		return false;
	}
	return false;
}

int lmp_ksym_ranges(const char *path, const char *const *names, size_t n,
		    struct lmp_ksym_range *out)
{
	struct lmp_ksyms *own = NULL;
	const struct lmp_ksyms *ks = NULL;
	int found = 0, err;

	memset(out, 0, n * sizeof(*out));
	err = path ? lmp_ksyms_load(path, &own) : lmp_ksyms_default(&ks);
	if (err)
		return err;
	if (own)
		ks = own;
	for (size_t i = 0; i < n; i++) {
		if (range_of(ks, names[i], &out[i]))
			found++;
		else
			out[i] = (struct lmp_ksym_range){ 0, 0 };
	}
	lmp_ksyms_free(own);
	return found;
}

int lmp_ksyms_default(const struct lmp_ksyms **out)
{
	static struct lmp_ksyms *table;
	static int load_err;
	static bool tried;

	if (!tried) {
		tried = true;
		load_err = lmp_ksyms_load("/proc/kallsyms", &table);
	}
	*out = table;
	return load_err;
}
