# SPDX-License-Identifier: Apache-2.0
# Packaging (docs/deploy.md). `make image`: the container image, offline (a debootstrap base
# imported into podman, built with runc; no Docker engine, no registry). `make chart`: helm
# lint, template, schema validation and package. `make test-image`: build the image and run
# lmp inside it with runc. The chart/manifest tests (tests/e2e/test_packaging.sh) run in
# `make test`; test-packaging runs them alone.
IMAGE ?= localhost/lmp:$(VERSION)
BASE_IMAGE ?= localhost/debian:bookworm
RUNC ?= /usr/sbin/runc
K8S_TOOLS := $(OUTPUT)/k8s-tools
HELM := $(K8S_TOOLS)/bin/helm
.PHONY: image chart test-packaging test-image

$(HELM): tools/get-helm.sh tools/k8s-tools/package-lock.json
	$(Q)tools/get-helm.sh $(K8S_TOOLS) >/dev/null

image:
	$(Q)container/build-base.sh
	$(Q)podman --runtime $(RUNC) build --network host -f container/Dockerfile \
		--build-arg BUILD_IMAGE=$(BASE_IMAGE) --build-arg BASE_IMAGE=$(BASE_IMAGE) \
		--build-arg TARGETARCH=$$(dpkg --print-architecture) --build-arg VERSION=$(VERSION) \
		--build-arg REVISION=$$(git rev-parse HEAD 2>/dev/null || echo unknown) \
		--build-arg CREATED=$$(date -u +%Y-%m-%dT%H:%M:%SZ) -t $(IMAGE) .

chart: $(HELM) | $(BUILD)
	$(Q)$(HELM) lint --strict helm/lmp
	$(Q)$(HELM) template lmp helm/lmp --namespace lmp > $(BUILD)/lmp-chart.yaml
	$(Q)LMP_K8S_TOOLS=$(K8S_TOOLS) node tools/k8s-validate.mjs $(BUILD)/lmp-chart.yaml
	$(Q)$(HELM) package helm/lmp --destination $(BUILD)

test-packaging: $(HELM)
	$(Q)OUTPUT=$(OUTPUT) LMP_K8S_TOOLS=$(K8S_TOOLS) tests/e2e/test_packaging.sh

test-image: image
	$(Q)IMAGE=$(IMAGE) RUNC=$(RUNC) LMP_K8S_TOOLS=$(K8S_TOOLS) tests/image/test_image.sh
