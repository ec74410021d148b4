// SPDX-License-Identifier: Apache-2.0
/*
 * kallsyms parsing. Names live in one string pool and symbols in one array, so a table of
 * 200k symbols costs three allocations, not 400k. Only text symbols are kept: stacks hold
 * code addresses, and a data symbol between two functions would otherwise steal the tail
 * of the function before it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"

struct lmp_ksyms {
	struct lmp_ksym *syms;
	size_t n;
	char *pool;
};

struct raw_sym {
	__u64 addr;
	size_t name, module; /* pool offsets; module (size_t)-1 for none */
};

struct pool {
	char *buf;
	size_t len, cap;
};

static long pool_add(struct pool *p, const char *s, size_t n)
{
	size_t at = p->len;

	if (p->len + n + 1 > p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 1 << 16;
		char *nb;

		while (cap < p->len + n + 1)
			cap *= 2;
		nb = realloc(p->buf, cap);
		if (!nb)
			return -ENOMEM;
		p->buf = nb;
		p->cap = cap;
	}
	memcpy(p->buf + p->len, s, n);
	p->buf[p->len + n] = 0;
	p->len += n + 1;
	return at;
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
	free(ks->syms);
	free(ks->pool);
	free(ks);
}

int lmp_ksyms_load(const char *path, struct lmp_ksyms **out)
{
	struct raw_sym *raw = NULL, *nr;
	size_t n = 0, cap = 0, nonzero = 0, last_mod_len = 0;
	long last_mod = -1;
	struct pool pool = { 0 };
	struct lmp_ksyms *ks = NULL;
	char *line = NULL;
	size_t linecap = 0;
	FILE *f;
	int err = 0;

	*out = NULL;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &linecap, f) > 0) {
		char *p = line, *end, *name, *mod;
		unsigned long long addr;
		char type, sep;
		long noff, moff = -1;

		addr = strtoull(p, &end, 16);
		if (end == p || *end != ' ')
			continue;
		p = end + 1;
		type = *p;
		if (!type || p[1] != ' ' || !is_text(type))
			continue;
		name = p + 2;
		end = name + strcspn(name, " \t\n");
		if (end == name)
			continue;
		sep = *end;
		*end = 0;
		if (sep == ' ' || sep == '\t') {
			mod = end + 1 + strspn(end + 1, " \t");
			if (*mod == '[') {
				size_t ml = strcspn(mod + 1, "]\n");

				/* modules repeat on every line: share the last one's copy */
				if (last_mod >= 0 && ml == last_mod_len &&
				    memcmp(pool.buf + last_mod, mod + 1, ml) == 0) {
					moff = last_mod;
				} else {
					moff = pool_add(&pool, mod + 1, ml);
					if (moff < 0) {
						err = -ENOMEM;
						goto out;
					}
					last_mod = moff;
					last_mod_len = ml;
				}
			}
		}
		noff = pool_add(&pool, name, end - name);
		if (noff < 0) {
			err = -ENOMEM;
			goto out;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			nr = realloc(raw, cap * sizeof(*raw));
			if (!nr) {
				err = -ENOMEM;
				goto out;
			}
			raw = nr;
		}
		raw[n].addr = addr;
		raw[n].name = noff;
		raw[n].module = moff < 0 ? (size_t)-1 : (size_t)moff;
		nonzero += addr != 0;
		n++;
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
	ks = calloc(1, sizeof(*ks));
	if (!ks || !(ks->syms = calloc(n, sizeof(*ks->syms)))) {
		err = -ENOMEM;
		goto out;
	}
	ks->pool = pool.buf;
	pool.buf = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!raw[i].addr)
			continue;
		ks->syms[ks->n].addr = raw[i].addr;
		ks->syms[ks->n].name = ks->pool + raw[i].name;
		ks->syms[ks->n].module = raw[i].module == (size_t)-1 ? NULL : ks->pool + raw[i].module;
		ks->n++;
	}
	*out = ks;
	ks = NULL;
out:
	lmp_ksyms_free(ks);
	free(pool.buf);
	free(raw);
	free(line);
	fclose(f);
	return err;
}

size_t lmp_ksyms_count(const struct lmp_ksyms *ks)
{
	return ks ? ks->n : 0;
}

const struct lmp_ksym *lmp_ksyms_resolve(const struct lmp_ksyms *ks, __u64 addr, __u64 *off)
{
	size_t lo = 0, hi;

	if (!ks || !ks->n || addr < ks->syms[0].addr)
		return NULL;
	/* invariant: syms[lo].addr <= addr, and every index >= hi is above addr */
	hi = ks->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	/* aliases share an address: report the first of them, as the sort put it */
	while (lo > 0 && ks->syms[lo - 1].addr == ks->syms[lo].addr)
		lo--;
	if (off)
		*off = addr - ks->syms[lo].addr;
	return &ks->syms[lo];
}

const struct lmp_ksym *lmp_ksyms_find(const struct lmp_ksyms *ks, const char *name)
{
	for (size_t i = 0; ks && i < ks->n; i++)
		if (strcmp(ks->syms[i].name, name) == 0)
			return &ks->syms[i];
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
