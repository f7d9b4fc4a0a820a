#!/usr/bin/env bash
# The runbook's manual triage of a namespace, as one script: exactly what a
# person types, one kubectl after another (baseline for `kubectl triage`).
# Usage: triage-runbook.sh NAMESPACE   (KFLAGS="-v=6" to log every request)
set -euo pipefail
ns=$1
k() {
  # shellcheck disable=SC2086 # KFLAGS is a list of flags
  ${KUBECTL:-kubectl} ${KFLAGS:-} "$@"
}
pods=$(k get pods -n "$ns" -o wide)
printf '%s\n' "$pods"
k get events -n "$ns" --sort-by=.lastTimestamp
k get deployments -n "$ns"
k get services -n "$ns"
k get endpoints -n "$ns"
k get pvc -n "$ns"
k get hpa -n "$ns"
# Then the previous log of every crashing pod.
mapfile -t crashing < <(awk 'NR > 1 && $3 == "CrashLoopBackOff" { print $1 }' <<<"$pods")
for p in "${crashing[@]}"; do
  echo "== $p"
  k logs --previous --tail=50 -n "$ns" "$p"
done
