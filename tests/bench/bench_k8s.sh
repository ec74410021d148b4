#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Kubernetes identity (issue 3): lookup on a hit, PodList parse, memory per 1,000 containers.
# Run by tests/bench/run.sh (`make bench`); needs root (makes cgroups in the v2 tree).
set -u
BUILD=${BUILD:-build}
FIXTURES=${LMP_FIXTURES:-tests/fixtures}
echo "## k8s identity: cgroup id -> pod lookup, kubelet /pods parse, memory"
"$BUILD/bench/k8s_identity" "$FIXTURES" 2> >(grep -v ' lmp info: ' >&2)
