# The named tasks of the suite. `make demo` and `make test` are the two
# commands the README opens with; .ci/run runs `make test` plus fmt and clippy.
SHELL := bash
CARGO ?= cargo
PLUGINS := triage backup drainplan rotate
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
PREFIX ?= $(HOME)/.local
TARGET ?= x86_64-unknown-linux-gnu

.PHONY: all build demo sandbox test lint fmt bench e2e conformance dist krew install clean help

all: build

help:
	@echo "make demo     build, start kube-sandbox with the demo fixtures, run kubectl triage -n hypersdk"
	@echo "make test     every test (unit, sandbox API, kubectl fidelity, plugin CLI suites)"
	@echo "make lint     cargo fmt --check and clippy -D warnings"
	@echo "make bench    side-by-side benchmarks against kubectl (writes bench/results.md)"
	@echo "make e2e      plugin suites against the cluster KUBECONFIG points at (disposable!)"
	@echo "make conformance  kube-rs's own cluster tests against kube-sandbox (minutes; not in make test)"
	@echo "make dist     release archives in dist/;  make krew: Krew manifests for them"
	@echo "make install  copy the plugins to \$$PREFIX/bin (default ~/.local/bin)"
	@echo "make sandbox  run kube-sandbox on the demo fixtures in the foreground"

build:
	$(CARGO) build --workspace --bins

demo: build
	@scripts/with-sandbox.sh tests/fixtures/demo scripts/demo.sh

sandbox: build
	@mkdir -p .demo
	@echo "export KUBECONFIG=$$PWD/.demo/kubeconfig   # in another shell, once 'ready' is printed"
	target/debug/kube-sandbox --fixtures tests/fixtures/demo --kubeconfig-out .demo/kubeconfig

# Binaries first: the fidelity and plugin suites run the built kubectl-* through
# the real kubectl plugin mechanism (PATH lookup), not only via cargo.
test: build
	$(CARGO) test --workspace --no-fail-fast

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

bench:
	bash bench/run.sh

e2e:
	bash tests/e2e/run.sh

# kube-rs's #[ignore]d cluster tests, built from the published sources of the
# locked kube version, run against kube-sandbox (tests/conformance/run.sh).
conformance: build
	bash tests/conformance/run.sh

dist:
	$(CARGO) build --release $(addprefix -p kubectl-,$(PLUGINS))
	@mkdir -p dist
	@for p in $(PLUGINS); do \
	  d=$$(mktemp -d); cp target/release/kubectl-$$p LICENSE $$d/; \
	  tar -C $$d -czf dist/kubectl-$$p-v$(VERSION)-$(TARGET).tar.gz kubectl-$$p LICENSE; rm -rf $$d; \
	  echo "dist/kubectl-$$p-v$(VERSION)-$(TARGET).tar.gz"; \
	done

krew: dist
	bash krew/render.sh $(VERSION) $(TARGET)

install:
	$(CARGO) build --release $(addprefix -p kubectl-,$(PLUGINS))
	@mkdir -p $(PREFIX)/bin
	@for p in $(PLUGINS); do install -m 0755 target/release/kubectl-$$p $(PREFIX)/bin/; echo "installed $(PREFIX)/bin/kubectl-$$p"; done
	@echo "check with: kubectl plugin list"

clean:
	$(CARGO) clean
	rm -rf dist .demo bench/out
