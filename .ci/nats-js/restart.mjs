// Durable consumers across a broker restart (issue 16), with nats.js: a durable push consumer and a
// durable pull consumer each get N messages, take some, acknowledge some; run.sh then stops the
// broker (SIGTERM to its PID) and starts it again on the same data dir and ports; afterwards every
// message is still in the stream, every one not acknowledged comes (again, as a redelivery), the
// ones never delivered come once, and none is skipped.
//   PHASE=before  publishes, consumes part, acks some; writes what it did to RESTART_STATE (JSON)
//   PHASE=after   reads RESTART_STATE and checks the consumers resume without loss
// lib.mjs has the rest of the environment. Prints one line per case; exits 1 if any case failed.
import assert from "node:assert/strict";
import fs from "node:fs";
import { AckPolicy, consumerOpts, createInbox, nanos } from "nats";
import { declareStream, open, run, sc, sleep, test, uniq, until, within } from "./lib.mjs";

const PHASE = process.env.PHASE;
const STATE_FILE = process.env.RESTART_STATE;
if (!["before", "after"].includes(PHASE) || !STATE_FILE) {
  console.error("restart.mjs needs PHASE=before|after and RESTART_STATE=<file>");
  process.exit(2);
}
const N = 20; // messages published before the restart
const TAKEN = 10; // delivered before the restart (the push consumer's max_ack_pending, the pull's batch)
const ACK_WAIT_MS = 2000;
const MORE = 3; // published after the restart
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const state = PHASE === "before" ? {} : JSON.parse(fs.existsSync(STATE_FILE) ? fs.readFileSync(STATE_FILE, "utf8") : "{}");

/** Publishes m1..m<n> to a new stream's subject; the stream is declared (both servers need a name without dots). */
async function filled(nc, kind) {
  const t = uniq();
  const subject = `restart.${kind}.${t}`;
  const stream = await declareStream(nc, `R${kind.toUpperCase()}_${t}`, subject);
  const js = nc.jetstream();
  for (let i = 1; i <= N; i++) assert.equal((await js.publish(subject, sc.encode(`m${i}`))).seq, i);
  return { subject, stream, js, jsm: await nc.jetstreamManager() };
}
const infoNumbers = (i) => ({
  num_ack_pending: i.num_ack_pending, num_pending: i.num_pending,
  delivered: i.delivered.stream_seq, ack_floor: i.ack_floor.stream_seq,
});

/**
 * After the restart: the stream still holds all N with their payloads; `receive(js, stream,
 * consumer, got)` starts taking messages (acking each, appending [seq, count, text] to `got`) and
 * returns a stop function; every expected one must come, then MORE published now, and nothing
 * more within an ack wait. Returns a summary.
 */
async function checkResumed(kind, receive) {
  const before = state[kind];
  assert.ok(before, `PHASE=before recorded no ${kind} consumer (it failed or did not run)`);
  const { subject, stream, consumer, acked } = before;
  const nc = await open();
  const js = nc.jetstream(), jsm = await nc.jetstreamManager();
  const si = await jsm.streams.info(stream);
  assert.deepEqual([si.state.messages, si.state.last_seq], [N, N], "stream [messages, last_seq] after the restart");
  for (const seq of acked) { // acknowledged before the restart: still in the stream
    assert.equal(sc.decode((await jsm.streams.getMessage(stream, { seq })).data), `m${seq}`, `stream message ${seq}`);
  }
  const ci = await jsm.consumers.info(stream, consumer);
  assert.deepEqual([ci.config.durable_name, ci.config.ack_wait, ci.config.ack_policy], [consumer, nanos(ACK_WAIT_MS), AckPolicy.Explicit],
    "the consumer's config after the restart [durable_name, ack_wait, ack_policy]");

  const unacked = range(1, TAKEN).filter((s) => !acked.includes(s));
  const expected = [...unacked, ...range(TAKEN + 1, N)];
  const got = []; // [seq, redeliveryCount, payload] in arrival order
  const missing = (want) => want.filter((s) => !got.some(([seq]) => seq === s));
  const stop = await receive(js, stream, consumer, got);
  try {
    await until(() => missing(expected).length === 0, 20000, () => `every unacknowledged message (missing ${missing(expected)}; got ${JSON.stringify(got)})`);
    for (let i = N + 1; i <= N + MORE; i++) assert.equal((await js.publish(subject, sc.encode(`m${i}`))).seq, i);
    await until(() => missing(range(N + 1, N + MORE)).length === 0, 10000, () => `the messages published after the restart (got ${JSON.stringify(got)})`);
    await sleep(ACK_WAIT_MS + 500); // anything acked before the restart, or now, would come again by then
  } finally {
    await stop();
  }
  const seqs = got.map(([s]) => s);
  assert.deepEqual(seqs.filter((s) => acked.includes(s)), [], `acknowledged before the restart yet delivered again (all: ${JSON.stringify(got)})`);
  assert.deepEqual([...seqs].sort((a, b) => a - b), [...expected, ...range(N + 1, N + MORE)], `deliveries after the restart, each once (all: ${JSON.stringify(got)})`);
  for (const [seq, count, text] of got) {
    assert.equal(text, `m${seq}`, `payload of ${seq}`);
    assert.equal(count, unacked.includes(seq) ? 2 : 1, `redeliveryCount of ${seq} (${unacked.includes(seq) ? "delivered before the restart" : "new"})`);
  }
  // consumer info as JetStream reports it after the restart, then after everything was acked
  assert.deepEqual(infoNumbers(ci), { num_ack_pending: unacked.length, num_pending: N - TAKEN, delivered: TAKEN, ack_floor: before.ackFloor },
    "consumer info right after the restart");
  assert.deepEqual(infoNumbers(await jsm.consumers.info(stream, consumer)), { num_ack_pending: 0, num_pending: 0, delivered: N + MORE, ack_floor: N + MORE },
    "consumer info once all was acked");
  await jsm.streams.delete(stream);
  return `acked ${acked} kept; ${unacked} came again (count 2), ${TAKEN + 1}..${N} and ${N + 1}..${N + MORE} once`;
}

if (PHASE === "before") {
  test("before restart: durable push consumer (max_ack_pending 10) takes 10 of 20, acks 1-4 and 7", async () => {
    const nc = await open();
    const { subject, stream, js, jsm } = await filled(nc, "push");
    const opts = consumerOpts().durable("rpush").deliverTo(createInbox()).deliverAll().ackExplicit().manualAck()
      .ackWait(ACK_WAIT_MS).maxAckPending(TAKEN);
    const sub = await js.subscribe(subject, opts);
    const got = [];
    (async () => { for await (const m of sub) got.push(m); })().catch(() => {});
    await until(() => got.length >= TAKEN, 5000, () => `${TAKEN} deliveries (got ${got.length})`);
    await sleep(300);
    assert.deepEqual(got.map((m) => [m.seq, m.info.redeliveryCount]), range(1, TAKEN).map((s) => [s, 1]), "deliveries [seq, count]");
    sub.unsubscribe(); // nobody listens: acks free the window, but nothing more is pushed
    await nc.flush();
    const acked = [1, 2, 3, 4, 7];
    for (const seq of acked) assert.equal(await got[seq - 1].ackAck(), true, `ackAck of ${seq}`);
    await sleep(300);
    assert.deepEqual(got.length, TAKEN, "deliveries once nobody listened");
    assert.deepEqual(infoNumbers(await jsm.consumers.info(stream, "rpush")), { num_ack_pending: 5, num_pending: N - TAKEN, delivered: TAKEN, ack_floor: 4 });
    state.push = { subject, stream, consumer: "rpush", acked, ackFloor: 4 };
    return `${stream}: 1..${TAKEN} delivered, ${acked} acked`;
  });

  test("before restart: durable pull consumer fetches 10 of 20, acks 1-5 and 8", async () => {
    const nc = await open();
    const { subject, stream, js, jsm } = await filled(nc, "pull");
    await jsm.consumers.add(stream, { durable_name: "rpull", ack_policy: AckPolicy.Explicit, ack_wait: nanos(ACK_WAIT_MS) });
    const got = [];
    for await (const m of js.fetch(stream, "rpull", { batch: TAKEN, expires: 3000 })) got.push(m);
    assert.deepEqual(got.map((m) => m.seq), range(1, TAKEN), "fetched");
    const acked = [1, 2, 3, 4, 5, 8];
    for (const seq of acked) assert.equal(await got[seq - 1].ackAck(), true, `ackAck of ${seq}`);
    assert.deepEqual(infoNumbers(await jsm.consumers.info(stream, "rpull")), { num_ack_pending: 4, num_pending: N - TAKEN, delivered: TAKEN, ack_floor: 5 });
    state.pull = { subject, stream, consumer: "rpull", acked, ackFloor: 5 };
    return `${stream}: 1..${TAKEN} fetched, ${acked} acked`;
  });
} else {
  test("after restart: the durable push consumer resumes without loss", async () => checkResumed("push", async (js, stream, consumer, got) => {
    const sub = await js.subscribe(state.push.subject, consumerOpts().bind(stream, consumer).manualAck());
    const acks = [];
    (async () => {
      for await (const m of sub) {
        got.push([m.seq, m.info.redeliveryCount, sc.decode(m.data)]);
        acks.push(m.ackAck());
      }
    })().catch(() => {});
    return async () => { await Promise.all(acks); sub.unsubscribe(); };
  }), { timeout: 60000 });

  test("after restart: the durable pull consumer resumes without loss", async () => checkResumed("pull", async (js, stream, consumer, got) => {
    let stopped = false;
    const loop = (async () => {
      for (let i = 0; i < 100 && !stopped; i++) { // 100 pulls of at most 500 ms
        const batch = await within((async () => {
          const out = [];
          for await (const m of js.fetch(stream, consumer, { batch: 10, expires: 500 })) out.push(m);
          return out;
        })(), 5000, "a fetch");
        for (const m of batch) {
          got.push([m.seq, m.info.redeliveryCount, sc.decode(m.data)]);
          await m.ackAck();
        }
      }
    })();
    loop.catch(() => {}); // seen when stopped
    return async () => { stopped = true; await loop; };
  }), { timeout: 60000 });
}

const failed = await run(`restart, PHASE=${PHASE}`);
if (PHASE === "before") fs.writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
process.exit(failed ? 1 : 0);
