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

# kubectl backup: back up a namespace (Secrets encrypted with a passphrase), verify
# the archive offline, delete the namespace, restore it, and diff (no difference).
bns="backup-e2e-$(date +%s)"
work=$(mktemp -d)
trap 'kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; kubectl delete namespace "$bns" --wait=false >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
kubectl create namespace "$bns"
kubectl apply -n "$bns" -f tests/e2e/backup.yaml
kubectl rollout status deployment/exporter -n "$bns" --timeout=180s
BACKUP_E2E_PASSPHRASE="e2e-$RANDOM-$RANDOM-$RANDOM"
export BACKUP_E2E_PASSPHRASE
step() { # step DESCRIPTION CMD...: run, report ok/FAIL
  local what=$1
  shift
  if "$@"; then echo "ok:   $what"; else echo "FAIL: $what (exit $?)"; fail=1; fi
}
step "backup create" kubectl backup create -n "$bns" --passphrase-env BACKUP_E2E_PASSPHRASE -f "$work/b.tar.zst"
step "backup verify" kubectl backup verify "$work/b.tar.zst"
if tar --zstd -xOf "$work/b.tar.zst" 2>/dev/null | grep -q 'e2e-not-a-real-password'; then
  echo "FAIL: the archive holds the secret in plaintext"; fail=1
fi
kubectl delete namespace "$bns" --wait=true --timeout=180s
step "backup restore --dry-run=server" kubectl backup restore "$work/b.tar.zst" --passphrase-env BACKUP_E2E_PASSPHRASE --dry-run=server
step "backup restore" kubectl backup restore "$work/b.tar.zst" --passphrase-env BACKUP_E2E_PASSPHRASE
kubectl rollout status deployment/exporter -n "$bns" --timeout=180s || true
step "backup diff after the restore" kubectl backup diff "$work/b.tar.zst" --passphrase-env BACKUP_E2E_PASSPHRASE
# With a CSI snapshotter (a default VolumeSnapshotClass), also a claim restored from its
# snapshot after its namespace is gone: BACKUP_E2E_SNAPSHOTS=1.
if [ "${BACKUP_E2E_SNAPSHOTS:-0}" = 1 ]; then
  cat <<'CLAIM' | kubectl apply -n "$bns" -f -
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  containers: [{name: w, image: busybox:1.36, command: [sh, -c, "[ -f /data/proof ] || date > /data/proof; sleep 3600"], volumeMounts: [{name: d, mountPath: /data}]}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
CLAIM
  kubectl wait pod/writer -n "$bns" --for=condition=Ready --timeout=180s
  proof=$(kubectl exec -n "$bns" writer -- cat /data/proof)
  step "backup create --snapshot-volumes" kubectl backup create -n "$bns" --passphrase-env BACKUP_E2E_PASSPHRASE --snapshot-volumes -f "$work/s.tar.zst"
  kubectl delete namespace "$bns" --wait=true --timeout=180s
  step "restore claims from their snapshots" kubectl backup restore "$work/s.tar.zst" --passphrase-env BACKUP_E2E_PASSPHRASE --timeout 10m
  kubectl wait pod/writer -n "$bns" --for=condition=Ready --timeout=300s || true
  step "the restored claim holds the snapshot's data" test "$(kubectl exec -n "$bns" writer -- cat /data/proof)" = "$proof"
fi
exit "$fail"
