#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The repository stands alone: no tracked file names a path outside it (a sibling checkout
# such as ../shared, or an absolute path of a development machine such as /work/...).
set -u
cd "$(dirname "$0")/../.."
self=tests/e2e/test_standalone.sh
hits=$(git ls-files -z | grep -zv -e "^$self\$" -e '^tests/fixtures/' |
	xargs -0 grep -nE '\.\./shared\b|/work/[a-z]' 2>/dev/null)
if [ -n "$hits" ]; then
	echo "paths outside the repository:"
	echo "$hits"
	exit 1
fi
n=$(git ls-files | wc -l)
echo "checked $n tracked files: no path outside the repository"
