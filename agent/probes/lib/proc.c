// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
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
