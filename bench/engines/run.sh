#!/usr/bin/env bash
# The Raft engines under the broker's scenario 2, alone (docs/benchmarks.md, run 18): three JVMs on
# 127.0.0.1 form one group; the elected node proposes 128-byte entries one at a time and prints the
# percentiles of commit-and-apply, and the context switches per entry of the three processes' threads.
# Apache Ratis 3.2.2 over gRPC (the broker's engine, its settings on this path) and over Ratis's Netty
# transport (3.2.1, the newest served here), and SOFAJRaft 1.4.1 (RocksDB log, Bolt RPC), each with the
# log forced before an entry counts (sync) and without (the OS has it, as DSTREAM_SYNC=os and
# JetStream R3), the configurations interleaved, round after round. Prints one Markdown table.
#
#   bench/engines/run.sh                 3 rounds, 10,000 warm-up entries then 5,000 timed per run
#   bench/engines/run.sh --rounds 5 --warm-up 20000 --count 10000 --base-port 18080
set -euo pipefail
cd "$(dirname "$0")"
ROUNDS=3 WARM_UP=10000 COUNT=5000 BASE=18080
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --warm-up) WARM_UP=$2; shift 2 ;;
    --count) COUNT=$2; shift 2 ;;
    --base-port) BASE=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
mvn -B -q -Dstyle.color=never package dependency:build-classpath -DskipTests -Dmdep.outputFile=target/classpath >&2
CLASSPATH="target/bench-engines-0.1.0-SNAPSHOT.jar:$(cat target/classpath)"
export CLASSPATH
WORK=$(mktemp -d)
PIDS=()
stop() { [ ${#PIDS[@]} -eq 0 ] || kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true; PIDS=(); }
trap 'stop; rm -rf "$WORK"' EXIT

# run ENGINE SYNC: one run, three nodes; prints the leader's line (empty if none led within 3 minutes)
run() {
  local engine=$1 sync=$2 main=io.dstream.bench.engines.JraftNode transport=()
  if [[ $engine == ratis-* ]]; then
    main=io.dstream.bench.engines.RatisNode transport=("${engine#ratis-}")
  fi
  rm -rf "${WORK:?}"/*
  for i in 1 2 3; do
    mkdir -p "$WORK/n$i"
    java -Xmx256m -Dpids="$WORK/pids" "$main" "$i" "$WORK/n$i" "$BASE" "$sync" "$WARM_UP" "$COUNT" 300 \
      "${transport[@]}" > "$WORK/n$i.out" 2>&1 &
    PIDS+=($!)
  done
  printf '%s\n' "${PIDS[@]}" > "$WORK/pids"
  local line=
  for _ in $(seq 1 180); do
    line=$(grep -h " led: .* p99 [0-9]* us$" "$WORK"/n*.out || true)
    [ -n "$line" ] && break
    sleep 1
  done
  stop
  echo "$line"
}

median() { tr ' ' '\n' <<< "$1" | grep -E '^[0-9]+$' | sort -n | awk '{v[NR]=$1} END {print NR ? v[int((NR+1)/2)] : "none"}'; }

CONFIGS=("ratis-grpc true" "ratis-netty true" "jraft true" "ratis-grpc false" "ratis-netty false" "jraft false")
declare -A P50 SWITCHES
for round in $(seq 1 "$ROUNDS"); do
  for config in "${CONFIGS[@]}"; do
    line=$(run $config)
    echo "round $round, $config: ${line:-no leader}" >&2
    P50[$config]="${P50[$config]:-} $(sed -n 's/.* p50 \([0-9]*\) us.*/\1/p' <<< "$line")"
    SWITCHES[$config]="${SWITCHES[$config]:-} $(sed -n 's/.*switches\/entry \([0-9]*\),.*/\1/p' <<< "$line")"
  done
done
echo "| engine | log forced before an entry counts | p50 µs, median of $ROUNDS | every run | thread switches per entry, 3 processes |"
echo "|---|---|---:|---|---:|"
for config in "${CONFIGS[@]}"; do
  read -r engine sync <<< "$config"
  echo "| $engine | $sync | $(median "${P50[$config]}") | $(xargs <<< "${P50[$config]}") | $(median "${SWITCHES[$config]}") |"
done
