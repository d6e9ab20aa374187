#!/usr/bin/env bash
# Benchmarks side by side (issue 6): our broker (DSTREAM_SYNC=always and os) vs NATS JetStream,
# core NATS, Redis Streams and the npm Durable Streams reference server, all on 127.0.0.1 with data
# under one temp dir, interleaved in one run. Prints one Markdown table (median, min-max, ratio
# ours/theirs) and stops every server. Our brokers are driven over WebSocket protocol v1 (ours-always,
# ours-os) and over their NATS ports by the same jnats code as JetStream and core NATS (issue 16:
# ours-nats, ours-nats-os, ours-nats-core). Scenarios 1 and 2 also run against two 3-node clusters on
# loopback, every stream replicated on all three nodes (issue 17): ours (ours-cluster, three brokers sharing
# one S3 server) and nats-server's JetStream (jetstream-r3), both through node 1 by the same jnats code.
#
#   bench/run.sh                  the full run (scenarios 1-5, 7, 9 and 10, 3 repeats; then up to 45 minutes for 6)
#   bench/run.sh --quick          tiny counts, 1 repeat: proves the harness works (CI)
#   bench/run.sh --repeats 5      more repeats
#   bench/run.sh --scenarios 1,7  only these of 1-5, 7, 9 and 10 (scenario 6 runs unless --skip-idle)
#   bench/run.sh --skip-idle      no scenario 6 (it publishes to 1,000,000 subjects)
#   bench/run.sh --skip-sockets   no idle-sockets step (10,000 subscribed WebSockets, broker memory per socket)
#   bench/run.sh --systems ours-nats,jetstream   only these systems in scenarios 1-5, 7, 9 and 10 (e.g. for a profile)
#   bench/run.sh --scenarios 1,2 --systems ours-cluster,jetstream-r3 --skip-idle --skip-sockets   only the clusters
#   bench/run.sh --jfr            record our brokers with JFR into bench/target/jfr/
#   bench/run.sh --warm-up-s 300  let a scenario warm up on a system for up to 300 s (60 s) until
#                                 its JIT compiler settles (under 5 % of the server's CPU in a run)
#   bench/run.sh --cluster-sync os  our cluster's nodes with DSTREAM_SYNC=os (always): an entry counts once
#                                 the OS of a majority has it, as JetStream R3 acknowledges (docs/cluster.md)
#
# The clusters start only when the run includes scenario 1 or 2 and (with --systems) names them.
#
# Scenario 7 (HTTP) runs the records API (ours only) and the Durable Streams protocol against
# @durable-streams/server, installed with npm into bench/target/ds-reference (pinned version).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

QUICK=0
REPEATS=3
SCENARIOS=1,2,3,4,5,7,9,10
DS_REFERENCE_VERSION=0.3.7
IDLE=1
SOCKETS=1
JFR=0
SYSTEMS=
WARM_UP_S=60
CLUSTER_SYNC=always
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; REPEATS=1 ;;
    --repeats) REPEATS=$2; shift ;;
    --scenarios) SCENARIOS=$2; shift ;;
    --skip-idle) IDLE=0 ;;
    --skip-sockets) SOCKETS=0 ;;
    --jfr) JFR=1 ;;
    --systems) SYSTEMS=$2; shift ;;
    --warm-up-s) WARM_UP_S=$2; shift ;;
    --cluster-sync) CLUSTER_SYNC=$2; shift ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "[bench] $*"; }

# ---- what the run needs ------------------------------------------------------------------------
missing=()
command -v nats-server >/dev/null || missing+=(nats-server)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} from the Debian packages"
  SUDO=
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

BROKER_JAR=$ROOT/broker/target/broker.jar
BENCH_JAR=$ROOT/bench/target/bench.jar
stale() { [ ! -f "$1" ] || [ -n "$(find "${@:2}" -newer "$1" -type f -print -quit)" ]; }
if stale "$BROKER_JAR" broker/src broker/pom.xml pom.xml || stale "$BENCH_JAR" bench/src bench/pom.xml pom.xml; then
  log "building broker.jar and bench.jar"
  mvn -B -q -DskipTests -pl broker,bench -am package
fi

# The Durable Streams reference server: the npm package, pinned, in a cache beside the jars, started
# by a small script (it is a library) that must sit next to its node_modules to import it.
DS_REFERENCE_DIR=$ROOT/bench/target/ds-reference
if [ "$(node -p "try { require('$DS_REFERENCE_DIR/node_modules/@durable-streams/server/package.json').version } catch (e) { '' }" 2>/dev/null)" != "$DS_REFERENCE_VERSION" ]; then
  log "installing @durable-streams/server@$DS_REFERENCE_VERSION with npm"
  mkdir -p "$DS_REFERENCE_DIR"
  printf '{"name":"ds-reference","private":true,"type":"module"}\n' > "$DS_REFERENCE_DIR/package.json"
  (cd "$DS_REFERENCE_DIR" && npm install --no-audit --no-fund --loglevel=error "@durable-streams/server@$DS_REFERENCE_VERSION" >/dev/null)
fi
cp bench/reference/ds-reference-server.mjs "$DS_REFERENCE_DIR/"

# ---- servers -----------------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dstream-bench.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mapfile -t PORTS < <(java -jar "$BENCH_JAR" free-ports 30)
P_ALWAYS=${PORTS[0]} P_OS=${PORTS[1]} P_NATS=${PORTS[2]} P_REDIS=${PORTS[3]} P_IDLE=${PORTS[4]} P_DSREF=${PORTS[5]}
P_ALWAYS_NATS=${PORTS[6]} P_OS_NATS=${PORTS[7]}
# The clusters' nodes, index 0 to 2: ours (HTTP, NATS, Hazelcast, Raft, and the shared S3 server) and
# JetStream's (client, route, monitoring).
CLUSTER_HTTP=("${PORTS[@]:8:3}") CLUSTER_NATS=("${PORTS[@]:11:3}") CLUSTER_HAZELCAST=("${PORTS[@]:14:3}")
CLUSTER_RAFT=("${PORTS[@]:17:3}") P_CLUSTER_S3=${PORTS[20]}
R3_CLIENT=("${PORTS[@]:21:3}") R3_ROUTE=("${PORTS[@]:24:3}") R3_MONITOR=("${PORTS[@]:27:3}")
API_KEY=bench
JFR_DIR=$ROOT/bench/target/jfr

start_ours() { # name port sync [java options...]; DSTREAM_NATS_PORT from the caller's environment, else 0 (off)
  local name=$1 port=$2 sync=$3
  shift 3
  mkdir -p "$WORK/$name"
  local jfr=()
  if [ $JFR = 1 ]; then
    mkdir -p "$JFR_DIR"
    jfr=("-XX:StartFlightRecording=filename=$JFR_DIR/$name.jfr,settings=profile,dumponexit=true")
  fi
  # The per-socket request rate limit is a protection against floods (default 100,000/s, burst
  # 20,000), not a property under test; NATS and Redis have none by default. The unacked window per
  # subscriber is set to JetStream's consumer default (MaxAckPending 1,000; ours defaults to 256), so
  # that replay and fan-out compare the same window.
  DSTREAM_HOST=127.0.0.1 DSTREAM_PORT=$port DSTREAM_NATS_PORT=${DSTREAM_NATS_PORT:-0} DSTREAM_DATA_DIR=$WORK/$name DSTREAM_SYNC=$sync \
    DSTREAM_API_KEY=$API_KEY DSTREAM_LOG_LEVEL=WARN DSTREAM_RATE_PER_SOCKET=1000000000 DSTREAM_RATE_BURST=1000000000 \
    DSTREAM_MAX_IN_FLIGHT=1000 \
    java "$@" "${jfr[@]}" -jar "$BROKER_JAR" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
}

wait_ready() { # name command...: at most 60 s (up to seven JVMs may be starting on the machine)
  wait_ready_within 60 "$@"
}

wait_ready_within() { # seconds name command...; on failure prints the logs of name (a cluster's: every node's)
  local deadline=$((SECONDS + $1)) name=$2
  shift 2
  while [ $SECONDS -lt $deadline ]; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  log "$name did not start; its log:"
  for file in "$WORK/$name".log "$WORK/$name"-*.log; do
    if [ -f "$file" ]; then echo "--- $file" >&2; cat "$file" >&2; fi
  done
  exit 1
}

# The clusters run scenarios 1 and 2 only; one starts when the run includes either and (with --systems) it.
cluster_wanted() { # system
  [[ ",$SCENARIOS," =~ ,(1|2), ]] && { [ -z "$SYSTEMS" ] || [[ ",$SYSTEMS," == *",$1,"* ]]; }
}

# Our 3-node cluster (issue 17), each node a broker as start_ours makes it (DSTREAM_SYNC=always unless
# --cluster-sync says otherwise, the bench settings), with the cluster settings of docs/cluster.md: replicas 3, the default partitions. The nodes
# must share one bucket, so they share one S3 server: the broker's own embedded one (EmbeddedS3, S3Proxy on
# the filesystem) run alone in a process of its own by the bench module's SharedS3, since a node's embedded
# server takes a port only its log names and stops with the node. Its keys are fixed for the run.
CLUSTER_PIDS=()
start_ours_cluster() {
  log "ours-cluster: three nodes with DSTREAM_SYNC=$CLUSTER_SYNC"
  mkdir -p "$WORK/ours-cluster-s3"
  # Both jars hold a logback.xml (the broker's, first, is used): the status listener keeps logback from
  # printing its whole setup for that.
  java -Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener -cp "$BROKER_JAR:$BENCH_JAR" \
    io.dstream.bench.cluster.SharedS3 "$WORK/ours-cluster-s3" "$P_CLUSTER_S3" bench-access bench-secret \
    >"$WORK/ours-cluster-s3.log" 2>&1 &
  PIDS+=($!)
  CLUSTER_PIDS+=($!)
  wait_ready ours-cluster-s3 grep -q "listening on" "$WORK/ours-cluster-s3.log"
  local peers=n1=127.0.0.1:${CLUSTER_HAZELCAST[0]}:${CLUSTER_RAFT[0]}
  peers+=,n2=127.0.0.1:${CLUSTER_HAZELCAST[1]}:${CLUSTER_RAFT[1]},n3=127.0.0.1:${CLUSTER_HAZELCAST[2]}:${CLUSTER_RAFT[2]}
  for i in 0 1 2; do
    DSTREAM_NATS_PORT=${CLUSTER_NATS[i]} DSTREAM_CLUSTER_NODE_ID=n$((i + 1)) DSTREAM_CLUSTER_PEERS=$peers \
      DSTREAM_CLUSTER_REPLICAS=3 DSTREAM_S3_ENDPOINT=http://127.0.0.1:$P_CLUSTER_S3 \
      DSTREAM_S3_ACCESS_KEY=bench-access DSTREAM_S3_SECRET_KEY=bench-secret \
      start_ours "ours-cluster-n$((i + 1))" "${CLUSTER_HTTP[i]}" "$CLUSTER_SYNC"
    CLUSTER_PIDS+=("$LAST_PID")
  done
}

# Ready when node 1 knows a leader for every partition (GET /admin/cluster, docs/cluster.md). Its last
# answer is kept in ours-cluster-admin.log, which a failed wait prints with the nodes' logs.
cluster_has_leaders() {
  local state=$WORK/ours-cluster-admin.log partitions leaders
  curl -s -w '\nHTTP %{http_code}\n' "http://127.0.0.1:${CLUSTER_HTTP[0]}/admin/cluster?apiKey=$API_KEY" >"$state" \
    && grep -q '^HTTP 200$' "$state" || return 1
  partitions=$(grep -o '"partition":' "$state" | wc -l)
  leaders=$(grep -Eo '"leader" *: *"' "$state" | wc -l)
  [ "$partitions" -gt 0 ] && [ "$leaders" = "$partitions" ]
}

# nats-server's 3-node JetStream cluster: file storage and its default sync, as the single jetstream; the
# same routes on every node (a node ignores the route to itself); the streams get 3 replicas (JetStreamTarget).
R3_PIDS=()
start_jetstream_r3() {
  local routes=nats://127.0.0.1:${R3_ROUTE[0]},nats://127.0.0.1:${R3_ROUTE[1]},nats://127.0.0.1:${R3_ROUTE[2]}
  for i in 0 1 2; do
    local name=jetstream-r3-$((i + 1))
    mkdir -p "$WORK/$name"
    nats-server -a 127.0.0.1 -p "${R3_CLIENT[i]}" -m "${R3_MONITOR[i]}" -n "$name" -js -sd "$WORK/$name" \
      --cluster_name bench-r3 --cluster "nats://127.0.0.1:${R3_ROUTE[i]}" --routes "$routes" >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    R3_PIDS+=($!)
  done
}

log "work dir $WORK"
# The brokers under test also speak the NATS client protocol (issue 16) on a port of their own.
DSTREAM_NATS_PORT=$P_ALWAYS_NATS start_ours ours-always "$P_ALWAYS" always
PID_ALWAYS=$LAST_PID
DSTREAM_NATS_PORT=$P_OS_NATS start_ours ours-os "$P_OS" os
PID_OS=$LAST_PID
mkdir -p "$WORK/nats" "$WORK/redis"
# JetStream with file storage and its default sync (fsync every 2 minutes).
nats-server -a 127.0.0.1 -p "$P_NATS" -js -sd "$WORK/nats" >"$WORK/nats.log" 2>&1 &
PIDS+=($!)
PID_NATS=$!
# Redis Streams with the append-only file, fsync once per second; no RDB snapshots.
redis-server --bind 127.0.0.1 --port "$P_REDIS" --dir "$WORK/redis" --appendonly yes --appendfsync everysec \
  --save "" --protected-mode no --daemonize no >"$WORK/redis.log" 2>&1 &
PIDS+=($!)
PID_REDIS=$!
# The Durable Streams reference server with its file-backed store (fdatasync per append).
mkdir -p "$WORK/ds-reference"
node "$DS_REFERENCE_DIR/ds-reference-server.mjs" "$P_DSREF" "$WORK/ds-reference" >"$WORK/ds-reference.log" 2>&1 &
PIDS+=($!)
PID_DSREF=$!
OURS_CLUSTER=0
R3=0
if cluster_wanted ours-cluster; then OURS_CLUSTER=1; start_ours_cluster; fi
if cluster_wanted jetstream-r3; then R3=1; start_jetstream_r3; fi

wait_ready ours-always curl -sf "http://127.0.0.1:$P_ALWAYS/health"
wait_ready ours-os curl -sf "http://127.0.0.1:$P_OS/health"
wait_ready ours-always bash -c "exec 3<>/dev/tcp/127.0.0.1/$P_ALWAYS_NATS"
wait_ready ours-os bash -c "exec 3<>/dev/tcp/127.0.0.1/$P_OS_NATS"
wait_ready nats bash -c "exec 3<>/dev/tcp/127.0.0.1/$P_NATS"
wait_ready redis redis-cli -h 127.0.0.1 -p "$P_REDIS" ping
wait_ready ds-reference grep -q "listening on" "$WORK/ds-reference.log"
if [ $OURS_CLUSTER = 1 ]; then
  for i in 0 1 2; do
    wait_ready "ours-cluster-n$((i + 1))" curl -sf "http://127.0.0.1:${CLUSTER_HTTP[i]}/health"
    wait_ready "ours-cluster-n$((i + 1))" bash -c "exec 3<>/dev/tcp/127.0.0.1/${CLUSTER_NATS[i]}"
  done
  # Joining and the first elections of every partition; generous for a loaded 2-core machine.
  wait_ready_within 120 ours-cluster cluster_has_leaders
fi
if [ $R3 = 1 ]; then
  # A node's /healthz answers 200 once it is in contact with the JetStream meta leader.
  for i in 0 1 2; do
    wait_ready_within 60 "jetstream-r3-$((i + 1))" curl -sf "http://127.0.0.1:${R3_MONITOR[i]}/healthz"
  done
fi

log "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(java -version 2>&1 | head -1)"
log "versions: $(nats-server --version), $(redis-server --version | cut -d' ' -f1-3), node $(node --version), @durable-streams/server $DS_REFERENCE_VERSION"

# ---- scenarios 1-5, 7, 9 and 10, interleaved ----------------------------------------------------
RESULTS=$WORK/results.log
MATRIX=(matrix --ours-always "127.0.0.1:$P_ALWAYS" --ours-os "127.0.0.1:$P_OS" --api-key "$API_KEY"
  --ours-nats "nats://127.0.0.1:$P_ALWAYS_NATS" --ours-nats-os "nats://127.0.0.1:$P_OS_NATS"
  --nats "nats://127.0.0.1:$P_NATS" --redis "127.0.0.1:$P_REDIS" --ds-reference "127.0.0.1:$P_DSREF" --repeats "$REPEATS" --scenarios "$SCENARIOS" --warm-up-s "$WARM_UP_S"
  --table "$WORK/table.md" --pid "ours-always=$PID_ALWAYS" --pid "ours-os=$PID_OS" --pid "ours-nats=$PID_ALWAYS"
  --pid "ours-nats-os=$PID_OS" --pid "ours-nats-core=$PID_ALWAYS" --pid "jetstream=$PID_NATS"
  --pid "nats-core=$PID_NATS" --pid "redis=$PID_REDIS" --pid "ds-reference=$PID_DSREF")
# A cluster's CPU is the sum over its nodes (and, for ours, the S3 server they share).
if [ $OURS_CLUSTER = 1 ]; then
  CLUSTER_ADMIN=()
  for port in "${CLUSTER_HTTP[@]}"; do CLUSTER_ADMIN+=("http://127.0.0.1:$port"); done
  MATRIX+=(--ours-cluster "nats://127.0.0.1:${CLUSTER_NATS[0]}" --ours-cluster-admin "$(IFS=,; echo "${CLUSTER_ADMIN[*]}")"
    --pid "ours-cluster=$(IFS=,; echo "${CLUSTER_PIDS[*]}")")
fi
if [ $R3 = 1 ]; then
  MATRIX+=(--jetstream-r3 "nats://127.0.0.1:${R3_CLIENT[0]}" --pid "jetstream-r3=$(IFS=,; echo "${R3_PIDS[*]}")")
fi
if [ $QUICK = 1 ]; then MATRIX+=(--quick --timeout-s 30); fi
if [ -n "$SYSTEMS" ]; then MATRIX+=(--systems "$SYSTEMS"); fi
status=0
timeout --kill-after=10 $((QUICK == 1 ? 240 : 3600)) java -jar "$BENCH_JAR" "${MATRIX[@]}" | tee -a "$RESULTS" \
  || status=$?

# ---- scenario 6: idle subjects in a 1 GiB heap (ours only) --------------------------------------
IDLE_STATUS=skipped
if [ $IDLE = 1 ]; then
  SUBJECTS=$((QUICK == 1 ? 500 : 1000000))
  # About 1,900 subjects/s on the quiet 2-core VM (run 5); the budget leaves room for slower machines.
  BUDGET=$((QUICK == 1 ? 20 : 2700))
  DSTREAM_IDLE_TIMEOUT_MS=1000 start_ours ours-idle "$P_IDLE" always -Xmx1g
  IDLE_PID=$LAST_PID
  wait_ready ours-idle curl -sf "http://127.0.0.1:$P_IDLE/health"
  if timeout --kill-after=10 $((QUICK == 1 ? 60 : 3600)) java -jar "$BENCH_JAR" idle --ours "127.0.0.1:$P_IDLE" \
      --api-key "$API_KEY" --subjects "$SUBJECTS" --broker-pid "$IDLE_PID" --budget-s "$BUDGET" \
      --timeout-s $((QUICK == 1 ? 50 : 3500)) | tee -a "$RESULTS"; then
    IDLE_STATUS=ok
  else
    IDLE_STATUS=failed
    status=1
    tail -20 "$WORK/ours-idle.log" >&2 || true
  fi
fi

# ---- idle WebSockets (issue 7): subscribed sockets held, broker memory per socket (ours only) ----
SOCKETS_STATUS=skipped
if [ $SOCKETS = 1 ]; then
  SOCKET_COUNT=$((QUICK == 1 ? 200 : 10000))
  # The broker and this bench JVM each hold one descriptor per socket.
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((SOCKET_COUNT + 1000)) ]; then
    log "open files limit $(ulimit -n) is too low for $SOCKET_COUNT sockets"
  fi
  P_SOCKETS=$(java -jar "$BENCH_JAR" free-ports 1)
  # Pings every 2 s and an idle-connection timeout of 5 s, with 12 s of idleness: only the pings keep
  # the sockets open. DSTREAM_MAX_CONNECTIONS stays at its default, 100,000.
  DSTREAM_WS_PING_INTERVAL_MS=2000 DSTREAM_IDLE_CONNECTION_TIMEOUT_MS=5000 \
    start_ours ours-sockets "$P_SOCKETS" always -Xmx1g
  SOCKETS_PID=$LAST_PID
  wait_ready ours-sockets curl -sf "http://127.0.0.1:$P_SOCKETS/health"
  if timeout --kill-after=10 $((QUICK == 1 ? 90 : 900)) java -jar "$BENCH_JAR" sockets --ours "127.0.0.1:$P_SOCKETS" \
      --api-key "$API_KEY" --sockets "$SOCKET_COUNT" --idle-ms $((QUICK == 1 ? 6000 : 12000)) \
      --broker-pid "$SOCKETS_PID" --timeout-s $((QUICK == 1 ? 80 : 850)) | tee -a "$RESULTS"; then
    SOCKETS_STATUS=ok
  else
    SOCKETS_STATUS=failed
    status=1
    tail -20 "$WORK/ours-sockets.log" >&2 || true
  fi
  kill "$SOCKETS_PID" 2>/dev/null || true
fi

echo
java -jar "$BENCH_JAR" table "$RESULTS"
echo
echo "scenario 6 (idle subjects): $IDLE_STATUS; idle WebSockets (issue 7): $SOCKETS_STATUS"
if [ $status != 0 ]; then echo "some runs failed or timed out: see the lines above the table"; fi
if [ $QUICK = 1 ]; then echo "(--quick: tiny counts, the numbers mean nothing)"; fi
exit $status
