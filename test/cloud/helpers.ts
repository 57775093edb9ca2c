/** Test helpers: presign AWS IoT WebSocket URLs with @smithy/signature-v4 (token appended AFTER signing). */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";
import mqtt, { MqttClient, IClientOptions } from "mqtt";
import { startCloud, Cloud, CloudOptions } from "../../sim/cloud";

export interface Creds { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

export function tempDir(prefix = "cloud-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function newCloud(opts: Partial<CloudOptions> = {}): Promise<{ cloud: Cloud; dir: string }> {
  const dir = opts.dataDir || tempDir();
  const cloud = await startCloud({ dataDir: dir, port: 0, ...opts });
  return { cloud, dir };
}

export interface PresignOptions {
  /** signing time (ms), default Date.now() */
  now?: number;
  /** host to sign, default cloud.endpoint */
  host?: string;
  expiresIn?: number;
  region?: string;
  service?: string;
  /** sign the token into the query (what AWS IoT refuses) */
  signToken?: boolean;
  path?: string;
  port?: number;
}

/** Presigned ws:// URL for the stand-in, made with the AWS SDK's own signer. */
export async function presign(cloud: Cloud, creds: Creds, o: PresignOptions = {}): Promise<string> {
  const host = o.host || cloud.endpoint;
  const signer = new SignatureV4({
    credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: o.signToken ? creds.sessionToken : undefined },
    region: o.region || cloud.region,
    service: o.service || "iotdevicegateway",
    sha256: Sha256,
  });
  const signed = await signer.presign(
    { method: "GET", protocol: "ws:", hostname: host.split(":")[0], port: Number(host.split(":")[1]) || undefined, path: o.path || "/mqtt", headers: { host }, query: {} },
    { signingDate: new Date(o.now ?? Date.now()), expiresIn: o.expiresIn ?? 3600 },
  );
  const q = Object.entries(signed.query || {}).map(([k, v]) => encodeURIComponent(k) + "=" + encodeURIComponent(String(v))).join("&");
  let url = "ws://127.0.0.1:" + (o.port || cloud.port) + (o.path || "/mqtt") + "?" + q;
  if (creds.sessionToken && !o.signToken) url += "&X-Amz-Security-Token=" + encodeURIComponent(creds.sessionToken);
  return url;
}

/** Connects an MQTT.js client over the presigned WebSocket URL. The Host header is the one that was signed. */
export async function connect(cloud: Cloud, clientId: string, creds: Creds, o: PresignOptions & { mqtt?: IClientOptions; onMessage?: (topic: string, payload: Buffer) => void } = {}): Promise<MqttClient> {
  const url = await presign(cloud, creds, o);
  const host = o.host || cloud.endpoint;
  const client = mqtt.connect(url, {
    clientId, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, keepalive: 60,
    wsOptions: { headers: { host } } as any,
    transformWsUrl: () => url,
    ...(o.mqtt || {}),
  });
  if (o.onMessage) client.on("message", o.onMessage);
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", (e) => reject(e));
    client.once("close", () => reject(new Error("closed before CONNACK")));
  });
  client.removeAllListeners("error");
  client.on("error", () => undefined);
  return client;
}

/** Records every message a client receives. */
export function recorder(client: MqttClient): { msgs: Array<{ topic: string; body: any; raw: string }>; next: (topic: string, timeoutMs?: number) => Promise<{ topic: string; body: any; raw: string }>; skip: () => void } {
  const msgs: Array<{ topic: string; body: any; raw: string }> = [];
  const waiters: Array<{ topic: string; resolve: (m: any) => void }> = [];
  let read = 0;
  client.on("message", (topic, payload) => {
    const raw = payload.toString();
    let body: any;
    try { body = JSON.parse(raw); } catch { body = raw; }
    const m = { topic, body, raw };
    msgs.push(m);
    for (let i = 0; i < waiters.length; i++) {
      if (waiters[i].topic === topic) { const w = waiters.splice(i, 1)[0]; w.resolve(m); break; }
    }
  });
  void read;
  const taken = new Set<object>();
  return {
    msgs,
    /** forget every message received so far (next() waits for new ones) */
    skip() { for (const m of msgs) taken.add(m); },
    next(topic: string, timeoutMs = 3000) {
      const found = msgs.find((m) => m.topic === topic && !taken.has(m));
      if (found) { taken.add(found); return Promise.resolve(found); }
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error("no message on " + topic + " within " + timeoutMs + " ms; got: " + msgs.map((m) => m.topic).join(", "))), timeoutMs);
        waiters.push({ topic, resolve: (m) => { clearTimeout(t); taken.add(m); resolve(m); } });
      });
    },
  };
}

/** Replaces every "timestamp" value (and known epoch-seconds fields) with "T" for byte-for-byte comparison. */
export function stripTimes(raw: string): string {
  return raw.replace(/"(timestamp|queuedAt|startedAt|lastUpdatedAt)":\d+/g, '"$1":"T"');
}

export function closed(client: MqttClient, timeoutMs = 5000): Promise<void> {
  if (!client.connected && (client as any).disconnected !== false && (client as any).stream?.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("client still connected after " + timeoutMs + " ms")), timeoutMs);
    client.once("close", () => { clearTimeout(t); resolve(); });
  });
}

export { sleep, until, waitFor } from "../support/wait";

export async function end(...clients: Array<MqttClient | undefined>): Promise<void> {
  await Promise.all(clients.filter(Boolean).map((c) => new Promise<void>((r) => c!.end(true, {}, () => r()))));
}

