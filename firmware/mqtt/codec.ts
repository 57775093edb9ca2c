// MQTT 3.1.1 codec: pure functions over binary strings (char codes 0..255), no I/O.
// Topics, client ids and payloads are taken as binary strings: string length == byte count.
//
// Memory diet (ESP8266, 1600 variables): on Espruino every function that stays reachable costs
// ~5 variables + 1 per parameter whatever its length, so the device uses three functions only:
//   mqttEnc(type, id, a, b)         one encoder for every packet the client sends;
//   mqttFeed(state, chunk)          one streaming decoder (state machine + body parser), whose state
//                                   lives on the caller's object (the session itself on the device)
//                                   and which hands whole packets to state.pkt(packet);
//   mqttSay(type, rc?)              packet names, CONNACK return codes and topic problems in plain
//                                   words (topic.ts: filterProblem, topicProblem).
// The named encoders (mqttPublish, mqttAck, ...), MqttDecoder, packetName and connackWords are thin
// wrappers for tests and tools; the device never calls them, so esbuild drops them from its bundle.
//
// A packet larger than the limit (state.max) is skipped without buffering (its bytes are counted and
// dropped as they arrive) and reported as one pseudo-packet of type SKIPPED.

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

// In plain words: mqttSay(type) the packet name, mqttSay(CONNACK, rc) a CONNACK return code,
// mqttSay(topic, isFilter) what is wrong with a topic filter (isFilter true) or a topic name for
// PUBLISH (false), "" when it is valid. The word lists are literals in the function body: in flash,
// not in RAM, until a message is actually built.
export function mqttSay(t: any, rc?: any): string {
  if (typeof t == "string") {
    const w = rc ? "topic filter" : "topic";
    if (!t.length) return w + " is empty";
    if (t.length > 65535) return w + " is too long";
    if (!rc) return t.indexOf("+") >= 0 || t.indexOf("#") >= 0 ? "topic may not contain wildcards: " + t : "";
    const fl = t.split("/");
    for (let i = 0; i < fl.length; i++) {
      const l = fl[i];
      if (l.indexOf("#") >= 0 && (l != "#" || i != fl.length - 1)) return "'#' must be the last level on its own in " + t;
      if (l.indexOf("+") >= 0 && l != "+") return "'+' must fill a whole level in " + t;
    }
    return "";
  }
  if (rc === undefined) return "reserved,CONNECT,CONNACK,PUBLISH,PUBACK,PUBREC,PUBREL,PUBCOMP,SUBSCRIBE,SUBACK,UNSUBSCRIBE,UNSUBACK,PINGREQ,PINGRESP,DISCONNECT,reserved".split(",")[t & 15];
  return (
    [
      "accepted",
      "refused: unacceptable protocol version",
      "refused: client id rejected",
      "refused: server unavailable",
      "refused: bad user name or password",
      "refused: not authorized",
    ][rc] || "refused: unknown return code " + rc
  );
}
export function packetName(t: number): string {
  return mqttSay(t);
}
export function connackWords(rc: number): string {
  return mqttSay(CONNACK, rc);
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

// What CONNECT needs (the session's options object is passed as is).
export interface MqttConnectFields {
  clientId: string;
  clean?: boolean; // default true
  username?: string;
  password?: string; // needs a user name in 3.1.1
}

// ---------------------------------------------------------------- encoder

// One encoder for every packet a client sends:
//   CONNECT      mqttEnc(CONNECT, keepAliveSeconds, {clientId, clean, username, password})
//   PUBLISH      mqttEnc(0x30 | dup << 3 | qos << 1 | retain, id, topic, payload) (the first byte)
//   SUBSCRIBE    mqttEnc(SUBSCRIBE, id, filters, qoss)
//   UNSUBSCRIBE  mqttEnc(UNSUBSCRIBE, id, filters)
//   PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: mqttEnc(type, id); PINGREQ, DISCONNECT: mqttEnc(type, 0)
export function mqttEnc(t: number, id: number, a?: any, b?: any): string {
  const C = String.fromCharCode;
  const fl = t & 15;
  if (t > 15) t = t >> 4; // PUBLISH: the first byte was given
  let f = t == PUBREL || t == SUBSCRIBE || t == UNSUBSCRIBE ? 2 : 0;
  let s = "";
  let L: string[] = t == PUBLISH ? [a] : a || [];
  if (t == CONNECT) {
    let x = a.clean === false ? 0 : 2;
    L = [a.clientId];
    if (a.username !== undefined) {
      x |= 128;
      L.push(a.username);
      if (a.password !== undefined) {
        x |= 64;
        L.push(a.password);
      }
    }
    s = "\x00\x04MQTT\x04" + C(x);
  }
  if (t != PUBLISH && t < PINGREQ) s += C((id >> 8) & 255, id & 255); // keep-alive or packet id
  for (let i = 0; i < L.length; i++) {
    s += C((L[i].length >> 8) & 255, L[i].length & 255) + L[i];
    if (t == SUBSCRIBE) s += C(b[i] & 3);
  }
  if (t == PUBLISH) {
    f = fl;
    if (f & 6) s += C((id >> 8) & 255, id & 255);
    s += b;
  }
  let n = s.length;
  let h = C((t << 4) | f);
  do {
    const d = n % 128;
    n = Math.floor(n / 128);
    h += C(n > 0 ? d | 128 : d);
  } while (n > 0);
  return h + s;
}

// Named encoders (tests, tools).
export function encodeLength(n: number): string {
  let s = "";
  do {
    const d = n % 128;
    n = Math.floor(n / 128);
    s += String.fromCharCode(n > 0 ? d | 128 : d);
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
  return mqttEnc(SUBSCRIBE, id, filters, qoss);
}
export function mqttUnsubscribe(id: number, filters: string[]): string {
  return mqttEnc(UNSUBSCRIBE, id, filters);
}
export const MQTT_PINGREQ = "\xc0\x00";
export const MQTT_PINGRESP = "\xd0\x00";
export const MQTT_DISCONNECT = "\xe0\x00";

// Server-side packets (tests and tools).
export function mqttConnack(sp: boolean, rc: number): string {
  return String.fromCharCode(0x20, 2, sp ? 1 : 0, rc);
}
export function mqttSuback(id: number, codes: number[]): string {
  let b = String.fromCharCode(id >> 8, id & 255);
  for (let i = 0; i < codes.length; i++) b += String.fromCharCode(codes[i]);
  return "\x90" + encodeLength(b.length) + b;
}

// ---------------------------------------------------------------- decoder

// Parser for the client-to-server packets CONNECT, SUBSCRIBE and UNSUBSCRIBE, registered by
// codec-server.ts (tests, tools) so the device bundle does not carry it; without it they are errors.
let serverParse: ((t: number, b: string) => MqttPacket | string) | null = null;
export function setServerParser(f: (t: number, b: string) => MqttPacket | string): void {
  serverParse = f;
}

// Decoder state, kept on the caller's object (short names: they live on a long-lived object).
export interface MqttFeedState {
  max: number; // largest packet (fixed header + body) that is buffered; larger ones are skipped
  t?: any; // passed back to pkt (the session's current transport)
  pkt(t: any, p: MqttPacket): void; // receives every whole packet (and SKIPPED reports)
  ds: number; // 0: fixed header, 1: body, 2: skipping an oversize packet, 3: failed
  nb: number; // remaining-length bytes read (0: at a packet boundary)
  body: string;
  skt: string; // skipped PUBLISH: topic (first 64 bytes)
  h?: number; // first byte
  len?: number; // remaining length
  left?: number; // bytes still to skip
  sp?: number; // position inside the skipped body
  tl?: number; // skipped PUBLISH: topic length (-1 while unknown)
  sid?: number; // skipped PUBLISH: packet id
  ssz?: number; // skipped: whole size
}

// Streaming decoder step: feeds one chunk (split anywhere). Returns "" when all is well, otherwise a
// protocol error in plain words; after an error the state is unusable until reset (ds = nb = 0,
// body = skt = ""), which the session does for every new connection.
export function mqttFeed(d: MqttFeedState, c: string): string {
  let i = 0;
  const n = c.length;
  let e = "";
  if (d.ds == 3) return "decoder used after a protocol error";
  while (i < n && !e) {
    if (d.ds == 0) {
      const x = c.charCodeAt(i++);
      if (!d.nb) {
        const t = x >> 4;
        const f = x & 15;
        if (t == 0 || t == 15) e = "reserved packet type " + t;
        else if (t == PUBLISH ? (f & 6) == 6 : f != (t == PUBREL || t == SUBSCRIBE || t == UNSUBSCRIBE ? 2 : 0)) {
          e = t == PUBLISH ? "PUBLISH with QoS 3" : "bad flags " + f + " on " + mqttSay(t);
        }
        d.h = x;
        d.len = 0;
        d.nb = 1;
        continue;
      }
      d.len! += (x & 127) * Math.pow(128, d.nb - 1);
      d.nb++;
      if (x & 128) {
        if (d.nb > 4) e = "remaining length is longer than 4 bytes";
        continue;
      }
      const size = d.nb + d.len!; // 1 type byte + (nb - 1) length bytes + body
      d.nb = 0;
      if (size > d.max) {
        d.ds = 2;
        d.left = d.len;
        d.sp = 0;
        d.tl = -1;
        d.skt = "";
        d.sid = 0;
        d.ssz = size;
      } else {
        d.ds = 1;
        d.body = "";
      }
    } else if (d.ds == 1) {
      const take = Math.min(n - i, d.len! - d.body.length);
      if (take > 0) {
        d.body += take == n && i == 0 ? c : c.substr(i, take);
        i += take;
      }
    } else {
      // skipping: parse the PUBLISH prefix (topic, id) byte by byte, then drop in bulk
      const need = d.tl! < 0 ? 2 : 2 + d.tl! + (d.h! & 6 ? 2 : 0);
      if (d.h! >> 4 == PUBLISH && d.sp! < need && d.left! > 0) {
        const x = c.charCodeAt(i++);
        d.left!--;
        if (d.sp! < 2) d.tl = d.sp ? (d.sid! << 8) | x : -1;
        if (d.sp == 0) d.sid = x;
        else if (d.sp == 1) d.sid = 0;
        else if (d.sp! < 2 + d.tl!) {
          if (d.skt.length < 64) d.skt += String.fromCharCode(x);
        } else d.sid = (d.sid! << 8) | x;
        d.sp!++;
      } else {
        const take = Math.min(n - i, d.left!);
        i += take;
        d.left! -= take;
      }
    }
    if (d.ds == 1 && d.body.length == d.len) {
      // one whole packet: parse its body (client-bound packets here, the others via serverParse)
      const b = d.body;
      const h = d.h!;
      const t = h >> 4;
      const bl = b.length;
      const name = mqttSay(t);
      const rid = (b.charCodeAt(0) << 8) | b.charCodeAt(1);
      let p: MqttPacket | string;
      d.ds = 0;
      d.body = "";
      if (t == PUBLISH) {
        const q = (h >> 1) & 3;
        const tl = (b.charCodeAt(0) << 8) | b.charCodeAt(1);
        const at = 2 + tl + (q ? 2 : 0);
        if (bl < 2 || at > bl) p = name + " is truncated";
        else if (!tl) p = "PUBLISH has an empty topic";
        else {
          p = { type: t, topic: b.substr(2, tl), qos: q, dup: (h & 8) > 0, retain: (h & 1) > 0, payload: b.substr(at) };
          if (q) {
            p.id = (b.charCodeAt(at - 2) << 8) | b.charCodeAt(at - 1);
            if (!p.id) p = "PUBLISH has packet id 0";
          }
        }
      } else if (t == CONNACK) {
        if (bl != 2) p = "CONNACK must be 2 bytes long, not " + bl;
        else if (b.charCodeAt(0) & 0xfe) p = "CONNACK has reserved flag bits set";
        else p = { type: t, sp: (b.charCodeAt(0) & 1) > 0, rc: b.charCodeAt(1) };
      } else if (t == PUBACK || t == PUBREC || t == PUBREL || t == PUBCOMP || t == UNSUBACK) {
        p = bl != 2 ? name + " must be 2 bytes long, not " + bl : { type: t, id: rid };
      } else if (t == PINGREQ || t == PINGRESP || t == DISCONNECT) {
        p = bl ? name + " must be empty, not " + bl + " bytes" : { type: t };
      } else if (t == SUBACK) {
        p = bl < 3 ? name + " is truncated" : { type: t, id: rid, codes: [] };
        for (let k = 2; k < bl && typeof p != "string"; k++) {
          const x = b.charCodeAt(k);
          if (x > 2 && x != 0x80) p = "SUBACK has an invalid return code " + x;
          else p.codes!.push(x);
        }
      } else if (serverParse && (t == CONNECT || t == SUBSCRIBE || t == UNSUBSCRIBE)) p = serverParse(t, b);
      else p = name + " is a packet only clients send";
      if (typeof p == "string") e = p;
      else d.pkt(d.t, p);
    } else if (d.ds == 2 && d.left == 0) {
      d.ds = 0;
      const k: MqttPacket = { type: SKIPPED, ptype: d.h! >> 4, size: d.ssz };
      if (d.h! >> 4 == PUBLISH) {
        k.topic = d.skt;
        k.qos = (d.h! >> 1) & 3;
        if (k.qos && d.sp! >= 4 + d.tl!) k.id = d.sid;
      }
      d.skt = "";
      d.pkt(d.t, k);
    }
  }
  if (e) {
    d.ds = 3;
    d.body = d.skt = "";
  }
  return e;
}

// Streaming decoder object (tests, tools, brokers): new MqttDecoder(max, onPacket); feed(chunk)
// returns "" or a protocol error; reset() for a new stream. Same code as the device (mqttFeed).
export class MqttDecoder implements MqttFeedState {
  max: number;
  pkt: (t: any, p: MqttPacket) => void;
  ds: number;
  nb: number;
  body: string;
  skt: string;
  constructor(max: number, on: (p: MqttPacket) => void) {
    this.max = max;
    this.pkt = function (t: any, p: MqttPacket) {
      on(p);
    };
    this.ds = this.nb = 0;
    this.body = this.skt = "";
  }
  reset(): void {
    this.ds = this.nb = 0;
    this.body = this.skt = "";
  }
  feed(c: string): string {
    return mqttFeed(this, c);
  }
}
