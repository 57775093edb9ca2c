// MQTT 3.1.1 session state machine: no I/O and no Espruino globals. Made with
// mqttSession.call(options, env). It drives a transport ({open, write, close}) obtained from
// env(session) for every attempt, is told about the transport's life through onUp/onData/onDown, and
// keeps ONE timer through env(session, ms) (the owner calls session.onData() when it fires). It
// never reads the clock: a clock set backwards or forwards (SNTP, the 403 Date fix) changes nothing.
//
// Behaviour:
// - connects, and after any failure or loss reconnects forever: full-jitter exponential backoff
//   (random(0, min(backoffMax, backoffMin * 2^n)), 1 s doubling to 2 min by default), n reset once a
//   connection stayed up half a keep-alive; every attempt calls env(session), so the URL is signed
//   afresh each time; an attempt has 30 s to reach CONNACK;
// - after CONNACK: the remembered subscriptions are restored one filter per SUBSCRIBE, each sent once
//   the previous one is acknowledged (a lower memory peak than one big SUBSCRIBE; each SUBACK within
//   half a keep-alive); the queue goes right behind the last SUBSCRIBE, and Connected is emitted at
//   the last SUBACK, so the app's first requests find the subscriptions in place;
// - keep-alive clamped to kaMin..1200 s (kaMin default 30: AWS's range). The timer ticks every half
//   keep-alive: when nothing was sent or nothing was received since the last tick it sends PINGREQ,
//   and no PINGRESP packet within pingTimeout (default 10 s, at most half the keep-alive) declares
//   the link dead (other bytes, such as a packet stalled half way, do not count);
// - QoS 1 publishes keep their packet id until PUBACK and are re-sent with DUP after a reconnect, 5
//   sends at most: AWS closes the connection over a publish its policy denies, and such a message
//   must not block the session forever;
// - while offline publishes wait in a bounded queue (queueMax entries, default 20, QoS 1 in flight
//   included): when full the oldest QoS 0 goes first, else the oldest QoS 1; drops are counted;
// - a refused subscription (SUBACK 0x80) is reported per topic (and asked again at the next connect);
// - an incoming PUBLISH on a topic no subscription matches is logged and ignored (acknowledged if
//   QoS 1); one within maxPacket (default 4096, header included) is a Message; a larger one (up to
//   what AWS can send, codec.ts MqttLimit) is handed over as Part slices while it streams in, and
//   acknowledged after its last byte; any other packet over maxPacket and malformed input are
//   protocol errors that close that connection only.
// Events (env(event, arg, session), events.ts): Connected (arg: session present), Offline (reason,
// after a connection that had been up), Message (MqttMessage), Part (MqttPart), Error ({code, text,
// ...}: every failed attempt; while connected, a protocol error or running out of memory, before
// Offline), Log (a line in plain words).
//
// Memory diet: the options object itself becomes the session (no second object), with four
// functions for everything, constructor included (a function costs ~5 Espruino variables + 1 per
// parameter; their aliases ~2), the decoder's state on it, subscriptions in one string, queued
// messages as encoded packets, no clock, no closures. publish and subscribe are functions of their
// own so that a call with wrong arguments is never taken for another method.

import { MqttError, MqttErrorCode, MqttEvent } from "./events";
import { CONNACK, CONNECT, MqttFeedState, MqttPacket, PUBACK, PUBLISH, PART, SUBACK, SUBSCRIBE, UNSUBACK, PINGRESP, mqtt as mqttEncode, mqtt as mqttFeed, mqtt as mqttWords } from "./codec";

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
  // API (connected and reconnect are onDown; publish and subscribe have a function each)
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
  onDown(session: MqttSession, reason: string, codeOrError: MqttErrorCode | MqttError): void; // the session drops it
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
    session.onDown = session.connected = session.reconnect = onDown;
    session.publish = publish;
    session.subscribe = subscribe;
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
    else if (session.a & Activity.PingOutstanding) session.onDown(session, "no PINGRESP in time: the link is dead", MqttErrorCode.Timeout); // bytes alone (a stalled packet) do not count
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
    if (problem && session.t == source) session.onDown(session, "protocol error: " + problem, { code: MqttErrorCode.Protocol, text: "protocol error: " + problem, size: session.h ? session.len : undefined });
    return;
  }
  const packet: MqttPacket = data;
  const type = packet.type;
  if (type == CONNACK ? session.st != SessionState.Connecting : session.st == SessionState.Connecting) return session.onDown(session, "unexpected " + mqttWords(type), MqttErrorCode.Protocol);
  let filters: string[] = type == CONNACK || type == SUBACK || type == PUBLISH || type == PART ? session.onDown(null) : [];
  let next = 0; // while subscribing: the index of the next filter to subscribe to
  if (type == CONNACK) {
    if (packet.rc) return session.onDown(session, "the broker refused the connection: " + mqttWords(CONNACK, packet.rc), MqttErrorCode.BrokerRefused);
    session.st = SessionState.Subscribing;
    session.a = packet.sp ? Activity.SessionPresent : 0;
    next = 1;
  } else if (type == PUBLISH || type == PART) {
    // only on a topic we subscribed to; a PART (a PUBLISH over maxPacket) slice by slice
    const topic = packet.topic!;
    let subscribed = false;
    for (let k = 1; k < filters.length; k++) if (mqttWords(filters[k].substr(1), topic)) subscribed = true;
    filters = []; // the decoded list goes before the app runs: a lower peak
    if (subscribed) env(type == PUBLISH ? MqttEvent.Message : MqttEvent.Part, packet, session);
    else if (!packet.at) env(MqttEvent.Log, "mqtt: ignored a PUBLISH on " + topic + " (not subscribed)", session);
    if (packet.qos && (type == PUBLISH || packet.at! + packet.data!.length == packet.size)) session.onData(session, mqttEncode(PUBACK, packet.id!));
  } else if (type == PUBACK) {
    const out = session.out;
    for (let i = 0; i < out.length; i++) if (((out[i].charCodeAt(1) << 8) | out[i].charCodeAt(2)) == packet.id) out.splice(i--, 1);
  } else if (type == SUBACK) {
    const codes = packet.codes!;
    const first = packet.id! & 0x7fff; // the index of the first filter of that SUBSCRIBE
    for (let j = 0; j < codes.length; j++) {
      const filter = filters[first + j];
      if (codes.charCodeAt(j) > 2 && filter) env(MqttEvent.Error, { code: MqttErrorCode.SubscriptionRefused, text: "subscription refused: " + filter.substr(1), topic: filter.substr(1) }, session);
    }
    if (session.st == SessionState.Subscribing) next = first + codes.length;
  } else if (type == PINGRESP) session.a &= ~Activity.PingOutstanding;
  else if (type != UNSUBACK) session.onDown(session, "unexpected " + mqttWords(type), MqttErrorCode.Protocol);
  if (!next || session.t != source) return;
  // Subscriptions are restored one filter per SUBSCRIBE, the next after the previous SUBACK (a lower
  // memory peak than all at once), each with half a keep-alive to be answered. The queue goes right
  // behind the last SUBSCRIBE (the broker reads them in order, so every subscription is in place for
  // the answers), and the app hears Connected at the last SUBACK, a round trip later, so its first
  // requests do not pile up on the queue in the socket's buffer.
  env(session, tickMs);
  const last = filters.length - 1; // 0: no subscriptions
  if (next <= last) session.onData(session, mqttEncode(SUBSCRIBE, 0x8000 | next, [filters[next]]));
  if (next == last || !last) {
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
  }
  if (next <= last || session.t != source) return;
  session.st = SessionState.Connected;
  env(MqttEvent.Connected, session.a >= Activity.SessionPresent, session);
}

// The end of a connection, and connected() and reconnect(reason); onDown(null) lists the
// subscriptions. Each drop arms the timer for the next attempt (full-jitter backoff).
function onDown(this: MqttSession, source?: any, reason?: any, error?: any): any {
  const session = this;
  const env = session.e; // a plain call (see mqttSession)
  if (source === undefined) return session.st == SessionState.Connected; // connected()
  if (source === null) {
    // the subscriptions, decoded: ["", QoS digit + filter, ...]
    const list = session.subs.split("\x00");
    for (let i = 1, filter = ""; i < list.length; i++) {
      filter = filter.substr(0, list[i].charCodeAt(0) - 1) + list[i].substr(2);
      list[i] = list[i].charAt(1) + filter;
    }
    return list;
  }
  if (source !== session && source !== session.t) {
    if (typeof source == "object") return; // an old transport
    // reconnect(reason): DISCONNECT when connected, then the drop below; asked for, so no error
    if (session.st > SessionState.Connecting) session.onData(session, Bytes.Disconnect);
    reason = "" + source;
    source = session;
    error = -1;
  }
  if (!session.st) return;
  const was = session.st;
  if (source === session) session.t!.close(); // a transport that reported its own end is already closed
  session.st = SessionState.Wait;
  session.t = null;
  session.h = 0;
  session.body = ""; // a packet read half way goes now (after running out of memory, this is what frees it)
  const ms = Math.floor(Math.random() * Math.min(session.backoffMax || 120000, (session.backoffMin || 1000) * (1 << Math.min(session.tr++, 20))));
  env(session, ms);
  // error: the session's own code, or the {code, text, ...} of the transport or the decoder
  if (typeof error != "object") error = { code: error || MqttErrorCode.Transport, text: reason };
  // while connected, a lost link or a timeout is said by Offline alone; anything else is an Error too
  if (error.code > 0 && (was != SessionState.Connected || (error.code != MqttErrorCode.Transport && error.code != MqttErrorCode.Timeout))) env(MqttEvent.Error, error, session);
  if (was == SessionState.Connected) env(MqttEvent.Offline, reason, session);
  env(MqttEvent.Log, "mqtt: retry " + session.tr + " in " + ms + " ms", session);
}

// publish(topic, payload, qos) and subscribe(filter, qos), each its own function so that no call with
// a wrong argument can be taken for another method. A wrong argument is an Error BadArgument (topic,
// text) and nothing is sent. A payload that is a number or a boolean is sent as its text, as
// Espruino's MQTT module does; any other non-string payload (undefined, null, an object) is refused.
//   publish: QoS 0 goes out now when connected; the rest waits in the queue (QoS 1 until PUBACK).
function publish(this: MqttSession, topic: any, payload: any, qos: any): void {
  const session = this;
  const env = session.e; // a plain call (see mqttSession)
  const kind = typeof payload;
  if (kind == "number" || kind == "boolean") payload = "" + payload;
  const problem =
    typeof topic != "string" ? "publish: the topic must be a string, not " + typeof topic
    : mqttWords(topic, false) || (qos !== 0 && qos !== 1 ? "publish: bad QoS " + qos + " (0 or 1)" : typeof payload != "string" ? "publish: the payload must be a string, not " + (payload === null ? "null" : kind) : "");
  if (problem) return env(MqttEvent.Error, { code: MqttErrorCode.BadArgument, text: problem, topic: "" + topic }, session);
  const out = session.out;
  const acknowledged = session.st > SessionState.Connecting; // CONNACK received
  let id = 0;
  while (qos && !id) {
    id = session.nid = (session.nid % 32767) + 1;
    for (let i = 0; i < out.length; i++) if (((out[i].charCodeAt(1) << 8) | out[i].charCodeAt(2)) == id) id = 0;
  }
  let packet = mqttEncode(qos ? 0x32 : 0x30, id, topic, payload);
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
}

//   subscribe: remembered (replacing an earlier QoS) and restored at every connect; sent now when
//   connected (while subscribing, the SUBACK chain reaches it).
function subscribe(this: MqttSession, filter: any, qos: any): void {
  const session = this;
  const problem = typeof filter != "string" ? "subscribe: the filter must be a string, not " + typeof filter : mqttWords(filter, true) || (qos !== 0 && qos !== 1 ? "subscribe: bad QoS " + qos + " (0 or 1)" : "");
  if (problem) return session.e(MqttEvent.Error, { code: MqttErrorCode.BadArgument, text: problem, topic: "" + filter }, session);
  const filters = session.onDown(null);
  const entries = session.subs.split("\x00");
  let k = 1;
  let shared = 0;
  while (k < filters.length && filters[k].substr(1) != filter) k++;
  const previous = filters[k - 1].substr(1); // the previous filter (entries are never removed)
  while (shared < 254 && shared < filter.length && filter.charAt(shared) == previous.charAt(shared)) shared++;
  entries[k] = String.fromCharCode(shared + 1) + qos + filter.substr(shared);
  session.subs = entries.join("\x00");
  if (session.st == SessionState.Connected) session.onData(session, mqttEncode(SUBSCRIBE, 0x8000 | k, [qos + filter]));
}
