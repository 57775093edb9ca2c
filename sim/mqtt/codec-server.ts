// The codec's test-and-tools side (the device never imports this module, so its bundle does not
// carry it): named encoders over mqttEnc, the server-side packets (CONNACK, SUBACK), a decoder object
// over mqttFeed that also parses the client-to-server packets CONNECT, SUBSCRIBE and UNSUBSCRIBE.
// Pure.
import { CONNACK, CONNECT, MqttFeedState, MqttPacket, SUBSCRIBE, mqtt as mqttEnc, mqtt as mqttFeed, mqtt as mqttSay } from "../../firmware/mqtt/codec";

export function packetName(t: number): string {
  return mqttSay(t);
}
export function connackWords(rc: number): string {
  return mqttSay(CONNACK, rc);
}

// ---------------------------------------------------------------- encoders

export function encodeLength(n: number): string {
  let s = "";
  do {
    s += String.fromCharCode((n > 127 ? 128 : 0) | (n & 127));
    n = n >> 7;
  } while (n > 0);
  return s;
}
export function mqttConnect(clientId: string, keepAlive: number, clean: boolean, username?: string, password?: string): string {
  return mqttEnc(CONNECT, keepAlive, { clientId: clientId, clean: clean, username: username, password: password });
}
export function mqttPublish(topic: string, payload: string, qos: number, retain: boolean, dup: boolean, id: number): string {
  return mqttEnc(0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0), id, topic, payload);
}
export function mqttAck(type: number, id: number): string {
  return mqttEnc(type, id);
}
export function mqttSubscribe(id: number, filters: string[], qoss: number[]): string {
  return mqttEnc(SUBSCRIBE, id, filters.map((f, i) => qoss[i] + f));
}
export function mqttUnsubscribe(id: number, filters: string[]): string {
  return mqttEnc(10 /* UNSUBSCRIBE */, id, filters);
}
export const MQTT_PINGREQ = "\xc0\x00";
export const MQTT_PINGRESP = "\xd0\x00";
export const MQTT_DISCONNECT = "\xe0\x00";

// Server-side packets.
export function mqttConnack(sp: boolean, rc: number): string {
  return String.fromCharCode(0x20, 2, sp ? 1 : 0, rc);
}
export function mqttSuback(id: number, codes: number[]): string {
  let b = String.fromCharCode(id >> 8, id & 255);
  for (let i = 0; i < codes.length; i++) b += String.fromCharCode(codes[i]);
  return "\x90" + encodeLength(b.length) + b;
}

// ---------------------------------------------------------------- decoding

let B = "";
let P = 0;
function rd(): string | undefined {
  if (P + 2 > B.length) return undefined;
  const l = (B.charCodeAt(P) << 8) | B.charCodeAt(P + 1);
  if (P + 2 + l > B.length) return undefined;
  const s = B.substr(P + 2, l);
  P += 2 + l;
  return s;
}
function rid(): number {
  const v = (B.charCodeAt(P) << 8) | B.charCodeAt(P + 1);
  P += 2;
  return v;
}

// CONNECT, SUBSCRIBE or UNSUBSCRIBE from its body: the packet, or what is wrong in plain words.
export function parseServerBound(t: number, b: string): MqttPacket | string {
  B = b;
  P = 0;
  const n = b.length;
  const short = packetName(t) + " is truncated";
  if (t == CONNECT) {
    const proto = rd();
    if (proto === undefined || P + 4 > n) return short;
    if (proto != "MQTT" || b.charCodeAt(P) != 4) return "CONNECT is not MQTT 3.1.1";
    const f = b.charCodeAt(P + 1);
    P += 2;
    if (f & 1) return "CONNECT has the reserved flag bit set";
    const c: MqttPacket = { type: t, clean: (f & 2) > 0, keepAlive: rid() };
    c.clientId = rd();
    if (c.clientId === undefined) return short;
    if (f & 4) {
      c.willTopic = rd();
      c.willPayload = rd();
      if (c.willPayload === undefined) return short;
      c.willQos = (f >> 3) & 3;
      c.willRetain = (f & 32) > 0;
    }
    if (f & 128) {
      c.username = rd();
      if (c.username === undefined) return short;
    }
    if (f & 64) {
      c.password = rd();
      if (c.password === undefined) return short;
    }
    if (P != n) return "CONNECT has " + (n - P) + " unexpected trailing bytes";
    return c;
  }
  // SUBSCRIBE / UNSUBSCRIBE
  if (n < 2) return short;
  const s: MqttPacket = { type: t, id: rid(), filters: [] };
  if (t == SUBSCRIBE) s.qoss = [];
  while (P < n) {
    const f = rd();
    if (f === undefined || (t == SUBSCRIBE && P >= n)) return short;
    s.filters!.push(f);
    if (t == SUBSCRIBE) {
      const q = b.charCodeAt(P++);
      if (q > 2) return "SUBSCRIBE has an invalid QoS byte " + q;
      s.qoss!.push(q);
    }
  }
  if (!s.filters!.length) return packetName(t) + " has no topic filter";
  return s;
}

// Streaming decoder object (tests, tools, brokers) over the device's mqttFeed: new MqttDecoder(max,
// onPacket); feed(chunk) returns "" or a protocol error, and after an error stays failed until
// reset() (a new stream). Client-to-server packets are parsed (parseServerBound).
export class MqttDecoder implements MqttFeedState {
  maxPacket: number;
  h = 0;
  len?: number;
  left?: number;
  body?: string;
  err = "";
  on: (p: MqttPacket) => void;
  constructor(max: number, on: (p: MqttPacket) => void) {
    this.maxPacket = max;
    this.on = on;
  }
  onData(t: any, p: MqttPacket): void {
    if (this.err) return;
    if (p.body !== undefined) {
      const x = parseServerBound(p.type, p.body);
      if (typeof x == "string") {
        this.err = x;
        return;
      }
      p = x;
    }
    this.on(p);
  }
  reset(): void {
    this.h = 0;
    this.err = "";
  }
  feed(c: string): string {
    if (this.err) return "decoder used after a protocol error: " + this.err;
    const e = mqttFeed(this, c);
    if (e) this.err = e;
    return this.err;
  }
}
