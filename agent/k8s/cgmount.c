// SPDX-License-Identifier: Apache-2.0
/* cgroup v2 mount detection from mountinfo; see cgmount.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "k8s/cgmount.h"

static void unescape_octal(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

static int mount_score(const char *mp)
{
	size_t n = strlen(mp);
	static const char v2[] = "/sys/fs/cgroup", hy[] = "/sys/fs/cgroup/unified";

	if (n > sizeof(hy) - 1 && !strcmp(mp + n - (sizeof(hy) - 1), hy))
		return 4; /* host hierarchy bind-mounted, hybrid */
	if (n > sizeof(v2) - 1 && !strcmp(mp + n - (sizeof(v2) - 1), v2))
		return 5; /* host hierarchy bind-mounted, pure v2 */
	if (!strcmp(mp, v2))
		return 3;
	if (!strcmp(mp, hy))
		return 2;
	return 1;
}

int lmp_cgroup_find_v2(const char *mounts, char *out, size_t len)
{
	int best = 0;

	for (const char *l = mounts; l && *l;) {
		const char *eol = strchrnul(l, '\n');
		char line[4096], *f[16], *save = NULL, *mp = NULL, *fstype = NULL;
		size_t ll = eol - l;
		int nf = 0;

		if (ll < sizeof(line)) {
			memcpy(line, l, ll);
			line[ll] = '\0';
			for (char *t = strtok_r(line, " \t", &save); t && nf < 16;
			     t = strtok_r(NULL, " \t", &save))
				f[nf++] = t;
		}
		/* mountinfo: id parent maj:min root mountpoint opts [tags...] - fstype src opts */
		for (int i = 6; i < nf - 1; i++)
			if (!strcmp(f[i], "-")) {
				mp = f[4];
				fstype = f[i + 1];
				break;
			}
		/* /proc/mounts: source mountpoint fstype opts dump pass */
		if (!mp && nf >= 3) {
			mp = f[1];
			fstype = f[2];
		}
		if (mp && !strcmp(fstype, "cgroup2")) {
			int s;

			unescape_octal(mp);
			s = mount_score(mp);
			if (s > best && strlen(mp) < len) {
				best = s;
				strcpy(out, mp);
			}
		}
		l = *eol ? eol + 1 : eol;
	}
	return best ? 0 : -ENOENT;
}

int lmp_cgroup_detect_v2(char *out, size_t len)
{
	char *text = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	ssize_t n;
	int r;

	if (!f)
		return -errno;
	n = getdelim(&text, &cap, '\0', f); /* whole file: it has no NUL */
	fclose(f);
	if (n < 0) {
		free(text);
		return -EIO;
	}
	r = lmp_cgroup_find_v2(text, out, len);
	free(text);
	return r;
}

int lmp_cgroup_id_of(const char *dir, __u64 *id)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}
