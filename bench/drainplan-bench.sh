#!/usr/bin/env bash
# kubectl drainplan at scale (its issue's "Speed"): a sandbox with 1,000 nodes and 30,000
# pods; planning a drain of 10 nodes against `kubectl get pods -A -o json` (target <= 1.3x
# and <= 10 list requests), of 100 nodes (target < 2x), peak RSS, and `kubectl drain
# --dry-run=server` of the same 10 nodes for comparison. Writes a markdown section to
# $OUT/drainplan.md (bench/run.sh puts it in bench/results.md) and prints it.
#
# Environment (bench/run.sh sets them; defaults let it run alone):
#   BIN      release binaries (target/release)        OUT   work dir (bench/out)
#   KUBECTL  the kubectl to time (the 1.33 one)        RUNS  timed runs (default 3)
#   BENCH_QUICK=1  100 nodes / 3,000 pods instead (smoke run)
#   DRAINPLAN_LATENCIES="0 20"  sandbox --latency-ms values (default "0")
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${BIN:-$ROOT/target/release}
OUT=${OUT:-$ROOT/bench/out}
RUNS=${RUNS:-3}
QUICK=${BENCH_QUICK:-0}
LATENCIES=${DRAINPLAN_LATENCIES:-0}
if [[ -z ${KUBECTL:-} ]]; then
  KUBECTL=kubectl
  kdir=$(dirname "$(readlink -f "$(command -v kubectl)")")
  [[ -x $kdir/kubectl.1.33 ]] && KUBECTL=$kdir/kubectl.1.33
fi
mkdir -p "$OUT"
export KUBECACHEDIR=$OUT/kube-cache
MD=$OUT/drainplan.md
SB_PID=
cleanup() {
  if [[ -n ${SB_PID:-} ]] && kill -0 "$SB_PID" 2>/dev/null; then
    kill "$SB_PID" 2>/dev/null || true
    wait "$SB_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
log() { printf 'bench(drainplan): %s\n' "$*" >&2; }
die() {
  printf 'bench(drainplan): error: %s\n' "$*" >&2
  exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "NA"; else if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
for b in kube-sandbox sandbox-scale kubectl-drainplan; do
  [[ -x $BIN/$b ]] || die "$BIN/$b is missing (cargo build --release -p $b)"
done
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) is required"

# ---------------------------------------------------------------- the cluster
if [[ $QUICK == 1 ]]; then
  NODES=100 PODS=3000
else
  NODES=1000 PODS=30000
fi
# The generator's drainplan preset (pools, GPU nodes, cordoned nodes, DaemonSets,
# StatefulSets, PDBs of every kind, anti-affinity; nodes node-0001...) when it has one,
# else its default shape by flags (nodes node-001...).
if "$BIN/sandbox-scale" --help 2>/dev/null | grep -q -- '--preset'; then
  GEN_FLAGS="--preset drainplan --nodes $NODES --pods $PODS"
  NODE_FMT='node-%04d'
else
  GEN_FLAGS="--nodes $NODES --pods $PODS --namespaces 10"
  NODE_FMT='node-%03d'
fi
DIR=$OUT/fixtures/drainplan-${NODES}n
if [[ ! -f $DIR/scale.json ]] || [[ $(cat "$DIR/.flags" 2>/dev/null) != "$GEN_FLAGS --seed 42" ]]; then
  log "generating fixtures: $GEN_FLAGS"
  rm -rf "$DIR"
  # shellcheck disable=SC2086 # flags are words
  "$BIN/sandbox-scale" --out "$DIR" --seed 42 $GEN_FLAGS >&2 || die "sandbox-scale failed"
  echo "$GEN_FLAGS --seed 42" >"$DIR/.flags"
fi
# shellcheck disable=SC2059 # the format is ours
nodes_list() { for ((i = 1; i <= $1; i++)); do printf "$NODE_FMT " "$i"; done; }
# 10 and 100 nodes (a smoke run's 100-node cluster: 10 and 20, so room is left).
BIG=$((NODES >= 500 ? 100 : NODES / 5))
TEN=$(nodes_list 10)
HUNDRED=$(nodes_list "$BIG")

start_sandbox() {
  local latency=$1 t0 deadline
  KCFG=$OUT/drainplan-kubeconfig.yaml
  rm -f "$OUT/drainplan-sb.out" "$KCFG"
  t0=$(now_ms)
  "$BIN/kube-sandbox" --fixtures "$DIR" --kubeconfig-out "$KCFG" --latency-ms "$latency" \
    >"$OUT/drainplan-sb.out" 2>"$OUT/drainplan-sb.err" &
  SB_PID=$!
  deadline=$((t0 + 300000))
  until grep -q '^ready ' "$OUT/drainplan-sb.out" 2>/dev/null; do
    kill -0 "$SB_PID" 2>/dev/null || { cat "$OUT/drainplan-sb.err" >&2; die "kube-sandbox exited"; }
    (($(now_ms) < deadline)) || die "kube-sandbox not ready after 300 s"
    sleep 0.05
  done
  SB_STARTUP_MS=$(($(now_ms) - t0))
  export KUBECONFIG=$KCFG
}
stop_sandbox() {
  kill "$SB_PID" 2>/dev/null || true
  wait "$SB_PID" 2>/dev/null || true
  SB_PID=
}

# run_once OKCODES CMD: sets LAST_MS, LAST_RSS_KB, LAST_RC
run_once() {
  local ok=$1 cmd=$2 t0
  t0=$(now_ms)
  LAST_RC=0
  /usr/bin/time -f '%M' -o "$OUT/drainplan-time.txt" bash -c "$cmd" >"$OUT/drainplan-stdout.txt" 2>"$OUT/drainplan-stderr.txt" || LAST_RC=$?
  LAST_MS=$(($(now_ms) - t0))
  LAST_RSS_KB=$(grep -E '^[0-9]+$' "$OUT/drainplan-time.txt" | tail -1)
  if [[ " $ok " != *" $LAST_RC "* ]]; then
    printf 'bench(drainplan): error: exit %s: %s\n' "$LAST_RC" "$cmd" >&2
    tail -20 "$OUT/drainplan-stderr.txt" >&2
    exit 1
  fi
}
# measure LABEL OKCODES CMD: warm-up, RUNS timed runs; sets MED_MS, MAX_RSS_MB, RC
measure() {
  local label=$1 ok=$2 cmd=$3 i ms=() rss=0
  log "$label: warm-up"
  run_once "$ok" "$cmd"
  for ((i = 1; i <= RUNS; i++)); do
    run_once "$ok" "$cmd"
    ms+=("$LAST_MS")
    ((LAST_RSS_KB > rss)) && rss=$LAST_RSS_KB
  done
  MED_MS=$(printf '%s\n' "${ms[@]}" | median)
  MAX_RSS_MB=$((rss / 1024))
  RC=$LAST_RC
}
kubectl_requests() {
  KFLAGS="-v=6" bash -c "$1" >/dev/null 2>"$OUT/drainplan-v6.txt" || true
  grep -cE 'round_trippers\.go.*"Response"|^I.* (GET|POST|PUT|PATCH|DELETE) https?://' "$OUT/drainplan-v6.txt" || true
}
plugin_requests() {
  bash -c "$1 --stats" >/dev/null 2>"$OUT/drainplan-stats.txt" || true
  grep -oE 'requests: *[0-9]+' "$OUT/drainplan-stats.txt" | grep -oE '[0-9]+' | tail -1 || echo NA
}

ROWS=$OUT/drainplan.tsv # latency label median_ms requests rss_mb exit
: >"$ROWS"
STARTUPS=""
DRAIN_NOTE=""
for lat in $LATENCIES; do
  start_sandbox "$lat"
  STARTUPS="$STARTUPS ${lat} ms: $(awk -v v="$SB_STARTUP_MS" 'BEGIN { printf "%.1f s", v / 1000 }');"
  log "[${lat} ms] sandbox with $NODES nodes / $PODS pods ready in ${SB_STARTUP_MS} ms"
  floor="$KUBECTL \${KFLAGS:-} get pods -A -o json"
  plan10="$BIN/kubectl-drainplan $TEN --ignore-daemonsets --delete-emptydir-data -o json"
  plan100="$BIN/kubectl-drainplan $HUNDRED --ignore-daemonsets --delete-emptydir-data -o json"
  # The same 10 nodes with kubectl's server-side dry run. kubectl drains node after node
  # and retries a budget's refusal every 5 s until --timeout (per node), then exits 1: one
  # run, with -v=6 to count its requests.
  drain10="$KUBECTL -v=6 drain $TEN --dry-run=server --ignore-daemonsets --delete-emptydir-data --force --timeout=20s"
  measure "kubectl get pods -A -o json" 0 "$floor"
  printf '%s\tkubectl get pods -A -o json\t%s\t%s\t%s\t%s\n' "$lat" "$MED_MS" "$(kubectl_requests "$floor")" "$MAX_RSS_MB" "$RC" >>"$ROWS"
  measure "drainplan 10 nodes" "0 1" "$plan10"
  verdict10=$(jq -r '"\(.verdict), \(.summary.waves) waves, \(.summary.evict) evictions, \(.summary.blockers) blockers"' "$OUT/drainplan-stdout.txt" 2>/dev/null || echo "?")
  printf '%s\tkubectl drainplan (10 nodes) -o json\t%s\t%s\t%s\t%s\n' "$lat" "$MED_MS" "$(plugin_requests "$plan10")" "$MAX_RSS_MB" "$RC" >>"$ROWS"
  measure "drainplan $BIG nodes" "0 1" "$plan100"
  verdict100=$(jq -r '"\(.verdict), \(.summary.waves) waves, \(.summary.evict) evictions, \(.summary.blockers) blockers"' "$OUT/drainplan-stdout.txt" 2>/dev/null || echo "?")
  printf '%s\tkubectl drainplan (%s nodes) -o json\t%s\t%s\t%s\t%s\n' "$lat" "$BIG" "$MED_MS" "$(plugin_requests "$plan100")" "$MAX_RSS_MB" "$RC" >>"$ROWS"
  log "kubectl drain --dry-run=server (10 nodes): one run"
  run_once "0 1" "$drain10"
  drain_requests=$(grep -cE 'round_trippers\.go.*"Response"|^I.* (GET|POST|PUT|PATCH|DELETE) https?://' "$OUT/drainplan-stderr.txt" || true)
  # kubectl prints "evicting pod" again before every retry: count pods, not lines.
  drain_tried=$(grep '^evicting pod' "$OUT/drainplan-stdout.txt" | sort -u | wc -l)
  drain_refused=$(grep -oE 'error when evicting pods/"[^"]+" -n "[^"]+"' "$OUT/drainplan-stderr.txt" | sort -u | wc -l)
  drain_passed=$((drain_tried - drain_refused))
  printf '%s\tkubectl drain (10 nodes) --dry-run=server\t%s\t%s\t%s\t%s\n' "$lat" "$LAST_MS" "$drain_requests" "$((LAST_RSS_KB / 1024))" "$LAST_RC" >>"$ROWS"
  DRAIN_NOTE="$DRAIN_NOTE ${lat} ms: $drain_passed pods' evictions accepted, $drain_refused pods refused by a budget and retried until the timeout;"
  stop_sandbox
done

{
  echo "## kubectl drainplan: $NODES nodes, $PODS pods"
  echo
  echo "Generated with \`sandbox-scale $GEN_FLAGS --seed 42\`; sandbox start-up:$STARTUPS median of $RUNS runs after a warm-up (the server dry run: one run). Plans use \`--ignore-daemonsets --delete-emptydir-data\` on the first 10 nodes (plan: $verdict10) and the first $BIG (plan: $verdict100), in node order."
  echo
  echo "| latency | command | median wall | ratio to \`get pods -A\` | API requests | peak RSS | exit |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
  awk -F'\t' '
    $2 == "kubectl get pods -A -o json" { floor[$1] = $3 }
    { row[NR] = $0 }
    END {
      for (i = 1; i <= NR; i++) {
        split(row[i], f, "\t")
        r = (f[2] == "kubectl get pods -A -o json") ? "floor" : sprintf("%.2f×", f[3] / floor[f[1]])
        printf "| %s ms | `%s` | %.3f s | %s | %s | %s MB | %s |\n", f[1], f[2], f[3] / 1000, r, f[4], f[5], f[6]
      }
    }' "$ROWS"
  echo
  echo "\`kubectl drain --dry-run=server\` (one run, \`--timeout=20s\`, which kubectl applies per node):$DRAIN_NOTE the plan names those refusals (\`PDBBlocked\`) without sending anything."
  echo
  echo "| latency | target | measured | result |"
  echo "| --- | --- | --- | --- |"
  awk -F'\t' '
    $2 == "kubectl get pods -A -o json" { floor[$1] = $3 }
    $2 ~ /10 nodes\) -o json/ { t10[$1] = $3; q10[$1] = $4; lat[++n] = $1 }
    $2 ~ /drainplan \([0-9]+ nodes\)/ && $2 !~ /\(10 nodes\)/ { t100[$1] = $3; big = $2 }
    END {
      for (i = 1; i <= n; i++) {
        l = lat[i]
        printf "| %s ms | plan 10 nodes <= 1.3x get pods -A (%.3f s) | %.3f s (%.2f×) | %s |\n", l, floor[l] / 1000, t10[l] / 1000, t10[l] / floor[l], (t10[l] <= 1.3 * floor[l]) ? "PASS" : "MISS"
        printf "| %s ms | plan 10 nodes <= 10 list requests | %s | %s |\n", l, q10[l], (q10[l] ~ /^[0-9]+$/ && q10[l] + 0 <= 10) ? "PASS" : "MISS"
        sub(/^kubectl drainplan \(/, "", big); sub(/\).*/, "", big)
        printf "| %s ms | plan %s < 2x get pods -A | %.3f s (%.2f×) | %s |\n", l, big, t100[l] / 1000, t100[l] / floor[l], (t100[l] < 2 * floor[l]) ? "PASS" : "MISS"
      }
    }' "$ROWS"
  echo
} >"$MD"
cat "$MD"
