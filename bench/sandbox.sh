# shellcheck shell=bash
# The kube-sandbox block of `make bench`, sourced by bench/run.sh (it uses its
# generate/start_sandbox/stop_sandbox/log/die/median helpers). Issue 13's goals,
# so that benchmarks measure the plugins and not the server:
#   a full and a paged (limit 500) list of 30,000 pods >= 100 MB/s of JSON;
#   sandbox RSS at 30,000 pods <= 1.5 GB, and flat while it serves those lists;
#   the realistic 10,000-pod cluster (~28,000 objects) ready in <= 2 s;
#   drainplan's 1,000-node / 30,000-pod cluster ready in <= 10 s.
# Writes $OUT/sandbox.md (bench/run.sh puts it in the results).

SANDBOX_SETS=${BENCH_SANDBOX_SETS:-10k drainplan sandbox-30k}
SANDBOX_STARTS=${BENCH_SANDBOX_STARTS:-3}
SANDBOX_LIST_RUNS=${BENCH_SANDBOX_LIST_RUNS:-5}
SANDBOX_LIST_SET=${BENCH_SANDBOX_LIST_SET:-sandbox-30k} # the set whose pods are listed
SANDBOX_BENCH_ROWS=$OUT/sandbox-bench.tsv # set key value

sandbox_row() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$SANDBOX_BENCH_ROWS"; }
sandbox_value() { awk -F'\t' -v s="$1" -v k="$2" '$1 == s && $2 == k { v = $3 } END { print v }' "$SANDBOX_BENCH_ROWS"; }
# CPU time (user + system) the running sandbox has used, in ms: start-up
# work independent of how busy the shared machine is
sandbox_cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($14 + $15) * 1000 / hz }' "/proc/$SB_PID/stat" 2>/dev/null || echo NA; }
# VmRSS / VmHWM of the running sandbox, in MB
sandbox_mem_mb() { awk -v k="$1:" '$1 == k { printf "%d", $2 / 1024 }' "/proc/$SB_PID/status" 2>/dev/null || echo NA; }

# sandbox_lists SET LIMIT KEY: list pods RUNS times (limit 0 = one full list),
# recording the median throughput in MB/s (10^6 bytes), the bytes and the pages.
# Also the MB per second of the sandbox's own CPU time over all runs: what it
# can serve when it has a core to itself, however busy the machine is.
sandbox_lists() {
  local set=$1 limit=$2 key=$3 lines cpu0 cpu1
  cpu0=$(sandbox_cpu_ms)
  lines=$(python3 "$ROOT/bench/sandbox-list.py" "$KCFG" /api/v1/pods "$limit" "$SANDBOX_LIST_RUNS") ||
    die "listing pods (limit $limit) from the $set sandbox failed"
  cpu1=$(sandbox_cpu_ms)
  sandbox_row "$set" "${key}_mbps" "$(awk '{ printf "%d\n", $1 / $2 / 1e6 }' <<<"$lines" | median)"
  sandbox_row "$set" "${key}_cpu_mbps" "$(awk -v ms=$((cpu1 - cpu0)) '{ b += $1 } END { if (ms > 0) printf "%d", b / ms / 1e3; else print "NA" }' <<<"$lines")"
  sandbox_row "$set" "${key}_bytes" "$(awk 'END { print $1 }' <<<"$lines")"
  sandbox_row "$set" "${key}_pages" "$(awk 'END { print $3 }' <<<"$lines")"
}

sandbox_bench() {
  : >"$SANDBOX_BENCH_ROWS"
  local set dir starts cpus i
  for set in $SANDBOX_SETS; do
    dir=$(generate "$set")
    sandbox_row "$set" objects "$(cat "$dir"/cluster-*.yaml "$dir"/namespaces/*/*.yaml | grep '^kind: ' | grep -vc '^kind: PodLogs$')"
    sandbox_row "$set" pods "$(cat "$dir"/cluster-*.yaml "$dir"/namespaces/*/*.yaml | grep -c '^kind: Pod$')"
    starts=()
    cpus=()
    for ((i = 1; i <= SANDBOX_STARTS; i++)); do
      start_sandbox "$dir" 0
      starts+=("$SB_STARTUP_MS")
      cpus+=("$(sandbox_cpu_ms)")
      if ((i == SANDBOX_STARTS)); then
        sandbox_row "$set" rss_ready_mb "$(sandbox_mem_mb VmRSS)"
        if [[ $set == "$SANDBOX_LIST_SET" ]]; then
          log "[sandbox $set] full and paged pod lists, $SANDBOX_LIST_RUNS each"
          sandbox_lists "$set" 0 full
          sandbox_lists "$set" 500 paged
          sandbox_row "$set" rss_served_mb "$(sandbox_mem_mb VmRSS)"
        fi
        sandbox_row "$set" rss_peak_mb "$(sandbox_mem_mb VmHWM)"
      fi
      stop_sandbox
    done
    sandbox_row "$set" startup_ms "$(printf '%s\n' "${starts[@]}" | median)"
    sandbox_row "$set" startup_cpu_ms "$(printf '%s\n' "${cpus[@]}" | median)"
    log "[sandbox $set] ready in $(sandbox_value "$set" startup_ms) ms (median of $SANDBOX_STARTS)"
  done
  sandbox_report >"$OUT/sandbox.md"
}

# verdict VALUE OP LIMIT: PASS or MISS (NA when not measured)
sandbox_verdict() {
  [[ -n $1 && $1 != NA ]] || {
    echo "not measured"
    return
  }
  awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN { ok = (op == "<=") ? v <= l : v >= l; print ok ? "PASS" : "MISS" }'
}

sandbox_report() {
  local s=$SANDBOX_LIST_SET full paged peak ready served
  echo "## kube-sandbox: list throughput, memory, start-up"
  echo
  echo "kube-sandbox (release build) alone, latency 0, on sandbox-scale sets (seed 42); start-up to the \`ready\` line, median of $SANDBOX_STARTS starts; lists: \`GET /api/v1/pods\` over one kept-alive HTTPS connection (bench/sandbox-list.py), whole list or pages of 500 following \`continue\`, median of $SANDBOX_LIST_RUNS; MB = 10^6 bytes of JSON received; RSS from /proc (VmRSS, peak VmHWM)."
  echo
  echo "| fixtures | objects | start-up | CPU time to ready | RSS when ready | peak RSS |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  for set in $SANDBOX_SETS; do
    printf '| %s | %s | %s s | %s s | %s MB | %s MB |\n' "$(sandbox_describe "$set")" "$(sandbox_value "$set" objects)" \
      "$(awk -v v="$(sandbox_value "$set" startup_ms)" 'BEGIN { printf "%.2f", v / 1000 }')" \
      "$(awk -v v="$(sandbox_value "$set" startup_cpu_ms)" 'BEGIN { printf "%.2f", v / 1000 }')" \
      "$(sandbox_value "$set" rss_ready_mb)" "$(sandbox_value "$set" rss_peak_mb)"
  done
  echo
  echo "Start-up is wall time on a shared machine: with other work on both cores (load average $(cut -d' ' -f1 /proc/loadavg) now) it stretches to several times the CPU time; the CPU time is what the sandbox itself needs."
  echo
  full=$(sandbox_value $s full_mbps)
  paged=$(sandbox_value $s paged_mbps)
  ready=$(sandbox_value $s rss_ready_mb)
  served=$(sandbox_value $s rss_served_mb)
  peak=$(sandbox_value $s rss_peak_mb)
  if [[ -n $full ]]; then
    echo "| list of $(sandbox_value $s pods) pods | JSON | throughput | per second of sandbox CPU |"
    echo "| --- | ---: | ---: | ---: |"
    echo "| full (one response) | $(($(sandbox_value $s full_bytes) / 1000000)) MB | $full MB/s | $(sandbox_value $s full_cpu_mbps) MB |"
    echo "| paged, limit 500 ($(sandbox_value $s paged_pages) pages) | $(($(sandbox_value $s paged_bytes) / 1000000)) MB | $paged MB/s | $(sandbox_value $s paged_cpu_mbps) MB |"
    echo
    echo "RSS at $(sandbox_value $s pods) pods: $ready MB when ready, $served MB after the $((2 * SANDBOX_LIST_RUNS)) lists, peak $peak MB."
    echo
  fi
  echo "Goals (issue 13):"
  echo
  echo "- full list >= 100 MB/s: $(sandbox_verdict "$full" ">=" 100) ($full MB/s)"
  echo "- paged list >= 100 MB/s: $(sandbox_verdict "$paged" ">=" 100) ($paged MB/s)"
  echo "- RSS at 30,000 pods <= 1.5 GB: $(sandbox_verdict "$peak" "<=" 1536) (peak $peak MB)"
  echo "- RSS flat while serving (grows < 10% over the lists): $(sandbox_verdict "$(awk -v a="$ready" -v b="$served" 'BEGIN { if (a > 0) printf "%d", (b - a) * 100 / a; else print "NA" }')" "<=" 10) ($ready → $served MB)"
  echo "- 10,000-pod cluster ready <= 2 s: $(sandbox_verdict "$(sandbox_value 10k startup_ms)" "<=" 2000) ($(sandbox_value 10k objects) objects; $(sandbox_value 10k startup_ms) ms, CPU $(sandbox_value 10k startup_cpu_ms) ms)"
  echo "- drainplan's 1,000 nodes / 30,000 pods ready <= 10 s: $(sandbox_verdict "$(sandbox_value drainplan startup_ms)" "<=" 10000) ($(sandbox_value drainplan objects) objects; $(sandbox_value drainplan startup_ms) ms, CPU $(sandbox_value drainplan startup_cpu_ms) ms)"
  echo
}

sandbox_describe() {
  case $1 in
    10k) echo "\`10k\`: 10,000 pods, 10 namespaces, 30 nodes" ;;
    drainplan) echo "\`drainplan\`: \`--preset drainplan\`, 1,000 nodes, 30,000 pods" ;;
    sandbox-30k) echo "\`sandbox-30k\`: 30,000 pods, 10 namespaces, 300 nodes" ;;
    *) echo "\`$1\`" ;;
  esac
}
