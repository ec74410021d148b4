// SPDX-License-Identifier: Apache-2.0
/*
 * agent/probes/lib/blkio.c: disk names from a fake sysfs tree, the rwbs and op spellings, the
 * blk_status names, the per-interval row table (with enough rows to regrow its index) and
 * the histogram object the summaries print.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "lmp/event.h"
#include "probes/lib/blkio.h"

#define DEV(ma, mi) (((__u32)(ma) << LMP_BLKIO_MINORBITS) | (mi))

static char sysroot[64];

static void write_uevent(unsigned ma, unsigned mi, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/dev", sysroot);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/dev/block", sysroot);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/dev/block/%u:%u", sysroot, ma, mi);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/dev/block/%u:%u/uevent", sysroot, ma, mi);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int make_sysroot(void **state)
{
	snprintf(sysroot, sizeof(sysroot), "/tmp/lmp-unit-blkio-XXXXXX");
	assert_non_null(mkdtemp(sysroot));
	return 0;
}

static int remove_sysroot(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sysroot);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_devname(void **state)
{
	char name[32];

	write_uevent(259, 0, "MAJOR=259\nMINOR=0\nDEVNAME=nvme0n1\nDEVTYPE=disk\nDISKSEQ=3\n");
	write_uevent(7, 12, "MAJOR=7\nMINOR=12\nDEVTYPE=disk\nDEVNAME=loop12"); /* no final NL */
	write_uevent(8, 16, "MAJOR=8\nMINOR=16\nDEVTYPE=disk\n");		/* no DEVNAME */
	write_uevent(8, 32, "DEVNAME=\n");
	write_uevent(8, 48, "DEVNAME=a-name-much-longer-than-the-buffer-we-pass-in\n");

	assert_int_equal(lmp_blkio_read_devname(sysroot, DEV(259, 0), name, sizeof(name)), 0);
	assert_string_equal(name, "nvme0n1");
	assert_int_equal(lmp_blkio_read_devname(sysroot, DEV(7, 12), name, sizeof(name)), 0);
	assert_string_equal(name, "loop12");
	assert_int_equal(lmp_blkio_read_devname(sysroot, DEV(8, 16), name, sizeof(name)), -ENOENT);
	assert_int_equal(lmp_blkio_read_devname(sysroot, DEV(8, 32), name, sizeof(name)), -ENOENT);
	assert_int_equal(lmp_blkio_read_devname(sysroot, DEV(8, 48), name, 16), -ENAMETOOLONG);
	assert_int_equal(lmp_blkio_read_devname(sysroot, DEV(8, 64), name, sizeof(name)), -ENOENT);
	assert_int_equal(lmp_blkio_read_devname(sysroot, DEV(259, 0), name, 0), -EINVAL);
}

/* the cached lookup reads the real /sys: a device that cannot exist prints as M:m */
static void test_disk_name_fallback(void **state)
{
	assert_string_equal(lmp_blkio_disk_name(DEV(4095, 1048575)), "4095:1048575");
	assert_string_equal(lmp_blkio_disk_name(DEV(4095, 1048574)), "4095:1048574");
}

static void test_rwbs_and_op(void **state)
{
	char b[8];

	lmp_blkio_rwbs(LMP_BLKIO_OP_READ, b);
	assert_string_equal(b, "R");
	lmp_blkio_rwbs(LMP_BLKIO_OP_READ | LMP_BLKIO_F_RAHEAD | LMP_BLKIO_F_META, b);
	assert_string_equal(b, "RAM");
	lmp_blkio_rwbs(LMP_BLKIO_OP_WRITE | LMP_BLKIO_F_SYNC, b);
	assert_string_equal(b, "WS");
	lmp_blkio_rwbs(LMP_BLKIO_OP_WRITE | LMP_BLKIO_F_PREFLUSH | LMP_BLKIO_F_FUA |
			       LMP_BLKIO_F_SYNC | LMP_BLKIO_F_META,
		       b);
	assert_string_equal(b, "FWFSM");
	lmp_blkio_rwbs(LMP_BLKIO_OP_SECURE_ERASE, b);
	assert_string_equal(b, "DE");
	lmp_blkio_rwbs(LMP_BLKIO_OP_FLUSH | LMP_BLKIO_F_PREFLUSH, b);
	assert_string_equal(b, "FF");
	lmp_blkio_rwbs(LMP_BLKIO_OP_OTHER | LMP_BLKIO_F_STARTED, b);
	assert_string_equal(b, "N");

	assert_string_equal(lmp_blkio_op_name(LMP_BLKIO_OP_READ | LMP_BLKIO_F_SYNC), "read");
	assert_string_equal(lmp_blkio_op_name(LMP_BLKIO_OP_WRITE), "write");
	assert_string_equal(lmp_blkio_op_name(LMP_BLKIO_OP_DISCARD), "discard");
	assert_string_equal(lmp_blkio_op_name(LMP_BLKIO_OP_WRITE_ZEROES), "write_zeroes");
	assert_string_equal(lmp_blkio_op_name(LMP_BLKIO_OP_OTHER), "other");
	assert_string_equal(lmp_blkio_op_name(34), "other");
}

static void test_controllers_have_io(void **state)
{
	char path[128];
	FILE *f;

	assert_true(lmp_blkio_controllers_have_io("cpuset cpu io memory hugetlb pids rdma\n"));
	assert_true(lmp_blkio_controllers_have_io("io"));
	assert_true(lmp_blkio_controllers_have_io("cpu io\n"));
	assert_false(lmp_blkio_controllers_have_io(""));
	assert_false(lmp_blkio_controllers_have_io("\n"));
	assert_false(lmp_blkio_controllers_have_io("cpuset cpu memory pids misc\n"));
	assert_false(lmp_blkio_controllers_have_io("biology iox xio\n"));

	/* a v2 root given explicitly: its cgroup.controllers decides */
	snprintf(path, sizeof(path), "%s/cgroup.controllers", sysroot);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("cpu memory pids\n", f);
	fclose(f);
	assert_false(lmp_blkio_io_on_v2(sysroot));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("cpu io memory pids\n", f);
	fclose(f);
	assert_true(lmp_blkio_io_on_v2(sysroot));
	/* unreadable: in doubt, let the BPF side check each blkcg */
	assert_true(lmp_blkio_io_on_v2("/nonexistent-lmp-root"));
}

static void test_status_names(void **state)
{
	assert_null(lmp_blkio_status_name(0));
	assert_string_equal(lmp_blkio_status_name(10), "EIO");
	assert_string_equal(lmp_blkio_status_name(1), "EOPNOTSUPP");
	assert_string_equal(lmp_blkio_status_name(13), "EBUSY");
	assert_string_equal(lmp_blkio_status_name(200), "BLK_STS_200");
}

static void test_rows(void **state)
{
	struct lmp_blkio_rows rows;
	__u64 *v;

	lmp_blkio_rows_init(&rows, sizeof(__u64));
	/* 1000 distinct (cgroup, dev) pairs, each hit i+1 times: the index regrows several times */
	for (int round = 0; round < 3; round++) {
		for (__u64 cg = 1; cg <= 500; cg++) {
			for (__u32 d = 0; d < 2; d++) {
				v = lmp_blkio_rows_get(&rows, cg, DEV(8, d * 16));
				assert_non_null(v);
				*v += cg;
			}
		}
	}
	assert_false(rows.oom);
	assert_int_equal(rows.n, 1000);
	for (size_t i = 0; i < rows.n; i++) {
		assert_int_equal(*(__u64 *)rows.rows[i].val, 3 * rows.rows[i].cgroup_id);
		rows.rows[i].weight = *(__u64 *)rows.rows[i].val;
	}
	lmp_blkio_rows_sort(&rows);
	assert_int_equal(rows.rows[0].cgroup_id, 500);
	assert_int_equal(rows.rows[0].dev, DEV(8, 0)); /* tie on weight: lower dev first */
	assert_int_equal(rows.rows[1].dev, DEV(8, 16));
	assert_int_equal(rows.rows[999].cgroup_id, 1);
	for (size_t i = 1; i < rows.n; i++)
		assert_true(rows.rows[i - 1].weight >= rows.rows[i].weight);
	lmp_blkio_rows_free(&rows);
	assert_int_equal(rows.n, 0);
	lmp_blkio_rows_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devname),	     cmocka_unit_test(test_disk_name_fallback),
		cmocka_unit_test(test_rwbs_and_op),  cmocka_unit_test(test_controllers_have_io),
		cmocka_unit_test(test_status_names), cmocka_unit_test(test_rows),
	};

	return cmocka_run_group_tests(tests, make_sysroot, remove_sysroot);
}
