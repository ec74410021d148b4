/* SPDX-License-Identifier: Apache-2.0 */
/* What probes read about a process from /proc/<pid> (its libraries: sym/proclib.h). */
#ifndef LMP_PROC_H
#define LMP_PROC_H

#include <stddef.h>
#include <linux/types.h>

/* /proc/<pid>/comm into buf without its newline; buf is left as it was when the process is
 * gone */
void lmp_proc_comm(__u32 pid, char *buf, size_t len);

#endif /* LMP_PROC_H */
