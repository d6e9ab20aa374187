#!/usr/bin/env bash
# Runs the nats.js suite (npm `nats` pinned by package-lock.json) against a real broker:
#   test.mjs       core protocol, publishing, streams, protocol fuzz
#   consumers.mjs  JetStream consumers: ack wait, max ack pending, a client that stops reading, pulls
#   restart.mjs    durable consumers across a broker restart: PHASE=before, then the broker is
#                  stopped (SIGTERM to its PID) and started again on the same data dir and ports,
#                  then PHASE=after
# `run.sh consumers restart` runs only those files (in the order above).
#
# Uses broker/target/broker.jar (built if missing), starts it on 127.0.0.1 with a fresh temp data
# dir, free NATS and HTTP ports, an API key, a JWT secret and a 2 MiB pending limit per NATS
# connection (so a slow consumer is found after a few MiB), waits for its ready lines, and always
# stops it by its PID and deletes the temp dir. Exit code: 1 if any file failed.
#
# TARGET=nats-server runs the same files against the machine's nats-server (JetStream on, its
# monitoring port as HTTP port, the same pending limit), restarted the same way, skipping the cases
# that are durable-stream's own. FUZZ_SEED / FUZZ_CASES pass through to test.mjs.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
TARGET=${TARGET:-durable-stream}
export MAX_PENDING_BYTES=$((2 * 1024 * 1024))
SUITES=("$@")
[[ ${#SUITES[@]} -eq 0 ]] && SUITES=(test consumers restart)
wants() { [[ " ${SUITES[*]} " == *" $1 "* ]]; }

TMP=$(mktemp -d -t ds-nats-js.XXXXXX)
LOG=
SERVER_PID=
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ "$TARGET" != nats-server && ! -f broker/target/broker.jar ]]; then
  mvn -B -q -DskipTests -pl pattern,broker -am package
fi
(cd .ci/nats-js && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

read -r NATS_PORT HTTP_PORT < <(node -e '
  const net = require("net");
  const free = () => new Promise((r) => { const s = net.createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => r(p)); }); });
  Promise.all([free(), free()]).then((ps) => console.log(ps.join(" ")));')
export NATS_TOKEN="nats-js-key-$RANDOM$RANDOM"
export JWT_SECRET="nats-js-secret-$RANDOM$RANDOM-0123456789abcdef0123456789abcdef"
export NATS_URL="nats://127.0.0.1:$NATS_PORT"
export HTTP_URL="http://127.0.0.1:$HTTP_PORT"
export TARGET
if [[ "$TARGET" == nats-server ]]; then
  BIN=$(command -v nats-server || echo /usr/sbin/nats-server)
  printf 'max_pending: %d\n' "$MAX_PENDING_BYTES" > "$TMP/nats-server.conf"
  READY=('Server is ready')
else
  READY=('nats listening on' 'listening on http://')
fi

# Starts the server on $TMP/data (the same dir and ports every time) and waits for its ready lines.
start_server() {
  LOG="$TMP/server-$1.log"
  if [[ "$TARGET" == nats-server ]]; then
    "$BIN" -c "$TMP/nats-server.conf" -a 127.0.0.1 -p "$NATS_PORT" -m "$HTTP_PORT" -js -sd "$TMP/data" \
      --auth "$NATS_TOKEN" > "$LOG" 2>&1 &
  else
    DSTREAM_HOST=127.0.0.1 DSTREAM_PORT="$HTTP_PORT" DSTREAM_NATS_PORT="$NATS_PORT" DSTREAM_DATA_DIR="$TMP/data" \
      DSTREAM_API_KEY="$NATS_TOKEN" DSTREAM_JWT_SECRET="$JWT_SECRET" DSTREAM_NATS_MAX_PENDING_BYTES="$MAX_PENDING_BYTES" \
      java -jar "$ROOT/broker/target/broker.jar" > "$LOG" 2>&1 &
  fi
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    local ready=1
    for line in "${READY[@]}"; do grep -q "$line" "$LOG" || ready=0; done
    [[ $ready == 1 ]] && return 0
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "$TARGET exited before it was ready:" >&2
      cat "$LOG" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "$TARGET did not log '${READY[*]}' within 60 s:" >&2
  tail -n 50 "$LOG" >&2
  exit 1
}

# Stops the server by its PID (SIGTERM, a clean stop), waiting at most 30 s for it to exit.
stop_server() {
  kill "$SERVER_PID"
  for _ in $(seq 1 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "$TARGET did not stop within 30 s of SIGTERM; killing it" >&2
    kill -9 "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    exit 1
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

FAILED=()
# Runs one file of the suite; a failure is remembered and the server log's tail shown.
suite() {
  local name=$1
  shift
  if ! env "$@" node ".ci/nats-js/$name"; then
    FAILED+=("$name${*:+ ($*)}")
    echo "--- last lines of the $TARGET log ($(basename "$LOG")) ---"
    tail -n 40 "$LOG"
  fi
}

start_server 1
wants test && suite test.mjs
wants consumers && suite consumers.mjs
if wants restart; then
  export RESTART_STATE="$TMP/restart-state.json"
  suite restart.mjs PHASE=before
  echo "restarting $TARGET (pid $SERVER_PID, SIGTERM) on the same data dir and ports"
  stop_server
  start_server 2
  suite restart.mjs PHASE=after
fi

if [[ ${#FAILED[@]} -gt 0 ]]; then
  echo "nats.js suite against $TARGET: failed in ${FAILED[*]}"
  exit 1
fi
echo "nats.js suite against $TARGET: all files passed"
