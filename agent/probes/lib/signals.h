/* SPDX-License-Identifier: Apache-2.0 */
/* Signal lists in options, by name or number. */
#ifndef LMP_SIGNALS_H
#define LMP_SIGNALS_H

#include <stddef.h>
#include <linux/types.h>

/*
 * Parse a comma list of signals ("SIGCHLD,urg,9"; names with or without SIG, any case,
 * numbers 0..63) into a bit mask (bit n = signal n). "" and "none" give 0. -EINVAL with a
 * one-line reason in err for anything else.
 */
int lmp_signal_mask_parse(const char *list, __u64 *mask, char *err, size_t errlen);

#endif /* LMP_SIGNALS_H */
