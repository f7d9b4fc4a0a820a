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

# kubectl rotate: rotate a credential two Deployments use (env key and volume), check both
# are repointed and healthy, the old Secret is untouched, then status and cleanup.
rns="rotate-e2e-$(date +%s)"
trap 'kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; kubectl delete namespace "$bns" --wait=false >/dev/null 2>&1 || true; kubectl delete namespace "$rns" --wait=false >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
kubectl create namespace "$rns"
kubectl apply -n "$rns" -f tests/e2e/rotate.yaml
kubectl rollout status deployment/api -n "$rns" --timeout=180s
kubectl rollout status deployment/worker -n "$rns" --timeout=180s
old_rv=$(kubectl get secret app-credentials -n "$rns" -o jsonpath='{.metadata.resourceVersion}')
step "rotate secret --dry-run=server changes nothing" kubectl rotate secret app-credentials -n "$rns" --from-literal password=e2e-second-password --keep username --dry-run=server
step "rotate secret" kubectl rotate secret app-credentials -n "$rns" --from-literal password=e2e-second-password --keep username --timeout 3m
api_ref=$(kubectl get deployment api -n "$rns" -o jsonpath='{.spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name}')
worker_ref=$(kubectl get deployment worker -n "$rns" -o jsonpath='{.spec.template.spec.volumes[0].secret.secretName}')
step "both consumers point at the new version" test "$api_ref" = "$worker_ref" -a "$api_ref" != app-credentials
step "the old Secret is untouched" test "$(kubectl get secret app-credentials -n "$rns" -o jsonpath='{.metadata.resourceVersion}')" = "$old_rv"
step "rotate status" kubectl rotate status app-credentials -n "$rns"
step "rotate cleanup keeps what is referenced" kubectl rotate cleanup app-credentials -n "$rns" --yes
step "rotate certs" sh -c "kubectl rotate certs -n '$rns' >/dev/null; test \$? -le 1"

# kubectl drainplan: plan a drain of one schedulable node (read-only), then run it as a
# server-side dry run (every eviction validated by the API server, nothing evicted).
node=$(kubectl get nodes -o jsonpath='{range .items[?(@.spec.unschedulable!=true)]}{.metadata.name}{"\n"}{end}' | tail -1)
if [ -n "$node" ]; then
  set +e; kubectl drainplan "$node" --ignore-daemonsets --delete-emptydir-data -o json >"$work/plan.json"; code=$?; set -e
  step "drainplan plans $node (exit 0 safe / 1 blocked)" test "$code" -le 1
  step "the plan is a DrainPlan document" grep -q '"kind": "DrainPlan"' "$work/plan.json"
  if [ "$code" = 0 ]; then
    step "drainplan --execute --dry-run=server" kubectl drainplan --execute --plan "$work/plan.json" --dry-run=server --yes
    step "the node was not cordoned by the dry run" test "$(kubectl get node "$node" -o jsonpath='{.spec.unschedulable}')" != true
  fi
fi
exit "$fail"
