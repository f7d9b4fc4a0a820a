#!/usr/bin/env bash
# `make bench`: each plugin command side by side with its kubectl baseline,
# against kube-sandbox at several sizes and latencies; writes bench/results.md.
#
# Environment:
#   BENCH_QUICK=1        smoke run: 1k pods, latency 0, one run (results in bench/out/)
#   BENCH_RUNS=N         timed runs per command after one warm-up (default 5; 3 at 30k)
#   BENCH_LATENCIES="0 20"  sandbox --latency-ms values
#   BENCH_SCENARIOS="1k 5k-1ns 30k"  which fixture sets
#   BENCH_NO_BUILD=1     use the release binaries already in target/release
#   BENCH_RESULTS=FILE   where the markdown goes (default bench/results.md)
#
# Every command must succeed (kubectl: exit 0; triage: 0 or 1, which only
# says whether it found problems): otherwise the run stops, naming the
# command and showing its stderr. A failure is never timed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/target/release
OUT=$ROOT/bench/out
QUICK=${BENCH_QUICK:-0}
mkdir -p "$OUT"

if [[ $QUICK == 1 ]]; then
  RUNS=${BENCH_RUNS:-1}
  LATENCIES=${BENCH_LATENCIES:-0}
  SCENARIOS=${BENCH_SCENARIOS:-1k}
  RESULTS=${BENCH_RESULTS:-$OUT/results-quick.md}
  FOUNDATION_PODS=${BENCH_FOUNDATION_PODS:-1k}
else
  RUNS=${BENCH_RUNS:-5}
  LATENCIES=${BENCH_LATENCIES:-0 20}
  SCENARIOS=${BENCH_SCENARIOS:-1k 5k-1ns 30k}
  RESULTS=${BENCH_RESULTS:-$ROOT/bench/results.md}
  FOUNDATION_PODS=${BENCH_FOUNDATION_PODS:-10k}
fi

BENCH_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
ROWS=$OUT/rows.tsv        # scenario latency label role median_ms requests rss_mb note
SANDBOX_ROWS=$OUT/sandbox.tsv
: >"$ROWS"
: >"$SANDBOX_ROWS"
export KUBECACHEDIR=$OUT/kube-cache   # kubectl's discovery cache, warmed by the warm-up run
SB_PID=
cleanup() {
  if [[ -n ${SB_PID:-} ]] && kill -0 "$SB_PID" 2>/dev/null; then
    kill "$SB_PID" 2>/dev/null || true
    wait "$SB_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
  printf 'bench: error: %s\n' "$*" >&2
  exit 1
}
maxv() { if (($2 > $1)); then echo "$2"; else echo "$1"; fi; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "NA"; else if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# ---------------------------------------------------------------- build
if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
  log "building release binaries"
  cargo build --release -p kube-sandbox -p kubectl-triage -p sandbox-scale \
    -p kubectl-backup -p kubectl-drainplan -p kubectl-rotate >&2
fi
for b in kube-sandbox sandbox-scale kubectl-triage; do
  [[ -x $BIN/$b ]] || die "$BIN/$b is missing (cargo build --release -p $b)"
done
command -v kubectl >/dev/null || die "kubectl is not on PATH"
# The kubectl on PATH here is a dispatcher that execs kubectl.1.NN after
# asking the server its version (~20-40 ms and one request per call); time
# the real kubectl for the sandbox's version (1.33) instead, as a user with a
# plain install has it. KUBECTL=... overrides.
if [[ -z ${KUBECTL:-} ]]; then
  KUBECTL=kubectl
  kdir=$(dirname "$(readlink -f "$(command -v kubectl)")")
  [[ -x $kdir/kubectl.1.33 ]] && KUBECTL=$kdir/kubectl.1.33
fi
export KUBECTL
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) is required"

# ---------------------------------------------------------------- fixtures
# scenario -> generator flags and the namespace the per-namespace commands use
scenario_flags() {
  case $1 in
    1k) echo "--pods 1000 --namespaces 10 --nodes 30" ;;
    5k-1ns) echo "--pods 5000 --deployments 500 --events 5000 --single-namespace triage-scale --nodes 30" ;;
    30k) echo "--pods 30000 --namespaces 10 --nodes 30" ;;
    10k) echo "--pods 10000 --namespaces 10 --nodes 30" ;;
    10k-objects) echo "--pods 3600 --namespaces 10 --nodes 30" ;;
    sandbox-30k) echo "--pods 30000 --namespaces 10 --nodes 300" ;;
    drainplan) echo "--preset drainplan" ;;
    certs-10k) echo "--pods 10000 --namespaces 10 --nodes 30 --tls-secrets 9000" ;;
    certs-quick) echo "--pods 1000 --namespaces 10 --nodes 30 --tls-secrets 900" ;;
    backup-20k) echo "--pods 4500 --deployments 1350 --events 2250 --namespaces 50 --nodes 30 --custom-resources 2700" ;;
    backup-2k) echo "--pods 450 --deployments 135 --events 225 --namespaces 5 --nodes 30 --custom-resources 270" ;;
    *) echo "--pods $1 --namespaces 10 --nodes 30" ;;
  esac
}
scenario_ns() {
  case $1 in
    5k-1ns) echo triage-scale ;;
    *) echo payments ;;
  esac
}
describe_scenario() {
  case $1 in
    1k) echo "1,000 pods in 10 namespaces, 30 nodes; per-namespace commands on \`payments\` (100 pods)" ;;
    5k-1ns) echo "one namespace \`triage-scale\`: 5,000 pods, 500 Deployments, 5,000 events, 30 nodes (the triage speed target)" ;;
    30k) echo "30,000 pods in 10 namespaces, 30 nodes; per-namespace commands on \`payments\` (3,000 pods)" ;;
    *) echo "$1" ;;
  esac
}
generate() {
  local name=$1 dir=$OUT/fixtures/$1
  if [[ ! -f $dir/scale.json ]] || [[ $(cat "$dir/.flags" 2>/dev/null) != "$(scenario_flags "$name") --seed 42" ]]; then
    log "generating fixtures: $name"
    rm -rf "$dir"
    # shellcheck disable=SC2046 # flags are words
    "$BIN/sandbox-scale" --out "$dir" --seed 42 $(scenario_flags "$name") >&2 ||
      die "sandbox-scale failed for $name"
    scenario_flags "$name" | sed 's/$/ --seed 42/' >"$dir/.flags"
  fi
  echo "$dir"
}
# the Secret `kubectl rotate secret` rotates: the first Deployment's credentials
rotate_secret_in() {
  local dir=$1 ns=$2
  grep -h -m1 -oE 'name: [a-z0-9-]+-credentials' "$dir"/namespaces/"$ns"/config-*.yaml | head -1 | cut -d' ' -f2
}
# crashing pods (one container each) in the benchmarked namespace
crashing_in() {
  local dir=$1 ns=$2
  awk -v ns="\"$ns\"" '$1 == "\"name\":" && $2 == ns "," { want = 1 } want && $1 == "\"crashloop\":" { gsub(",", "", $2); print $2; exit }' "$dir/scale.json"
}

# ---------------------------------------------------------------- sandbox
SB_STARTUP_MS=
start_sandbox() {
  local dir=$1 latency=$2
  KCFG=$OUT/kubeconfig.yaml
  rm -f "$OUT/sandbox.out" "$KCFG"
  local t0
  t0=$(now_ms)
  "$BIN/kube-sandbox" --fixtures "$dir" --kubeconfig-out "$KCFG" --latency-ms "$latency" \
    >"$OUT/sandbox.out" 2>"$OUT/sandbox.err" &
  SB_PID=$!
  local deadline=$((t0 + 180000))
  until grep -q '^ready ' "$OUT/sandbox.out" 2>/dev/null; do
    if ! kill -0 "$SB_PID" 2>/dev/null; then
      cat "$OUT/sandbox.err" >&2
      die "kube-sandbox exited before 'ready' (fixtures $dir)"
    fi
    (($(now_ms) < deadline)) || die "kube-sandbox not ready after 180 s (fixtures $dir)"
    sleep 0.02
  done
  SB_STARTUP_MS=$(($(now_ms) - t0))
  export KUBECONFIG=$KCFG
}
sandbox_rss_mb() { awk '/^VmHWM:/ { printf "%d", $2 / 1024 }' "/proc/$SB_PID/status" 2>/dev/null || echo NA; }
stop_sandbox() {
  kill "$SB_PID" 2>/dev/null || true
  wait "$SB_PID" 2>/dev/null || true
  SB_PID=
}

# ---------------------------------------------------------------- measuring
# run_once LABEL OKCODES CMD: one timed run; sets LAST_MS, LAST_RSS_KB, LAST_RC.
run_once() {
  local label=$1 ok=$2 cmd=$3 t0 t1
  t0=$(now_ms)
  LAST_RC=0
  /usr/bin/time -f '%M' -o "$OUT/time.txt" bash -c "$cmd" >"$OUT/stdout.txt" 2>"$OUT/stderr.txt" || LAST_RC=$?
  t1=$(now_ms)
  LAST_MS=$((t1 - t0))
  LAST_RSS_KB=$(grep -E '^[0-9]+$' "$OUT/time.txt" | tail -1)
  if [[ " $ok " != *" $LAST_RC "* ]]; then
    printf 'bench: error: %s failed (exit %s): %s\n--- stderr (last 30 lines) ---\n' "$label" "$LAST_RC" "$cmd" >&2
    tail -30 "$OUT/stderr.txt" >&2
    exit 1
  fi
}
# requests made by a kubectl-based command: one extra untimed run with -v=6
count_kubectl_requests() {
  local cmd=$1
  KFLAGS="-v=6" bash -c "$cmd" >/dev/null 2>"$OUT/v6.txt" || die "request-count run failed: $cmd"
  grep -cE 'round_trippers\.go.*"Response"|^I.* (GET|POST|PUT|PATCH|DELETE) https?://' "$OUT/v6.txt" || true
}
# requests made by a plugin: its --stats line ("api requests: N")
count_plugin_requests() {
  local cmd=$1
  bash -c "$cmd --stats" >/dev/null 2>"$OUT/stats.txt" || true
  grep -oE 'requests: *[0-9]+' "$OUT/stats.txt" | grep -oE '[0-9]+' | tail -1 || echo NA
}

# bench_pair SCEN LAT PLUGIN_LABEL PLUGIN_OK PLUGIN_CMD BASE_LABEL BASE_CMD
# Warm-up of both, then RUNS alternating runs (the order flips every run).
bench_pair() {
  local scen=$1 lat=$2 plabel=$3 pok=$4 pcmd=$5 blabel=$6 bcmd=$7 runs=$8
  local i pms=() bms=() prss=0 brss=0
  log "[$scen, ${lat} ms] $plabel vs $blabel: warm-up"
  run_once "$blabel" 0 "$bcmd"
  run_once "$plabel" "$pok" "$pcmd"
  for ((i = 1; i <= runs; i++)); do
    if ((i % 2)); then
      run_once "$blabel" 0 "$bcmd"
      bms+=("$LAST_MS")
      brss=$(maxv "$brss" "$LAST_RSS_KB")
      run_once "$plabel" "$pok" "$pcmd"
      pms+=("$LAST_MS")
      prss=$(maxv "$prss" "$LAST_RSS_KB")
    else
      run_once "$plabel" "$pok" "$pcmd"
      pms+=("$LAST_MS")
      prss=$(maxv "$prss" "$LAST_RSS_KB")
      run_once "$blabel" 0 "$bcmd"
      bms+=("$LAST_MS")
      brss=$(maxv "$brss" "$LAST_RSS_KB")
    fi
  done
  local pmed bmed preq breq
  pmed=$(printf '%s\n' "${pms[@]}" | median)
  bmed=$(printf '%s\n' "${bms[@]}" | median)
  preq=$(count_plugin_requests "$pcmd")
  breq=$(count_kubectl_requests "$bcmd")
  printf '%s\t%s\t%s\tplugin\t%s\t%s\t%s\t%s\n' "$scen" "$lat" "$plabel" "$pmed" "$preq" $((prss / 1024)) "$blabel" >>"$ROWS"
  printf '%s\t%s\t%s\tbaseline\t%s\t%s\t%s\t-\n' "$scen" "$lat" "$blabel" "$bmed" "$breq" $((brss / 1024)) >>"$ROWS"
}
# bench_single SCEN LAT LABEL CMD: a kubectl baseline alone (the floor)
bench_single() {
  local scen=$1 lat=$2 label=$3 cmd=$4 runs=$5 i ms=() rss=0
  log "[$scen, ${lat} ms] $label"
  run_once "$label" 0 "$cmd"
  for ((i = 1; i <= runs; i++)); do
    run_once "$label" 0 "$cmd"
    ms+=("$LAST_MS")
    rss=$(maxv "$rss" "$LAST_RSS_KB")
  done
  printf '%s\t%s\t%s\tfloor\t%s\t%s\t%s\t-\n' "$scen" "$lat" "$label" "$(printf '%s\n' "${ms[@]}" | median)" \
    "$(count_kubectl_requests "$cmd")" $((rss / 1024)) >>"$ROWS"
}
# not_implemented SCEN LAT LABEL CMD: true (and records a row) when the
# plugin still answers "not implemented yet" (exit 2); any other failure stops.
not_implemented() {
  local scen=$1 lat=$2 label=$3 cmd=$4 rc=0
  bash -c "$cmd" >/dev/null 2>"$OUT/ni.txt" || rc=$?
  if [[ $rc == 2 ]] && grep -q 'not implemented' "$OUT/ni.txt"; then
    printf '%s\t%s\t%s\tplugin\tNI\t-\t-\t-\n' "$scen" "$lat" "$label" >>"$ROWS"
    return 0
  fi
  return 1
}

# ---------------------------------------------------------------- the matrix
# kubectl-triage peak RSS before issue 14 (commit cf64953, same generator and seed):
# 127 MB on 5k-1ns -n triage-scale, 670 MB on 30k -A. Shown next to today's figures.
TRIAGE_RSS_BEFORE_5K=127
TRIAGE_RSS_BEFORE_30K=670
TRIAGE_OK="0 1"

for scen in $SCENARIOS; do
  dir=$(generate "$scen")
  ns=$(scenario_ns "$scen")
  runs=$RUNS
  [[ $scen == 30k && -z ${BENCH_RUNS:-} && $QUICK != 1 ]] && runs=3
  for lat in $LATENCIES; do
    start_sandbox "$dir" "$lat"
    log "[$scen, ${lat} ms] sandbox ready in ${SB_STARTUP_MS} ms"
    floor="$KUBECTL \${KFLAGS:-} get pods -n $ns -o json"
    bench_single "$scen" "$lat" "kubectl get pods -n NS -o json" "$floor" "$runs"

    # triage vs the runbook's manual sequence
    tcmd="$BIN/kubectl-triage -n $ns -o json"
    if ! not_implemented "$scen" "$lat" "kubectl triage -n NS -o json" "$tcmd"; then
      bench_pair "$scen" "$lat" "kubectl triage -n NS -o json" "$TRIAGE_OK" "$tcmd" \
        "runbook script (get pods/events/deploy/svc/ep/pvc/hpa + logs --previous per crasher)" \
        "bash $ROOT/bench/baselines/triage-runbook.sh $ns" "$runs"
    fi
    # triage over the whole cluster vs listing every pod (the memory target: 30k pods, -A)
    if [[ $scen == 30k ]]; then
      bench_pair "$scen" "$lat" "kubectl triage -A -o json" "$TRIAGE_OK" "$BIN/kubectl-triage -A -o json" \
        "kubectl get pods -A -o json" "$KUBECTL \${KFLAGS:-} get pods -A -o json" "$runs"
    fi

    # kubectl backup: measured on its own clusters below (backup_bench).

    # drainplan: its own cluster (1,000 nodes) after this loop, bench/drainplan-bench.sh.
    # rotate: consumer discovery and the plan vs listing the same kinds with kubectl
    rsecret=$(rotate_secret_in "$dir" "$ns")
    rcmd="$BIN/kubectl-rotate secret $rsecret -n $ns --generate password --keep username --dry-run=client -o json"
    rbase="$KUBECTL \${KFLAGS:-} get deploy,sts,ds,cronjob,job,pods,sa,ingress -n $ns -o json"
    bench_pair "$scen" "$lat" "kubectl rotate secret NAME -n NS --dry-run=client -o json" 0 "$rcmd" \
      "kubectl get deploy,sts,ds,cronjob,job,pods,sa,ingress -n NS -o json" "$rbase" "$runs"

    printf '%s\t%s\tstartup_ms\t%s\trss_mb\t%s\n' "$scen" "$lat" "$SB_STARTUP_MS" "$(sandbox_rss_mb)" >>"$SANDBOX_ROWS"
    stop_sandbox
  done
done

# ---------------------------------------------------------------- kubectl rotate certs
# Every PEM certificate of every Secret in the cluster: 1,000 credentials Secrets
# plus 9,000 kubernetes.io/tls Secrets (leaf + CA chain, key, ca.crt) = 10,000.
CERTS_SCEN=certs-10k
[[ $QUICK == 1 ]] && CERTS_SCEN=certs-quick
cdir=$(generate "$CERTS_SCEN")
for lat in $LATENCIES; do
  start_sandbox "$cdir" "$lat"
  log "[$CERTS_SCEN, ${lat} ms] sandbox ready in ${SB_STARTUP_MS} ms"
  # exit 1 is the answer "some certificate is expired or critical", not a failure
  bench_pair "$CERTS_SCEN" "$lat" "kubectl rotate certs -A -o json" "0 1" "$BIN/kubectl-rotate certs -A -o json" \
    "kubectl get secrets -A -o json" "$KUBECTL \${KFLAGS:-} get secrets -A -o json" "$RUNS"
  stop_sandbox
done
# ---------------------------------------------------------------- kubectl backup
# shellcheck source=bench/backup.sh
source "$ROOT/bench/backup.sh"
if [[ $QUICK == 1 ]]; then
  BACKUP_SCENARIOS=${BENCH_BACKUP_SCENARIOS:-backup-2k}
fi
backup_bench
# ---------------------------------------------------------------- drainplan at 1,000 nodes
# Its issue's targets need a cluster of its own shape (1,000 nodes, 30,000 pods); the
# script writes $OUT/drainplan.md, put into the results below.
rm -f "$OUT/drainplan.md"
BIN=$BIN OUT=$OUT KUBECTL=$KUBECTL RUNS=$((QUICK == 1 ? 1 : 3)) BENCH_QUICK=$QUICK \
  DRAINPLAN_LATENCIES=${DRAINPLAN_LATENCIES:-$LATENCIES} bash bench/drainplan-bench.sh >/dev/null ||
  die "bench/drainplan-bench.sh failed"

# ---------------------------------------------------------------- the sandbox itself
# Start-up (to the `ready` line) as the median of several starts, for the
# 10,000-pod set and for a set of about 10,000 objects (the contract's figure);
# then `kubectl get pods -A -o json` through the 10,000-pod one.
FOUNDATION_ROWS=$OUT/foundation.tsv   # fixtures objects startup_ms rss_mb
: >"$FOUNDATION_ROWS"
starts_n=$((QUICK == 1 ? 1 : 3))
fsets=$FOUNDATION_PODS
[[ $QUICK == 1 ]] || fsets="$FOUNDATION_PODS 10k-objects"
for fscen in $fsets; do
  fdir=$(generate "$fscen")
  starts=()
  for ((i = 1; i <= starts_n; i++)); do
    start_sandbox "$fdir" 0
    starts+=("$SB_STARTUP_MS")
    f_rss=$(sandbox_rss_mb)
    if ((i == 1)) && [[ $fscen == "$FOUNDATION_PODS" ]]; then
      log "[sandbox $fscen] kubectl get pods -A -o json"
      allcmd="$KUBECTL \${KFLAGS:-} get pods -A -o json"
      run_once "kubectl get pods -A -o json" 0 "$allcmd"
      ams=()
      arss=0
      for ((j = 1; j <= starts_n; j++)); do
        run_once "kubectl get pods -A -o json" 0 "$allcmd"
        ams+=("$LAST_MS")
        arss=$(maxv "$arss" "$LAST_RSS_KB")
      done
      all_med=$(printf '%s\n' "${ams[@]}" | median)
      all_bytes=$(wc -c <"$OUT/stdout.txt")
      all_req=$(count_kubectl_requests "$allcmd")
      all_pods=$(awk -F'[:,]' '/^  "pods"/ { gsub(/ /, "", $2); print $2 }' "$fdir/scale.json")
      f_rss=$(sandbox_rss_mb)
    fi
    stop_sandbox
  done
  f_objects=$(cat "$fdir"/cluster-*.yaml "$fdir"/namespaces/*/*.yaml | grep -c '^kind: ')
  printf '%s\t%s\t%s\t%s\n' "$fscen" "$f_objects" "$(printf '%s\n' "${starts[@]}" | median)" "$f_rss" >>"$FOUNDATION_ROWS"
done

# ---------------------------------------------------------------- the sandbox: lists, RSS, start-up
# Issue 13's goals for kube-sandbox itself (bench/sandbox.sh writes $OUT/sandbox.md).
# shellcheck source=bench/sandbox.sh
source "$ROOT/bench/sandbox.sh"
if [[ $QUICK == 1 ]]; then
  SANDBOX_SETS=${BENCH_SANDBOX_SETS:-1k}
  SANDBOX_LIST_SET=1k
  SANDBOX_STARTS=1
  SANDBOX_LIST_RUNS=1
fi
sandbox_bench

# ---------------------------------------------------------------- report
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- 2>/dev/null || commit="$commit (+ uncommitted changes)"
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
elapsed=$(($(date +%s) - BENCH_START))

{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` (bench/run.sh)$([[ $QUICK == 1 ]] && echo ', BENCH_QUICK=1 smoke run'). Do not edit by hand."
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); git commit: $commit"
  echo "- machine: $(nproc) CPUs ($cpu), $mem RAM; kubectl: \`$KUBECTL\` ($($KUBECTL version --client 2>/dev/null | head -1))"
  echo "- method: kube-sandbox (release build) with sandbox-scale fixtures (seed 42); every command once as warm-up (which also fills kubectl's discovery cache), then $RUNS timed runs (3 at 30k) alternating plugin and baseline; median wall time. API requests: kubectl \`-v=6\` response lines for kubectl baselines, the plugin's \`--stats\` count for plugins (one extra untimed run each). Peak RSS: GNU time's maximum resident set size, largest over the runs (for the runbook script: its largest single process)."
  echo "- plugins run as their binaries (\`target/release/kubectl-triage\`), not through \`kubectl triage\`, which adds kubectl's own start-up."
  echo "- whole run: ${elapsed} s; load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg) (anything above ~1 means other work shared the CPUs and the figures are noisier)"
  echo
  for scen in $SCENARIOS; do
    echo "## $scen: $(describe_scenario "$scen")"
    echo
    dir=$OUT/fixtures/$scen
    echo "Crashing containers in the namespace: $(crashing_in "$dir" "$(scenario_ns "$scen")")."
    echo
    echo "| latency | command | median wall | ratio to baseline | API requests | peak RSS |"
    echo "| --- | --- | ---: | ---: | ---: | ---: |"
    awk -F'\t' -v s="$scen" '
      $1 == s { n++; sc[n] = $1; la[n] = $2; lb[n] = $3; ro[n] = $4; ms[n] = $5; rq[n] = $6; rs[n] = $7; bl[n] = $8
                if ($4 != "plugin") base[$2 "|" $3] = $5 }
      END {
        for (i = 1; i <= n; i++) {
          if (lb[i] ~ /^kubectl/) lb[i] = "`" lb[i] "`"
          if (ms[i] == "NI") { printf "| %s ms | %s | not implemented | - | - | - |\n", la[i], lb[i]; continue }
          ratio = (ro[i] == "plugin" && (la[i] "|" bl[i]) in base && base[la[i] "|" bl[i]] > 0) ? sprintf("%.2f×", ms[i] / base[la[i] "|" bl[i]]) : (ro[i] == "floor" ? "floor" : "baseline")
          printf "| %s ms | %s | %.3f s | %s | %s | %s MB |\n", la[i], lb[i], ms[i] / 1000, ratio, rq[i], rs[i]
        }
      }' "$ROWS"
    echo
  done

  backup_report
  [[ -f $OUT/drainplan.md ]] && cat "$OUT/drainplan.md"

  echo "## Targets (kubectl triage, scenario 5k-1ns)"
  echo
  if ! grep -q "^5k-1ns" "$ROWS"; then
    echo "Not measured in this run (scenario 5k-1ns not selected)."
  else
    crash=$(crashing_in "$OUT/fixtures/5k-1ns" triage-scale)
    echo "| latency | target | measured | result |"
    echo "| --- | --- | --- | --- |"
    awk -F'\t' -v crash="$crash" '
      $1 == "5k-1ns" && $3 == "kubectl get pods -n NS -o json" { floor[$2] = $5 }
      $1 == "5k-1ns" && $3 == "kubectl triage -n NS -o json" { t[$2] = $5; rq[$2] = $6; rs[$2] = $7; lat[++n] = $2 }
      END {
        for (i = 1; i <= n; i++) {
          l = lat[i]
          if (t[l] == "NI") { printf "| %s ms | all | kubectl triage not implemented | MISS (not measured) |\n", l; continue }
          lim = 20 + crash
          printf "| %s ms | API requests ≤ 20 + %d crashing = %d | %s | %s |\n", l, crash, lim, rq[l], (rq[l] ~ /^[0-9]+$/ && rq[l] + 0 <= lim) ? "PASS" : "MISS"
          printf "| %s ms | wall ≤ 1.5 × kubectl get pods -n NS -o json (%.3f s) | %.3f s (%.2f×) | %s |\n", l, floor[l] / 1000, t[l] / 1000, t[l] / floor[l], (t[l] <= 1.5 * floor[l]) ? "PASS" : "MISS"
          printf "| %s ms | peak RSS ≤ 64 MB (%d MB before pods were summarised page by page) | %s MB | %s |\n", l, before, rs[l], (rs[l] + 0 <= 64) ? "PASS" : "MISS"
        }
      }' before="$TRIAGE_RSS_BEFORE_5K" "$ROWS"
  fi
  echo

  echo "## Targets (kubectl triage -A, scenario 30k)"
  echo
  if ! grep -q "^30k.*kubectl triage -A" "$ROWS"; then
    echo "Not measured in this run (scenario 30k not selected)."
  else
    echo "| latency | target | measured | result |"
    echo "| --- | --- | --- | --- |"
    awk -F'\t' '
      $1 == "30k" && $3 == "kubectl get pods -A -o json" { floor[$2] = $5 }
      $1 == "30k" && $3 == "kubectl triage -A -o json" { t[$2] = $5; rs[$2] = $7; lat[++n] = $2 }
      END {
        for (i = 1; i <= n; i++) {
          l = lat[i]
          printf "| %s ms | peak RSS ≤ 200 MB (%d MB before pods were summarised page by page) | %s MB | %s |\n", l, before, rs[l], (rs[l] + 0 <= 200) ? "PASS" : "MISS"
          printf "| %s ms | wall vs kubectl get pods -A -o json (%.3f s) | %.3f s (%.2f×) | %s |\n", l, floor[l] / 1000, t[l] / 1000, t[l] / floor[l], (t[l] <= floor[l]) ? "PASS" : "MISS"
        }
      }' before="$TRIAGE_RSS_BEFORE_30K" "$ROWS"
  fi
  echo

  echo "## Targets (kubectl rotate)"
  echo
  if ! grep -q "^5k-1ns" "$ROWS"; then
    echo "rotate secret: not measured in this run (scenario 5k-1ns not selected)."
  else
    echo "| latency | target | measured | result |"
    echo "| --- | --- | --- | --- |"
    awk -F'\t' '
      $1 == "5k-1ns" && $3 ~ /^kubectl get deploy,sts/ { base[$2] = $5; breq[$2] = $6 }
      $1 == "5k-1ns" && $3 ~ /^kubectl rotate secret/ { t[$2] = $5; rq[$2] = $6; lat[++n] = $2 }
      END {
        for (i = 1; i <= n; i++) {
          l = lat[i]
          printf "| %s ms | rotate secret --dry-run=client wall ≤ 1 × kubectl get deploy,sts,ds,cronjob,job,pods,sa,ingress (%.3f s) | %.3f s (%.2f×) | %s |\n", l, base[l] / 1000, t[l] / 1000, t[l] / base[l], (t[l] <= base[l]) ? "PASS" : "MISS"
          printf "| %s ms | bounded API requests (one list per kind, independent of the namespace size) | %s (kubectl: %s) | %s |\n", l, rq[l], breq[l], (rq[l] ~ /^[0-9]+$/ && rq[l] + 0 <= 30) ? "PASS" : "MISS"
        }
      }' "$ROWS"
  fi
  echo
  echo "\`kubectl rotate certs -A -o json\` over $(awk -F'[:,]' '/"tls_secrets"/ { gsub(/ /, "", $2); t = $2 } /^  "deployments"/ { gsub(/ /, "", $2); d = $2 } END { printf "%d Secrets (%d kubernetes.io/tls with a chain, key and ca.crt; %d credentials)", t + d, t, d }' "$cdir/scale.json") ($CERTS_SCEN):"
  echo
  echo "| latency | command | median wall | ratio to baseline | API requests | peak RSS |"
  echo "| --- | --- | ---: | ---: | ---: | ---: |"
  awk -F'\t' -v s="$CERTS_SCEN" '
    $1 == s { if ($4 == "baseline") { b[$2] = $5 } ; row[++n] = $0 }
    END {
      for (i = 1; i <= n; i++) {
        split(row[i], f, "\t")
        ratio = (f[4] == "plugin" && b[f[2]] > 0) ? sprintf("%.2f×", f[5] / b[f[2]]) : "baseline"
        printf "| %s ms | `%s` | %.3f s | %s | %s | %s MB |\n", f[2], f[3], f[5] / 1000, ratio, f[6], f[7]
      }
    }' "$ROWS"
  echo

  echo "## kube-sandbox itself"
  echo
  echo "| fixtures | sandbox start-up (to \`ready\`) | sandbox peak RSS |"
  echo "| --- | ---: | ---: |"
  awk -F'\t' '{ printf "| %s, latency %s ms | %.2f s | %s MB |\n", $1, $2, $4 / 1000, $6 }' "$SANDBOX_ROWS"
  awk -F'\t' -v n="$starts_n" '{ printf "| %s set (%d objects), latency 0, median of %d starts | %.2f s | %s MB |\n", $1, $2, n, $3 / 1000, $4 }' "$FOUNDATION_ROWS"
  echo
  echo "\`kubectl get pods -A -o json\` through the sandbox with $all_pods pods: median $(awk -v v="$all_med" 'BEGIN { printf "%.3f s", v / 1000 }'), $all_req API requests, $((all_bytes / 1048576)) MiB of JSON, kubectl peak RSS $((arss / 1024)) MB."
  echo
  awk -F'\t' '
    $2 >= 9000 && $2 <= 12000 { printf "Foundation target, start-up with 10,000 objects < 2 s: %s (%.2f s for %d objects).\n", ($3 < 2000 ? "PASS" : "MISS"), $3 / 1000, $2; found = 1 }
    END { if (!found) print "Foundation target, start-up with 10,000 objects < 2 s: not measured in this run." }' "$FOUNDATION_ROWS"
  echo
  cat "$OUT/sandbox.md"
} >"$RESULTS"

log "results written to ${RESULTS#"$ROOT"/} in ${elapsed} s"
cat "$RESULTS"
