// MQTT 3.1.1 session state machine: no I/O and no Espruino globals. Made with
// mqttSession.call(options, env). It drives a transport ({open, write, close}) obtained from
// env(session) for every attempt, is told about the transport's life through onUp/onData/onDown, and
// keeps ONE timer through env(ms, session) (the owner calls session.onData() when it fires). It
// never reads the clock: a clock set backwards or forwards (SNTP, the 403 Date fix) changes nothing.
//
// Behaviour:
// - connects, and after any failure or loss reconnects forever: full-jitter exponential backoff
//   (random(0, min(backoffMax, backoffMin * 2^n)), 1 s doubling to 2 min by default), n reset once a
//   connection stayed up half a keep-alive; every attempt calls env(session), so the URL is signed
//   afresh each time; an attempt has 30 s to reach CONNACK;
// - after CONNACK: the remembered subscriptions are restored (at most 8 filters per SUBSCRIBE, the AWS
//   limit), then the queue goes out; Connected is emitted once the broker acknowledged the
//   subscriptions (at once without any), so the app's first requests find them in place;
// - keep-alive clamped to kaMin..1200 s (kaMin default 30: AWS's range). The timer ticks every half
//   keep-alive: when nothing was sent or nothing was received since the last tick it sends PINGREQ,
//   and no byte at all within pingTimeout (default 10 s, at most half the keep-alive) declares the
//   link dead;
// - QoS 1 publishes keep their packet id until PUBACK and are re-sent with DUP after a reconnect, 5
//   sends at most: AWS closes the connection over a publish its policy denies, and such a message
//   must not block the session forever;
// - while offline publishes wait in a bounded queue (queueMax entries, default 20, QoS 1 in flight
//   included): when full the oldest QoS 0 goes first, else the oldest QoS 1; drops are counted;
// - a refused subscription (SUBACK 0x80) is reported per topic (and asked again at the next connect);
// - an incoming packet over maxPacket (default 4096) is skipped without buffering (only its first
//   bytes, at most 260, are kept for the report), reported (Error Skipped), and acknowledged if it
//   was a QoS 1 PUBLISH; malformed input closes that connection only.
// Events (env(event, arg, session), events.ts): Connected (arg: session present), Offline (reason,
// after a connection that had been up), Message (MqttMessage), Error ({code, text, ...}: every
// failed attempt, and a protocol error even while connected), Log (a line in plain words).
//
// Memory diet: the options object itself becomes the session (no second object), with two
// functions for everything, constructor included (a function costs ~5 Espruino variables + 1 per
// parameter; their aliases ~2), the decoder's state on it, subscriptions in one string, queued
// messages as encoded packets, no clock, no closures.

import { MqttError, MqttErrorCode, MqttEvent } from "./events";
import { CONNACK, CONNECT, MqttFeedState, MqttPacket, PUBACK, PUBLISH, SKIPPED, SUBACK, SUBSCRIBE, UNSUBACK, PINGRESP, mqtt as mqttEncode, mqtt as mqttFeed, mqtt as mqttWords } from "./codec";

export interface MqttTransport {
  open(): void;
  write(data: string): void;
  close(): void;
}

// The environment, one function (the session passes itself, so one env serves every session):
export interface MqttEnv {
  /** A fresh, not yet opened transport for one attempt. */
  (session: MqttSession): MqttTransport;
  /** (Re)arms the session's single timer, which then calls session.onData(). */
  (session: MqttSession, ms: number): void;
  /** An event for the owner (events.ts). */
  (event: MqttEvent, arg: any, session: MqttSession): void;
}

export interface MqttOptions {
  clientId: string; // AWS: the thing name
  keepAlive?: number; // seconds, default 60, clamped to kaMin..1200
  kaMin?: number; // default 30 (AWS); tests use 1
  clean?: boolean; // clean session, default true
  username?: string;
  password?: string;
  maxPacket?: number; // largest incoming packet kept, bytes (default 4096)
  queueMax?: number; // outbound messages kept while offline + QoS 1 in flight (default 20)
  pingTimeout?: number; // ms to wait for PINGRESP (default 10000, at most half the keep-alive)
  backoffMin?: number; // ms (default 1000)
  backoffMax?: number; // ms (default 120000)
}

// Session states: a const enum, inlined as numbers by the build (module-level constants would each
// hold variables on the device); the named exports are for tests.
const enum SessionState {
  Wait = 0, // not connected: the timer starts the next attempt
  Opening = 1, // transport opening (WebSocket upgrade)
  Connecting = 2, // CONNECT sent
  Subscribing = 3, // CONNACK received, subscriptions restored, their SUBACK awaited
  Connected = 4,
}
export const WAIT = SessionState.Wait;
export const OPENING = SessionState.Opening;
export const CONNECTING = SessionState.Connecting;
export const SUBSCRIBING = SessionState.Subscribing;
export const CONNECTED = SessionState.Connected;

// Bits of session.a: what happened since the last keep-alive tick.
const enum Activity {
  Sent = 1,
  Received = 2,
  PingOutstanding = 4,
  SessionPresent = 8, // from CONNACK until Connected (no tick comes before)
}

// Fixed bytes the session sends (a const enum: inlined, no variables on the device).
const enum Bytes {
  Pingreq = "\xc0\x00",
  Disconnect = "\xe0\x00",
  DupQos1Publish = "\x3a", // the first byte of a QoS 1 PUBLISH sent again
}

export interface MqttSession extends Omit<MqttOptions, "maxPacket" | "keepAlive">, MqttFeedState {
  keepAlive: number; // clamped, seconds
  maxPacket: number;
  // API (all one function, onDown)
  publish(topic: string, payload: string, qos: number): void; // payload: binary string; QoS 0 or 1
  subscribe(filter: string, qos: number): void; // remembered, restored on every reconnect
  connected(): boolean;
  reconnect(reason: string): void; // DISCONNECT, close, a new attempt after the backoff (re-signed)
  // transport events, the timer and sending (one function, onData)
  onUp(transport: MqttTransport): void;
  onData(): void; // the timer fired
  onData(transport: MqttTransport, bytes: string): void; // bytes arrived
  onData(transport: MqttTransport, packet: MqttPacket): void; // the decoder hands over a packet
  onData(session: MqttSession, bytes: string): void; // the session sends
  onDown(transport: MqttTransport, reason: string, error?: MqttError): void; // the transport ended (no error: Transport)
  onDown(session: MqttSession, reason: string, code: MqttErrorCode): void; // the session drops it
  onDown(none: null): string[]; // the subscriptions: ["", QoS digit + filter, ...]
  // state (short names: they live as long as the session)
  e: MqttEnv;
  st: SessionState;
  t: MqttTransport | null;
  out: string[]; // queued publishes and QoS 1 in flight: sends, id (2 bytes), then the packet
  subs: string; // front-coded: for each subscription "\0", 1 + the number of leading chars it shares
  // with the previous filter (a char), the QoS digit, the rest of the filter (AWS topics share most)
  nid: number; // last packet id (1..32767; SUBSCRIBE uses 0x8000 | the index of its first filter)
  tr: number; // attempts since the last stable connection
  dr: number; // messages dropped (queue full)
  a: number; // Activity bits
}

// The session's constructor and its onData/onUp, one function:
//   mqttSession.call(options, env): makes the options object the session (the keep-alive clamped,
//     maxPacket defaulted) and starts it; returns it;
//   the rest: see onUp/onData in MqttSession.
export function mqttSession(this: any, source?: any, data?: any): any {
  const session: MqttSession = this;
  const env = session.e; // called as a plain function: each method call with this = session holds 2
  // locks on it while it runs, and Espruino pins an object at 15 locks for good
  const tickMs = session.keepAlive * 500; // a tick: half the keep-alive
  if (typeof source == "function") {
    session.keepAlive = Math.round(Math.min(Math.max(session.keepAlive || 60, session.kaMin || 30), 1200));
    session.maxPacket = session.maxPacket || 4096;
    session.e = source;
    session.st = session.nid = session.tr = session.dr = session.a = session.h = 0;
    session.t = null;
    session.out = [];
    session.subs = "";
    session.onUp = session.onData = mqttSession;
    session.onDown = session.publish = session.subscribe = session.connected = session.reconnect = onDown;
    session.onData();
    return session;
  }
  if (source === session) {
    // sending
    if (session.t) {
      session.a |= Activity.Sent;
      session.t.write(data);
    }
    return;
  }
  if (source === undefined) {
    // the timer fired
    const state = session.st;
    if (state == SessionState.Wait) {
      // a new attempt: every one gets a fresh transport (and a freshly signed URL)
      session.st = SessionState.Opening;
      session.t = env(session);
      env(session, 30000);
      session.t!.open();
    } else if (state < SessionState.Connected)
      session.onDown(session, state < SessionState.Connecting ? "timed out opening the connection" : "no " + (state < SessionState.Subscribing ? "CONNACK" : "SUBACK") + " in time", MqttErrorCode.Timeout);
    else if ((session.a & (Activity.Received | Activity.PingOutstanding)) == Activity.PingOutstanding) session.onDown(session, "no PINGRESP in time: the link is dead", MqttErrorCode.Timeout);
    else {
      session.tr = 0; // stable
      if ((session.a & (Activity.Sent | Activity.Received)) != (Activity.Sent | Activity.Received)) {
        session.a = Activity.PingOutstanding;
        env(session, Math.min(session.pingTimeout || 10000, tickMs));
        session.onData(session, Bytes.Pingreq);
      } else {
        session.a = 0;
        env(session, tickMs);
      }
    }
    return;
  }
  if (!source || source !== session.t) return; // an old transport (or packets still decoded after a drop)
  const link: MqttTransport = source;
  if (data === undefined) {
    // up: send CONNECT (the session object carries clientId, clean, username, password)
    if (session.st != SessionState.Opening) return;
    session.st = SessionState.Connecting;
    session.h = 0;
    session.onData(session, mqttEncode(CONNECT, session.keepAlive, session));
    return;
  }
  if (session.st < SessionState.Connecting) return;
  if (typeof data == "string") {
    session.a |= Activity.Received;
    const problem = mqttFeed(session, data);
    if (problem && session.t == link) session.onDown(session, "protocol error: " + problem, MqttErrorCode.Protocol);
    return;
  }
  const packet: MqttPacket = data;
  const type = packet.type;
  if (type == CONNACK ? session.st != SessionState.Connecting : session.st == SessionState.Connecting) return session.onDown(session, "unexpected " + mqttWords(type), MqttErrorCode.Protocol);
  if (type == CONNACK) {
    if (packet.rc) return session.onDown(session, "the broker refused the connection: " + mqttWords(CONNACK, packet.rc), MqttErrorCode.BrokerRefused);
    session.st = SessionState.Subscribing;
    session.a = packet.sp ? Activity.SessionPresent : 0;
    env(session, tickMs);
    // restore the subscriptions (8 filters per SUBSCRIBE), then the queue
    const filters = session.onDown(null);
    for (let i = 1; i < filters.length; i += 8) session.onData(session, mqttEncode(SUBSCRIBE, 0x8000 | i, filters.slice(i, i + 8)));
    const queued = session.out;
    session.out = [];
    for (let i = 0; i < queued.length; i++) {
      const entry = queued[i];
      const sends = entry.charCodeAt(0);
      if (sends > 4) env(MqttEvent.Error, { code: MqttErrorCode.GaveUp, text: "gave up a QoS 1 message after 5 sends" }, session);
      else {
        session.onData(session, entry.substr(3));
        if (entry.charCodeAt(3) & 2) session.out.push(String.fromCharCode(sends + 1) + entry.substr(1, 2) + Bytes.DupQos1Publish + entry.substr(4));
      }
    }
    if (filters.length < 2 && session.t == link) {
      session.st = SessionState.Connected;
      env(MqttEvent.Connected, session.a >= Activity.SessionPresent, session);
    }
  } else if (type == PUBLISH) {
    env(MqttEvent.Message, packet, session);
    if (packet.qos) session.onData(session, mqttEncode(PUBACK, packet.id!));
  } else if (type == PUBACK) {
    const out = session.out;
    for (let i = 0; i < out.length; i++) if (((out[i].charCodeAt(1) << 8) | out[i].charCodeAt(2)) == packet.id) out.splice(i--, 1);
  } else if (type == SUBACK) {
    const filters = session.onDown(null);
    const codes = packet.codes!;
    const first = packet.id! & 0x7fff; // the index of the first filter of that SUBSCRIBE
    for (let j = 0; j < codes.length; j++) {
      const filter = filters[first + j];
      if (codes.charCodeAt(j) > 2 && filter) env(MqttEvent.Error, { code: MqttErrorCode.SubscriptionRefused, text: "subscription refused: " + filter.substr(1), topic: filter.substr(1) }, session);
    }
    if (session.st == SessionState.Subscribing && first + codes.length >= filters.length) {
      session.st = SessionState.Connected;
      env(MqttEvent.Connected, session.a >= Activity.SessionPresent, session);
    }
  } else if (type == SKIPPED) {
    env(MqttEvent.Error, { code: MqttErrorCode.Skipped, text: "skipped a " + packet.size + "-byte " + mqttWords(packet.ptype!) + (packet.topic ? " on " + packet.topic : "") + " (limit " + session.maxPacket + ")", topic: packet.topic, size: packet.size }, session);
    if (packet.id) session.onData(session, mqttEncode(PUBACK, packet.id));
  } else if (type != PINGRESP && type != UNSUBACK) session.onDown(session, "unexpected " + mqttWords(type), MqttErrorCode.Protocol);
}

// The end of a connection, and the app API (see MqttSession): onDown, publish, subscribe,
// connected, reconnect. Each drop arms the timer for the next attempt (full-jitter backoff).
function onDown(this: MqttSession, first?: any, second?: any, third?: any): any {
  const session = this;
  const env = session.e; // a plain call (see mqttSession)
  const acknowledged = session.st > SessionState.Connecting; // CONNACK received
  if (first === undefined) return session.st == SessionState.Connected; // connected()
  if (first === null) {
    // the subscriptions, decoded: ["", QoS digit + filter, ...]
    const list = session.subs.split("\x00");
    for (let i = 1, filter = ""; i < list.length; i++) {
      filter = filter.substr(0, list[i].charCodeAt(0) - 1) + list[i].substr(2);
      list[i] = list[i].charAt(1) + filter;
    }
    return list;
  }
  if (typeof first == "string" && second != null) {
    const topic: string = first;
    const qos = third;
    const problem = mqttWords(topic, typeof second == "number") || (qos > 1 ? "bad QoS " + qos : "");
    if (problem) return env(MqttEvent.Error, { code: MqttErrorCode.BadArgument, text: problem, topic: topic }, session);
    if (typeof second == "number") {
      // subscribe(filter, qos): remembered (replacing an earlier QoS), sent now when connected
      const filterQos = second ? 1 : 0;
      const filters = session.onDown(null);
      const entries = session.subs.split("\x00");
      let k = 1;
      let shared = 0;
      while (k < filters.length && filters[k].substr(1) != topic) k++;
      const previous = filters[k - 1].substr(1); // the previous filter (entries are never removed)
      while (shared < 254 && shared < topic.length && topic.charAt(shared) == previous.charAt(shared)) shared++;
      entries[k] = String.fromCharCode(shared + 1) + filterQos + topic.substr(shared);
      session.subs = entries.join("\x00");
      if (acknowledged) session.onData(session, mqttEncode(SUBSCRIBE, 0x8000 | k, [filterQos + topic]));
      return;
    }
    // publish(topic, payload, qos): QoS 0 goes out now when connected; the rest waits in the queue
    const out = session.out;
    let id = 0;
    while (qos && !id) {
      id = session.nid = (session.nid % 32767) + 1;
      for (let i = 0; i < out.length; i++) if (((out[i].charCodeAt(1) << 8) | out[i].charCodeAt(2)) == id) id = 0;
    }
    let packet = mqttEncode(qos ? 0x32 : 0x30, id, topic, second);
    if (acknowledged) {
      session.onData(session, packet);
      if (!qos) return;
      packet = Bytes.DupQos1Publish + packet.substr(1);
    }
    if (out.length >= (session.queueMax || 20)) {
      let drop = 0;
      for (let i = out.length - 1; i >= 0; i--) if (!(out[i].charCodeAt(3) & 2)) drop = i; // the oldest QoS 0, else the oldest
      out.splice(drop, 1);
      env(MqttEvent.Error, { code: MqttErrorCode.QueueFull, text: "queue full, dropped a message (" + ++session.dr + " so far)" }, session);
    }
    out.push(String.fromCharCode(acknowledged ? 1 : 0, id >> 8, id & 255) + packet);
    return;
  }
  let source = first;
  let reason: string = second;
  let error = third;
  if (typeof first == "string") {
    // reconnect(reason)
    if (acknowledged) session.onData(session, Bytes.Disconnect);
    reason = first;
    source = session;
    error = -1; // asked for: no error
  }
  if ((source !== session && source !== session.t) || !session.st) return;
  const was = session.st;
  if (source === session) session.t!.close(); // a transport that reported its own end is already closed
  session.st = SessionState.Wait;
  session.t = null;
  const ms = Math.floor(Math.random() * Math.min(session.backoffMax || 120000, (session.backoffMin || 1000) * (1 << Math.min(session.tr++, 20))));
  env(session, ms);
  // error: the session's own code, or the transport's {code, text, ...}
  if (typeof error != "object") error = { code: error || MqttErrorCode.Transport, text: reason };
  if (error.code > 0 && (was != SessionState.Connected || error.code == MqttErrorCode.Protocol)) env(MqttEvent.Error, error, session);
  if (was == SessionState.Connected) env(MqttEvent.Offline, reason, session);
  env(MqttEvent.Log, "mqtt: retry " + session.tr + " in " + ms + " ms", session);
}
