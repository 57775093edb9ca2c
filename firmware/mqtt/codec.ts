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
// CONNACK/SUBACK encoding) are host-side code in sim/mqtt/codec-server.ts, for tests and tools only.

export const PART = 0; // pseudo type: a slice of a PUBLISH over maxPacket (see the decoder)
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

// The largest PUBLISH body (remaining length) AWS IoT Core can send: a 2-byte topic length, a topic
// of at most 256 bytes, a 2-byte packet id and a payload of at most 128 KB (131072 bytes). A
// declared length over this is a broken or hostile broker, never a message to stream.
export const enum MqttLimit {
  AwsPublishBody = 2 + 256 + 2 + 131072, // 131332
}

// Decoder state flags kept in MqttFeedState.h beside the packet's first byte.
const enum Decoding {
  Streaming = 0x100, // a PUBLISH over maxPacket: its payload is passed on as it arrives
}

export interface MqttPacket {
  type: number;
  id?: number; // packet identifier (PUBLISH QoS 1, acks, SUBACK; PART: a QoS 1 PUBLISH's)
  topic?: string; // PUBLISH, PART
  payload?: string; // PUBLISH, binary string
  data?: string; // PART: this slice of the payload
  at?: number; // PART: the offset of data in the payload
  size?: number; // PART: the whole payload's size
  qos?: number;
  retain?: number; // PUBLISH: 1 when the retain flag is set
  rc?: number; // CONNACK return code
  sp?: boolean; // CONNACK session present
  codes?: string; // SUBACK return codes, one char each (0, 1, 2 or 0x80 = failure)
  body?: string; // CONNECT, SUBSCRIBE, UNSUBSCRIBE: the raw body (parsed by the server-side codec)
  // decoded by sim/mqtt/codec-server.ts (server side)
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
  h: number; // first byte of the packet being read (| Decoding flags); 0 between packets (set 0 for a new stream)
  len?: number; // remaining length, then the whole packet size; a streamed PUBLISH: its payload size
  left?: number; // body bytes still to come; while reading the remaining length -1 - its bytes read
  body?: string; // the body (of a streamed PUBLISH: its topic length, topic and packet id)
  t?: any; // passed back with every packet (the session's current transport)
  onData(t: any, p: MqttPacket): void; // receives every whole packet and every PART
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
// one). A PUBLISH over d.maxPacket (header included) is never buffered whole: once its topic and
// packet id are in, its payload goes on as PART packets {topic, qos, id, data, at, size}, one per
// chunk, the first with at 0, the last with at + data.length == size (an empty payload: one empty
// PART). Any other packet over d.maxPacket, and a PUBLISH declared longer than AWS can send
// (MqttLimit), is a protocol error. CONNECT/SUBSCRIBE/UNSUBSCRIBE (packets only clients send) come
// out as {type, id, body}.
//
// Plain words: mqtt(type) the packet name; mqtt(CONNACK, rc) a CONNACK return code; mqtt(topic,
// isFilter) "" when valid, else what is wrong: a topic name for PUBLISH (no wildcards) or a topic
// filter ('+' fills a whole level, '#' is the last level); never empty, no NUL, at most 65535 bytes.
// Matching: mqtt(filter, topic) true when the topic name matches the filter ('+' one level, '#' this
// level and all below; a topic starting with '$' is not matched by a filter starting with a wildcard).
export function mqtt(d: MqttFeedState, chunk: string): string;
export function mqtt(filter: string, topic: string): boolean;
export function mqtt(t: number | string, isFilter?: any): string;
export function mqtt(t: number, id: number, a: any, b?: any): string;
export function mqtt(first: any, second?: any, third?: any, payload?: any): any {
  if (typeof first == "object") {
    // decoder
    const d: MqttFeedState = first;
    const chunk: string = second;
    for (let i = 0; ; ) {
      if (d.h & Decoding.Streaming) {
        // a PUBLISH over maxPacket: its topic length, topic and packet id first, kept in d.body
        const qos = (d.h >> 1) & 3;
        const body = d.body!;
        const topicLength = (body.charCodeAt(0) << 8) | body.charCodeAt(1);
        const headerLength = body.length < 2 ? 2 : 2 + topicLength + (qos ? 2 : 0);
        if (headerLength > d.maxPacket || (body.length > 1 && !topicLength)) return "bad PUBLISH (topic length " + topicLength + ")";
        if (body.length < headerLength) {
          if (i >= chunk.length) return "";
          const take = Math.min(headerLength - body.length, chunk.length - i, d.left!);
          d.body = body + chunk.substr(i, take);
          i += take;
          d.left! -= take;
          if (d.body.length == headerLength) d.len = d.left; // the payload's size
          else if (!d.left) return "bad PUBLISH (" + d.body.length + " bytes)";
          continue;
        }
        // then the payload, a slice per chunk (one empty slice for an empty payload)
        const take = Math.min(chunk.length - i, d.left!);
        if (!take && d.left) return "";
        const part: MqttPacket = { type: PART, topic: body.substr(2, topicLength), qos: qos, data: chunk.substr(i, take), at: d.len! - d.left!, size: d.len };
        if (qos) {
          part.id = (body.charCodeAt(headerLength - 2) << 8) | body.charCodeAt(headerLength - 1);
          if (!part.id) return "bad PUBLISH (packet id 0)";
        }
        i += take;
        d.left! -= take;
        if (!d.left) {
          d.h = 0;
          d.body = "";
        }
        d.onData(d.t, part);
        continue;
      }
      if (d.h && !d.left) {
        // one whole packet
        const header = d.h;
        const type = header >> 4;
        let body = d.body!;
        const n = body.length;
        const qos = (header >> 1) & 3;
        const word = (body.charCodeAt(0) << 8) | body.charCodeAt(1); // the packet id; PUBLISH: the topic length
        const payloadAt = 2 + word + (qos ? 2 : 0); // PUBLISH
        const p: MqttPacket = { type: type };
        let ok = n == (type < PINGREQ ? 2 : 0);
        d.h = 0;
        d.body = ""; // not kept between packets
        if (type == PUBLISH) {
          p.topic = body.substr(2, word);
          p.qos = qos;
          p.retain = header & 1;
          p.payload = body.substr(payloadAt);
          if (qos) p.id = (body.charCodeAt(payloadAt - 2) << 8) | body.charCodeAt(payloadAt - 1);
          ok = n > 1 && payloadAt <= n && word > 0 && (!qos || p.id! > 0);
        } else if (type == CONNACK) {
          p.sp = body.charCodeAt(0) == 1;
          p.rc = body.charCodeAt(1);
          ok = ok && body.charCodeAt(0) < 2;
        } else if (type == SUBACK) {
          p.codes = body.substr(2);
          ok = n > 2;
          for (let k = 2; k < n; k++) if (body.charCodeAt(k) > 2 && body.charCodeAt(k) != 128) ok = false;
        } else if (type == CONNECT || type == SUBSCRIBE || type == UNSUBSCRIBE) {
          p.body = body;
          ok = true;
        }
        if (n > 1 && type > PUBLISH) p.id = word;
        if (!ok) return "bad " + mqtt(type) + " (" + n + " bytes)";
        body = ""; // the body goes before the handler runs (the payload is a copy): a lower peak
        d.onData(d.t, p);
        continue;
      }
      if (i >= chunk.length) return "";
      const byte = chunk.charCodeAt(i);
      if (!d.h) {
        // first byte: type and flags
        const type = byte >> 4;
        i++;
        if (!type || type == 15 || (type == PUBLISH ? byte & 4 : (byte & 15) != (type == PUBREL || type == SUBSCRIBE || type == UNSUBSCRIBE ? 2 : 0))) return "bad packet header " + byte;
        d.h = byte;
        d.len = 0;
        d.left = -1;
      } else if (d.left! < 0) {
        // remaining length: 1 to 4 bytes, 7 bits each; left = -1 - the bytes read so far
        i++;
        d.len! += (byte & 127) << (-7 - 7 * d.left!);
        if (byte & 128) {
          if (--d.left! < -4) return "bad remaining length";
        } else {
          const headerLength = 1 - d.left!; // 1 + the length bytes
          d.left = d.len;
          d.len! += headerLength;
          d.body = "";
          if (d.len! > d.maxPacket) {
            const type = d.h >> 4;
            if (type != PUBLISH) return "a " + d.len + "-byte " + mqtt(type) + " (limit " + d.maxPacket + ")";
            if (d.left! > MqttLimit.AwsPublishBody) return "a " + d.len + "-byte PUBLISH (AWS IoT sends at most 128 KB)";
            d.h |= Decoding.Streaming;
          }
        }
      } else {
        // body
        const take = Math.min(chunk.length - i, d.left!);
        d.body += chunk.substr(i, take);
        i += take;
        d.left! -= take;
      }
    }
  }
  if (typeof first == "string" && typeof second == "string") {
    // does topic name `second` match filter `first`?
    const filterLevels = first.split("/");
    const topicLevels = second.split("/");
    if (second.charAt(0) == "$" && (first.charAt(0) == "+" || first.charAt(0) == "#")) return false;
    for (let i = 0; i < filterLevels.length; i++) {
      if (filterLevels[i] == "#") return true;
      if (i >= topicLevels.length || (filterLevels[i] != "+" && filterLevels[i] != topicLevels[i])) return false;
    }
    return filterLevels.length == topicLevels.length;
  }
  if (typeof first == "string") {
    // a topic name (second falsy) or a topic filter
    const levels = first.split("/");
    let bad = !first || first.length > 65535 || first.indexOf("\x00") >= 0;
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i];
      // indexOf sum > -2: the level holds a '+' or a '#'
      if (level.indexOf("+") + level.indexOf("#") > -2 && (!second || (level != "+" && (level != "#" || i < levels.length - 1)))) bad = true;
    }
    return bad ? "bad topic " + (second ? "filter " : "") + '"' + first + '"' : "";
  }
  if (second === undefined) return "reserved,CONNECT,CONNACK,PUBLISH,PUBACK,PUBREC,PUBREL,PUBCOMP,SUBSCRIBE,SUBACK,UNSUBSCRIBE,UNSUBACK,PINGREQ,PINGRESP,DISCONNECT,reserved".split(",")[first & 15];
  if (first == CONNACK) return "accepted,bad protocol version,client id rejected,server unavailable,bad user name or password,not authorized".split(",")[second] || "code " + second;
  // encoder: first = the type (or a PUBLISH's first byte), second = the packet id (CONNECT: the keep-alive)
  const C = String.fromCharCode;
  const header = first > 15 ? first : (first << 4) | (first == PUBREL || first == SUBSCRIBE || first == UNSUBSCRIBE ? 2 : 0);
  const type = header >> 4;
  let strings: string[] = third || [];
  let body = "";
  if (type == CONNECT) {
    let flags = third.clean === false ? 0 : 2;
    strings = [third.clientId];
    if (third.username != null) {
      flags |= 128;
      strings.push(third.username);
      if (third.password != null) {
        flags |= 64;
        strings.push(third.password);
      }
    }
    body = "\x00\x04MQTT\x04" + C(flags);
  }
  if (type == PUBLISH) {
    body = C(third.length >> 8, third.length & 255) + third;
    strings = [];
  }
  if (type == PUBLISH ? header & 6 : type < PINGREQ) body += C(second >> 8, second & 255); // packet id, CONNECT: keep-alive
  for (let i = 0; i < strings.length; i++) {
    let x = strings[i];
    let qos = "";
    if (type == SUBSCRIBE) {
      qos = C(x.charCodeAt(0) & 3);
      x = x.substr(1);
    }
    body += C(x.length >> 8, x.length & 255) + x + qos;
  }
  if (type == PUBLISH) body += payload;
  let n = body.length;
  let packet = C(header);
  do {
    packet += C((n > 127 ? 128 : 0) | (n & 127));
    n = n >> 7;
  } while (n > 0);
  return packet + body;
}
