/**
 * Fuzz: mutated WebSocket upgrades and query strings, raw MQTT bytes, oversized declarations and HTTP API requests,
 * all at the running stand-in (in this process). The stand-in must answer or close every one, keep serving, and
 * keep the process's RSS within RSS_BOUND_MB of where it started. Seeded, so a failure can be replayed; bounded in
 * count and time (about 10 s on a busy 2-core machine).
 */
import * as net from "node:net";
import { newCloud, presign, connect, end } from "./helpers";
import { connectPacket, publishPacket, remainingLength, signedRequest, plainGet } from "./raw";
import type { Cloud } from "../../sim/cloud";

/** RSS may grow at most this much over the whole run (it grew by about 1 GB from 4 oversized CONNECTs before the
 * fixed-header limit existed). */
const RSS_BOUND_MB = 150;
const SEED = Number(process.env.FUZZ_SEED || 20261206);

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(xs: T[]): T => xs[int(xs.length)];
const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));

/** Replaces, inserts or deletes a few bytes, or splices in a hostile fragment. */
function mutate(input: Buffer): Buffer {
  let b = Buffer.from(input);
  const fragments = ["%", "%C3%A9", "%00", "%ZZ", "&", "=", "+", "\u00e9", "\r\n", "X-Amz-Signature=", "X-Amz-SignedHeaders=connection;host;x", "a".repeat(4000), "[".repeat(500)];
  for (let k = 1 + int(4); k > 0; k--) {
    const at = int(b.length + 1);
    switch (int(4)) {
      case 0: if (b.length) b[int(b.length)] = int(256); break;
      case 1: b = Buffer.concat([b.subarray(0, at), randomBytes(1 + int(8)), b.subarray(at)]); break;
      case 2: b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(16)))]); break;
      default: b = Buffer.concat([b.subarray(0, at), Buffer.from(pick(fragments)), b.subarray(at)]);
    }
  }
  return b;
}

/** Sends bytes on a fresh connection; resolves when the server answers and closes, or after `ms` (then destroys). */
function exchange(port: number, data: Buffer[], ms = 300): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.on("error", () => undefined);
    const t = setTimeout(() => s.destroy(), ms);
    s.on("close", () => { clearTimeout(t); resolve(); });
    s.on("data", () => undefined);
    s.on("connect", () => { for (const d of data) if (s.writable) s.write(d); });
  });
}

async function inBatches(count: number, width: number, one: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < count; i += width) {
    await Promise.all(Array.from({ length: Math.min(width, count - i) }, (_, k) => one(i + k)));
  }
}

let cloud: Cloud;
let dev: { accessKeyId: string; secretAccessKey: string };
let baselineRss = 0;
let peakRss = 0;
let sampler: NodeJS.Timeout;

beforeAll(async () => {
  ({ cloud } = await newCloud({ mqttPort: 0, durable: false }));
  dev = await cloud.createThing("fuzz-dev");
  baselineRss = process.memoryUsage().rss;
  peakRss = baselineRss;
  sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 20);
});
afterAll(async () => {
  clearInterval(sampler);
  if (process.env.FUZZ_REPORT) console.log("fuzz: peak RSS growth " + ((peakRss - baselineRss) / 1048576).toFixed(1) + " MB (bound " + RSS_BOUND_MB + " MB), seed " + SEED);
  await cloud.stop();
});

afterEach(async () => {
  expect((await plainGet(cloud.port, "/health")).status).toBe(200);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  expect((peakRss - baselineRss) / 1048576).toBeLessThan(RSS_BOUND_MB);
});

test("WebSocket upgrades with mutated query strings, paths and headers", async () => {
  const url = new URL(await presign(cloud, dev, { expiresIn: 3600 }));
  const target = Buffer.from(url.pathname + url.search);
  await inBatches(300, 20, async () => {
    const host = pick([cloud.endpoint, "localhost", "", "\u00e9", "a".repeat(300)]);
    const head = Buffer.concat([
      Buffer.from("GET "), mutate(target), Buffer.from(" HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"),
      Buffer.from("Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: mqtt\r\n"),
      int(3) === 0 ? mutate(Buffer.from("X-Extra: " + "v".repeat(int(200)) + "\r\n")) : Buffer.alloc(0),
      Buffer.from("\r\n"),
    ]);
    await exchange(cloud.port, [head]);
  });
});

test("raw MQTT: random bytes, mutated CONNECTs and PUBLISHes, on the plain port", async () => {
  const login = connectPacket({ clientId: "fuzz-dev", username: dev.accessKeyId, password: dev.secretAccessKey });
  await inBatches(400, 20, async () => {
    const kind = int(4);
    if (kind === 0) return exchange(cloud.mqttPort!, [randomBytes(1 + int(64))]);
    if (kind === 1) return exchange(cloud.mqttPort!, [mutate(login)]);
    const publish = publishPacket(pick(["devices/fuzz-dev/a", "$aws/things/fuzz-dev/shadow/update", "$aws/things/fuzz-dev/jobs/start-next"]), pick(["{}", '{"state":{"desired":{"a":1}}}', "[".repeat(200)]), 1, 1 + int(60000));
    return exchange(cloud.mqttPort!, kind === 2 ? [login, mutate(publish)] : [login, publish, mutate(publish), randomBytes(int(32))]);
  });
});

test("oversized declarations from 40 connections at once never get buffered", async () => {
  const huge = (first: number) => Buffer.concat([Buffer.from([first]), remainingLength(256 * 1024 * 1024 - 1)]);
  const filler = Buffer.alloc(256 * 1024, 0x61);
  // 4 MB each, 160 MB in all: far over the bound if any of it were kept
  await inBatches(40, 40, (i) => exchange(cloud.mqttPort!, [huge(i % 2 ? 0x10 : 0x30), ...Array.from({ length: 16 }, () => filler)], 3000));
});

test("HTTP API: signed and unsigned requests with mutated paths, queries and bodies", async () => {
  const paths = ["/things/fuzz-dev/shadow", "/topics/devices%2Ffuzz-dev%2Fx", "/api/things/shadow/ListNamedShadowsForThing/fuzz-dev", "/things/x", "/jobs/j1", "/things/fuzz-dev/jobs"];
  const bodies = ['{"state":{"desired":{"a":1}}}', "{" + '"a":'.repeat(50) + "1", "[".repeat(3000), '{"state":{"reported":"\u00e9"}}', "", "null"];
  await inBatches(300, 10, async () => {
    const method = pick(["GET", "POST", "PUT", "DELETE"]);
    const path = int(3) === 0 ? mutate(Buffer.from(pick(paths))).toString("latin1").replace(/[\s#?]/g, "") || "/" : pick(paths);
    const body = int(2) ? mutate(Buffer.from(pick(bodies))) : Buffer.from(pick(bodies));
    const query: Record<string, string> = int(2) ? { [pick(["qos", "pageSize", "nextToken", "name", "retain"])]: pick(["-1", "NaN", "1", "0.5", "x".repeat(100), "%ZZ"]) } : {};
    const creds = int(4) === 0 ? { ...dev, secretAccessKey: "wrong" } : int(2) ? dev : cloud.admin;
    try {
      const r = await signedRequest(cloud, creds, method, path.startsWith("/") ? path : "/" + path, method === "GET" ? "" : body, { query, service: pick(["iotdata", "iot"]) });
      expect(r.status).toBeGreaterThanOrEqual(200);
      expect(r.status).not.toBe(500);
    } catch (e) {
      // the signer itself may refuse a mutated path; the stand-in was not reached
      expect(String(e)).not.toMatch(/ECONNRESET|socket hang up/);
    }
  });
});

test("after all of it a device still connects and is served", async () => {
  const c = await connect(cloud, "fuzz-dev", dev);
  await c.publishAsync("devices/fuzz-dev/after", "ok", { qos: 1 });
  await end(c);
});
