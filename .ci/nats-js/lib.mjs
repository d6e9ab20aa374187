// Shared by the nats.js suite's files (test.mjs, consumers.mjs, restart.mjs): the environment,
// small helpers and the case runner. Environment (set by run.sh):
//   NATS_URL     nats://127.0.0.1:PORT of the server under test
//   NATS_TOKEN   the broker's API key (nats-server: its --auth token)
//   JWT_SECRET   the broker's DSTREAM_JWT_SECRET; JWT cases skip without it
//   HTTP_URL     durable-stream: its HTTP port (/metrics); nats-server: its monitoring port (/varz)
//   TARGET       nats-server runs the suite against nats-server; cases marked `ours` are skipped
//   ONLY         runs only the cases whose name contains it (for working on one case)
import assert from "node:assert/strict";
import crypto from "node:crypto";
import net from "node:net";
import { connect, StringCodec } from "nats";

export const URL_ = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
export const TOKEN = process.env.NATS_TOKEN ?? "";
export const JWT_SECRET = process.env.JWT_SECRET ?? "";
export const HTTP_URL = process.env.HTTP_URL ?? "";
export const NATS_SERVER = process.env.TARGET === "nats-server";
export const { hostname: HOST, port: PORT } = new URL(URL_);
assert.equal(HOST, "127.0.0.1", "NATS_URL must be on 127.0.0.1");
if (HTTP_URL) assert.equal(new URL(HTTP_URL).hostname, "127.0.0.1", "HTTP_URL must be on 127.0.0.1");

export const sc = StringCodec();
export const uniq = () => crypto.randomBytes(4).toString("hex");
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const opened = [];
/** A nats.js connection that the runner closes after the case. */
export async function open(token = TOKEN) {
  const nc = await connect({ servers: URL_, token, reconnect: false, timeout: 5000 });
  opened.push(nc);
  return nc;
}
export async function until(pred, ms, what) {
  for (const end = Date.now() + ms; !(await pred()); await sleep(20)) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === "function" ? what() : what}`);
  }
}
export async function rejects(promise, what) {
  let value;
  try { value = await promise; } catch (err) { return err; }
  throw new Error(`${what}: expected a refusal, got ${JSON.stringify(value)}`);
}
/** Resolves with the promise's value, or rejects after `ms` saying `what` did not finish. */
export function within(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  })]).finally(() => clearTimeout(timer));
}
// A JWT as docs/security.md describes it: HS256, `dstream` claim with pub/sub patterns.
export function jwt(claims, secret = JWT_SECRET) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const body = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub: "nats-js-suite", exp: Math.floor(Date.now() / 1000) + 600, ...claims })}`;
  return `${body}.${crypto.createHmac("sha256", secret).update(body).digest("base64url")}`;
}
// nats-server stores only subjects some stream captures; ours stores every subject as its own
// stream named after it. Returns the stream name a PubAck for `subject` should carry.
export async function streamFor(nc, subject) {
  if (!NATS_SERVER) return subject;
  const name = `S_${subject.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  await (await nc.jetstreamManager()).streams.add({ name, subjects: [subject] });
  return name;
}
/** Declares a stream named `name` on `subject` (both servers): consumers need a stream name without dots. */
export async function declareStream(nc, name, subject) {
  await (await nc.jetstreamManager()).streams.add({ name, subjects: [subject] });
  return name;
}

/** A raw TCP connection: `text` collects what arrives (latin1), `closed` turns true on close. */
export function rawConn() {
  return new Promise((resolve, reject) => {
    const st = { text: "", bytes: 0, closed: false };
    st.sock = net.connect({ host: HOST, port: Number(PORT) });
    st.sock.on("data", (d) => { st.bytes += d.length; st.text += d.toString("latin1"); });
    st.sock.on("close", () => { st.closed = true; });
    st.sock.once("connect", () => { st.sock.on("error", () => {}); resolve(st); });
    st.sock.once("error", reject);
  });
}
export const connectLine = (token = TOKEN) =>
  `CONNECT ${JSON.stringify({ auth_token: token, verbose: false, pedantic: false, headers: true, protocol: 1 })}\r\n`;

/**
 * What the server says about itself: open client connections, slow consumers so far and (durable-
 * stream only) the bytes clients make it hold. durable-stream: its Prometheus /metrics (the API
 * key as Bearer); nats-server: its monitoring /varz.
 */
export async function serverStats() {
  assert.ok(HTTP_URL, "HTTP_URL is needed for the server's metrics");
  if (NATS_SERVER) {
    const varz = await (await fetch(`${HTTP_URL}/varz`)).json();
    return { connections: varz.connections, slowConsumers: varz.slow_consumers, heldBytes: null };
  }
  const res = await fetch(`${HTTP_URL}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200, `GET /metrics: ${res.status}`);
  const text = await res.text();
  const metric = (name) => {
    const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    assert.ok(line, `metric ${name} in /metrics`);
    return Number(line.slice(line.lastIndexOf(" ") + 1));
  };
  return {
    connections: metric("dstream_nats_connections"),
    slowConsumers: metric("dstream_nats_slow_consumers_total"),
    heldBytes: metric("dstream_memory_budget_held_bytes"),
  };
}

// ---- cases and their runner -----------------------------------------------------------------
const cases = [];
/** Registers a case; `ours`: durable-stream only; `jwt`: needs JWT_SECRET (durable-stream only). */
export const test = (name, fn, { ours = false, jwt: needsJwt = false, timeout = 20000 } = {}) =>
  cases.push({ name, fn, ours, needsJwt, timeout });

/** Runs the registered cases in order, one line each; resolves with the number that failed. */
export async function run(title) {
  let failed = 0, passed = 0, skipped = 0;
  console.log(`nats.js ${title} against ${URL_} (${NATS_SERVER ? "nats-server" : "durable-stream"})`);
  for (const c of cases.filter((k) => !process.env.ONLY || k.name.includes(process.env.ONLY))) {
    if ((c.ours && NATS_SERVER) || (c.needsJwt && (NATS_SERVER || !JWT_SECRET))) {
      skipped++;
      console.log(`skip  ${c.name} (${c.ours || NATS_SERVER ? "durable-stream only" : "no JWT_SECRET"})`);
      continue;
    }
    const started = Date.now();
    try {
      const detail = await within(c.fn(), c.timeout, "the case");
      passed++;
      console.log(`ok    ${c.name} (${Date.now() - started} ms)${detail ? `: ${detail}` : ""}`);
    } catch (err) {
      failed++;
      const code = err?.code ? ` [code ${err.code}]` : "";
      console.log(`FAIL  ${c.name} (${Date.now() - started} ms): ${String(err?.message ?? err).split("\n").join("\n      ")}${code}`);
    } finally {
      await Promise.all(opened.splice(0).map((nc) => nc.close().catch(() => {})));
    }
  }
  console.log(`nats.js ${title}: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed;
}
