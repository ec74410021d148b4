#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Prints the Debian archive this machine's apt uses: $LMP_DEBIAN_MIRROR when set, else the
# first Debian archive URI among the host's apt sources (one-line and deb822 formats),
# skipping the security archive, which holds no point releases. Scripts that fetch Debian
# packages outside the host's apt (kernels, base images, a fresh root) ask here, so the
# repository names no mirror of its own. Exit 1 when there is none.
set -u
if [ -n "${LMP_DEBIAN_MIRROR:-}" ]; then echo "${LMP_DEBIAN_MIRROR%/}"; exit 0; fi
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
	[ -r "$f" ] || continue
	case $f in
	*.sources) uri=$(sed -n 's/^URIs:[[:space:]]*//p' "$f" | tr ' ' '\n') ;;
	*) uri=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' "$f") ;;
	esac
	uri=$(printf '%s\n' $uri | grep -E '/debian/?$' | head -1 || true)
	if [ -n "$uri" ]; then echo "${uri%/}"; exit 0; fi
done
echo "debian-mirror.sh: no Debian archive in /etc/apt/sources.list* (set LMP_DEBIAN_MIRROR)" >&2
exit 1
