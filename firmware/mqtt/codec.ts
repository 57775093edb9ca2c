// MQTT 3.1.1 codec: pure functions over binary strings (char codes 0..255), no I/O.
// Topics, client ids and payloads are taken as binary strings: string length == byte count.
// Encoders return one whole packet; MqttDecoder takes chunks split anywhere and emits whole packets.
// An incoming packet larger than the decoder's limit is skipped without buffering (its bytes are
// counted and dropped as they arrive) and reported as one pseudo-packet of type SKIPPED.

export const SKIPPED = 0; // pseudo type: a packet over the size limit was dropped
export const CONNECT = 1;
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const PUBREC = 5;
export const PUBREL = 6;
export const PUBCOMP = 7;
export const SUBSCRIBE = 8;
export const SUBACK = 9;
export const UNSUBSCRIBE = 10;
export const UNSUBACK = 11;
export const PINGREQ = 12;
export const PINGRESP = 13;
export const DISCONNECT = 14;

const NAMES = "reserved,CONNECT,CONNACK,PUBLISH,PUBACK,PUBREC,PUBREL,PUBCOMP,SUBSCRIBE,SUBACK,UNSUBSCRIBE,UNSUBACK,PINGREQ,PINGRESP,DISCONNECT,reserved".split(",");
export function packetName(t: number): string {
  return NAMES[t & 15];
}

// CONNACK return codes in plain words (index = code).
const CONNACK_WORDS = [
  "accepted",
  "refused: unacceptable protocol version",
  "refused: client id rejected",
  "refused: server unavailable",
  "refused: bad user name or password",
  "refused: not authorized",
];
export function connackWords(rc: number): string {
  return CONNACK_WORDS[rc] || "refused: unknown return code " + rc;
}

export interface MqttPacket {
  type: number;
  id?: number; // packet identifier (PUBLISH QoS>0, acks, SUBSCRIBE, UNSUBSCRIBE)
  topic?: string; // PUBLISH (and SKIPPED PUBLISH: first 64 bytes)
  payload?: string; // PUBLISH, binary string
  qos?: number;
  dup?: boolean;
  retain?: boolean;
  rc?: number; // CONNACK return code
  sp?: boolean; // CONNACK session present
  codes?: number[]; // SUBACK return codes (0x80 = failure)
  filters?: string[]; // SUBSCRIBE / UNSUBSCRIBE
  qoss?: number[]; // SUBSCRIBE requested QoS per filter
  clientId?: string; // CONNECT
  keepAlive?: number;
  clean?: boolean;
  username?: string;
  password?: string;
  willTopic?: string;
  willPayload?: string;
  willQos?: number;
  willRetain?: boolean;
  size?: number; // SKIPPED: whole packet size in bytes
  ptype?: number; // SKIPPED: the skipped packet's type
}

// ---------------------------------------------------------------- encoders

function u16(n: number): string {
  return String.fromCharCode((n >> 8) & 255, n & 255);
}
function lstr(s: string): string {
  return u16(s.length) + s;
}
export function encodeLength(n: number): string {
  let s = "";
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b = b | 128;
    s += String.fromCharCode(b);
  } while (n > 0);
  return s;
}
function pkt(first: number, body: string): string {
  return String.fromCharCode(first) + encodeLength(body.length) + body;
}

// CONNECT (MQTT 3.1.1, no will). A password needs a user name in 3.1.1.
export function mqttConnect(clientId: string, keepAlive: number, clean: boolean, username?: string, password?: string): string {
  let f = clean ? 2 : 0;
  let tail = "";
  if (username !== undefined) {
    f |= 128;
    tail = lstr(username);
    if (password !== undefined) {
      f |= 64;
      tail += lstr(password);
    }
  }
  return pkt(0x10, "\x00\x04MQTT\x04" + String.fromCharCode(f) + u16(keepAlive) + lstr(clientId) + tail);
}

export function mqttPublish(topic: string, payload: string, qos: number, retain: boolean, dup: boolean, id: number): string {
  const first = 0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0);
  return pkt(first, lstr(topic) + (qos ? u16(id) : "") + payload);
}

// PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: type + packet id.
export function mqttAck(type: number, id: number): string {
  return String.fromCharCode((type << 4) | (type == PUBREL ? 2 : 0), 2) + u16(id);
}

export function mqttSubscribe(id: number, filters: string[], qoss: number[]): string {
  let b = u16(id);
  for (let i = 0; i < filters.length; i++) b += lstr(filters[i]) + String.fromCharCode(qoss[i] & 3);
  return pkt(0x82, b);
}

export function mqttUnsubscribe(id: number, filters: string[]): string {
  let b = u16(id);
  for (let i = 0; i < filters.length; i++) b += lstr(filters[i]);
  return pkt(0xa2, b);
}

export const MQTT_PINGREQ = "\xc0\x00";
export const MQTT_PINGRESP = "\xd0\x00";
export const MQTT_DISCONNECT = "\xe0\x00";

// Server-side packets (tests and tools; unused exports are dropped from the device bundle).
export function mqttConnack(sp: boolean, rc: number): string {
  return String.fromCharCode(0x20, 2, sp ? 1 : 0, rc);
}
export function mqttSuback(id: number, codes: number[]): string {
  let b = u16(id);
  for (let i = 0; i < codes.length; i++) b += String.fromCharCode(codes[i]);
  return pkt(0x90, b);
}

// ---------------------------------------------------------------- decoder

// Parser for the client-to-server packets CONNECT, SUBSCRIBE and UNSUBSCRIBE, registered by
// codec-server.ts (tests, tools) so the device bundle does not carry it; without it they are errors.
let serverParse: ((t: number, b: string) => MqttPacket | string) | null = null;
export function setServerParser(f: (t: number, b: string) => MqttPacket | string): void {
  serverParse = f;
}

// Cursor over the body being parsed (module state instead of per-packet closures).
let B = "";
let P = 0;
// reads a length-prefixed string at P, or returns undefined when it does not fit
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

// Parses the body of one complete packet. Returns the packet or an error in plain words.
function parseBody(h: number, b: string): MqttPacket | string {
  B = b;
  P = 0;
  const r = parse2(h, b);
  B = "";
  return r;
}
function parse2(h: number, b: string): MqttPacket | string {
  const t = h >> 4;
  const n = b.length;
  const name = NAMES[t];
  const short = name + " is truncated";
  if (t == PUBLISH) {
    const qos = (h >> 1) & 3;
    const topic = rd();
    if (topic === undefined || (qos && P + 2 > n)) return short;
    if (!topic.length) return "PUBLISH has an empty topic";
    const pk: MqttPacket = { type: t, topic: topic, qos: qos, dup: (h & 8) > 0, retain: (h & 1) > 0, payload: "" };
    if (qos) {
      pk.id = rid();
      if (!pk.id) return "PUBLISH has packet id 0";
    }
    pk.payload = b.substr(P);
    return pk;
  }
  if (t == CONNACK) {
    if (n != 2) return "CONNACK must be 2 bytes long, not " + n;
    if (b.charCodeAt(0) & 0xfe) return "CONNACK has reserved flag bits set";
    return { type: t, sp: (b.charCodeAt(0) & 1) > 0, rc: b.charCodeAt(1) };
  }
  if (t == PUBACK || t == PUBREC || t == PUBREL || t == PUBCOMP || t == UNSUBACK) {
    if (n != 2) return name + " must be 2 bytes long, not " + n;
    return { type: t, id: rid() };
  }
  if (t == PINGREQ || t == PINGRESP || t == DISCONNECT) {
    if (n) return name + " must be empty, not " + n + " bytes";
    return { type: t };
  }
  if (t == SUBACK) {
    if (n < 3) return short;
    const sk: MqttPacket = { type: t, id: rid(), codes: [] };
    while (P < n) {
      const c = b.charCodeAt(P++);
      if (c > 2 && c != 0x80) return "SUBACK has an invalid return code " + c;
      sk.codes!.push(c);
    }
    return sk;
  }
  if (serverParse && (t == CONNECT || t == SUBSCRIBE || t == UNSUBSCRIBE)) return serverParse(t, b);
  return name + " is a packet only clients send";
}

// Streaming decoder. feed() returns "" when all is well, otherwise a protocol error in plain
// words; after an error the stream is unusable until reset() (the session drops the connection).
export class MqttDecoder {
  max: number; // largest packet (fixed header + body) that is buffered; larger ones are skipped
  on: (p: MqttPacket) => void;
  st: number; // 0: fixed header, 1: body, 2: skipping an oversize packet, 3: failed
  h: number; // first byte
  len: number; // remaining length
  mul: number;
  nb: number; // remaining-length bytes read
  body: string;
  left: number; // bytes still to skip
  sp: number; // position inside the skipped body
  tl: number; // skipped PUBLISH: topic length (-1 while unknown)
  skt: string; // skipped PUBLISH: topic (first 64 bytes)
  sid: number; // skipped PUBLISH: packet id
  sizeSkipped: number;
  constructor(max: number, on: (p: MqttPacket) => void) {
    this.max = max;
    this.on = on;
    this.st = 0;
    this.h = this.len = this.mul = this.nb = this.left = this.sp = this.tl = this.sid = this.sizeSkipped = 0;
    this.body = this.skt = "";
    this.reset();
  }
  reset(): void {
    this.st = 0;
    this.nb = 0;
    this.body = "";
    this.skt = "";
  }
  feed(c: string): string {
    let i = 0;
    const n = c.length;
    if (this.st == 3) return "decoder used after a protocol error";
    while (i < n) {
      if (this.st == 0) {
        const x = c.charCodeAt(i++);
        if (!this.nb) {
          const t = x >> 4;
          const f = x & 15;
          if (t == 0 || t == 15) return this.fail("reserved packet type " + t);
          if (t == PUBLISH ? (f & 6) == 6 : f != (t == PUBREL || t == SUBSCRIBE || t == UNSUBSCRIBE ? 2 : 0)) {
            return this.fail(t == PUBLISH ? "PUBLISH with QoS 3" : "bad flags " + f + " on " + NAMES[t]);
          }
          this.h = x;
          this.len = 0;
          this.mul = 1;
          this.nb = 1;
          continue;
        }
        this.len += (x & 127) * this.mul;
        this.mul *= 128;
        this.nb++;
        if (x & 128) {
          if (this.nb > 4) return this.fail("remaining length is longer than 4 bytes");
          continue;
        }
        this.nb--; // now: number of length bytes
        const size = 1 + this.nb + this.len;
        this.nb = 0;
        if (size > this.max) {
          this.st = 2;
          this.left = this.len;
          this.sp = 0;
          this.tl = -1;
          this.skt = "";
          this.sid = 0;
          this.sizeSkipped = size;
        } else {
          this.st = 1;
          this.body = "";
        }
      } else if (this.st == 1) {
        const take = Math.min(n - i, this.len - this.body.length);
        if (take > 0) {
          this.body += take == n && i == 0 ? c : c.substr(i, take);
          i += take;
        }
      } else {
        // skipping: parse the PUBLISH prefix (topic, id) byte by byte, then drop in bulk
        const pub = this.h >> 4 == PUBLISH;
        const need = this.tl < 0 ? 2 : 2 + this.tl + ((this.h & 6) ? 2 : 0);
        if (pub && this.sp < need && this.left > 0) {
          const x = c.charCodeAt(i++);
          this.left--;
          if (this.sp < 2) this.tl = this.sp ? (this.sid << 8) | x : -1;
          if (this.sp == 0) this.sid = x;
          else if (this.sp == 1) this.sid = 0;
          else if (this.sp < 2 + this.tl) {
            if (this.skt.length < 64) this.skt += String.fromCharCode(x);
          } else this.sid = (this.sid << 8) | x;
          this.sp++;
        } else {
          const take = Math.min(n - i, this.left);
          i += take;
          this.left -= take;
        }
      }
      if (this.st == 1 && this.body.length == this.len) {
        const r = parseBody(this.h, this.body);
        this.st = 0;
        this.body = "";
        if (typeof r == "string") return this.fail(r);
        this.on(r);
      } else if (this.st == 2 && this.left == 0) {
        this.st = 0;
        const sk: MqttPacket = { type: SKIPPED, ptype: this.h >> 4, size: this.sizeSkipped };
        if (this.h >> 4 == PUBLISH) {
          sk.topic = this.skt;
          sk.qos = (this.h >> 1) & 3;
          if (sk.qos && this.sp >= 4 + this.tl) sk.id = this.sid;
        }
        this.skt = "";
        this.on(sk);
      }
    }
    return "";
  }
  fail(msg: string): string {
    this.st = 3;
    this.body = "";
    return msg;
  }
}
