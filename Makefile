# The named tasks of the suite. `make demo` and `make test` are the two
# commands the README opens with; .ci/run runs `make test` plus fmt and clippy.
SHELL := bash
CARGO ?= cargo
PLUGINS := triage backup drainplan rotate
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
PREFIX ?= $(HOME)/.local
TARGET ?= x86_64-unknown-linux-gnu

.PHONY: all build demo sandbox test fuzz lint fmt bench e2e conformance dist krew install clean help

all: build

help:
	@echo "make demo     build, start kube-sandbox with the demo fixtures, run kubectl triage -n hypersdk"
	@echo "make test     every test (unit, sandbox API, kubectl fidelity, plugin CLI suites)"
	@echo "make fuzz     the property tests with FUZZ_CASES cases each (default 10000; make test runs a few dozen)"
	@echo "make lint     cargo fmt --check and clippy -D warnings"
	@echo "make bench    side-by-side benchmarks against kubectl (writes bench/results.md)"
	@echo "make e2e      plugin suites against the cluster KUBECONFIG points at (disposable!)"
	@echo "make conformance  kube-rs's own cluster tests against kube-sandbox (minutes; not in make test)"
	@echo "make dist     release archives in dist/;  make krew: Krew manifests for them"
	@echo "make install  plugins, completion shims and man pages under \$$PREFIX (default ~/.local)"
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

# The proptest properties (parsers of durations, quantities, archives, manifests, drain
# plans; selector semantics) with many more cases than `make test` runs. stable Rust, so
# proptest rather than cargo-fuzz; PROPTEST_CASES is read by each props file.
FUZZ_CASES ?= 10000
fuzz:
	PROPTEST_CASES=$(FUZZ_CASES) $(CARGO) test -p kubectl-plugins-common --test props
	PROPTEST_CASES=$(FUZZ_CASES) $(CARGO) test -p kubectl-backup --test props
	PROPTEST_CASES=$(FUZZ_CASES) $(CARGO) test -p kubectl-drainplan --test props
	PROPTEST_CASES=$(FUZZ_CASES) $(CARGO) test -p kubectl-drainplan --lib planfile::props

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

# Release archives for one target (the host by default) with the same script the release
# workflow runs for every platform: binary, kubectl_complete-<plugin> shim, LICENSE.
dist:
	$(CARGO) build --release $(addprefix -p kubectl-,$(PLUGINS))
	@bash krew/pack.sh $(VERSION) $(TARGET) target/release dist $(PLUGINS)

# The Krew index (dist/krew/plugins/*.yaml) for the archives in dist/.
krew: dist
	bash krew/render.sh $(VERSION) $(TARGET)
	@echo "install locally: kubectl krew install --manifest=dist/krew/plugins/triage.yaml --archive=dist/kubectl-triage-v$(VERSION)-$(TARGET).tar.gz"

# Binaries and completion shims to $(PREFIX)/bin, man pages to $(PREFIX)/share/man/man1.
install:
	$(CARGO) build --release $(addprefix -p kubectl-,$(PLUGINS))
	@mkdir -p $(PREFIX)/bin $(PREFIX)/share/man/man1
	@for p in $(PLUGINS); do \
	  install -m 0755 target/release/kubectl-$$p $(PREFIX)/bin/ && \
	  bash krew/completion-shim.sh $$p $(PREFIX)/bin && \
	  target/release/kubectl-$$p __manpages $(PREFIX)/share/man/man1 >/dev/null && \
	  echo "installed kubectl-$$p, kubectl_complete-$$p and its man pages under $(PREFIX)"; \
	done
	@echo "check with: PATH=$(PREFIX)/bin:\$$PATH kubectl plugin list;  man -l $(PREFIX)/share/man/man1/kubectl-triage.1"

clean:
	$(CARGO) clean
	rm -rf dist .demo bench/out
