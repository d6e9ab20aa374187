#!/usr/bin/env bash
# Runs the nats.js suite (test.mjs, npm `nats` pinned by package-lock.json) against a real broker.
#
# Uses broker/target/broker.jar (built if missing), starts it on 127.0.0.1 with a fresh temp data
# dir, a free NATS port, an API key and a JWT secret, waits for `nats listening on`, runs the suite
# and always stops the broker (by its PID) and deletes the temp dir. Exit code = the suite's.
#
# TARGET=nats-server runs the same suite against the machine's nats-server (JetStream on) instead,
# skipping the cases that are durable-stream's own. FUZZ_SEED / FUZZ_CASES pass through to the suite.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
TARGET=${TARGET:-durable-stream}

TMP=$(mktemp -d -t ds-nats-js.XXXXXX)
LOG="$TMP/server.log"
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

NATS_PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
export NATS_TOKEN="nats-js-key-$RANDOM$RANDOM"
export JWT_SECRET="nats-js-secret-$RANDOM$RANDOM-0123456789abcdef0123456789abcdef"
export TARGET

if [[ "$TARGET" == nats-server ]]; then
  BIN=$(command -v nats-server || echo /usr/sbin/nats-server)
  "$BIN" -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$TMP/data" --auth "$NATS_TOKEN" > "$LOG" 2>&1 &
  SERVER_PID=$!
  READY='Server is ready'
else
  DSTREAM_HOST=127.0.0.1 DSTREAM_PORT=0 DSTREAM_NATS_PORT="$NATS_PORT" DSTREAM_DATA_DIR="$TMP/data" \
    DSTREAM_API_KEY="$NATS_TOKEN" DSTREAM_JWT_SECRET="$JWT_SECRET" \
    java -jar "$ROOT/broker/target/broker.jar" > "$LOG" 2>&1 &
  SERVER_PID=$!
  READY='nats listening on'
fi

for _ in $(seq 1 600); do
  grep -q "$READY" "$LOG" && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "$TARGET exited before it was ready:" >&2
    cat "$LOG" >&2
    exit 1
  fi
  sleep 0.1
done
if ! grep -q "$READY" "$LOG"; then
  echo "$TARGET did not log '$READY' within 60 s:" >&2
  tail -n 50 "$LOG" >&2
  exit 1
fi

set +e
NATS_URL="nats://127.0.0.1:$NATS_PORT" node .ci/nats-js/test.mjs
STATUS=$?
set -e
if [[ $STATUS -ne 0 ]]; then
  echo "--- last lines of the $TARGET log ---"
  tail -n 40 "$LOG"
fi
exit $STATUS
