// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/lib/proc.h"

void lmp_proc_comm(__u32 pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

static bool lib_matches(const char *path, const char *lib)
{
	const char *base = strrchr(path, '/');
	size_t n = strlen(lib);

	base = base ? base + 1 : path;
	return strncmp(base, lib, n) == 0 && (base[n] == 0 || base[n] == '.' || base[n] == '-');
}

int lmp_proc_find_lib(__u32 pid, const char *lib, char *out, size_t len)
{
	char maps[64], *line = NULL;
	size_t cap = 0;
	int err = -ENOENT;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%u/maps", pid);
	f = fopen(maps, "re");
	if (!f)
		return -ESRCH;
	while (err && getline(&line, &cap, f) > 0) {
		char *path = strchr(line, '/');

		if (!path)
			continue;
		path[strcspn(path, "\n")] = 0;
		if (lib_matches(path, lib)) {
			snprintf(out, len, "/proc/%u/root%s", pid, path);
			err = 0;
		}
	}
	free(line);
	fclose(f);
	return err;
}
