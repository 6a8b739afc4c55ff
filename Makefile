# clawimg — see README.md. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# A count, not a duration: a duration races the fuzz coordinator's own deadline in Go < 1.27
# (golang/go#75804: a spurious "context deadline exceeded" failure at the end of the run).
FUZZTIME ?= 20000x
# Each archive input is imported into a fresh store: fewer of them.
FUZZTIME_ARCHIVE ?= 2000x

# System packages every part of clawimg and its tests need.
DEB_PACKAGES := qemu-system-x86 qemu-utils debootstrap extlinux syslinux-common \
	fdisk e2fsprogs zstd docker-registry packer xorriso openssh-client openssh-server ca-certificates \
	isolinux debian-installer-12-netboot-amd64 ansible-core ovmf grub-efi-amd64-bin dosfstools mtools swtpm nodejs
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build test vet cross fmt-check unit e2e e2e-packer fuzz bench demo fixture installer dist clean

all: build

## deps: apt-get install the system packages (idempotent; instant when present)
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing" $$missing; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	else echo "deps: all present"; fi

## build: the clawimg binary in bin/
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/clawimg ./cmd/clawimg

## fixture: the Debian 12 cloud-init base the tests build on (cached)
fixture: deps
	@./scripts/mkfixture.sh
	@./scripts/mkfixture-efi.sh
	@./scripts/ansible-debs.sh

## installer: Debian 12's installer on a bootable CD, for the ISO-install tests (cached)
installer: deps
	@./scripts/mkinstaller.sh

## test: deps, vet, formatting, every test (integration and e2e included), fuzz smoke
test: deps fixture installer vet cross fmt-check fuzz unit e2e

vet:
	$(GO) vet ./...

## cross: build and vet for the platforms users run (macOS and Linux, arm64 and amd64)
CROSS := darwin/arm64 darwin/amd64 linux/arm64 linux/amd64
cross:
	@for t in $(CROSS); do echo "cross: $$t"; \
		GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) build ./... && GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) vet ./... || exit 1; done

## dist: release binaries for the CROSS targets in dist/, with SHA256SUMS
dist:
	@rm -rf dist && mkdir -p dist
	@for t in $(CROSS); do os=$${t%/*}; arch=$${t#*/}; out=dist/clawimg-$(VERSION)-$$os-$$arch; \
		echo "dist: $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$out ./cmd/clawimg || exit 1; done
	@cd dist && sha256sum clawimg-* > SHA256SUMS && cat SHA256SUMS

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -count=1 -timeout 45m ./...

## e2e: bake the built-in OpenClaw recipe on the fixture, launch two VMs, verify (20-30 min under TCG)
e2e: fixture
	CLAWIMG_E2E=1 $(GO) test -count=1 -timeout 75m -run '^TestOpenClawImage$$' -v ./cmd/clawimg

## e2e-packer: install Debian from its installer CD with a Packer-style recipe (boot_command, preseed over HTTP), launch it
e2e-packer: installer
	CLAWIMG_E2E_PACKER=1 $(GO) test -count=1 -timeout 120m -run '^TestPackerISOInstall$$' -v ./cmd/clawimg

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 500x ./hcl
	$(GO) test -run '^$$' -fuzz '^FuzzConfig$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 500x ./images
	$(GO) test -run '^$$' -fuzz '^FuzzImportArchive$$' -fuzztime $(FUZZTIME_ARCHIVE) -fuzzminimizetime 100x ./images

## bench: performance against the reference tools, printed as tables
# One package at a time: two VM benchmarks at once on a small host would skew both.
bench: deps
	$(GO) test -p 1 -run '^$$' -bench . -benchtime 1x -timeout 90m ./...

## demo: bake the built-in recipe, launch a VM from it, verify it, show how to connect
demo: deps build
	@./scripts/demo.sh

clean:
	rm -rf bin build dist
