#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Packaging tests (`make test-packaging`, part of `make test`): the Helm chart and the plain
# manifests, offline.
#   - helm lint --strict and helm template with the default and with non-default values;
#   - every rendered object, and every object of k8s/, validated against the Kubernetes API
#     schema (tools/k8s-validate.mjs: types, required fields, enums, unknown fields);
#   - kubectl (1.32) builds k8s/ with kustomize and parses every object offline;
#   - what must hold in the DaemonSet: hostPID, capabilities instead of privileged,
#     readOnlyRootFilesystem, downward-API NODE_NAME/NODE_IP, host mounts, /healthz and
#     /readyz probes, tolerations, priority class, requests and limits;
#   - k8s/ and the chart's default output agree on all of that;
#   - non-default values reach the objects; bad values are rejected by values.schema.json
#     with a message that names the value;
#   - NOTES.txt renders; the ServiceMonitor and dashboard switches behave.
# Needs npm (helm and the schemas come from the npm registry: tools/get-helm.sh) and kubectl.
# Prints "N passed, N failed" last; exit status 1 on any failure.

set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
output=${OUTPUT:-$root/.output}
export LMP_K8S_TOOLS=${LMP_K8S_TOOLS:-$output/k8s-tools}
work=$(mktemp -d /tmp/lmp-packaging.XXXXXX)
trap 'rm -rf "$work"' EXIT

. "$root/tests/lib/checks.sh"
q() { node tests/e2e/packaging_query.mjs "$@"; }
# expect NAME FILE KIND PATH EXPECTED: the value at PATH equals EXPECTED ("<missing>": absent,
# "<present>": anything). Queued, and checked
# in one node process by verify (one process per query would dominate the run time).
e_name=() e_query=() e_want=()
expect() {
	e_name+=("$1")
	e_query+=("$2"$'\t'"$3"$'\t'"$4")
	e_want+=("$5")
}
verify() {
	local i got=()
	[ "${#e_name[@]}" = 0 ] && return 0
	mapfile -t got < <(printf '%s\n' "${e_query[@]}" | q batch)
	for i in "${!e_name[@]}"; do
		if [ "${got[$i]-<no answer>}" = "${e_want[$i]}" ] ||
			{ [ "${e_want[$i]}" = "<present>" ] && [ "${got[$i]-<missing>}" != "<missing>" ]; }; then
			: >"$work/log"
			ok "${e_name[$i]}"
		else
			printf '%s: got %s, want %s\n' "${e_query[$i]//$'\t'/ }" "${got[$i]-<no answer>}" \
				"${e_want[$i]}" >"$work/log"
			not_ok "${e_name[$i]}"
		fi
	done
	e_name=() e_query=() e_want=()
}

# ---- tools -------------------------------------------------------------------------------
if ! helm=$(tools/get-helm.sh "$LMP_K8S_TOOLS" 2>"$work/log" | tail -n 1) || [ ! -x "$helm" ]; then
	not_ok "tools/get-helm.sh installs helm and the schemas"
	echo "0 passed, $failed failed"
	exit 1
fi
ok "tools/get-helm.sh: $("$helm" version --short)"
# kubectl: the machine's (1.32 here), else the one tools/get-helm.sh unpacked.
kubectl=$(command -v kubectl || echo "$LMP_K8S_TOOLS/bin/kubectl")
[ -x "$kubectl" ] || kubectl=
[ -n "$kubectl" ] && ok "kubectl: $("$kubectl" version --client 2>/dev/null | head -n 1)"
# kubectl must never reach for a cluster here.
export KUBECONFIG=/dev/null

chart=helm/lmp
default="$work/default.yaml"
full="$work/full.yaml"
plain="$work/plain.yaml"
ds='spec.template.spec'
c="$ds.containers[name=lmp]"

# ---- lint and render ---------------------------------------------------------------------
check "helm lint --strict (defaults)" "$helm" lint --strict "$chart"
check "helm lint --strict (ci/full-values.yaml)" "$helm" lint --strict "$chart" \
	-f "$chart/ci/full-values.yaml"
check "helm template (defaults)" sh -c "'$helm' template lmp $chart --namespace lmp >'$default'"
check "helm template (ci/full-values.yaml)" sh -c \
	"'$helm' template lmp $chart --namespace obs -f $chart/ci/full-values.yaml >'$full'"

# ---- the Kubernetes API schema -----------------------------------------------------------
check "chart defaults: every object valid against the API schema" \
	node tools/k8s-validate.mjs "$default"
check "chart full values: every object valid against the API schema" \
	node tools/k8s-validate.mjs "$full"
check "k8s/*.yaml: every object valid against the API schema" \
	node tools/k8s-validate.mjs k8s/*.yaml
# The validator must catch what the API server would refuse; otherwise the checks above
# prove nothing.
sed 's/readOnlyRootFilesystem:/readOnlyRootFilesytem:/' k8s/daemonset.yaml >"$work/typo.yaml"
check_fails "validator rejects an unknown field (typo)" 'unknown field.*readOnlyRootFilesytem' \
	node tools/k8s-validate.mjs "$work/typo.yaml"
sed 's/containerPort: 9464/containerPort: "9464"/' k8s/daemonset.yaml >"$work/type.yaml"
check_fails "validator rejects a wrong type" 'containerPort must be integer' \
	node tools/k8s-validate.mjs "$work/type.yaml"
sed 's/fieldPath: spec.nodeName/fieldPathh: spec.nodeName/' k8s/daemonset.yaml >"$work/req.yaml"
check_fails "validator rejects a missing required field" "fieldPath" \
	node tools/k8s-validate.mjs "$work/req.yaml"

# ---- kubectl, offline --------------------------------------------------------------------
if [ -z "$kubectl" ]; then
	echo "kubectl not found" >"$work/log"
	not_ok "kubectl is installed"
else
	check "kubectl kustomize k8s/" sh -c "'$kubectl' kustomize k8s/ >'$plain'"
	check "kustomize output valid against the API schema" node tools/k8s-validate.mjs "$plain"
	# `kubectl label --local` decodes every object with kubectl's own codecs, no server.
	for f in "$plain" "$default" "$full"; do
		n=$(q kinds "$f" | wc -l)
		check "kubectl parses $(basename "$f") offline ($n objects)" sh -c \
			"test \$('$kubectl' label --local -f '$f' -o name lmp-test=1 | wc -l) -eq $n"
	done
fi

# ---- the DaemonSet: what must hold, in k8s/ and in the chart -----------------------------
for f in "$plain" "$default" "$full"; do
	name=$(basename "$f" .yaml)
	expect "$name: hostPID" "$f" DaemonSet "$ds.hostPID" true
	expect "$name: not privileged" "$f" DaemonSet "$c.securityContext.privileged" false
	check "$name: no 'privileged: true' anywhere" bash -c "! grep -Eq 'privileged:[[:space:]]*true' '$f'"
	expect "$name: drops ALL capabilities" "$f" DaemonSet "$c.securityContext.capabilities.drop" '["ALL"]'
	expect "$name: read-only root filesystem" "$f" DaemonSet "$c.securityContext.readOnlyRootFilesystem" true
	expect "$name: NODE_NAME from spec.nodeName" "$f" DaemonSet \
		"$c.env[name=NODE_NAME].valueFrom.fieldRef.fieldPath" spec.nodeName
	expect "$name: NODE_IP from status.hostIP" "$f" DaemonSet \
		"$c.env[name=NODE_IP].valueFrom.fieldRef.fieldPath" status.hostIP
	expect "$name: liveness on /healthz" "$f" DaemonSet "$c.livenessProbe.httpGet.path" /healthz
	expect "$name: readiness on /readyz" "$f" DaemonSet "$c.readinessProbe.httpGet.path" /readyz
	expect "$name: probes use the metrics port" "$f" DaemonSet "$c.livenessProbe.httpGet.port" metrics
	for m in /sys/kernel/btf /sys/kernel/tracing /sys/fs/cgroup /sys/fs/bpf; do
		vol=$(tr / - <<<"${m#/}")
		expect "$name: $m mounted" "$f" DaemonSet "$c.volumeMounts[mountPath=$m].name" "$vol"
		expect "$name: $m from the host's $m" "$f" DaemonSet "$ds.volumes[name=$vol].hostPath.path" "$m"
	done
	expect "$name: /sys/fs/cgroup read-only" "$f" DaemonSet "$c.volumeMounts[mountPath=/sys/fs/cgroup].readOnly" true
	expect "$name: /sys/kernel/btf read-only" "$f" DaemonSet "$c.volumeMounts[mountPath=/sys/kernel/btf].readOnly" true
	for r in requests.cpu requests.memory limits.memory; do
		expect "$name: resources.$r set" "$f" DaemonSet "$c.resources.$r" "<present>"
	done
done
for f in "$plain" "$default"; do
	name=$(basename "$f" .yaml)
	expect "$name: adds exactly BPF PERFMON SYS_PTRACE SYSLOG" "$f" DaemonSet \
		"$c.securityContext.capabilities.add" '["BPF","PERFMON","SYS_PTRACE","SYSLOG"]'
	expect "$name: no privilege escalation" "$f" DaemonSet "$c.securityContext.allowPrivilegeEscalation" false
	expect "$name: seccomp Unconfined (RuntimeDefault gates bpf on SYS_ADMIN)" "$f" DaemonSet \
		"$c.securityContext.seccompProfile.type" Unconfined
	expect "$name: tolerates every taint" "$f" DaemonSet "$ds.tolerations" '[{"operator":"Exists"}]'
	expect "$name: system-node-critical" "$f" DaemonSet "$ds.priorityClassName" system-node-critical
	expect "$name: RBAC get nodes/proxy, list pods (API-server fallback)" "$f" ClusterRole rules '[{"apiGroups":[""],"resources":["nodes/proxy"],"verbs":["get"]},{"apiGroups":[""],"resources":["pods"],"verbs":["list"]}]'
	expect "$name: headless metrics Service" "$f" Service spec.clusterIP None
	expect "$name: JSON events by default" "$f" DaemonSet "$c.env[name=LMP_OUTPUT].value" json
	expect "$name: all probes by default" "$f" DaemonSet "$c.env[name=LMP_PROBES].value" all
	expect "$name: metrics listen on all addresses" "$f" DaemonSet "$c.env[name=LMP_LISTEN].value" 0.0.0.0:9464
done
check "k8s/ and the chart (defaults) agree on pod, container, env, mounts, Service, RBAC" \
	q compare "$plain" "$default"
check "k8s/ and chart object kinds agree (chart renders no Namespace by default)" bash -c \
	"diff <(node tests/e2e/packaging_query.mjs kinds '$plain' | grep -v '^Namespace/') \
	      <(node tests/e2e/packaging_query.mjs kinds '$default')"
expect "k8s/ Namespace admits privileged pods" "$plain" Namespace \
	'metadata.labels.pod-security\.kubernetes\.io/enforce' privileged
verify

# ---- non-default values reach the objects ------------------------------------------------
expect "probes list joined" "$full" DaemonSet "$c.env[name=LMP_PROBES].value" process,tcp,oomkill
expect "output" "$full" DaemonSet "$c.env[name=LMP_OUTPUT].value" text
expect "listenPort -> LMP_LISTEN" "$full" DaemonSet "$c.env[name=LMP_LISTEN].value" 0.0.0.0:9100
expect "listenPort -> containerPort" "$full" DaemonSet "$c.ports[name=metrics].containerPort" 9100
expect "listenPort -> Service port" "$full" Service "spec.ports[name=metrics].port" 9100
expect "interval" "$full" DaemonSet "$c.env[name=LMP_INTERVAL].value" 5
expect "top" "$full" DaemonSet "$c.env[name=LMP_TOP].value" 20
expect "ringbufKb" "$full" DaemonSet "$c.env[name=LMP_RINGBUF_KB].value" 1024
expect "metricsMaxSeries" "$full" DaemonSet "$c.env[name=LMP_METRICS_MAX_SERIES].value" 20000
expect "cgroupRoot" "$full" DaemonSet "$c.env[name=LMP_CGROUP_ROOT].value" /sys/fs/cgroup/unified
expect "btfPath" "$full" DaemonSet "$c.env[name=LMP_BTF_PATH].value" /var/lib/lmp/vmlinux.btf
expect "logLevel" "$full" DaemonSet "$c.env[name=LMP_LOG_LEVEL].value" debug
expect "kubelet.url" "$full" DaemonSet "$c.env[name=LMP_KUBELET_URL].value" https://kubelet.example.internal:10250/pods
expect "kubelet.tokenFile" "$full" DaemonSet "$c.env[name=LMP_KUBELET_TOKEN_FILE].value" /var/run/secrets/lmp/token
expect "kubelet.caFile" "$full" DaemonSet "$c.env[name=LMP_KUBELET_CA_FILE].value" /var/run/secrets/lmp/ca.crt
expect "kubelet.insecureSkipVerify" "$full" DaemonSet "$c.env[name=LMP_KUBELET_INSECURE_SKIP_VERIFY].value" true
expect "kubelet.refresh" "$full" DaemonSet "$c.env[name=LMP_KUBELET_REFRESH].value" 15
expect "kubelet.authorization -> nodes/pods" "$full" ClusterRole 'rules[0].resources' '["nodes/pods"]'
expect "extraArgs appended" "$full" DaemonSet "$c.args" '["run","--log-level","debug"]'
expect "extraEnv appended" "$full" DaemonSet "$c.env[name=TZ].value" UTC
expect "extraVolumes appended" "$full" DaemonSet "$ds.volumes[name=btf].hostPath.path" /var/lib/lmp
expect "extraVolumeMounts appended" "$full" DaemonSet "$c.volumeMounts[name=btf].mountPath" /var/lib/lmp
expect "btfPath names the kernel BTF by default" "$default" DaemonSet "$c.env[name=LMP_BTF_PATH].value" /sys/kernel/btf/vmlinux
expect "image by digest" "$full" DaemonSet "$c.image" \
	registry.example.com/obs/lmp@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
expect "default image tag is appVersion" "$default" DaemonSet "$c.image" \
	"lmp:$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' $chart/Chart.yaml)"
expect "SYS_ADMIN added -> privilege escalation allowed (API rule)" "$full" DaemonSet \
	"$c.securityContext.allowPrivilegeEscalation" true
expect "seccomp Localhost profile" "$full" DaemonSet "$c.securityContext.seccompProfile.localhostProfile" profiles/lmp.json
expect "SELinux type" "$full" DaemonSet "$c.securityContext.seLinuxOptions.type" spc_t
expect "priorityClassName omitted when empty" "$full" DaemonSet "$ds.priorityClassName" "<missing>"
expect "fullnameOverride" "$full" DaemonSet metadata.name node-agent
expect "serviceAccount.name" "$full" DaemonSet "$ds.serviceAccountName" lmp-agent
expect "ClusterRoleBinding subject" "$full" ClusterRoleBinding 'subjects[0].name' lmp-agent
expect "namespace.create renders a privileged Namespace" "$full" Namespace/obs \
	'metadata.labels.pod-security\.kubernetes\.io/enforce' privileged
expect "ServiceMonitor in its namespace" "$full" ServiceMonitor metadata.namespace monitoring
expect "ServiceMonitor scrapes the metrics port" "$full" ServiceMonitor 'spec.endpoints[0].port' metrics
expect "ServiceMonitor selects the release namespace" "$full" ServiceMonitor spec.namespaceSelector.matchNames '["obs"]'
expect "no ServiceMonitor by default" "$default" ServiceMonitor metadata.name "<missing>"
expect "no Namespace by default" "$default" Namespace metadata.name "<missing>"
check_fails "serviceMonitor without the Service is refused" 'serviceMonitor.enabled needs service.enabled' \
	"$helm" template lmp $chart --set serviceMonitor.enabled=true --set service.enabled=false
expect "podAnnotations" "$full" DaemonSet 'spec.template.metadata.annotations.example\.com/team' sre
expect "podLabels" "$full" DaemonSet 'spec.template.metadata.labels.tier' node
expect "nodeSelector" "$full" DaemonSet "$ds.nodeSelector" '{"kubernetes.io/os":"linux","lmp.example.com/enabled":"true"}'
expect "tolerations" "$full" DaemonSet "$ds.tolerations[0].key" node-role.kubernetes.io/control-plane
expect "affinity" "$full" DaemonSet "$ds.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key" kubernetes.io/arch
expect "imagePullSecrets" "$full" DaemonSet "$ds.imagePullSecrets" '[{"name":"regcred"}]'
expect "updateStrategy" "$full" DaemonSet spec.updateStrategy.rollingUpdate.maxUnavailable 10%
expect "resources" "$full" DaemonSet "$c.resources.limits.memory" 1Gi
expect "serviceAccount.annotations" "$full" ServiceAccount 'metadata.annotations.example\.com/owner' sre
expect "service.labels" "$full" Service metadata.labels.scrape lmp
expect "serviceMonitor.labels" "$full" ServiceMonitor metadata.labels.release prometheus
expect "serviceMonitor.interval" "$full" ServiceMonitor 'spec.endpoints[0].interval' 15s
expect "serviceMonitor.metricRelabelings" "$full" ServiceMonitor 'spec.endpoints[0].metricRelabelings[0].action' drop
verify

# ---- values.schema.json rejects bad values with a message naming them --------------------
bad() { # bad LABEL PATTERN helm-args...
	local label=$1 pattern=$2
	shift 2
	check_fails "schema rejects $label" "$pattern" "$helm" template lmp "$chart" "$@"
}
bad "output=yaml" 'output' --set output=yaml
bad "listenPort=0" 'listenPort' --set listenPort=0
bad "listenPort=70000" 'listenPort' --set listenPort=70000
bad "listenPort as a string" 'listenPort' --set-string listenPort=9464
bad "interval=0" 'interval' --set interval=0
bad "an unknown probe name" 'probes' --set probes=nosuchprobe
bad "an unknown probe in a list" 'probes' --set 'probes={process,nosuchprobe}'
bad "ringbufKb not a power of two" 'ringbufKb' --set ringbufKb=100
bad "logLevel=trace" 'logLevel' --set logLevel=trace
bad "kubelet.url=ftp://x" 'kubelet.*url|url' --set kubelet.url=ftp://x
bad "kubelet.insecureSkipVerify=yes (string)" 'insecureSkipVerify' --set-string kubelet.insecureSkipVerify=yes
bad "kubelet.authorization=nodes/all" 'authorization' --set kubelet.authorization=nodes/all
bad "an unknown capability" 'capabilities' --set 'securityContext.capabilities={BPF,PERFMONN}'
bad "a misspelt top-level key" 'outptu' --set outptu=json
bad "a misspelt nested key" 'insecureSkipVerfy' --set kubelet.insecureSkipVerfy=true
bad "image.digest=latest" 'digest' --set image.digest=latest
bad "image.pullPolicy=Sometimes" 'pullPolicy' --set image.pullPolicy=Sometimes
bad "a relative btfPath" 'btfPath' --set btfPath=vmlinux
bad "an extraVolumeMount without mountPath" 'mountPath' --set 'extraVolumeMounts[0].name=x'
bad "serviceMonitor.interval=soon" 'interval' --set serviceMonitor.enabled=true --set serviceMonitor.interval=soon
check "schema accepts probes as a comma string" "$helm" template lmp $chart --set-string 'probes=process\,tcp'
expect_probes=$("$helm" template lmp $chart --set-string 'probes=process\,tcp' 2>/dev/null >"$work/s.yaml" &&
	q get "$work/s.yaml" DaemonSet "$c.env[name=LMP_PROBES].value")
[ "$expect_probes" = "process,tcp" ] && ok "probes comma string passed through" ||
	{ echo "got '$expect_probes'" >"$work/log"; not_ok "probes comma string passed through"; }

# The schema's probe names are the registry's (agent/probes/probes.c), no more, no less.
registry=$(sed -n 's/^[[:space:]]*X(\([a-z0-9_]*\)).*/\1/p' agent/probes/probes.c | sort)
schema=$(node -e '
	const s = require(process.argv[1]);
	console.log(s.properties.probes.oneOf[1].items.enum.slice().sort().join("\n"));
' "$root/$chart/values.schema.json")
if [ -n "$registry" ] && [ "$registry" = "$schema" ]; then
	ok "schema probe names = registry ($(echo "$registry" | wc -l) probes)"
else
	diff <(echo "$registry") <(echo "$schema") >"$work/log"
	not_ok "schema probe names = registry"
fi

# Every value is documented in the chart README (and, through the schema's
# additionalProperties: false, which helm lint applies to values.yaml, in the schema).
missing=$(node -e '
	const s = require(process.argv[1]);
	const readme = require("fs").readFileSync(process.argv[2], "utf8");
	const out = [];
	const walk = (props, prefix) => {
		for (const [k, v] of Object.entries(props)) {
			if (k === "global") continue;
			const path = prefix + k;
			if (!readme.includes("`" + path + "`") && !readme.includes("`" + path + ".") &&
				!readme.includes(path + "`,"))
				out.push(path);
			// Kubernetes objects (resources, probe timings) are documented as a whole.
			const k8sTyped = ["resources", "startupProbe", "livenessProbe", "readinessProbe"];
			if (!prefix && v.properties && !k8sTyped.includes(k)) walk(v.properties, path + ".");
		}
	};
	walk(s.properties, "");
	console.log(out.join(" "));
' "$root/$chart/values.schema.json" "$chart/README.md")
if [ -z "$missing" ]; then ok "chart README documents every value"; else
	echo "undocumented: $missing" >"$work/log"
	not_ok "chart README documents every value"
fi

# ---- NOTES.txt ---------------------------------------------------------------------------
# helm renders NOTES only on install, which needs a cluster; render it through tpl instead,
# from a copy of the chart, with the chart's own helpers.
notes_chart="$work/notes-chart"
cp -r "$chart" "$notes_chart"
cp "$chart/templates/NOTES.txt" "$notes_chart/notes.txt"
cat >"$notes_chart/templates/zz-notes.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: notes
data:
  notes: |
{{ tpl (.Files.Get "notes.txt") . | indent 4 }}
EOF
if "$helm" template lmp "$notes_chart" --namespace lmp --show-only templates/zz-notes.yaml \
	>"$work/notes.yaml" 2>"$work/log"; then
	notes=$(q get "$work/notes.yaml" ConfigMap data.notes)
	for want in "kubectl -n lmp logs -f ds/lmp" "/metrics" "port-forward ds/lmp 9464:9464" "lmp probes"; do
		if grep -qF -- "$want" <<<"$notes"; then ok "NOTES.txt tells: $want"; else
			echo "$notes" >"$work/log"
			not_ok "NOTES.txt tells: $want"
		fi
	done
else
	not_ok "NOTES.txt renders"
fi

# ---- Grafana dashboard -------------------------------------------------------------------
if compgen -G "$chart/dashboards/*.json" >/dev/null; then
	check "dashboard.enabled renders a ConfigMap" sh -c \
		"'$helm' template lmp $chart --set dashboard.enabled=true >'$work/dash.yaml'"
	check "dashboard ConfigMap valid against the API schema" node tools/k8s-validate.mjs "$work/dash.yaml"
	expect "dashboard ConfigMap carries the sidecar label" "$work/dash.yaml" ConfigMap/lmp-dashboard \
		metadata.labels.grafana_dashboard 1
	for d in "$chart"/dashboards/*.json; do
		check "dashboard $(basename "$d") is JSON" node -e 'JSON.parse(require("fs").readFileSync(process.argv[1]))' "$d"
	done
	if [ -f docs/grafana/lmp-dashboard.json ]; then
		check "chart dashboard is docs/grafana/lmp-dashboard.json" cmp docs/grafana/lmp-dashboard.json \
			"$chart/dashboards/lmp-dashboard.json"
	fi
else
	check_fails "dashboard.enabled without a dashboard says so" 'carries no Grafana dashboard' \
		"$helm" template lmp $chart --set dashboard.enabled=true
fi

verify
echo
echo "packaging: $passed passed, $failed failed"
[ "$failed" = 0 ]
