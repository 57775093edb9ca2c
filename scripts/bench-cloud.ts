/**
 * `npm run bench:cloud` - messages per second through the stand-in next to bare aedes in the same run
 * (MQTT.js publisher and subscriber over WebSocket, QoS 0 and QoS 1), and shadow updates per second.
 *
 *   npm run bench:cloud -- [--messages 20000] [--rounds 4] [--size 64] [--shadow-updates 2000]
 *
 * Bare aedes: the same aedes version behind a ws upgrade with no checks. Stand-in: SigV4-verified upgrade,
 * device policy on publish/subscribe/receive, AWS broker rules. The publisher is the admin ("app" sending a
 * command), the subscriber a device credential limited to its thing (so every delivery is policy-checked).
 * Figures are medians over the rounds; the machine is shared, so compare the two columns of the same run.
 */
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as fs from "node:fs";
import * as path from "node:path";
import { WebSocketServer, createWebSocketStream } from "ws";
import mqtt, { MqttClient } from "mqtt";
import { startCloud, presignIotUrl, Cloud } from "../sim/cloud";

import { createBroker } from "aedes";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf("--" + name);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) { console.error("--" + name + " needs a positive number"); process.exit(2); }
  return v;
}

const MESSAGES = arg("messages", 20000);
const ROUNDS = arg("rounds", 4);
const SIZE = arg("size", 64);
const SHADOW_UPDATES = arg("shadow-updates", 2000);

async function bareAedes(): Promise<{ url: string; close: () => Promise<void> }> {
  const broker = createBroker();
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on("upgrade", (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => broker.handle(createWebSocketStream(ws), req)));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: "ws://127.0.0.1:" + port + "/mqtt",
    close: async () => { (server as any).closeAllConnections?.(); await new Promise<void>((r) => broker.close(() => r())); await new Promise<void>((r) => server.close(() => r())); },
  };
}

function open(url: string, clientId: string, host?: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { clientId, protocolVersion: 4, reconnectPeriod: 0, keepalive: 60, transformWsUrl: () => url, wsOptions: host ? { headers: { host } } as any : undefined });
    c.once("connect", () => resolve(c));
    c.once("error", reject);
  });
}

async function throughput(pub: MqttClient, sub: MqttClient, topic: string, qos: 0 | 1, n: number): Promise<number> {
  await sub.subscribeAsync(topic, { qos });
  const payload = Buffer.alloc(SIZE, 97);
  let got = 0;
  const start = process.hrtime.bigint();
  const done = new Promise<void>((resolve) => {
    const onMsg = () => { if (++got === n) { sub.removeListener("message", onMsg); resolve(); } };
    sub.on("message", onMsg);
  });
  // publish in chunks so the publisher's own buffers do not dominate
  const CHUNK = qos ? 200 : 500;
  for (let i = 0; i < n; i += CHUNK) {
    const k = Math.min(CHUNK, n - i);
    if (qos) await Promise.all(Array.from({ length: k }, () => pub.publishAsync(topic, payload, { qos })));
    else { for (let j = 0; j < k; j++) pub.publish(topic, payload, { qos }); await new Promise((r) => setImmediate(r)); }
  }
  await done;
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  await sub.unsubscribeAsync(topic);
  return n / secs;
}

function median(xs: number[]): number { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; }

async function shadowRate(cloud: Cloud, creds: { accessKeyId: string; secretAccessKey: string }, n: number): Promise<number> {
  const url = presignIotUrl({ host: cloud.endpoint, region: cloud.region, ...creds });
  const c = await open(url, "bench-sub", cloud.endpoint);
  await c.subscribeAsync("$aws/things/bench-sub/shadow/update/accepted", { qos: 0 });
  let sent = 0, got = 0;
  const WINDOW = 8; // below the 10 in-flight limit
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    const send = () => { sent++; c.publish("$aws/things/bench-sub/shadow/update", JSON.stringify({ state: { reported: { n: sent, t: 21.5 } } })); };
    c.on("message", () => { got++; if (got === n) resolve(); else if (sent < n) send(); });
    for (let i = 0; i < WINDOW && sent < n; i++) send();
  });
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  await new Promise<void>((r) => c.end(true, {}, () => r()));
  return n / secs;
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-cloud-"));
  const cloud = await startCloud({ dataDir, port: 0 });
  const dev = await cloud.createThing("bench-sub");
  const bare = await bareAedes();
  const results: Record<string, { bare: number[]; stand: number[] }> = { "QoS 0": { bare: [], stand: [] }, "QoS 1": { bare: [], stand: [] } };
  const sUrl = () => presignIotUrl({ host: cloud.endpoint, region: cloud.region, ...cloud.admin });
  const dUrl = () => presignIotUrl({ host: cloud.endpoint, region: cloud.region, ...dev });
  console.log("bench:cloud - " + MESSAGES + " messages of " + SIZE + " bytes per round, " + ROUNDS + " rounds, node " + process.version + ", " + os.cpus().length + " CPUs");
  for (let r = 0; r < ROUNDS; r++) {
    for (const qos of [0, 1] as const) {
      const key = "QoS " + qos;
      const n = qos ? Math.ceil(MESSAGES / 2) : MESSAGES;
      const runBare = async () => {
        const p = await open(bare.url, "bare-pub"), s = await open(bare.url, "bare-sub");
        results[key].bare.push(await throughput(p, s, "devices/bench-sub/cmd", qos, n));
        p.end(true); s.end(true);
      };
      const runStand = async () => {
        const p = await open(sUrl(), "bench-app", cloud.endpoint), s = await open(dUrl(), "bench-sub", cloud.endpoint);
        results[key].stand.push(await throughput(p, s, "devices/bench-sub/cmd", qos, n));
        p.end(true); s.end(true);
      };
      // alternate which one goes first, so warm-up and GC do not favour either
      if (r % 2 === 0) { await runBare(); await runStand(); } else { await runStand(); await runBare(); }
    }
  }
  const lines: string[] = [];
  for (const key of Object.keys(results)) {
    const b = median(results[key].bare), s = median(results[key].stand);
    lines.push(key + " over WebSocket: bare aedes " + Math.round(b) + " msg/s, stand-in " + Math.round(s) + " msg/s (" + Math.round((s / b) * 100) + " %)");
  }
  const sh = await shadowRate(cloud, dev, SHADOW_UPDATES);
  lines.push("shadow updates (reported, 8 in flight, accepted received, persisted): " + Math.round(sh) + " updates/s");
  for (const l of lines) console.log("  " + l);
  await cloud.stop();
  await bare.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

main().catch((e) => { console.error("bench:cloud failed: " + (e && e.stack || e)); process.exit(1); });
