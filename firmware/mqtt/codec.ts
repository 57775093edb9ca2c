// MQTT 3.1.1 codec: pure, over binary strings (char codes 0..255), no I/O. Topics, client ids and
// payloads are binary strings: string length == byte count.
//
// Memory diet (ESP8266, 1600 variables): every function that stays reachable on Espruino costs ~5
// variables + 1 per parameter whatever its length, so the whole codec is ONE function, mqtt():
//   mqtt(type, id, a?, b?)     encodes a packet a client sends;
//   mqtt(state, chunk)         the streaming decoder;
//   mqtt(type), mqtt(CONNACK, rc), mqtt(topic, isFilter)   plain words.
// Callers import it under the name of the part they use (import { mqtt as mqttEnc }: free at run
// time): mqttEnc, mqttFeed, mqttSay.
// Named encoders, the decoder object and the server side (CONNECT/SUBSCRIBE/UNSUBSCRIBE parsing,
// CONNACK/SUBACK encoding) are in codec-server.ts, for tests and tools only.

export const SKIPPED = 0; // pseudo type: a packet over the size limit was skipped
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

export interface MqttPacket {
  type: number;
  id?: number; // packet identifier (PUBLISH QoS 1, acks, SUBACK; SKIPPED: a QoS 1 PUBLISH's)
  topic?: string; // PUBLISH (SKIPPED PUBLISH: as much as fits in the first 260 bytes)
  payload?: string; // PUBLISH, binary string
  qos?: number;
  retain?: number; // PUBLISH: 1 when the retain flag is set
  rc?: number; // CONNACK return code
  sp?: boolean; // CONNACK session present
  codes?: string; // SUBACK return codes, one char each (0, 1, 2 or 0x80 = failure)
  body?: string; // CONNECT, SUBSCRIBE, UNSUBSCRIBE: the raw body (parsed by codec-server.ts)
  size?: number; // SKIPPED: the whole packet's size in bytes
  ptype?: number; // SKIPPED: the skipped packet's type
  // decoded by codec-server.ts (server side)
  filters?: string[];
  qoss?: number[];
  clientId?: string;
  keepAlive?: number;
  clean?: boolean;
  username?: string;
  password?: string;
  willTopic?: string;
  willPayload?: string;
  willQos?: number;
  willRetain?: boolean;
}

// Decoder state, kept on the caller's object (the session itself on the device).
export interface MqttFeedState {
  maxPacket: number; // largest packet (header + body) kept; a larger one is skipped as it streams in
  h: number; // first byte of the packet being read; 0 between packets (set 0 for a new stream)
  len?: number; // remaining length, then the whole packet size
  left?: number; // body bytes still to come; while reading the remaining length -1 - its bytes read
  body?: string; // the body (of a skipped packet: at most its first 260 bytes, for the report)
  t?: any; // passed back with every packet (the session's current transport)
  onData(t: any, p: MqttPacket): void; // receives every whole packet
}

// ---------------------------------------------------------------- the codec

// Encoder, mqtt(type, id, a?, b?): every packet a client sends.
//   CONNECT      mqtt(CONNECT, keepAliveSeconds, {clientId, clean?, username?, password?})
//   PUBLISH      mqtt(0x30 | dup << 3 | qos << 1 | retain, id, topic, payload) (the first byte)
//   SUBSCRIBE    mqtt(SUBSCRIBE, id, ["1a/b", "0c/#"]): each entry is the QoS digit + the filter
//   UNSUBSCRIBE  mqtt(UNSUBSCRIBE, id, filters)
//   PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: mqtt(type, id); PINGREQ, DISCONNECT: mqtt(type, 0)
//
// Streaming decoder, mqtt(d, chunk): takes the next chunk (split anywhere) and hands each whole
// packet to d.onData(d.t, packet). Returns "" when all is well, otherwise a protocol error in plain
// words (then the stream is unusable: the owner drops the connection and sets d.h = 0 for the next
// one). A packet over d.maxPacket is skipped without buffering it (its bytes are counted and dropped
// as they arrive) and comes out as one SKIPPED packet {ptype, size, and for a PUBLISH topic, qos,
// id}. CONNECT/SUBSCRIBE/UNSUBSCRIBE (packets only clients send) come out as {type, id, body}.
//
// Plain words: mqtt(type) the packet name; mqtt(CONNACK, rc) a CONNACK return code; mqtt(topic,
// isFilter) "" when valid, else what is wrong: a topic name for PUBLISH (no wildcards) or a topic
// filter ('+' fills a whole level, '#' is the last level); never empty, no NUL, at most 65535 bytes.
export function mqtt(d: MqttFeedState, chunk: string): string;
export function mqtt(t: number | string, isFilter?: any): string;
export function mqtt(t: number, id: number, a: any, b?: any): string;
export function mqtt(t: any, y?: any, a?: any, b?: any): any {
  if (typeof t == "object") {
    // decoder
    const d: MqttFeedState = t;
    const c: string = y;
    for (let i = 0; ; ) {
      if (d.h && !d.left) {
        // one whole packet
        const h = d.h;
        const t = h >> 4;
        let b = d.body!;
        const n = b.length;
        const q = (h >> 1) & 3;
        const id = (b.charCodeAt(0) << 8) | b.charCodeAt(1); // PUBLISH: the topic length
        const at = 2 + id + (q ? 2 : 0);
        let p: MqttPacket = { type: t };
        let ok = n == (t < PINGREQ ? 2 : 0);
        d.h = 0;
        d.body = ""; // not kept between packets
        if (t == PUBLISH) {
          p.topic = b.substr(2, id);
          p.qos = q;
          p.retain = h & 1;
          p.payload = b.substr(at);
          if (q) p.id = (b.charCodeAt(at - 2) << 8) | b.charCodeAt(at - 1);
          ok = n > 1 && at <= n && id > 0 && (!q || p.id! > 0);
        } else if (t == CONNACK) {
          p.sp = b.charCodeAt(0) == 1;
          p.rc = b.charCodeAt(1);
          ok = ok && b.charCodeAt(0) < 2;
        } else if (t == SUBACK) {
          p.codes = b.substr(2);
          ok = n > 2;
          for (let k = 2; k < n; k++) if (b.charCodeAt(k) > 2 && b.charCodeAt(k) != 128) ok = false;
        } else if (t == CONNECT || t == SUBSCRIBE || t == UNSUBSCRIBE) {
          p.body = b;
          ok = true;
        }
        if (n > 1 && t > PUBLISH) p.id = id;
        if (d.len! > d.maxPacket) p = { type: SKIPPED, ptype: t, size: d.len, topic: p.topic, qos: p.qos, id: t == PUBLISH && at <= n ? p.id : 0 };
        else if (!ok) return "bad " + mqtt(t) + " (" + n + " bytes)";
        b = ""; // the body goes before the handler runs (the payload is a copy): a lower peak
        d.onData(d.t, p);
        continue;
      }
      if (i >= c.length) return "";
      const x = c.charCodeAt(i);
      if (!d.h) {
        // first byte: type and flags
        const t = x >> 4;
        i++;
        if (!t || t == 15 || (t == PUBLISH ? x & 4 : (x & 15) != (t == PUBREL || t == SUBSCRIBE || t == UNSUBSCRIBE ? 2 : 0))) return "bad packet header " + x;
        d.h = x;
        d.len = 0;
        d.left = -1;
      } else if (d.left! < 0) {
        // remaining length: 1 to 4 bytes, 7 bits each; left = -1 - the bytes read so far
        i++;
        d.len! += (x & 127) << (-7 - 7 * d.left!);
        if (x & 128) {
          if (--d.left! < -4) return "bad remaining length";
        } else {
          const k = 1 - d.left!; // 1 + the length bytes
          d.left = d.len;
          d.len! += k;
          d.body = "";
        }
      } else {
        // body: kept whole, or only its first bytes when the packet is over the limit
        const take = Math.min(c.length - i, d.left!);
        const k = d.len! > d.maxPacket ? Math.min(d.maxPacket, 260) - d.body!.length : take;
        if (k > 0) d.body += c.substr(i, Math.min(k, take));
        i += take;
        d.left! -= take;
      }
    }
  }
  if (typeof t == "string") {
    // a topic name (y falsy) or a topic filter
    const l = t.split("/");
    let bad = !t || t.length > 65535 || t.indexOf("\x00") >= 0;
    for (let i = 0; i < l.length; i++) {
      const x = l[i];
      // indexOf sum > -2: the level holds a '+' or a '#'
      if (x.indexOf("+") + x.indexOf("#") > -2 && (!y || (x != "+" && (x != "#" || i < l.length - 1)))) bad = true;
    }
    return bad ? "bad topic " + (y ? "filter " : "") + '"' + t + '"' : "";
  }
  if (y === undefined) return "reserved,CONNECT,CONNACK,PUBLISH,PUBACK,PUBREC,PUBREL,PUBCOMP,SUBSCRIBE,SUBACK,UNSUBSCRIBE,UNSUBACK,PINGREQ,PINGRESP,DISCONNECT,reserved".split(",")[t & 15];
  if (t == CONNACK) return "accepted,bad protocol version,client id rejected,server unavailable,bad user name or password,not authorized".split(",")[y] || "code " + y;
  // encoder
  const C = String.fromCharCode;
  const h = t > 15 ? t : (t << 4) | (t == PUBREL || t == SUBSCRIBE || t == UNSUBSCRIBE ? 2 : 0);
  let L: string[] = a || [];
  let s = "";
  t = h >> 4;
  if (t == CONNECT) {
    let x = a.clean === false ? 0 : 2;
    L = [a.clientId];
    if (a.username != null) {
      x |= 128;
      L.push(a.username);
      if (a.password != null) {
        x |= 64;
        L.push(a.password);
      }
    }
    s = "\x00\x04MQTT\x04" + C(x);
  }
  if (t == PUBLISH) {
    s = C(a.length >> 8, a.length & 255) + a;
    L = [];
  }
  if (t == PUBLISH ? h & 6 : t < PINGREQ) s += C(y >> 8, y & 255); // packet id, CONNECT: keep-alive
  for (let i = 0; i < L.length; i++) {
    let x = L[i];
    let q = "";
    if (t == SUBSCRIBE) {
      q = C(x.charCodeAt(0) & 3);
      x = x.substr(1);
    }
    s += C(x.length >> 8, x.length & 255) + x + q;
  }
  if (t == PUBLISH) s += b;
  let n = s.length;
  let r = C(h);
  do {
    r += C((n > 127 ? 128 : 0) | (n & 127));
    n = n >> 7;
  } while (n > 0);
  return r + s;
}
