#!/usr/bin/env bash
# Starts kube-sandbox on a fixture directory, runs one command with KUBECONFIG
# pointing at it, then stops the sandbox. Used by `make demo` and the recipes.
# usage: scripts/with-sandbox.sh FIXTURES COMMAND [ARGS...]
set -euo pipefail
fixtures=$1; shift
sandbox=${SANDBOX_BIN:-target/debug/kube-sandbox}
dir=$(mktemp -d)
"$sandbox" --fixtures "$fixtures" --kubeconfig-out "$dir/kubeconfig" >"$dir/stdout" 2>"$dir/stderr" &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
for _ in $(seq 1 200); do
  grep -q '^ready ' "$dir/stdout" 2>/dev/null && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "error: kube-sandbox exited before it was ready:" >&2; cat "$dir/stderr" >&2; exit 2
  fi
  sleep 0.05
done
grep -q '^ready ' "$dir/stdout" || { echo "error: kube-sandbox not ready after 10s" >&2; exit 2; }
export KUBECONFIG="$dir/kubeconfig"
set +e
"$@"
status=$?
set -e
exit "$status"
