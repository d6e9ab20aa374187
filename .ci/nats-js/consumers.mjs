// nats.js JetStream consumers against a real broker (issue 16): an ephemeral push consumer made by
// js.subscribe, the subject delivered messages carry, redelivery after ack wait, NAK / TERM / max
// deliver, max ack pending with a client that never acks, a core subscriber that stops reading
// (closed as a slow consumer, memory released) and one that reads through a burst, pull requests
// (batch, expires, no_wait) and the three ack policies. Durable consumers across a broker restart
// are in restart.mjs; lib.mjs has the environment.
// Prints one line per case; exits 1 if any case failed.
import assert from "node:assert/strict";
import { AckPolicy, consumerOpts, createInbox, nanos } from "nats";
import { connectLine, declareStream, open, rawConn, run, sc, serverStats, sleep, test, uniq, until, within } from "./lib.mjs";

/** A stream STREAM_<t> on subject <prefix>.<t> with `count` messages "m1".."m<count>"; seqs 1..count. */
async function filled(nc, prefix, count) {
  const t = uniq();
  const subject = `${prefix}.${t}`;
  const stream = await declareStream(nc, `${prefix.replace(/\W/g, "_").toUpperCase()}_${t}`, subject);
  const js = nc.jetstream();
  for (let i = 1; i <= count; i++) assert.equal((await js.publish(subject, sc.encode(`m${i}`))).seq, i);
  return { subject, stream, js, jsm: await nc.jetstreamManager() };
}
/** Collects a push subscription's messages in the background (as {seq, count, m, at}); `onMsg` may ack. */
function collect(sub, onMsg = () => {}) {
  const got = [];
  (async () => {
    for await (const m of sub) {
      got.push({ seq: m.seq, count: m.info.redeliveryCount, m, at: Date.now() });
      onMsg(m);
    }
  })().catch(() => {});
  return got;
}
/** All messages of one pull (`js.fetch`), bounded in time; each gets `at`, when it arrived. */
async function fetchAll(js, stream, durable, opts, ms = 10000) {
  const iter = js.fetch(stream, durable, opts);
  return within((async () => {
    const out = [];
    for await (const m of iter) out.push(Object.assign(m, { at: Date.now() }));
    return out;
  })(), ms,
    `fetch ${JSON.stringify(opts)}`);
}
const seqs = (ms) => ms.map((m) => m.seq);

test("js.subscribe with an ephemeral push consumer (config name \"\") gets the stream's messages", async () => {
  const nc = await open();
  const { subject, js } = await filled(nc, "cons.eph", 3);
  const opts = consumerOpts().deliverTo(createInbox()).deliverAll().ackExplicit().manualAck();
  const got = collect(await js.subscribe(subject, opts), (m) => m.ack());
  await until(() => got.length >= 3, 5000, () => `3 messages (got ${got.length})`);
  assert.deepEqual(got.map((g) => [g.seq, sc.decode(g.m.data)]), [[1, "m1"], [2, "m2"], [3, "m3"]]);
});

test("consumer deliveries carry the subject they were published to: push, js.fetch and consumers.get().next()", async () => {
  const nc = await open();
  const { subject, stream, js, jsm } = await filled(nc, "cons.subj", 3);
  const push = collect(await js.subscribe(subject, consumerOpts().durable("subj_push").deliverTo(createInbox()).deliverAll()
    .ackExplicit().manualAck()), (m) => m.ack());
  await jsm.consumers.add(stream, { durable_name: "subj_pull", ack_policy: AckPolicy.Explicit });
  const pulled = await fetchAll(js, stream, "subj_pull", { batch: 2, expires: 2000 });
  for (const m of pulled) m.ack();
  await until(() => push.length >= 3, 5000, () => `3 pushed messages (got ${push.length})`);
  const wire = { push: push.map((g) => g.m.subject), fetch: pulled.map((m) => m.subject) };
  assert.deepEqual(wire, { push: [subject, subject, subject], fetch: [subject, subject] }, "the subject of each delivered MSG");
  // nats.js's consumer API takes a message whose subject is its pull inbox for a status and drops it
  const next = await within((await js.consumers.get(stream, "subj_pull")).next({ expires: 2000 }), 5000, "next()");
  assert.deepEqual([next?.seq, next?.subject], [3, subject], "next() with seq 3 there");
  return `MSG ${subject} <sid> $JS.ACK...`;
});

test("durable push consumer, ack_wait 500 ms: a message not acked comes again (redelivered, count 2); acked ones never", async () => {
  const nc = await open();
  const { subject, js } = await filled(nc, "cons.wait", 3);
  const opts = consumerOpts().durable("waiter").deliverTo(createInbox()).deliverAll().ackExplicit().manualAck().ackWait(500);
  const got = collect(await js.subscribe(subject, opts), (m) => { if (m.seq !== 2 || m.redelivered) m.ack(); });
  await until(() => got.some((g) => g.seq === 2 && g.count > 1), 5000, () => `seq 2 again (got ${got.map((g) => `${g.seq}/${g.count}`)})`);
  const first = got.find((g) => g.seq === 2), again = got.find((g) => g.seq === 2 && g.count > 1);
  assert.equal(again.m.redelivered, true);
  assert.equal(again.count, 2);
  assert.ok(again.at - first.at >= 400, `redelivered after ${again.at - first.at} ms, before the 500 ms ack wait`);
  await sleep(1500); // three ack waits: an acked message would have come again by now
  assert.deepEqual(got.map((g) => `${g.seq}/${g.count}`), ["1/1", "2/1", "3/1", "2/2"], "deliveries as seq/count");
  return `seq 2 came again after ${again.at - first.at} ms with redelivered=true, redeliveryCount 2; 1 and 3 once`;
});

test("pull consumer: -NAK comes again at once, +TERM never again, max_deliver 2 ends redelivery of an unacked one", async () => {
  const nc = await open();
  const { stream, js, jsm } = await filled(nc, "cons.nak", 3);
  await jsm.consumers.add(stream, { durable_name: "nak", ack_policy: AckPolicy.Explicit, ack_wait: nanos(500), max_deliver: 2 });
  const first = await fetchAll(js, stream, "nak", { batch: 3, expires: 2000 });
  assert.deepEqual(seqs(first), [1, 2, 3]);
  const nakAt = Date.now();
  first[0].nak(); // seq 1: again at once
  first[1].term(); // seq 2: never again
  // seq 3: never acked, comes again after the ack wait, and not a third time (max_deliver 2)
  const later = (await fetchAll(js, stream, "nak", { batch: 5, expires: 2500 })).map((m) => [m.seq, m.info.redeliveryCount, m.at - nakAt]);
  assert.deepEqual(later.map(([s, c]) => `${s}/${c}`), ["1/2", "3/2"], `deliveries after NAK/TERM as seq/count (and ms): ${JSON.stringify(later)}`);
  const none = await fetchAll(js, stream, "nak", { batch: 5, expires: 1500 });
  assert.deepEqual(none.map((m) => `${m.seq}/${m.info.redeliveryCount}`), [], "deliveries past max_deliver 2 and TERM");
  const nakDelay = later.find(([s]) => s === 1)[2];
  assert.ok(nakDelay < 500, `the NAKed message came after ${nakDelay} ms, not before the ack wait`);
  return `NAKed seq 1 again after ${nakDelay} ms, TERMed seq 2 never, seq 3 twice (max_deliver 2)`;
});

test("durable push consumer with max_ack_pending 5 whose client never acks: 5 outstanding, no more; one ack lets one more through", async () => {
  const nc = await open();
  const { subject, js } = await filled(nc, "cons.window", 20);
  const opts = consumerOpts().durable("window").deliverTo(createInbox()).deliverAll().ackExplicit().manualAck().ackWait(60000).maxAckPending(5);
  const sub = await js.subscribe(subject, opts);
  const got = collect(sub);
  await until(() => got.length >= 5, 5000, () => `5 deliveries (got ${got.length})`);
  await sleep(500);
  assert.deepEqual(got.map((g) => g.seq), [1, 2, 3, 4, 5], "deliveries while nothing is acked");
  let info = await sub.consumerInfo();
  assert.deepEqual([info.num_ack_pending, info.num_pending, info.delivered.stream_seq], [5, 15, 5],
    "consumer info [num_ack_pending, num_pending, delivered.stream_seq]");
  assert.equal(await got[0].m.ackAck(), true);
  await until(() => got.length >= 6, 5000, "a sixth delivery after one ack");
  await sleep(500);
  assert.deepEqual(got.map((g) => g.seq), [1, 2, 3, 4, 5, 6], "deliveries after one ack");
  info = await sub.consumerInfo();
  assert.deepEqual([info.num_ack_pending, info.num_pending, info.ack_floor.stream_seq], [5, 14, 1],
    "consumer info after one ack [num_ack_pending, num_pending, ack_floor.stream_seq]");
  return "5 delivered and held, 15 waiting; one ack, one more";
});

const MiB = 1048576, mib = (b) => `${(b / MiB).toFixed(1)} MiB`;
const MAX_PENDING = Number(process.env.MAX_PENDING_BYTES ?? 2 * MiB); // run.sh sets the server's limit
/** A raw client subscribed to `subject` that reads nothing more once its SUB is confirmed. */
async function idleSubscriber(subject) {
  const raw = await rawConn();
  await until(() => raw.text.includes("\r\n"), 3000, "INFO on a raw socket");
  raw.sock.write(`${connectLine()}SUB ${subject} 1\r\nPING\r\n`);
  await until(() => raw.text.includes("PONG"), 3000, "PONG after SUB on a raw socket");
  raw.sock.pause(); // the kernel's buffers fill, then the server's pending bytes
  return raw;
}

test("a core subscriber that stops reading is closed as a slow consumer and what it held released while it still reads nothing; a reader keeps up", async () => {
  const subject = `slow.${uniq()}`;
  const pub = await open();
  const watch = await open(); // a subscriber that reads: it gets everything and keeps working
  let watched = 0;
  watch.subscribe(subject, { callback: () => { watched++; } });
  await watch.flush();
  const before = await serverStats();
  const raw = await idleSubscriber(subject);
  await until(async () => (await serverStats()).connections === before.connections + 1, 3000, "the raw connection in the stats");

  const t0 = Date.now();
  const payload = new Uint8Array(64 * 1024).fill(120);
  let sent = 0, peak = before.heldBytes, stats = before;
  while (sent < 512 && stats.slowConsumers === before.slowConsumers) { // at most 32 MiB, 1 MiB a round
    for (let i = 0; i < 16; i++, sent++) pub.publish(subject, payload);
    await pub.flush();
    await until(() => watched === sent, 10000, () => `the reading subscriber's ${sent} messages (got ${watched})`);
    stats = await serverStats();
    if (stats.heldBytes !== null) peak = Math.max(peak, stats.heldBytes);
  }
  assert.ok(stats.slowConsumers > before.slowConsumers, `no slow consumer after ${mib(sent * payload.length)} to a client that reads nothing`);
  const detected = Date.now() - t0;
  // The slow consumer must go, and with it what the server held for it, while it still reads nothing.
  await until(async () => {
    stats = await serverStats();
    return stats.connections === before.connections && (stats.heldBytes === null || stats.heldBytes <= before.heldBytes);
  }, 10000, () => `the slow consumer's connection to close and its memory to be released, the raw socket unread: ` +
    `connections ${stats.connections} (${before.connections} before it), held ${stats.heldBytes} bytes (${before.heldBytes} before)`);
  const released = Date.now() - t0;
  assert.equal(watch.isClosed() || pub.isClosed(), false, "the other clients are still connected");
  pub.publish(subject, sc.encode("after"));
  await until(() => watched === sent + 1, 5000, "a message after the slow consumer went");

  raw.sock.resume(); // now read what the kernel kept, to the end
  await until(() => raw.closed, 10000, "the raw socket to end once read");
  const err = raw.text.includes("-ERR 'Slow Consumer'") ? ", then -ERR 'Slow Consumer'" : "";
  return `slow consumer after ${detected} ms, closed and released after ${released} ms; ` +
    `${mib(sent * payload.length)} published, the idle client got ${mib(raw.bytes)}${err}; ` +
    (stats.heldBytes === null ? "" : `held bytes ${before.heldBytes} before, peak ${mib(peak)}, ${stats.heldBytes} after; `) +
    `the reading subscriber got all ${sent + 1}`;
}, { timeout: 60000 });

test("a core subscriber that reads is not closed as a slow consumer when a publisher bursts twice the pending limit", async () => {
  const subject = `burst.${uniq()}`;
  const pub = await open();
  const watch = await open();
  let watched = 0, closedWith = null;
  watch.subscribe(subject, { callback: () => { watched++; } });
  watch.closed().then((err) => { closedWith = err ?? "closed"; });
  await watch.flush();
  const before = await serverStats();
  const payload = new Uint8Array(64 * 1024).fill(121);
  const count = Math.ceil((2 * MAX_PENDING) / payload.length);
  // Fire and forget, half the limit between flushes. A flush's PONG leaves once the publishes before
  // it are durable, and their deliveries are written as the commit ends: the publisher is paced by
  // the commits, as nats-server paces it by its routing. When the PONG left as soon as the PING was
  // read, the publisher ran ahead of the commits, whose deliveries then reached the reader as a few
  // large writes, and a reader in the same process as the publisher was closed in one run in eight
  // with a busy CPU (one in four in CI).
  for (let sent = 0; sent < count;) {
    for (let i = 0; i < 16 && sent < count; i++, sent++) pub.publish(subject, payload);
    await pub.flush();
  }
  await until(() => watched === count || closedWith !== null, 15000, () => `the reader's ${count} messages (got ${watched})`);
  const after = await serverStats();
  assert.equal(closedWith, null, `the reader was closed after ${watched} of ${count} messages (${mib(watched * payload.length)}): ` +
    `${closedWith?.message ?? closedWith}; slow consumers ${before.slowConsumers} -> ${after.slowConsumers}`);
  assert.equal(after.slowConsumers, before.slowConsumers, "no slow consumer");
  return `${count} messages of 64 KiB (${mib(count * payload.length)}, pending limit ${mib(MAX_PENDING)}) all read`;
}, { timeout: 30000 });

test("pull consumer (js.fetch): batch 5 expires 1 s gets the 3 there; batch 2 ends at 2; no_wait gets what is there, with nothing ends at once", async () => {
  const nc = await open();
  const { subject, stream, js, jsm } = await filled(nc, "cons.pull", 3);
  await jsm.consumers.add(stream, { durable_name: "puller", ack_policy: AckPolicy.Explicit });
  let started = Date.now();
  const three = await fetchAll(js, stream, "puller", { batch: 5, expires: 1000 });
  assert.deepEqual(seqs(three), [1, 2, 3], "batch 5 from 3 messages");
  assert.deepEqual(three.map((m) => sc.decode(m.data)), ["m1", "m2", "m3"]);
  const waited = Date.now() - started;
  for (const m of three) await m.ackAck();

  for (let i = 4; i <= 6; i++) await js.publish(subject, sc.encode(`m${i}`));
  started = Date.now();
  const two = await fetchAll(js, stream, "puller", { batch: 2, expires: 5000 });
  const batchEnded = Date.now() - started;
  assert.deepEqual(seqs(two), [4, 5], "batch 2 from 3 messages");
  assert.ok(batchEnded < 4000, `a full batch of 2 ended after ${batchEnded} ms, as if it waited for its 5 s expiry`);
  const rest = await fetchAll(js, stream, "puller", { batch: 5, no_wait: true }, 3000);
  assert.deepEqual(seqs(rest), [6], "no_wait batch 5 with one message there");
  for (const m of [...two, ...rest]) await m.ackAck();

  started = Date.now();
  const none = await fetchAll(js, stream, "puller", { batch: 5, no_wait: true }, 3000);
  const noWait = Date.now() - started;
  assert.deepEqual(seqs(none), [], "no_wait with nothing to send");

  const info = await jsm.consumers.info(stream, "puller");
  assert.deepEqual([info.num_ack_pending, info.num_pending, info.ack_floor.stream_seq, info.delivered.stream_seq], [0, 0, 6, 6],
    "consumer info [num_ack_pending, num_pending, ack_floor.stream_seq, delivered.stream_seq]");
  return `batch 5 of 3 ended after ${waited} ms, batch 2 after ${batchEnded} ms, no_wait with nothing after ${noWait} ms`;
});

test("ack policies on pull consumers: explicit (unacked comes again), all (an ack covers earlier ones), none (nothing pending)", async () => {
  const nc = await open();
  const { stream, js, jsm } = await filled(nc, "cons.policy", 3);
  const add = (durable_name, ack_policy) => jsm.consumers.add(stream, { durable_name, ack_policy, ack_wait: nanos(500) });
  const pending = async (name) => {
    const i = await jsm.consumers.info(stream, name);
    return [i.num_ack_pending, i.ack_floor.stream_seq];
  };
  await add("explicit", AckPolicy.Explicit);
  await add("all", AckPolicy.All);
  await add("none", AckPolicy.None);

  let got = await fetchAll(js, stream, "explicit", { batch: 3, expires: 1000 });
  assert.deepEqual(seqs(got), [1, 2, 3]);
  await got[0].ackAck();
  await got[2].ackAck();
  assert.deepEqual(await pending("explicit"), [1, 1], "explicit after acking 1 and 3 [num_ack_pending, ack_floor]");
  got = await fetchAll(js, stream, "explicit", { batch: 1, expires: 3000 });
  assert.deepEqual(got.map((m) => [m.seq, m.redelivered, m.info.redeliveryCount]), [[2, true, 2]], "explicit: the unacked one again");
  await got[0].ackAck();
  assert.deepEqual(await pending("explicit"), [0, 3], "explicit after acking all");

  got = await fetchAll(js, stream, "all", { batch: 3, expires: 1000 });
  assert.deepEqual(seqs(got), [1, 2, 3]);
  assert.deepEqual(await pending("all"), [3, 0], "all before any ack");
  await got[1].ackAck(); // covers 1 and 2
  assert.deepEqual(await pending("all"), [1, 2], "all after acking seq 2");
  await got[2].ackAck();
  assert.deepEqual(await pending("all"), [0, 3], "all after acking seq 3");

  got = await fetchAll(js, stream, "none", { batch: 3, expires: 1000 });
  assert.deepEqual(seqs(got), [1, 2, 3]);
  assert.deepEqual(await pending("none"), [0, 3], "none after delivery");
  await sleep(700); // past the ack wait: nothing comes again
  assert.deepEqual(seqs(await fetchAll(js, stream, "none", { batch: 3, no_wait: true }, 3000)), [], "none: nothing again");
  assert.deepEqual(seqs(await fetchAll(js, stream, "all", { batch: 3, no_wait: true }, 3000)), [], "all: nothing again");
  return "explicit, all and none as JetStream";
});

process.exit((await run("consumers")) ? 1 : 0);
