#!/usr/bin/env bash
# Benchmarks side by side (issue 6): our broker (DSTREAM_SYNC=always and os) vs NATS JetStream,
# core NATS, Redis Streams and the npm Durable Streams reference server, all on 127.0.0.1 with data
# under one temp dir, interleaved in one run. Prints one Markdown table (median, min-max, ratio
# ours/theirs) and stops every server. Our brokers are driven over WebSocket protocol v1 (ours-always,
# ours-os) and over their NATS ports by the same jnats code as JetStream and core NATS (issue 16:
# ours-nats, ours-nats-os, ours-nats-core).
#
#   bench/run.sh                  the full run (scenarios 1-5, 7, 9 and 10, 3 repeats; then up to 45 minutes for 6)
#   bench/run.sh --quick          tiny counts, 1 repeat: proves the harness works (CI)
#   bench/run.sh --repeats 5      more repeats
#   bench/run.sh --scenarios 1,7  only these of 1-5, 7, 9 and 10 (scenario 6 runs unless --skip-idle)
#   bench/run.sh --skip-idle      no scenario 6 (it publishes to 1,000,000 subjects)
#   bench/run.sh --skip-sockets   no idle-sockets step (10,000 subscribed WebSockets, broker memory per socket)
#   bench/run.sh --systems ours-nats,jetstream   only these systems in scenarios 1-5, 7, 9 and 10 (e.g. for a profile)
#   bench/run.sh --jfr            record our brokers with JFR into bench/target/jfr/
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
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; REPEATS=1 ;;
    --repeats) REPEATS=$2; shift ;;
    --scenarios) SCENARIOS=$2; shift ;;
    --skip-idle) IDLE=0 ;;
    --skip-sockets) SOCKETS=0 ;;
    --jfr) JFR=1 ;;
    --systems) SYSTEMS=$2; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
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

mapfile -t PORTS < <(java -jar "$BENCH_JAR" free-ports 8)
P_ALWAYS=${PORTS[0]} P_OS=${PORTS[1]} P_NATS=${PORTS[2]} P_REDIS=${PORTS[3]} P_IDLE=${PORTS[4]} P_DSREF=${PORTS[5]}
P_ALWAYS_NATS=${PORTS[6]} P_OS_NATS=${PORTS[7]}
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

wait_ready() { # name command...
  local name=$1
  shift
  for _ in $(seq 300); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  log "$name did not start; its log:"
  cat "$WORK/$name.log" >&2 || true
  exit 1
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

wait_ready ours-always curl -sf "http://127.0.0.1:$P_ALWAYS/health"
wait_ready ours-os curl -sf "http://127.0.0.1:$P_OS/health"
wait_ready ours-always bash -c "exec 3<>/dev/tcp/127.0.0.1/$P_ALWAYS_NATS"
wait_ready ours-os bash -c "exec 3<>/dev/tcp/127.0.0.1/$P_OS_NATS"
wait_ready nats bash -c "exec 3<>/dev/tcp/127.0.0.1/$P_NATS"
wait_ready redis redis-cli -h 127.0.0.1 -p "$P_REDIS" ping
wait_ready ds-reference grep -q "listening on" "$WORK/ds-reference.log"

log "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(java -version 2>&1 | head -1)"
log "versions: $(nats-server --version), $(redis-server --version | cut -d' ' -f1-3), node $(node --version), @durable-streams/server $DS_REFERENCE_VERSION"

# ---- scenarios 1-5, 7, 9 and 10, interleaved ----------------------------------------------------
RESULTS=$WORK/results.log
MATRIX=(matrix --ours-always "127.0.0.1:$P_ALWAYS" --ours-os "127.0.0.1:$P_OS" --api-key "$API_KEY"
  --ours-nats "nats://127.0.0.1:$P_ALWAYS_NATS" --ours-nats-os "nats://127.0.0.1:$P_OS_NATS"
  --nats "nats://127.0.0.1:$P_NATS" --redis "127.0.0.1:$P_REDIS" --ds-reference "127.0.0.1:$P_DSREF" --repeats "$REPEATS" --scenarios "$SCENARIOS"
  --table "$WORK/table.md" --pid "ours-always=$PID_ALWAYS" --pid "ours-os=$PID_OS" --pid "ours-nats=$PID_ALWAYS"
  --pid "ours-nats-os=$PID_OS" --pid "ours-nats-core=$PID_ALWAYS" --pid "jetstream=$PID_NATS"
  --pid "nats-core=$PID_NATS" --pid "redis=$PID_REDIS" --pid "ds-reference=$PID_DSREF")
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
