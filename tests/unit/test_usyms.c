// SPDX-License-Identifier: Apache-2.0
/*
 * agent/sym/usyms.c on real processes: functions of this test binary (global and static, found
 * through .symtab) and of libc (found through .dynsym, as Debian ships it stripped), the
 * size-bounded cache, dead processes, unmapped addresses and a mapped file that is not ELF.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "sym/usyms.h"
#include "sym/proclib.h"

static const char *self_name;

__attribute__((noinline)) int usyms_test_global_fn(int x)
{
	__asm__ volatile("" ::: "memory");
	return x * 3 + 1;
}

__attribute__((noinline)) static int usyms_test_static_fn(int x)
{
	__asm__ volatile("" ::: "memory");
	return x * 5 + 2;
}

static struct lmp_usyms *new_usyms(size_t max)
{
	struct lmp_usyms *u = NULL;

	assert_int_equal(lmp_usyms_new(max, &u), 0);
	assert_non_null(u);
	return u;
}

static void test_usyms_own_global_function(void **state)
{
	struct lmp_usyms *u = new_usyms(0);
	struct lmp_usym s;
	__u64 addr = (uintptr_t)&usyms_test_global_fn + 4;

	assert_int_equal(usyms_test_global_fn(1), 4);
	assert_int_equal(lmp_usyms_resolve(u, getpid(), addr, &s), 0);
	assert_non_null(s.name);
	assert_string_equal(s.name, "usyms_test_global_fn");
	assert_int_equal(s.offset, 4);
	assert_string_equal(s.module, self_name);
	lmp_usyms_free(u);
}

static void test_usyms_own_static_function(void **state)
{
	struct lmp_usyms *u = new_usyms(0);
	struct lmp_usym s;

	assert_int_equal(usyms_test_static_fn(1), 7);
	assert_int_equal(lmp_usyms_resolve(u, getpid(), (uintptr_t)&usyms_test_static_fn, &s), 0);
	assert_non_null(s.name);
	assert_string_equal(s.name, "usyms_test_static_fn");
	assert_int_equal(s.offset, 0);
	lmp_usyms_free(u);
}

static void test_usyms_libc_functions(void **state)
{
	struct lmp_usyms *u = new_usyms(0);
	void *getpid_addr = dlsym(RTLD_DEFAULT, "getpid");
	void *malloc_addr = dlsym(RTLD_DEFAULT, "malloc");
	struct lmp_usym s;
	char buf[128];

	assert_non_null(getpid_addr);
	assert_non_null(malloc_addr);
	assert_int_equal(lmp_usyms_resolve(u, getpid(), (uintptr_t)getpid_addr + 2, &s), 0);
	assert_non_null(s.name);
	/* getpid and __getpid share the address: the public spelling wins */
	assert_string_equal(s.name, "getpid");
	assert_int_equal(s.offset, 2);
	assert_string_equal(s.module, "libc.so.6");
	assert_int_equal(lmp_usyms_resolve(u, getpid(), (uintptr_t)malloc_addr, &s), 0);
	assert_string_equal(s.name, "malloc");
	lmp_usyms_format(u, getpid(), (uintptr_t)malloc_addr + 0x10, buf, sizeof(buf));
	assert_string_equal(buf, "malloc+0x10");
	lmp_usyms_free(u);
}

/* another process: a forked child that waits, resolved from the parent */
static void test_usyms_other_process(void **state)
{
	struct lmp_usyms *u = new_usyms(0);
	int go[2];
	struct lmp_usym s;
	pid_t child;
	char c;

	assert_int_equal(pipe(go), 0);
	child = fork();
	if (child == 0) {
		close(go[1]);
		(void)!read(go[0], &c, 1);
		_exit(usyms_test_global_fn(0) == 1 ? 0 : 1);
	}
	close(go[0]);
	/* same binary at the same address after fork: the child resolves like the parent */
	assert_int_equal(lmp_usyms_resolve(u, child, (uintptr_t)&usyms_test_global_fn + 1, &s), 0);
	assert_string_equal(s.name, "usyms_test_global_fn");
	assert_int_equal(s.offset, 1);
	(void)!write(go[1], "x", 1);
	close(go[1]);
	assert_int_equal(waitpid(child, NULL, 0), child);
	/* once the cached mappings are dropped, the dead process is reported as gone */
	lmp_usyms_forget_pids(u);
	assert_int_equal(lmp_usyms_resolve(u, child, (uintptr_t)&usyms_test_global_fn, &s), -ESRCH);
	lmp_usyms_free(u);
}

static void test_usyms_unmapped_address(void **state)
{
	struct lmp_usyms *u = new_usyms(0);
	struct lmp_usym s;
	char buf[64];
	int x = 0;

	assert_int_equal(lmp_usyms_resolve(u, getpid(), 0x10, &s), -ENOENT);
	/* the stack is mapped, but not executable: no code there */
	assert_int_equal(lmp_usyms_resolve(u, getpid(), (uintptr_t)&x, &s), -ENOENT);
	lmp_usyms_format(u, getpid(), 0x10, buf, sizeof(buf));
	assert_string_equal(buf, "0x10");
	lmp_usyms_free(u);
}

/* a file mapped executable that is not ELF: a module name, no symbol, no crash */
static void test_usyms_mapped_non_elf(void **state)
{
	struct lmp_usyms *u = new_usyms(0);
	char path[] = "/tmp/lmp-usyms-notelf.XXXXXX", buf[128];
	const char *base;
	struct lmp_usym s;
	char junk[8192];
	void *m;
	int fd;

	memset(junk, 0xcc, sizeof(junk));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	m = mmap(NULL, sizeof(junk), PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal(lmp_usyms_resolve(u, getpid(), (uintptr_t)m + 0x1010, &s), 0);
	assert_null(s.name);
	base = strrchr(path, '/') + 1;
	assert_string_equal(s.module, base);
	assert_int_equal(s.offset, 0x1010);
	lmp_usyms_format(u, getpid(), (uintptr_t)m + 0x1010, buf, sizeof(buf));
	assert_true(strncmp(buf, "[", 1) == 0 && strstr(buf, "+0x1010]") != NULL);
	munmap(m, sizeof(junk));
	close(fd);
	unlink(path);
	lmp_usyms_free(u);
}

/* a 1-byte bound: each new binary evicts the previous, and answers stay right */
static void test_usyms_cache_bound_evicts(void **state)
{
	struct lmp_usyms *u = new_usyms(1);
	void *getpid_addr = dlsym(RTLD_DEFAULT, "getpid");
	struct lmp_usyms_stats st;
	struct lmp_usym s;

	for (int round = 0; round < 3; round++) {
		assert_int_equal(
			lmp_usyms_resolve(u, getpid(), (uintptr_t)&usyms_test_global_fn, &s), 0);
		assert_string_equal(s.name, "usyms_test_global_fn");
		assert_int_equal(lmp_usyms_resolve(u, getpid(), (uintptr_t)getpid_addr, &s), 0);
		assert_string_equal(s.name, "getpid");
	}
	lmp_usyms_get_stats(u, &st);
	assert_int_equal(st.binaries, 1); /* only the table in use survives */
	assert_int_equal(st.loads, 6);
	assert_int_equal(st.evictions, 5);
	assert_int_equal(st.pids, 1);
	lmp_usyms_free(u);
}

/* a large bound keeps both tables: every later lookup is a cache hit */
static void test_usyms_cache_hits(void **state)
{
	struct lmp_usyms *u = new_usyms(0);
	void *getpid_addr = dlsym(RTLD_DEFAULT, "getpid");
	struct lmp_usyms_stats st;
	struct lmp_usym s;

	for (int round = 0; round < 5; round++) {
		assert_int_equal(
			lmp_usyms_resolve(u, getpid(), (uintptr_t)&usyms_test_global_fn, &s), 0);
		assert_int_equal(lmp_usyms_resolve(u, getpid(), (uintptr_t)getpid_addr, &s), 0);
		lmp_usyms_forget_pids(u); /* mappings re-read; symbol tables kept */
	}
	lmp_usyms_get_stats(u, &st);
	assert_int_equal(st.loads, 2);
	assert_int_equal(st.evictions, 0);
	assert_int_equal(st.binaries, 2);
	assert_true(st.bytes > 0);
	assert_int_equal(st.pids, 0);
	lmp_usyms_free(u);
	lmp_usyms_free(NULL);
}

/* uprobe targets: the file offset of a function, checked against where it is mapped */
static void test_usyms_func_offset_matches_mapping(void **state)
{
	/* libc's own malloc: under SANITIZE=address the default one is the sanitizer's */
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	void *addr = libc ? dlsym(libc, "malloc") : NULL;
	unsigned long long start, end, pgoff;
	__u64 off = 0, want = 0;
	char line[512], path[256] = "";
	Dl_info info;
	FILE *f;

	assert_non_null(addr);
	assert_true(dladdr(addr, &info) != 0);
	f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %255s", &start, &end, &pgoff, path) ==
			    4 &&
		    (uintptr_t)addr >= start && (uintptr_t)addr < end)
			want = (uintptr_t)addr - start + pgoff;
	}
	fclose(f);
	assert_true(want != 0);
	assert_int_equal(lmp_proc_lib_offset(info.dli_fname, "malloc", &off), 0);
	assert_int_equal(off, want);
	/* versioned twice in glibc (@GLIBC_2.2.5 and @@GLIBC_2.17): still one answer */
	assert_int_equal(lmp_proc_lib_offset(info.dli_fname, "clock_nanosleep", &off), 0);
	assert_int_equal(lmp_proc_lib_offset(info.dli_fname, "no_such_fn_xyz", &off), -ENOENT);
	assert_int_equal(lmp_proc_lib_offset("/proc/self/exe", "usyms_test_static_fn", &off), 0);
	assert_int_equal(lmp_proc_lib_offset("/etc/passwd", "malloc", &off), -ENOEXEC);
	assert_int_equal(lmp_proc_lib_offset("/nonexistent", "malloc", &off), -ENOENT);
	dlclose(libc);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usyms_own_global_function),
		cmocka_unit_test(test_usyms_own_static_function),
		cmocka_unit_test(test_usyms_libc_functions),
		cmocka_unit_test(test_usyms_other_process),
		cmocka_unit_test(test_usyms_unmapped_address),
		cmocka_unit_test(test_usyms_mapped_non_elf),
		cmocka_unit_test(test_usyms_cache_bound_evicts),
		cmocka_unit_test(test_usyms_cache_hits),
		cmocka_unit_test(test_usyms_func_offset_matches_mapping),
	};
	const char *slash = strrchr(argv[0], '/');

	self_name = slash ? slash + 1 : argv[0];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
