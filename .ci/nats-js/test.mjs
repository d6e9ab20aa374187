// nats.js (npm `nats` 2.x) against durable-stream's NATS protocol (protocol v2, issue 16): the core
// protocol, publishing, streams and a protocol fuzz; lib.mjs has the helpers, the runner and the
// environment. TARGET=nats-server runs it against a real nats-server (cases that are durable-stream's
// own are skipped; streams are declared where JetStream needs one); FUZZ_SEED / FUZZ_CASES set the
// protocol fuzz. Prints one line per case; exits 1 if any case failed.
import assert from "node:assert/strict";
import { AckPolicy, headers, nanos } from "nats";
import { connectLine, jwt, open, rawConn, rejects, run, sc, sleep, streamFor, test, uniq, until } from "./lib.mjs";

const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 16);
const FUZZ_CASES = Math.min(Number(process.env.FUZZ_CASES ?? 60), 1000);

test("connect with the API key as token; INFO announces auth, headers, jetstream", async () => {
  const nc = await open();
  assert.equal(nc.info.auth_required, true);
  assert.equal(nc.info.headers, true);
  assert.equal(nc.info.jetstream, true);
  assert.ok(nc.info.max_payload > 0, "max_payload announced");
  await nc.flush();
  return `max_payload ${nc.info.max_payload}`;
});

test("connect with a bad token is refused (Authorization Violation)", async () => {
  const err = await rejects(open("not-the-key"), "connect with a bad token");
  assert.equal(err.code, "AUTHORIZATION_VIOLATION", err.message);
});

test("connect with a JWT signed by another secret is refused", async () => {
  const err = await rejects(open(jwt({ dstream: { pub: [">"], sub: [">"] } }, "wrong-secret")), "connect with a badly signed JWT");
  assert.equal(err.code, "AUTHORIZATION_VIOLATION", err.message);
}, { jwt: true });

test("JWT: publish inside `pub` acked, outside refused (Permissions Violation), connection stays open", async () => {
  const t = uniq();
  const nc = await open(jwt({ dstream: { pub: [`jwt.ok.>`], sub: ["jwt.>", "_INBOX.>"] } }));
  const js = nc.jetstream();
  const ack = await js.publish(`jwt.ok.${t}`, sc.encode("in scope"));
  assert.equal(ack.seq, 1);
  const err = await rejects(js.publish(`jwt.denied.${t}`, sc.encode("out of scope"), { timeout: 3000 }), "publish outside pub");
  assert.equal(err.code, "PERMISSIONS_VIOLATION", err.message);
  assert.match(err.message, new RegExp(`Publish to "jwt.denied.${t}"`));
  assert.equal(nc.isClosed(), false);
  assert.equal((await js.publish(`jwt.ok.${t}`, sc.encode("again"))).seq, 2);
}, { jwt: true });

test("JWT: subscribe outside `sub` refused (Permissions Violation)", async () => {
  const nc = await open(jwt({ dstream: { pub: ["jwt.>"], sub: ["jwt.>", "_INBOX.>"] } }));
  let got = null;
  nc.subscribe("secret.>", { callback: (err) => { got = err; } });
  await until(() => got !== null, 3000, "a subscription permission error");
  assert.equal(got.code, "PERMISSIONS_VIOLATION", got.message);
  assert.match(got.message, /Subscription to "secret\.>"/);
  assert.equal(nc.isClosed(), false);
}, { jwt: true });

test("js.publish to any subject without a declared stream gets a PubAck named after the subject", async () => {
  const subject = `any.where.${uniq()}`;
  const ack = await (await open()).jetstream().publish(subject, sc.encode("x"));
  assert.deepEqual([ack.stream, ack.seq, ack.duplicate], [subject, 1, false]);
}, { ours: true });

test("js.publish: PubAck with stream and seq, sequences count per subject", async () => {
  const nc = await open();
  const js = nc.jetstream();
  const t = uniq();
  const subjects = [`acks.a${t}`, `acks.b${t}`];
  const streams = [await streamFor(nc, subjects[0]), await streamFor(nc, subjects[1])];
  for (let i = 1; i <= 3; i++) {
    for (const k of [0, 1]) {
      const ack = await js.publish(subjects[k], sc.encode(`m${i}`));
      assert.deepEqual([ack.stream, ack.seq, ack.duplicate], [streams[k], i, false]);
    }
  }
});

test("dedup by Nats-Msg-Id: the repeat answers duplicate:true with the same seq", async () => {
  const nc = await open();
  const js = nc.jetstream();
  const subject = `dedup.${uniq()}`;
  await streamFor(nc, subject);
  const first = await js.publish(subject, sc.encode("once"), { msgID: "id-1" });
  const again = await js.publish(subject, sc.encode("once"), { msgID: "id-1" });
  assert.equal(first.duplicate, false);
  assert.deepEqual([again.duplicate, again.seq], [true, first.seq]);
  const other = await js.publish(subject, sc.encode("twice"), { msgID: "id-2" });
  assert.deepEqual([other.duplicate, other.seq], [false, first.seq + 1]);
});

test("Nats-Expected-Last-Sequence / -Msg-Id: a match is stored, a mismatch refused (10071 / 10070)", async () => {
  const nc = await open();
  const js = nc.jetstream();
  const subject = `expect.${uniq()}`;
  await streamFor(nc, subject);
  const a = await js.publish(subject, sc.encode("1"), { msgID: "a" });
  const b = await js.publish(subject, sc.encode("2"), { expect: { lastSequence: a.seq } });
  assert.equal(b.seq, a.seq + 1);
  let err = await rejects(js.publish(subject, sc.encode("3"), { expect: { lastSequence: a.seq } }), "expected last sequence mismatch");
  assert.equal(err.api_error?.err_code, 10071, err.message);
  assert.match(err.message, /wrong last sequence/);
  err = await rejects(js.publish(subject, sc.encode("4"), { expect: { lastMsgID: "nope" } }), "expected last msg id mismatch");
  assert.equal(err.api_error?.err_code, 10070, err.message);
  assert.equal((await js.publish(subject, sc.encode("5"))).seq, b.seq + 1, "refused messages take no seq");
});

test("core SUB with orders.* and orders.> gets later messages, on subjects created after the SUB", async () => {
  const t = uniq();
  const sub = await open();
  const star = [], all = [];
  sub.subscribe("orders.*", { callback: (_, m) => m.subject.includes(t) && star.push(m.subject) });
  sub.subscribe("orders.>", { callback: (_, m) => m.subject.includes(t) && all.push(m.subject) });
  await sub.flush();
  const pub = await open();
  for (const s of [`orders.n${t}`, `orders.n${t}.paris`, `orders.m${t}`]) pub.publish(s, sc.encode(s));
  await pub.flush();
  await until(() => all.length === 3 && star.length === 2, 5000, `3 on orders.> (got ${all}) and 2 on orders.* (got ${star})`);
  await sleep(200); // order is per subject only: every subject is its own stream
  assert.deepEqual(star.sort(), [`orders.m${t}`, `orders.n${t}`]);
  assert.deepEqual(all.sort(), [`orders.m${t}`, `orders.n${t}`, `orders.n${t}.paris`]);
});

test("headers round-trip: HPUB headers reach the subscriber", async () => {
  const subject = `hdr.${uniq()}`;
  const nc = await open();
  const got = [];
  nc.subscribe(subject, { callback: (_, m) => got.push(m) });
  await nc.flush();
  const h = headers();
  h.set("X-Trace", "abc-123");
  h.append("X-Multi", "1");
  h.append("X-Multi", "2");
  (await open()).publish(subject, sc.encode("with headers"), { headers: h });
  await until(() => got.length === 1, 5000, "the message");
  assert.equal(got[0].headers?.get("X-Trace"), "abc-123");
  assert.deepEqual(got[0].headers?.values("X-Multi"), ["1", "2"]);
  assert.equal(sc.decode(got[0].data), "with headers");
});

test("request/reply: a service on svc.echo answers (not a PubAck)", async () => {
  const svc = await open();
  svc.subscribe("svc.echo", { callback: (_, m) => m.respond(sc.encode(`echo: ${sc.decode(m.data)}`)) });
  await svc.flush();
  const reply = await (await open()).request("svc.echo", sc.encode("hi"), { timeout: 5000 });
  assert.equal(sc.decode(reply.data), "echo: hi");
});

test("request to svc.nobody with no responders rejects with 503", async () => {
  const err = await rejects((await open()).request("svc.nobody", sc.encode("?"), { timeout: 5000 }), "request without responders");
  assert.equal(err.code, "503", err.message);
});

test("queue group: 20 requests to svc.work, each answered once, both members served some", async () => {
  const counts = [0, 0];
  for (const i of [0, 1]) {
    const nc = await open();
    nc.subscribe("svc.work", { queue: "workers", callback: (_, m) => { counts[i]++; m.respond(sc.encode(`w${i}`)); } });
    await nc.flush();
  }
  const client = await open();
  const replies = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    client.request("svc.work", sc.encode(`job ${i}`), { timeout: 5000 })));
  assert.equal(replies.length, 20);
  await sleep(200);
  assert.equal(counts[0] + counts[1], 20, `deliveries ${counts}`);
  assert.ok(counts[0] > 0 && counts[1] > 0, `both members served: ${counts}`);
  return `split ${counts.join("/")}`;
});

test("JetStream: streams add/info/names/getMessage/purge/delete on ORDERS (orders.eu)", async () => {
  const nc = await open();
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  const si = await jsm.streams.add({ name: "ORDERS", subjects: ["orders.eu"] });
  assert.equal(si.config.name, "ORDERS");
  const base = si.state.last_seq, before = si.state.messages;
  const acks = [];
  for (let i = 0; i < 3; i++) acks.push(await js.publish("orders.eu", sc.encode(`order ${i}`)));
  assert.deepEqual(acks.map((a) => [a.stream, a.seq]), [1, 2, 3].map((i) => ["ORDERS", base + i]));
  const info = await jsm.streams.info("ORDERS");
  assert.equal(info.state.messages, before + 3);
  assert.equal(info.state.last_seq, base + 3);
  const names = [];
  for await (const n of jsm.streams.names()) if (names.push(n) > 10000) break;
  assert.ok(names.includes("ORDERS"), `ORDERS among stream names (${names.length} listed)`);
  const sm = await jsm.streams.getMessage("ORDERS", { seq: acks[0].seq });
  assert.equal(sm.subject, "orders.eu");
  assert.equal(sc.decode(sm.data), "order 0");
  const purged = await jsm.streams.purge("ORDERS");
  assert.deepEqual([purged.success, purged.purged], [true, before + 3]);
  assert.equal((await jsm.streams.info("ORDERS")).state.messages, 0);
  assert.equal(await jsm.streams.delete("ORDERS"), true);
  const err = await rejects(jsm.streams.info("ORDERS"), "info of a deleted stream");
  assert.equal(err.api_error?.err_code, 10059, err.message);
  return `seq 1 read back "order 0"`;
});

test("JetStream: several subjects are refused; one wildcard pattern is a stream over its subjects, acked per subject", async () => {
  const nc = await open();
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  const err = await rejects(jsm.streams.add({ name: "REFUSED", subjects: ["multi.a", "multi.b"] }), "stream of two subjects");
  assert.equal(err.api_error?.err_code, 10052, err.message);
  assert.match(err.message, /exactly one subject or one wildcard pattern/i);
  const t = uniq();
  const stream = `WILD_${t}`;
  await jsm.streams.add({ name: stream, subjects: [`wild${t}.>`] });
  const first = await js.publish(`wild${t}.a`, sc.encode("a1"));
  assert.equal(first.stream, stream, "the PubAck names the wildcard stream");
  assert.equal(first.seq, 1);
  assert.equal((await js.publish(`wild${t}.b`, sc.encode("b1"))).seq, 1, "each subject keeps its own sequence");
  await jsm.consumers.add(stream, { durable_name: "w", ack_policy: AckPolicy.Explicit, ack_wait: nanos(1000) });
  const consumer = await js.consumers.get(stream, "w");
  const got = [];
  for await (const m of await consumer.fetch({ max_messages: 2, expires: 3000 })) {
    got.push(`${m.subject}#${m.info.streamSequence}`);
    if (m.subject.endsWith(".a")) {
      await m.ackAck();
    }
  }
  got.sort();
  assert.deepEqual(got, [`wild${t}.a#1`, `wild${t}.b#1`]);
  const again = [];
  for await (const m of await consumer.fetch({ max_messages: 2, expires: 3000 })) {
    again.push(`${m.subject}#${m.info.streamSequence}#${m.info.redeliveryCount}`);
    m.ack();
  }
  assert.deepEqual(again, [`wild${t}.b#1#2`], "only the unacked subject's message came again");
  return `${got.join(", ")}; again ${again.join(", ")}`;
}, { ours: true });

// ---- seeded fuzz of the text protocol over raw sockets -------------------------------------
function rng(seed) { // mulberry32
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
// Every input is invalid by construction, whatever the random numbers.
function badInput(r, maxPayload) {
  const n = (lo, hi) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = (xs) => xs[n(0, xs.length - 1)];
  const subj = pick(["fuzz.x", "fuzz.keep", "a.b.c", "fuzz.y.z"]);
  const x = (k) => "x".repeat(k);
  switch (n(0, 6)) {
    case 0: return pick(["PUB\r\n", `PUB ${subj}\r\n`, `PUB ${subj} abc\r\n`, `PUB ${subj} -3\r\n`, "SUB\r\n",
      `HPUB ${subj} 10\r\n`, `HPUB ${subj} 30 10\r\n${x(10)}\r\n`, "UNSUB\r\n", "CONNECT {not json\r\n", "MSG a 1 1\r\nx\r\n"]);
    case 1: { // announced more bytes than sent, then filler: the byte after the count is not \r
      const len = n(0, 300), extra = n(1, 50);
      return `PUB ${subj} ${len + extra}\r\n${x(len)}\r\n${x(extra + 10)}\r\n`;
    }
    case 2: { const len = n(2, 300); return `PUB ${subj} ${len - n(1, len - 1)}\r\n${x(len)}\r\n`; } // fewer
    case 3: { // HPUB whose byte counts disagree with the bytes
      const hdr = "NATS/1.0\r\nK: v\r\n\r\n", body = x(n(0, 50)), total = hdr.length + body.length;
      return `HPUB ${subj} ${hdr.length} ${total - n(1, 5)}\r\n${hdr}${body}\r\n`;
    }
    case 4: { // over the announced max_payload (sometimes with all of the payload)
      const len = maxPayload + n(1, 1000);
      return `PUB ${subj} ${len}\r\n` + (r() < 0.5 ? `${x(len)}\r\n` : x(n(0, 100)));
    }
    case 5: return `PUB ${subj} ${x(n(5000, 20000))}\r\n`; // a very long line
    default: { // garbage that starts with no operation's letter
      const bytes = Buffer.from(Array.from({ length: n(1, 200) }, () => n(0, 255)));
      bytes[0] = pick([0x00, 0x21, 0x7b, 0x7f, 0xff, 0x5a, 0x61 + 25]);
      return Buffer.concat([bytes, Buffer.from("\r\n")]);
    }
  }
}

test("fuzz: bad input gets -ERR and/or a close; afterwards nothing acked is lost", async () => {
  const nc = await open();
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: "FUZZKEEP", subjects: ["fuzz.keep"] });
  const js = nc.jetstream();
  const kept = [];
  for (let i = 0; i < 5; i++) kept.push([(await js.publish("fuzz.keep", sc.encode(`keep ${i}`))).seq, `keep ${i}`]);
  await nc.close();

  const control = await rawConn();
  await until(() => control.text.includes("\r\n"), 3000, "INFO on a raw socket");
  const maxPayload = JSON.parse(control.text.slice(5, control.text.indexOf("\r\n"))).max_payload;
  control.sock.write(`${connectLine()}PUB fuzz.raw 5\r\nhello\r\nPING\r\n`);
  await until(() => control.text.includes("PONG"), 3000, "PONG after a valid PUB on a raw socket");
  assert.ok(!control.text.includes("-ERR"), `no -ERR for valid input: ${control.text}`);
  control.sock.destroy();

  const r = rng(FUZZ_SEED), bad = [];
  let errs = 0, closes = 0, sent = 0;
  const deadline = Date.now() + 90000;
  for (let i = 0; i < FUZZ_CASES && Date.now() < deadline; i++, sent++) {
    const preAuth = r() < 0.25, input = badInput(r, maxPayload);
    const c = await rawConn();
    await until(() => c.text.includes("\r\n"), 3000, "INFO");
    if (!preAuth) {
      c.sock.write(`${connectLine()}PING\r\n`);
      await until(() => c.text.includes("PONG"), 3000, "PONG after CONNECT");
    }
    const seen = c.text.length;
    c.sock.write(input);
    try { await until(() => c.closed || c.text.includes("-ERR", seen), 3000, "-ERR or close"); }
    catch { bad.push(`#${i}${preAuth ? " pre-auth" : ""} ${JSON.stringify(input.toString("latin1").slice(0, 80))}`); }
    await sleep(c.closed ? 0 : 50);
    errs += c.text.includes("-ERR", seen) ? 1 : 0;
    closes += c.closed ? 1 : 0;
    c.sock.destroy();
  }
  assert.equal(bad.length, 0, `${bad.length} bad connections got neither -ERR nor a close:\n    ${bad.slice(0, 8).join("\n    ")}`);

  const after = await open();
  const ack = await after.jetstream().publish("fuzz.keep", sc.encode("after"));
  assert.equal(ack.seq, kept.at(-1)[0] + 1);
  const jsm2 = await after.jetstreamManager();
  const info = await jsm2.streams.info("FUZZKEEP");
  assert.deepEqual([info.state.messages, info.state.last_seq], [6, ack.seq]);
  for (const [seq, text] of kept) assert.equal(sc.decode((await jsm2.streams.getMessage("FUZZKEEP", { seq })).data), text);
  await jsm2.streams.delete("FUZZKEEP");
  return `seed ${FUZZ_SEED}: ${sent} bad connections, ${errs} got -ERR, ${closes} closed; 5 acked messages intact`;
}, { timeout: 120000 });

process.exit((await run("suite")) ? 1 : 0);
