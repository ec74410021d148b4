// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
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
