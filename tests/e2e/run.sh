#!/usr/bin/env bash
# `make e2e`: runs the plugins against the cluster KUBECONFIG points at.
# Use a disposable cluster (kind, k3d, minikube): it creates and deletes its
# own namespace, and needs to pull busybox. Not run by CI (no cluster there).
set -euo pipefail
cd "$(dirname "$0")/../.."
kubectl version >/dev/null 2>&1 || { echo "error: no cluster reachable through KUBECONFIG" >&2; exit 3; }
cargo build --bins -q
export PATH="$PWD/target/debug:$PATH"
ns="plugins-e2e-$(date +%s)"
kubectl create namespace "$ns"
trap 'kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true' EXIT
kubectl apply -n "$ns" -f tests/e2e/manifests.yaml

echo "waiting for the crash loop and the missing secret to show (up to 3 minutes)..."
deadline=$((SECONDS + 180))
until kubectl get pods -n "$ns" -o jsonpath='{.items[*].status.containerStatuses[*].state.waiting.reason}' 2>/dev/null \
      | grep -q CrashLoopBackOff; do
  [ $SECONDS -lt $deadline ] || { echo "error: no CrashLoopBackOff after 3 minutes" >&2; kubectl get pods -n "$ns"; exit 1; }
  sleep 5
done

fail=0
expect() { # expect REASON OBJECT_NAME in the JSON report
  if ! grep -q "\"reason\": \"$1\"" "$report" || ! grep -q "\"name\": \"$2\"" "$report"; then
    echo "FAIL: expected $1 on $2"; fail=1
  else
    echo "ok:   $1 on $2"
  fi
}
report=$(mktemp)
set +e; kubectl triage -n "$ns" -o json >"$report"; code=$?; set -e
[ "$code" = 1 ] || { echo "FAIL: kubectl triage exited $code, want 1"; fail=1; }
expect CrashLoopBackOff crasher
expect MissingReference missing-secret
expect SelectorMatchesNoPods orphan
kubectl triage -n "$ns" || true
rm -f "$report"
exit "$fail"
