// A man-in-the-middle for MQTT over WebSocket that the tests control: the device connects to it
// (startDevice's `resolve`), it forwards the upgrade and then re-frames the traffic MQTT packet by
// MQTT packet, so a test can inspect, drop, hold, inject or cut any packet in either direction.
// Loopback only. Used for faults the stand-in does not produce by itself: malformed or oversized
// packets, a TCP reset in the middle of a packet, a 409 or a rejected job update, reordered responses.
import * as net from "net";
import { remainingLength } from "../cloud/raw";

export interface Pkt {
  type: number; // MQTT packet type (high nibble of the first byte)
  raw: Buffer; // the whole packet
  topic?: string; // PUBLISH
  payload?: Buffer; // PUBLISH
  qos?: number;
  id?: number; // PUBLISH with QoS > 0
  json?: any; // PUBLISH payload parsed as JSON, when it is JSON
}

// What a hook returns: undefined = forward, "drop" = swallow it.
export type Verdict = void | "drop";

export interface ProxyConn {
  id: number;
  device: net.Socket;
  upstream: net.Socket;
  open: boolean; // WebSocket established (101 seen)
  cut: boolean; // a packet was cut: nothing more goes to the device, only the reset
  /** sends MQTT packet bytes to the device as one binary WebSocket frame */
  toDevice(raw: Buffer): void;
  /** sends raw bytes to the device as they are (no framing) */
  rawToDevice(b: Buffer): void;
  /** RST towards the device, close upstream */
  reset(): void;
}

function parsePkt(raw: Buffer): Pkt {
  const type = raw[0] >> 4;
  const p: Pkt = { type, raw };
  if (type !== 3) return p;
  let i = 1;
  while (raw[i] & 128) i++;
  i++;
  const tl = raw.readUInt16BE(i);
  p.topic = raw.subarray(i + 2, i + 2 + tl).toString("latin1");
  i += 2 + tl;
  p.qos = (raw[0] >> 1) & 3;
  if (p.qos) {
    p.id = raw.readUInt16BE(i);
    i += 2;
  }
  p.payload = raw.subarray(i);
  try {
    p.json = JSON.parse(p.payload.toString("utf8"));
  } catch {
    /* not JSON */
  }
  return p;
}

// Cuts an MQTT byte stream into whole packets.
class Framer {
  buf = Buffer.alloc(0);
  push(b: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, b]) : Buffer.from(b);
    const out: Buffer[] = [];
    for (;;) {
      if (this.buf.length < 2) break;
      let len = 0;
      let mul = 1;
      let i = 1;
      let done = false;
      for (; i < this.buf.length && i <= 4; i++) {
        len += (this.buf[i] & 127) * mul;
        mul *= 128;
        if (!(this.buf[i] & 128)) {
          done = true;
          break;
        }
      }
      if (!done) break;
      const total = i + 1 + len;
      if (this.buf.length < total) break;
      out.push(Buffer.from(this.buf.subarray(0, total)));
      this.buf = Buffer.from(this.buf.subarray(total));
    }
    return out;
  }
}

// Reads WebSocket frames; calls onData(payload) for data frames, onCtl(rawFrame) for control frames.
class FrameReader {
  buf = Buffer.alloc(0);
  constructor(private onData: (b: Buffer) => void, private onCtl: (raw: Buffer) => void) {}
  push(b: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, b]) : Buffer.from(b);
    for (;;) {
      const f = this.buf;
      if (f.length < 2) return;
      const masked = (f[1] & 128) !== 0;
      let len = f[1] & 127;
      let off = 2;
      if (len === 126) {
        if (f.length < 4) return;
        len = f.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (f.length < 10) return;
        len = Number(f.readBigUInt64BE(2));
        off = 10;
      }
      const key = masked ? f.subarray(off, off + 4) : null;
      if (masked) off += 4;
      if (f.length < off + len) return;
      const raw = Buffer.from(f.subarray(0, off + len));
      const payload = Buffer.from(f.subarray(off, off + len));
      if (key) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
      this.buf = Buffer.from(f.subarray(off + len));
      const op = f[0] & 15;
      if (op === 0 || op === 2) this.onData(payload);
      else this.onCtl(raw);
    }
  }
}

function frame(payload: Buffer, mask: boolean): Buffer {
  const n = payload.length;
  const h: number[] = [0x82];
  const m = mask ? 128 : 0;
  if (n < 126) h.push(m | n);
  else if (n < 65536) h.push(m | 126, n >> 8, n & 255);
  else h.push(m | 127, 0, 0, 0, 0, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255);
  if (mask) h.push(0, 0, 0, 0); // a zero masking key: valid, and the payload stays readable
  return Buffer.concat([Buffer.from(h), payload]);
}

export class MqttProxy {
  port = 0;
  conns: ProxyConn[] = [];
  /** device -> broker packets */
  onUp: ((p: Pkt, c: ProxyConn) => Verdict) | null = null;
  /** broker -> device packets */
  onDown: ((p: Pkt, c: ProxyConn) => Verdict) | null = null;
  upLog: Pkt[] = [];
  downLog: Pkt[] = [];
  private server: net.Server;
  private sockets = new Set<net.Socket>();
  private seq = 0;
  private cutNext: ((p: Pkt) => boolean) | null = null;

  private constructor(private target: () => { host: string; port: number }) {
    this.server = net.createServer((d) => this.accept(d));
  }

  static async start(target: () => { host: string; port: number }): Promise<MqttProxy> {
    const p = new MqttProxy(target);
    await new Promise<void>((r) => p.server.listen(0, "127.0.0.1", () => r()));
    p.port = (p.server.address() as net.AddressInfo).port;
    return p;
  }

  /** the newest open connection */
  get current(): ProxyConn | undefined {
    for (let i = this.conns.length - 1; i >= 0; i--) if (this.conns[i].open && !this.conns[i].device.destroyed) return this.conns[i];
    return undefined;
  }

  /** the next broker->device packet matching `m`: half of its frame goes out, then a TCP reset */
  cutMidPacket(m: (p: Pkt) => boolean): void {
    this.cutNext = m;
  }

  private accept(device: net.Socket): void {
    const t = this.target();
    const upstream = net.connect(t.port, t.host);
    this.sockets.add(device);
    this.sockets.add(upstream);
    device.setNoDelay(true);
    upstream.setNoDelay(true);
    const conn: ProxyConn = {
      id: ++this.seq,
      device,
      upstream,
      open: false,
      cut: false,
      toDevice: (raw) => {
        if (!conn.cut && !device.destroyed) device.write(frame(raw, false));
      },
      rawToDevice: (b) => {
        if (!conn.cut && !device.destroyed) device.write(b);
      },
      reset: () => {
        if (!device.destroyed) device.resetAndDestroy();
        upstream.destroy();
      },
    };
    this.conns.push(conn);
    const close = () => {
      if (!device.destroyed) device.end();
      if (!upstream.destroyed) upstream.end();
      setTimeout(() => {
        device.destroy();
        upstream.destroy();
      }, 200).unref();
    };
    device.on("error", () => undefined);
    upstream.on("error", () => undefined);
    device.on("close", () => {
      this.sockets.delete(device);
      close();
    });
    upstream.on("close", () => {
      this.sockets.delete(upstream);
      close();
    });

    // device -> broker: request head as is, then masked frames re-framed per MQTT packet
    let upHead = Buffer.alloc(0);
    let upOpen = false;
    const upFramer = new Framer();
    const upReader = new FrameReader(
      (b) => {
        for (const raw of upFramer.push(b)) {
          const p = parsePkt(raw);
          this.upLog.push(p);
          if (this.onUp && this.onUp(p, conn) === "drop") continue;
          if (!upstream.destroyed) upstream.write(frame(raw, true));
        }
      },
      (raw) => {
        if (!upstream.destroyed) upstream.write(raw);
      }
    );
    device.on("data", (b: Buffer) => {
      if (upOpen) return upReader.push(b);
      upHead = Buffer.concat([upHead, b]);
      const e = upHead.indexOf("\r\n\r\n");
      if (e < 0) return;
      upOpen = true;
      upstream.write(upHead.subarray(0, e + 4));
      const rest = upHead.subarray(e + 4);
      if (rest.length) upReader.push(rest);
    });

    // broker -> device: answer head as is (anything but a 101 passes through raw), then frames
    let downHead = Buffer.alloc(0);
    let downMode = 0; // 0 head, 1 frames, 2 raw
    const downFramer = new Framer();
    const downReader = new FrameReader(
      (b) => {
        for (const raw of downFramer.push(b)) {
          const p = parsePkt(raw);
          this.downLog.push(p);
          if (conn.cut) return;
          if (this.cutNext && this.cutNext(p)) {
            // the half frame is the last thing the device gets before the reset: packets behind
            // it (in this chunk or later ones) would otherwise follow it and be misread as frames
            this.cutNext = null;
            conn.cut = true;
            const f = frame(raw, false);
            device.write(f.subarray(0, Math.max(3, f.length >> 1)), () => conn.reset());
            return;
          }
          if (this.onDown && this.onDown(p, conn) === "drop") continue;
          conn.toDevice(raw);
        }
      },
      (raw) => conn.rawToDevice(raw)
    );
    upstream.on("data", (b: Buffer) => {
      if (conn.cut) return;
      if (downMode === 1) return downReader.push(b);
      if (downMode === 2) return conn.rawToDevice(b);
      downHead = Buffer.concat([downHead, b]);
      const e = downHead.indexOf("\r\n\r\n");
      if (e < 0) return;
      const head = downHead.subarray(0, e + 4);
      downMode = / 101 /.test(head.subarray(0, 20).toString("latin1")) ? 1 : 2;
      conn.open = downMode === 1;
      conn.rawToDevice(head);
      const rest = downHead.subarray(e + 4);
      if (rest.length) {
        if (downMode === 1) downReader.push(rest);
        else conn.rawToDevice(rest);
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

// ---------------------------------------------------------------- packets to inject

export function publishPacket(topic: string, payload: string | Buffer, qos = 0, id = 1): Buffer {
  const t = Buffer.from(topic, "latin1");
  const p = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  const body = Buffer.concat([Buffer.from([t.length >> 8, t.length & 255]), t, qos ? Buffer.from([id >> 8, id & 255]) : Buffer.alloc(0), p]);
  return Buffer.concat([Buffer.from([0x30 | (qos << 1)]), remainingLength(body.length), body]);
}

