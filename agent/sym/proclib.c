// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sym/proclib.h"

static bool names_lib(const char *path, const char *lib)
{
	const char *base = strrchr(path, '/');
	size_t n = strlen(lib);

	base = base ? base + 1 : path;
	return strncmp(base, lib, n) == 0 && (base[n] == 0 || base[n] == '.' || base[n] == '-');
}

int lmp_proc_lib(__u32 pid, const char *const *libs, size_t n, char *out, size_t len)
{
	char maps[64], *line = NULL;
	size_t cap = 0;
	int r = -ENOENT;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%u/maps", pid);
	f = fopen(maps, "re");
	if (!f)
		return -ESRCH;
	while (r < 0 && getline(&line, &cap, f) > 0) {
		char *path = strchr(line, '/');

		if (!path)
			continue;
		path[strcspn(path, "\n")] = 0;
		for (size_t i = 0; i < n && r < 0; i++)
			if (names_lib(path, libs[i])) {
				snprintf(out, len, "/proc/%u/root%s", pid, path);
				r = access(out, R_OK) == 0 ? 0 : -ENOENT;
			}
	}
	free(line);
	fclose(f);
	return r;
}

struct func_match {
	__u64 vaddr;
	int prio; /* 2: .symtab or default version, 1: hidden (old) version */
	bool found, conflict;
};

static void match_section(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, Elf_Data *versym,
			  const char *name, struct func_match *m)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count;

	if (!data || !sh->sh_entsize)
		return;
	count = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < count; i++) {
		GElf_Versym ver = 0;
		const char *n;
		GElf_Sym sym;
		int type, prio;

		if (!gelf_getsym(data, i, &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		n = elf_strptr(e, sh->sh_link, sym.st_name);
		if (!n || strcmp(n, name) != 0)
			continue;
		if (versym)
			gelf_getversym(versym, i, &ver);
		prio = ver & 0x8000 ? 1 : 2; /* VERSYM_HIDDEN: a compat version, not the default */
		if (!m->found || prio > m->prio) {
			m->vaddr = sym.st_value;
			m->prio = prio;
			m->found = true;
			m->conflict = false;
		} else if (prio == m->prio && sym.st_value != m->vaddr) {
			m->conflict = true;
		}
	}
}

int lmp_proc_lib_offset(const char *path, const char *name, __u64 *off)
{
	struct func_match m = { 0 };
	Elf_Data *versym = NULL;
	Elf_Scn *scn = NULL;
	size_t nph = 0;
	GElf_Shdr sh;
	int fd, err = -ENOENT;
	Elf *e;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOTSUP;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &nph) != 0) {
		err = -ENOEXEC;
		goto out;
	}
	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_GNU_versym)
			versym = elf_getdata(scn, NULL);
	while ((scn = elf_nextscn(e, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			match_section(e, scn, &sh, NULL, name, &m);
		else if (sh.sh_type == SHT_DYNSYM)
			match_section(e, scn, &sh, versym, name, &m);
	}
	if (!m.found)
		goto out;
	if (m.conflict) {
		err = -EEXIST;
		goto out;
	}
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (m.vaddr >= ph.p_vaddr && m.vaddr < ph.p_vaddr + ph.p_filesz) {
			*off = m.vaddr - ph.p_vaddr + ph.p_offset;
			err = 0;
			break;
		}
	}
out:
	elf_end(e);
	close(fd);
	return err;
}
