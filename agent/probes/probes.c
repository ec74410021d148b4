// SPDX-License-Identifier: Apache-2.0
/*
 * The registry: every probe of the product list, in the order `lmp probes` shows them.
 * A probe's descriptor is `const struct lmp_probe_desc lmp_probe_<name>` in
 * agent/probes/<name>.c. The references are strong: a name without its descriptor fails
 * the link. The same list gives config.c each probe's options (core/config.h).
 */
#include "probe/probe.h"

#define LMP_PROBE_LIST(X) \
	X(process)        \
	X(syscall)        \
	X(file)           \
	X(tcp)            \
	X(oomkill)        \
	X(sigsnoop)       \
	X(bindsnoop)      \
	X(mountsnoop)     \
	X(opensnoop)      \
	X(capable)        \
	X(biolatency)     \
	X(biopattern)     \
	X(biosnoop)       \
	X(biostacks)      \
	X(bitesize)       \
	X(syscount)       \
	X(tcpconnlat)     \
	X(tcprtt)         \
	X(runqlat)        \
	X(funclatency)    \
	X(memleak)        \
	X(profile)        \
	X(llcstat)

#define DECLARE(n) extern const struct lmp_probe_desc lmp_probe_##n;
#define ENTRY(n) { #n, &lmp_probe_##n },
#define OPTIONS(n) { #n, &lmp_probe_##n.options },

LMP_PROBE_LIST(DECLARE)

const struct lmp_registry_entry lmp_registry[] = { LMP_PROBE_LIST(ENTRY) };
const size_t lmp_registry_len = ARRAY_SIZE(lmp_registry);
const struct lmp_option_source lmp_probe_option_groups[] = { LMP_PROBE_LIST(OPTIONS) };
const size_t lmp_probe_option_groups_len = ARRAY_SIZE(lmp_probe_option_groups);
