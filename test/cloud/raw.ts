/** Raw peers for hostile-input tests: hand-built MQTT packets, a TCP socket that records, SigV4-signed HTTP. */
import * as net from "node:net";
import * as http from "node:http";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";
import type { Cloud } from "../../sim/cloud";
import { encodeLength } from "../../sim/mqtt/codec-server";
import type { Creds } from "./helpers";

// MQTT's variable-length "remaining length" field, as bytes
export function remainingLength(n: number): Buffer {
  return Buffer.from(encodeLength(n), "latin1");
}

export function mqttString(s: string | Buffer): Buffer {
  const b = typeof s === "string" ? Buffer.from(s) : s;
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 255]), b]);
}

export function packet(firstByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte]), remainingLength(body.length), body]);
}

/** CONNECT (clean session) at protocol level 4 (3.1.1) or 5; MQTT 5 adds an empty property list. */
export function connectPacket(o: { clientId: string; username?: string; password?: string; level?: number; keepalive?: number }): Buffer {
  const level = o.level ?? 4;
  const flags = 0x02 | (o.username !== undefined ? 0x80 : 0) | (o.password !== undefined ? 0x40 : 0);
  const keepalive = o.keepalive ?? 60;
  const parts = [mqttString("MQTT"), Buffer.from([level, flags, keepalive >> 8, keepalive & 255])];
  if (level === 5) parts.push(Buffer.from([0]));
  parts.push(mqttString(o.clientId));
  if (o.username !== undefined) parts.push(mqttString(o.username));
  if (o.password !== undefined) parts.push(mqttString(o.password));
  return packet(0x10, Buffer.concat(parts));
}

export function publishPacket(topic: string | Buffer, payload: string | Buffer, qos: 0 | 1 = 0, messageId = 1): Buffer {
  const parts = [mqttString(topic)];
  if (qos) parts.push(Buffer.from([messageId >> 8, messageId & 255]));
  parts.push(typeof payload === "string" ? Buffer.from(payload) : payload);
  return packet(0x30 | (qos << 1), Buffer.concat(parts));
}

/** A TCP peer that records what it receives and resolves `closed` when the server closes. */
export class RawPeer {
  readonly socket: net.Socket;
  received = Buffer.alloc(0);
  readonly closed: Promise<void>;
  private waiters: Array<() => void> = [];

  constructor(port: number) {
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.on("error", () => undefined);
    this.socket.on("data", (d) => { this.received = Buffer.concat([this.received, d]); this.waiters.splice(0).forEach((w) => w()); });
    this.closed = new Promise((resolve) => this.socket.on("close", () => { this.waiters.splice(0).forEach((w) => w()); resolve(); }));
  }

  ready(): Promise<void> { return new Promise((resolve) => this.socket.once("connect", () => resolve())); }

  /** Writes, unless the server has closed; resolves false when the write was not possible. */
  write(data: Buffer): Promise<boolean> {
    if (this.socket.destroyed || !this.socket.writable) return Promise.resolve(false);
    return new Promise((resolve) => this.socket.write(data, (e) => resolve(!e)));
  }

  /** Waits until at least `n` bytes came (or the socket closed). */
  async receivedAtLeast(n: number): Promise<Buffer> {
    while (this.received.length < n && !this.socket.destroyed) await new Promise<void>((r) => this.waiters.push(r));
    return this.received;
  }

  destroy(): void { this.socket.destroy(); }
}

export interface SignedResponse { status: number; headers: http.IncomingHttpHeaders; body: string }

/** Sends an HTTP API request signed by the AWS SDK's signer; `tamper` may change it after signing. */
export async function signedRequest(cloud: Cloud, creds: Creds, method: string, path: string, body: string | Buffer = "",
  o: { query?: Record<string, string>; headers?: Record<string, string>; service?: string; tamper?: (r: { headers: Record<string, string>; body: string | Buffer }) => void } = {}): Promise<SignedResponse> {
  const signer = new SignatureV4({ credentials: creds, region: cloud.region, service: o.service || "iotdata", sha256: Sha256 });
  const [hostname, port] = cloud.endpoint.split(":");
  const signed = await signer.sign({
    method, protocol: "http:", hostname, port: Number(port), path, query: o.query || {},
    headers: { host: cloud.endpoint, "content-type": "application/json", ...(o.headers || {}) }, body,
  });
  const request = { headers: signed.headers as Record<string, string>, body };
  if (o.tamper) o.tamper(request);
  const qs = new URLSearchParams(o.query || {}).toString();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: Number(port), method, path: path + (qs ? "?" + qs : ""), headers: request.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode || 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end(request.body);
  });
}

/** Plain GET (no signature), for probes. */
export function plainGet(port: number, path: string, headers: Record<string, string> = {}): Promise<SignedResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method: "GET", path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode || 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end();
  });
}
