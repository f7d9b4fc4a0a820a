#!/usr/bin/env bash
# `make conformance`: kube-rs's own cluster tests (its #[ignore]d tests, which
# its CI runs against a real cluster) run against kube-sandbox. They are built
# from the published sources of the kube, kube-client and kube-runtime
# versions in Cargo.lock (copied from the cargo registry into a temporary
# workspace; nothing of theirs is committed here), then run with --ignored
# and KUBECONFIG pointing at a sandbox on tests/fixtures/conformance.
#
# Prints one PASS/FAIL line per test and compares the failures with
# tests/conformance/expected-failures.txt (each with its reason): exits 1 if
# a test fails that is not listed, or a listed one now passes.
# usage: tests/conformance/run.sh [--keep]   (--keep: leave the work dir)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
keep=${1:-}
expected=tests/conformance/expected-failures.txt
registry=${CARGO_HOME:-$HOME/.cargo}/registry/src
target=${CONFORMANCE_TARGET_DIR:-$root/target/conformance}
sandbox=${SANDBOX_BIN:-$root/target/debug/kube-sandbox}
cargo=${CARGO:-cargo}

locked_version() {
  awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

work=$(mktemp -d)
cleanup() { [ "$keep" = "--keep" ] && echo "work dir kept: $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT

crates=(kube kube-client kube-runtime)
for crate in "${crates[@]}"; do
  version=$(locked_version "$crate")
  if [ -z "$version" ]; then
    echo "error: $crate is not in Cargo.lock (kube-sandbox's dev-dependencies enable kube's runtime feature)" >&2
    exit 2
  fi
  src=$(ls -d "$registry"/*/"$crate-$version" 2>/dev/null | head -1 || true)
  if [ -z "$src" ]; then
    "$cargo" fetch --quiet
    src=$(ls -d "$registry"/*/"$crate-$version" 2>/dev/null | head -1 || true)
  fi
  [ -n "$src" ] || { echo "error: sources of $crate $version not found under $registry" >&2; exit 2; }
  cp -R "$src" "$work/$crate"
  # Publishing drops path-only dev-dependencies; kube-client's and
  # kube-runtime's tests use `kube` itself (Cargo.toml.orig): restore it.
  orig=$(grep -E '^kube = \{ path = "\.\./kube"' "$src/Cargo.toml.orig" || true)
  if [ -n "$orig" ]; then
    printf '\n[dev-dependencies.kube]\npath = "../kube"\nfeatures = %s\n' \
      "$(sed -E 's/.*features = (\[[^]]*\]).*/\1/' <<<"$orig")" >>"$work/$crate/Cargo.toml"
  fi
  echo "$crate $version: $src" >&2
done

# One workspace, the three crates patched in, so kube's tests use these
# kube-client/kube-runtime sources too. Our lockfile seeds the resolution
# (the versions already downloaded); cargo adds the tests' dev-dependencies.
cat >"$work/Cargo.toml" <<'EOF'
[workspace]
resolver = "2"
members = ["kube", "kube-client", "kube-runtime"]

[patch.crates-io]
kube = { path = "kube" }
kube-client = { path = "kube-client" }
kube-runtime = { path = "kube-runtime" }
EOF
cp Cargo.lock "$work/Cargo.lock"

# Per crate: the features its ignored tests are written for (TLS with ring,
# as our plugins use; ws for exec/attach; unstable-client for the Client
# extension tests; derive and runtime for kube's own).
declare -A features=(
  [kube-client]="rustls-tls,ws,kubelet-debug,unstable-client"
  [kube]="derive,runtime,ws"
  [kube-runtime]="kube-client/rustls-tls"
)
run_tests() { # crate, extra args...
  local crate=$1; shift
  CARGO_TARGET_DIR="$target" "$cargo" test --manifest-path "$work/Cargo.toml" \
    -p "$crate" --lib --features "${features[$crate]}" "$@"
}

echo "building the test binaries (first run takes a few minutes)..." >&2
for crate in "${crates[@]}"; do
  run_tests "$crate" --no-run --quiet
done

[ -x "$sandbox" ] || { echo "error: $sandbox not built (run make build)" >&2; exit 2; }
logs="$work/logs"
mkdir -p "$logs"
export CARGO="$cargo" CARGO_TARGET_DIR="$target" WORK="$work" LOGS="$logs"
export FEATURES_KUBE="${features[kube]}" FEATURES_CLIENT="${features[kube-client]}" FEATURES_RUNTIME="${features[kube-runtime]}"
SANDBOX_BIN="$sandbox" scripts/with-sandbox.sh tests/fixtures/conformance bash -c '
  for spec in "kube-client:$FEATURES_CLIENT" "kube:$FEATURES_KUBE" "kube-runtime:$FEATURES_RUNTIME"; do
    crate=${spec%%:*}
    timeout 900 "$CARGO" test --manifest-path "$WORK/Cargo.toml" -p "$crate" --lib \
      --features "${spec#*:}" -- --ignored >"$LOGS/$crate.log" 2>&1 || true
  done
'

# test lines → "crate test status", failures with the first panic line.
results="$work/results"
: >"$results"
for crate in "${crates[@]}"; do
  log="$logs/$crate.log"
  { grep -E '^test [^ ]+ \.\.\. (ok|FAILED)$' "$log" || true; } | while read -r _ name _ status; do
    if [ "$status" = ok ]; then
      echo "$crate $name PASS" >>"$results"
    else
      # The returned error, or the line after "panicked at" (the message).
      why=$(awk -v n="---- $name stdout ----" '
        $0 == n { f = 1; next }
        f && /^Error: / { print; exit }
        f && /panicked at/ { getline line; print line; exit }' "$log" | cut -c1-160)
      echo "$crate $name FAIL ${why:-see log}" >>"$results"
    fi
  done
done
sort -o "$results" "$results"

passed=$(grep -c ' PASS$' "$results" || true)
failed=$(grep -c ' FAIL' "$results" || true)
echo
echo "kube-rs cluster tests against kube-sandbox ($(locked_version kube)): $passed passed, $failed failed"
while read -r crate name status rest; do
  printf '%-4s %-12s %s%s\n' "$status" "$crate" "$name" "${rest:+  — $rest}"
done <"$results"

# Compare with the documented failures.
status=0
while read -r crate name st _; do
  listed=$(grep -E "^$crate $name( |$)" "$expected" || true)
  if [ "$st" = FAIL ] && [ -z "$listed" ]; then
    echo "unexpected failure: $crate $name (not in $expected)" >&2; status=1
  fi
  if [ "$st" = PASS ] && [ -n "$listed" ]; then
    echo "now passes: $crate $name (remove it from $expected)" >&2; status=1
  fi
done <"$results"
exit "$status"
