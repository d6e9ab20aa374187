#!/usr/bin/env bash
# Runs the published Durable Streams conformance suite against this broker.
#
# Installs @durable-streams/server-conformance-tests (pinned) into a scratch folder, starts
# broker/target/broker.jar (built if missing) on a free loopback port with anonymous access and a
# short long-poll timeout, runs the suite under vitest, prints the pass count and exits non-zero on
# any failure. The broker is always stopped.
#
# Environment: DS_CONFORMANCE_DIR (scratch folder, default: a new temp dir), DS_KEEP_SCRATCH=1 keeps it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SUITE_VERSION=0.3.6
VITEST_VERSION=4.1.12
VITE_VERSION=7.3.8
LONG_POLL_TIMEOUT_MS=3000

SCRATCH=${DS_CONFORMANCE_DIR:-$(mktemp -d -t ds-conformance.XXXXXX)}
mkdir -p "$SCRATCH"
DATA_DIR=$(mktemp -d -t ds-conformance-data.XXXXXX)
LOG="$DATA_DIR/broker.log"
BROKER_PID=

cleanup() {
  if [[ -n "$BROKER_PID" ]] && kill -0 "$BROKER_PID" 2>/dev/null; then
    kill "$BROKER_PID"
    wait "$BROKER_PID" 2>/dev/null || true
  fi
  rm -rf "$DATA_DIR"
  if [[ -z "${DS_CONFORMANCE_DIR:-}" && -z "${DS_KEEP_SCRATCH:-}" ]]; then
    rm -rf "$SCRATCH"
  fi
}
trap cleanup EXIT

if [[ ! -f broker/target/broker.jar ]]; then
  mvn -B -q -pl broker -am -DskipTests package
fi

# The suite's own vitest (a dependency of the package) must be the one that runs it, hence vitest 4
# at the top level; vite 7 because vite 8 needs a newer npm than this machine's.
cd "$SCRATCH"
if [[ ! -f package.json ]]; then
  printf '{"name":"ds-conformance","private":true,"type":"module"}\n' > package.json
fi
npm install --no-audit --no-fund --loglevel=error \
  "@durable-streams/server-conformance-tests@$SUITE_VERSION" "vitest@$VITEST_VERSION" "vite@$VITE_VERSION" >/dev/null

cat > conformance.test.mjs <<'JS'
import { runConformanceTests } from "@durable-streams/server-conformance-tests"

runConformanceTests({ baseUrl: process.env.DS_BASE_URL, subscriptions: true })
JS
# The package's --run CLI finds no test files when installed from npm: include ours explicitly.
cat > vitest.config.mjs <<'JS'
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: { include: ["conformance.test.mjs"], exclude: [], testTimeout: 30000, hookTimeout: 30000 },
})
JS

DSTREAM_HOST=127.0.0.1 DSTREAM_PORT=0 DSTREAM_DATA_DIR="$DATA_DIR" DSTREAM_ANONYMOUS=all \
  DSTREAM_LONG_POLL_TIMEOUT_MS=$LONG_POLL_TIMEOUT_MS DSTREAM_SYNC=os \
  java -jar "$ROOT/broker/target/broker.jar" > "$LOG" 2>&1 &
BROKER_PID=$!

BASE_URL=
for _ in $(seq 1 300); do
  BASE_URL=$(grep -o 'listening on http://[0-9.]*:[0-9]*' "$LOG" | head -1 | sed 's/listening on //' || true)
  [[ -n "$BASE_URL" ]] && break
  if ! kill -0 "$BROKER_PID" 2>/dev/null; then
    echo "broker exited before listening:" >&2
    cat "$LOG" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ -z "$BASE_URL" ]]; then
  echo "broker did not log 'listening on' within 30 s" >&2
  exit 1
fi
echo "conformance suite $SUITE_VERSION against $BASE_URL"

REPORT="$SCRATCH/report.json"
set +e
DS_BASE_URL="$BASE_URL" npx vitest run --reporter=dot --reporter=json --outputFile.json="$REPORT"
STATUS=$?
set -e

if [[ -f "$REPORT" ]]; then
  node -e '
    const r = require(process.argv[1]);
    console.log(`conformance: ${r.numPassedTests} of ${r.numTotalTests} passed, ${r.numFailedTests} failed`);
    for (const file of r.testResults) for (const t of file.assertionResults)
      if (t.status === "failed") console.log(`  FAILED: ${t.fullName}`);
  ' "$REPORT"
fi
exit $STATUS
