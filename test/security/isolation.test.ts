// A device credential cannot read or write another thing's shadow or jobs: MQTT over SigV4-presigned
// WebSocket URLs (made with the stand-in's own presigner, as a device would), against the stand-in.
// For each attempt: the broker refuses it (disconnect or SUBACK 0x80) and the victim's state is unchanged.
import mqtt, { MqttClient } from "mqtt";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startCloud, Cloud } from "../../sim/cloud";
import { presignIotUrl } from "../../sim/cloud/sigv4";

jest.setTimeout(30000);

interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}
let cloud: Cloud;
let strict: Cloud; // deniedSubscribe: "suback-failure" (the client stays connected, we see 0x80)
let A: Creds;
let B: Creds;
let SA: Creds; // thing A's credentials on `strict`
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sec-iso-"));

beforeAll(async () => {
  cloud = await startCloud({ dataDir: path.join(tmp, "c1"), port: 0 });
  strict = await startCloud({ dataDir: path.join(tmp, "c2"), port: 0, deniedSubscribe: "suback-failure" });
  A = await cloud.createThing("thing-a");
  B = await cloud.createThing("thing-b");
  SA = await strict.createThing("thing-a");
  await strict.createThing("thing-b");
  await cloud.shadows.update("thing-b", { state: { desired: { on: true }, reported: { on: true, secretValue: 42 } } });
  await cloud.jobs.createJob({ jobId: "b-job", targets: ["thing-b"], document: { operation: "blink", count: 1 } });
});
afterAll(async () => {
  await cloud.stop();
  await strict.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

// o.signHost: the host put into the signature (the Host header sent is always the endpoint's)
function url(c: Cloud, cr: Creds, o: { signHost?: string; now?: number } = {}): string {
  const signed = presignIotUrl({ host: o.signHost || c.endpoint, region: c.region, accessKeyId: cr.accessKeyId, secretAccessKey: cr.secretAccessKey, sessionToken: cr.sessionToken, now: o.now });
  return signed.replace("ws://" + (o.signHost || c.endpoint), "ws://" + c.endpoint);
}

// Connects; resolves with the client once CONNACK arrives, rejects with the reason otherwise.
function connect(c: Cloud, cr: Creds, clientId: string, o: { signHost?: string; now?: number } = {}): Promise<MqttClient> {
  const u = url(c, cr, o);
  const client = mqtt.connect(u, { clientId, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 4000, keepalive: 60, wsOptions: { headers: { host: c.endpoint } } as any });
  return new Promise((resolve, reject) => {
    client.once("connect", () => resolve(client));
    client.once("error", (e) => {
      client.end(true);
      reject(e);
    });
    client.once("close", () => reject(new Error("closed before CONNACK")));
  });
}

function closedOrError(client: MqttClient, ms = 4000): Promise<string> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve("still open"), ms);
    const done = (why: string) => {
      clearTimeout(t);
      resolve(why);
    };
    client.once("close", () => done("closed"));
    client.once("error", () => done("closed"));
  });
}

const clients: MqttClient[] = [];
afterEach(() => {
  while (clients.length) clients.pop()!.end(true);
});
async function open(c: Cloud, cr: Creds, id: string): Promise<MqttClient> {
  const m = await connect(c, cr, id);
  m.on("error", () => undefined);
  clients.push(m);
  return m;
}

test("thing A's credentials cannot connect as thing B's client id", async () => {
  await expect(connect(cloud, A, "thing-b")).rejects.toThrow();
  const ok = await open(cloud, A, "thing-a");
  expect(ok.connected).toBe(true);
});

test("a URL signed for another host, a tampered signature or an old signing time is refused (403)", async () => {
  await expect(connect(cloud, A, "thing-a", { signHost: "evil.example.com" })).rejects.toThrow();
  await expect(connect(cloud, A, "thing-a", { now: Date.now() - 3600 * 1000 })).rejects.toThrow();
  const u = url(cloud, A).replace(/X-Amz-Signature=([0-9a-f])/, (_m, c) => "X-Amz-Signature=" + (c === "0" ? "1" : "0"));
  const client = mqtt.connect(u, { clientId: "thing-a", protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 4000, wsOptions: { headers: { host: cloud.endpoint } } as any });
  client.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => reject(new Error("a tampered signature was accepted")));
    client.once("close", () => resolve());
  });
  client.end(true);
  // B's secret is never needed to be refused: A's secret with B's key id fails too
  await expect(connect(cloud, { accessKeyId: B.accessKeyId, secretAccessKey: A.secretAccessKey }, "thing-b")).rejects.toThrow();
});

test("subscribing to thing B's shadow or jobs, or to wildcards over all things, is refused", async () => {
  const filters = ["$aws/things/thing-b/shadow/update/accepted", "$aws/things/thing-b/shadow/get/accepted", "$aws/things/thing-b/jobs/notify-next",
    "$aws/things/+/shadow/update/delta", "$aws/things/#", "#", "+/+/+/+", "devices/thing-b/events"];
  for (const f of filters) {
    const m = await open(strict, SA, "thing-a");
    const granted = await new Promise<any>((resolve) => m.subscribe(f, { qos: 1 }, (err, g) => resolve(err ? [{ qos: 128 }] : g)));
    expect({ f, qos: granted[0].qos }).toEqual({ f, qos: 128 });
    m.end(true);
  }
  // default mode (AWS with MQTT 3.1.1): the connection is closed
  const m2 = await open(cloud, A, "thing-a");
  const gone = closedOrError(m2);
  m2.subscribe("$aws/things/thing-b/shadow/update/accepted", { qos: 1 });
  expect(await gone).toBe("closed");
});

test("publishing to thing B's shadow is refused and B's shadow does not change", async () => {
  // the document as stored: the response's own "timestamp" is the time of the read
  const stored = () => JSON.stringify({ ...cloud.shadows.get("thing-b"), timestamp: undefined });
  const before = stored();
  for (const t of ["update", "delete", "get"]) {
    const m = await open(cloud, A, "thing-a");
    const gone = closedOrError(m);
    m.publish("$aws/things/thing-b/shadow/" + t, JSON.stringify({ state: { desired: { on: false }, reported: { on: false } } }), { qos: 1 });
    expect(await gone).toBe("closed");
  }
  expect(stored()).toBe(before);
});

test("thing B's shadow answers never reach thing A, even for A's own wildcard-free subscriptions", async () => {
  const m = await open(cloud, A, "thing-a");
  const got: string[] = [];
  m.on("message", (t) => got.push(t));
  await new Promise((r) => m.subscribe("$aws/things/thing-a/shadow/#", { qos: 1 }, r));
  await cloud.shadows.update("thing-b", { state: { desired: { on: false } } });
  await cloud.shadows.update("thing-a", { state: { desired: { on: false } } });
  const end = Date.now() + 3000;
  while (!got.some((t) => t.includes("thing-a")) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  expect(got.some((t) => t.includes("thing-a"))).toBe(true);
  expect(got.filter((t) => t.includes("thing-b"))).toEqual([]);
});

test("thing A cannot start, read or update thing B's jobs", async () => {
  const before = cloud.jobs.describeExecution("b-job", "thing-b");
  expect(before.status).toBe("QUEUED");
  for (const [t, body] of [
    ["$aws/things/thing-b/jobs/start-next", {}],
    ["$aws/things/thing-b/jobs/$next/get", {}],
    ["$aws/things/thing-b/jobs/get", {}],
    ["$aws/things/thing-b/jobs/b-job/update", { status: "SUCCEEDED" }],
  ] as [string, any][]) {
    const m = await open(cloud, A, "thing-a");
    const gone = closedOrError(m);
    m.publish(t, JSON.stringify(body), { qos: 1 });
    expect({ t, r: await gone }).toEqual({ t, r: "closed" });
  }
  const after = cloud.jobs.describeExecution("b-job", "thing-b");
  expect(after.status).toBe("QUEUED");
  expect(after.versionNumber).toBe(before.versionNumber);
});

test("session (STS) credentials of thing A are bound to thing A too", async () => {
  const s = cloud.issueSessionCredentials("thing-a", 600);
  await expect(connect(cloud, s, "thing-b")).rejects.toThrow();
  await expect(connect(cloud, { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey }, "thing-a")).rejects.toThrow(); // token missing
  const m = await open(cloud, s, "thing-a");
  const gone = closedOrError(m);
  m.publish("$aws/things/thing-b/shadow/update", JSON.stringify({ state: { reported: { on: false } } }), { qos: 1 });
  expect(await gone).toBe("closed");
});
