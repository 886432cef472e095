# Caddy Gateway Operator — `make help` lists the targets.

# gateway-api v1.7.0 needs Go 1.27: let the go command fetch the toolchain go.mod names.
export GOTOOLCHAIN := auto

# Images. IMG is the operator (manager + admin-proxy), CADDY_IMG the data plane.
VERSION ?= 0.1.0
IMG ?= localhost/caddy-gateway-operator:dev
CADDY_IMG ?= localhost/caddy-gateway-caddy:dev
CONTAINER_TOOL ?= docker

# The OLM bundle (`make bundle`): its channels, and the version it upgrades from.
CHANNELS ?= candidate
DEFAULT_CHANNEL ?= candidate
# REPLACES names the previous version (spec.replaces); SKIP_RANGE the olm.skipRange annotation.
REPLACES ?=
SKIP_RANGE ?=
BUNDLE_IMG ?= localhost/caddy-gateway-operator-bundle:v$(VERSION)

# Where clusters come from. KUBECONFIG wins; LOCALCLUSTER is the test bed CI uses.
LOCALCLUSTER ?= $(abspath ../shared/localcluster)
# The command that loads an image tarball into the cluster (the path is appended).
IMAGE_LOADER ?= $(if $(wildcard $(LOCALCLUSTER)/image.sh),$(LOCALCLUSTER)/image.sh import,kind load image-archive)

# `make test-olm`: the registry the cluster pulls from (pushed to over plain http), opm to
# render the catalog, and the image the catalog is built on (it must hold /bin/opm and
# /bin/grpc_health_probe, like quay.io/operator-framework/opm; the local test bed's OLM image does).
OLM_REGISTRY ?= 127.0.0.1:5000
LOCALCLUSTER_CACHE ?= /var/cache/localcluster
OPM ?= $(firstword $(wildcard $(LOCALCLUSTER_CACHE)/olm/bin/opm) opm)
CATALOG_BASE_IMG ?= $(OLM_REGISTRY)/olm/olm:v0.38.0

LOCALBIN ?= $(shell pwd)/bin
$(LOCALBIN):
	mkdir -p $(LOCALBIN)

## Tool versions (installed into bin/ by this Makefile).
CONTROLLER_TOOLS_VERSION ?= v0.23.0
KUSTOMIZE_VERSION ?= v5.8.2
GOLANGCI_LINT_VERSION ?= v2.15.0
ENVTEST_VERSION ?= v0.25.1
ENVTEST_K8S_VERSION ?= 1.36.x

CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
KUSTOMIZE ?= $(LOCALBIN)/kustomize
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint
SETUP_ENVTEST ?= $(LOCALBIN)/setup-envtest

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the CRD and RBAC manifests from the Go markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/..." paths="./internal/..." output:crd:artifacts:config=config/crd/bases

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object paths="./api/..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint.
	$(GOLANGCI_LINT) run --build-tags e2e,conformance

.PHONY: verify
verify: manifests generate bundle ## Fail when generated files (CRD, RBAC, DeepCopy, OLM bundle) differ from the committed ones.
	@git diff --exit-code -- api config bundle bundle.Dockerfile || { echo "generated files are stale: run 'make manifests generate bundle' and commit"; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- api config bundle); [ -z "$$untracked" ] || { echo "generated files are not committed: $$untracked"; exit 1; }

# How long `make test` fuzzes translate+emit; a release runs it for longer (see README).
FUZZTIME ?= 10s

.PHONY: test
test: manifests generate fmt vet envtest-assets ## Run unit, golden and envtest tests.
	KUBEBUILDER_ASSETS="$$(cat $(LOCALBIN)/.envtest-assets)" go test $$(go list ./... | grep -v -e /test/e2e -e /test/olm -e /test/demo) -coverprofile cover.out
	# The translator checks routes on helper goroutines: its tests run again under the race detector.
	go test -race -count=1 ./internal/translator
	# Fuzzed Gateways through translate and emit: no panic, and Caddy accepts every config.
	go test -run '^$$' -fuzz '^FuzzTranslateEmit$$' -fuzztime $(FUZZTIME) ./internal/emit/
	# Fuzzed TCP, UDP and TLS servers through emit: Caddy accepts every config.
	go test -run '^$$' -fuzz '^FuzzEmitLayer4$$' -fuzztime $(FUZZTIME) ./internal/emit/

# Goldens are written by the tests named *Golden* of the packages whose tests import internal/golden.
.PHONY: testdata
testdata: ## Regenerate every golden file and delete those no case produces (review the diff).
	@pkgs=$$(go list -f '{{.ImportPath}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./... | \
		awk '/ github.com\/caddy-gateway\/operator\/internal\/golden( |$$)/ {print $$1}'); \
	[ -n "$$pkgs" ] || { echo "testdata: no package's tests import internal/golden"; exit 1; }; \
	echo go test -count=1 -run Golden $$pkgs -update; \
	go test -count=1 -run Golden $$pkgs -update

# KUBEBUILDER_ASSETS when set; otherwise setup-envtest downloads the binaries; when it cannot,
# the local test bed's build (LOCALCLUSTER_CACHE/bin, made by `make demo` or CI) serves. Never skips.
.PHONY: envtest-assets
envtest-assets: $(LOCALBIN)
	@if [ -n "$(KUBEBUILDER_ASSETS)" ]; then \
		dir="$(KUBEBUILDER_ASSETS)"; \
	elif $(MAKE) -s setup-envtest >/dev/null && dir=$$($(SETUP_ENVTEST) use $(ENVTEST_K8S_VERSION) --bin-dir $(LOCALBIN) -p path 2>/dev/null); then \
		:; \
	elif [ -x "$(LOCALCLUSTER_CACHE)/bin/kube-apiserver" ] && [ -x "$(LOCALCLUSTER_CACHE)/bin/etcd" ]; then \
		dir="$(LOCALCLUSTER_CACHE)/bin"; \
		echo "envtest: setup-envtest could not fetch kube-apiserver and etcd; using the local test bed's ($$dir)"; \
	else \
		echo "envtest: KUBEBUILDER_ASSETS is not set, setup-envtest could not fetch kube-apiserver and etcd,"; \
		echo "         and the local test bed ($(LOCALCLUSTER_CACHE)/bin) is not built (make demo builds it);"; \
		echo "         set KUBEBUILDER_ASSETS to a directory holding kube-apiserver, etcd and kubectl"; exit 1; \
	fi; \
	for b in kube-apiserver etcd; do [ -x "$$dir/$$b" ] || { echo "envtest: $$dir/$$b is missing (KUBEBUILDER_ASSETS)"; exit 1; }; done; \
	echo "$$dir" > $(LOCALBIN)/.envtest-assets

.PHONY: test-e2e
test-e2e: kustomize ## Run the e2e suite against KUBECONFIG (images are loaded with IMAGE_LOADER).
	KUSTOMIZE=$(KUSTOMIZE) IMG=$(IMG) CADDY_IMG=$(CADDY_IMG) IMAGE_LOADER="$(IMAGE_LOADER)" go test -tags e2e ./test/e2e/ -v -count=1 -timeout 30m

# Extra arguments for the conformance suite, e.g. CONFORMANCE_FLAGS="--run-test=HTTPRouteSimpleSameNamespace"
# or "--supported-features=..." (by default the suite reads the GatewayClass's supportedFeatures).
CONFORMANCE_FLAGS ?=

.PHONY: conformance
conformance: kustomize ## Run the Gateway API conformance suite against KUBECONFIG; the report goes to bin/conformance-report.yaml.
	KUSTOMIZE=$(KUSTOMIZE) IMG=$(IMG) CADDY_IMG=$(CADDY_IMG) IMAGE_LOADER="$(IMAGE_LOADER)" VERSION=$(VERSION) go test -tags conformance ./test/conformance/ -v -count=1 -timeout 60m -args $(CONFORMANCE_FLAGS)

.PHONY: probe-propagation
probe-propagation: kustomize ## Measure route propagation in KUBECONFIG's cluster (100 and 1,000 routes attached).
	KUSTOMIZE=$(KUSTOMIZE) IMG=$(IMG) CADDY_IMG=$(CADDY_IMG) IMAGE_LOADER="$(IMAGE_LOADER)" go test -tags e2e ./test/e2e/ -run '^$$' -bench BenchmarkPropagation -benchtime=1x -count=1 -timeout 60m -v

.PHONY: test-olm
test-olm: kustomize ## Install the operator through OLM from a local catalog, route through a Gateway, upgrade (needs OLM and OLM_REGISTRY).
	KUSTOMIZE=$(KUSTOMIZE) OLM_REGISTRY=$(OLM_REGISTRY) OPM="$(OPM)" CATALOG_BASE_IMG=$(CATALOG_BASE_IMG) go test -tags e2e ./test/olm/ -v -count=1 -timeout 30m

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager and caddy binaries into bin/.
	CGO_ENABLED=0 go build -trimpath -o $(LOCALBIN)/manager ./cmd
	CGO_ENABLED=0 go build -trimpath -o $(LOCALBIN)/caddy ./cmd/caddy

.PHONY: run
run: manifests generate fmt vet ## Run the operator against KUBECONFIG from this machine.
	go run ./cmd

.PHONY: images
images: build ## Build both image tarballs into bin/ without Docker (go-containerregistry).
	go run ./test/utils/imgtool -tag $(IMG) -o $(LOCALBIN)/manager-image.tar -file $(LOCALBIN)/manager:/manager -entrypoint /manager
	go run ./test/utils/imgtool -tag $(CADDY_IMG) -o $(LOCALBIN)/caddy-image.tar -file $(LOCALBIN)/caddy:/usr/bin/caddy -entrypoint /usr/bin/caddy

.PHONY: docker-build
docker-build: ## Build both images with a container tool (targets manager and caddy).
	$(CONTAINER_TOOL) build --target manager -t $(IMG) .
	$(CONTAINER_TOOL) build --target caddy -t $(CADDY_IMG) .

.PHONY: docker-push
docker-push: ## Push both images.
	$(CONTAINER_TOOL) push $(IMG)
	$(CONTAINER_TOOL) push $(CADDY_IMG)

.PHONY: build-installer
build-installer: manifests generate kustomize ## Write dist/install.yaml with the CRD and the operator.
	mkdir -p dist
	$(KUSTOMIZE) build config/default | sed -e 's|controller:latest|$(IMG)|' -e 's|caddy:latest|$(CADDY_IMG)|' > dist/install.yaml

##@ OLM

.PHONY: bundle
bundle: manifests kustomize ## Generate bundle/ and bundle.Dockerfile (VERSION, CHANNELS, DEFAULT_CHANNEL, IMG, CADDY_IMG, REPLACES, SKIP_RANGE).
	$(KUSTOMIZE) build config/manifests | go run ./cmd/bundlegen -version $(VERSION) -channels $(CHANNELS) \
		-default-channel $(DEFAULT_CHANNEL) -image $(IMG) -caddy-image $(CADDY_IMG) \
		-replaces "$(REPLACES)" -skip-range "$(SKIP_RANGE)" -dir bundle -dockerfile bundle.Dockerfile

.PHONY: bundle-build
bundle-build: ## Build the bundle image with a container tool.
	$(CONTAINER_TOOL) build -f bundle.Dockerfile -t $(BUNDLE_IMG) .

##@ Deployment

.PHONY: install
install: manifests kustomize ## Install the CRD into KUBECONFIG's cluster.
	$(KUSTOMIZE) build config/crd | kubectl apply --server-side -f -

.PHONY: uninstall
uninstall: manifests kustomize ## Remove the CRD from KUBECONFIG's cluster.
	$(KUSTOMIZE) build config/crd | kubectl delete --ignore-not-found -f -

.PHONY: deploy
deploy: manifests kustomize ## Deploy the operator to KUBECONFIG's cluster.
	$(KUSTOMIZE) build config/default | sed -e 's|controller:latest|$(IMG)|' -e 's|caddy:latest|$(CADDY_IMG)|' | kubectl apply --server-side -f -

.PHONY: undeploy
undeploy: kustomize ## Remove the operator from KUBECONFIG's cluster.
	$(KUSTOMIZE) build config/default | kubectl delete --ignore-not-found -f -

.PHONY: demo
demo: kustomize ## Deploy the operator and the samples to a cluster (KUBECONFIG, else the local test bed, else kind).
	KUSTOMIZE=$(KUSTOMIZE) IMG=$(IMG) CADDY_IMG=$(CADDY_IMG) LOCALCLUSTER=$(LOCALCLUSTER) IMAGE_LOADER="$(IMAGE_LOADER)" go run ./test/demo

##@ Tools

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Install controller-gen into bin/.
$(CONTROLLER_GEN): $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Install kustomize into bin/.
$(KUSTOMIZE): $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Install golangci-lint into bin/.
$(GOLANGCI_LINT): $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

.PHONY: setup-envtest
setup-envtest: $(SETUP_ENVTEST) ## Install setup-envtest into bin/.
$(SETUP_ENVTEST): $(LOCALBIN)
	$(call go-install-tool,$(SETUP_ENVTEST),sigs.k8s.io/controller-runtime/tools/setup-envtest,$(ENVTEST_VERSION))

# go-install-tool installs package $2 at version $3 as $1-$3 and links $1 to it, so a
# version bump in this file reinstalls the tool.
define go-install-tool
@[ -f "$(1)-$(3)" ] && [ "$$(readlink -- "$(1)" 2>/dev/null)" = "$$(basename $(1))-$(3)" ] || { \
set -e; \
package=$(2)@$(3) ;\
echo "Installing $${package}" ;\
rm -f "$(1)" ;\
GOBIN="$(LOCALBIN)" GOTOOLCHAIN=go1.27.3 go install $${package} ;\
mv "$(LOCALBIN)/$$(basename "$(1)")" "$(1)-$(3)" ;\
} ;\
ln -sf "$$(basename "$(1)")-$(3)" "$(1)"
endef
