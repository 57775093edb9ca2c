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

import { MqttErrorCode, MqttEvent } from "./events";
import { CONNACK, MqttFeedState, MqttPacket, PUBACK, PUBLISH, SKIPPED, SUBACK, SUBSCRIBE, UNSUBACK, PINGRESP, mqtt as mqttEnc, mqtt as mqttFeed, mqtt as mqttSay } from "./codec";

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
const enum S {
  WAIT = 0, // not connected: the timer starts the next attempt
  OPENING = 1, // transport opening (WebSocket upgrade)
  CONNECTING = 2, // CONNECT sent
  SUBSCRIBING = 3, // CONNACK received, subscriptions restored, their SUBACK awaited
  CONNECTED = 4,
}
export const WAIT = S.WAIT;
export const OPENING = S.OPENING;
export const CONNECTING = S.CONNECTING;
export const SUBSCRIBING = S.SUBSCRIBING;
export const CONNECTED = S.CONNECTED;

export interface MqttSession extends Omit<MqttOptions, "maxPacket" | "keepAlive">, MqttFeedState {
  keepAlive: number; // clamped, seconds
  maxPacket: number;
  // API (all one function, onDown; onDown(null) lists the subscriptions: ["", QoS digit + filter...])
  publish(topic: string, payload: string, qos: number): void; // payload: binary string; QoS 0 or 1
  subscribe(filter: string, qos: number): void; // remembered, restored on every reconnect
  connected(): boolean;
  reconnect(reason: string): void; // DISCONNECT, close, a new attempt after the backoff (re-signed)
  // transport events (onUp and onData are one function, onData)
  onUp(t: MqttTransport): void;
  onData(t?: any, d?: any): void;
  onDown(t: any, reason?: string, err?: any): any;
  // state (short names: they live as long as the session)
  e: MqttEnv;
  st: number;
  t: MqttTransport | null;
  out: string[]; // queued publishes and QoS 1 in flight: sends, id (2 bytes), then the packet
  subs: string; // front-coded: for each subscription "\0", 1 + the number of leading chars it shares
  // with the previous filter (a char), the QoS digit, the rest of the filter (AWS topics share most)
  nid: number; // last packet id (1..32767; SUBSCRIBE uses 0x8000 | the index of its first filter)
  tr: number; // attempts since the last stable connection
  dr: number; // messages dropped (queue full)
  a: number; // activity since the last tick: 1 sent, 2 received, 4 PINGREQ outstanding; 8 session
  // present (from CONNACK until Connected, before any tick)
}

// The session's constructor and its onData/onUp, one function:
//   mqttSession.call(options, env): makes the options object the session (the keep-alive clamped,
//     maxPacket defaulted) and starts it; returns it;
//   onData(): the timer fired; onUp(t): the transport is up; onData(t, bytes): bytes arrived;
//   onData(t, packet): the decoder hands over a packet; onData(session, bytes): the session sends.
export function mqttSession(this: any, l?: any, d?: any): any {
  const s: MqttSession = this;
  const E = s.e; // called as a plain function: each method call with this = s holds 2 locks on s
  // while it runs, and Espruino pins an object at 15 locks for good
  const ka = s.keepAlive * 500; // a tick: half the keep-alive, ms
  if (typeof l == "function") {
    s.keepAlive = Math.round(Math.min(Math.max(s.keepAlive || 60, s.kaMin || 30), 1200));
    s.maxPacket = s.maxPacket || 4096;
    s.e = l;
    s.st = s.nid = s.tr = s.dr = s.a = s.h = 0;
    s.t = null;
    s.out = [];
    s.subs = "";
    s.onUp = s.onData = mqttSession;
    s.onDown = s.publish = s.subscribe = s.connected = s.reconnect = onDown;
    s.onData();
    return s;
  }
  if (l === s) {
    if (s.t) {
      s.a |= 1;
      s.t.write(d);
    }
    return;
  }
  if (l === undefined) {
    const st = s.st;
    if (st == S.WAIT) {
      // a new attempt: every one gets a fresh transport (and a freshly signed URL)
      s.st = S.OPENING;
      s.t = E(s);
      E(s, 30000);
      s.t!.open();
    } else if (st < S.CONNECTED) s.onDown(s, st < S.CONNECTING ? "timed out opening the connection" : "no " + (st < S.SUBSCRIBING ? "CONNACK" : "SUBACK") + " in time", MqttErrorCode.Timeout);
    else if ((s.a & 6) == 4) s.onDown(s, "no PINGRESP in time: the link is dead", MqttErrorCode.Timeout);
    else {
      s.tr = 0; // stable
      if ((s.a & 3) < 3) {
        s.a = 4;
        E(s, Math.min(s.pingTimeout || 10000, ka));
        s.onData(s, "\xc0\x00"); // PINGREQ
      } else {
        s.a = 0;
        E(s, ka);
      }
    }
    return;
  }
  if (!l || l !== s.t) return; // an old transport (or packets still decoded after a drop)
  if (d === undefined) {
    // up: send CONNECT (the session object carries clientId, clean, username, password)
    if (s.st != S.OPENING) return;
    s.st = S.CONNECTING;
    s.h = 0;
    s.onData(s, mqttEnc(1 /* CONNECT */, s.keepAlive, s));
    return;
  }
  if (s.st < S.CONNECTING) return;
  if (typeof d == "string") {
    s.a |= 2;
    const e = mqttFeed(s, d);
    if (e && s.t == l) s.onDown(s, "protocol error: " + e, MqttErrorCode.Protocol);
    return;
  }
  const p: MqttPacket = d;
  const t = p.type;
  if (t == CONNACK ? s.st != S.CONNECTING : s.st == S.CONNECTING) return s.onDown(s, "unexpected " + mqttSay(t), MqttErrorCode.Protocol);
  if (t == CONNACK) {
    if (p.rc) return s.onDown(s, "the broker refused the connection: " + mqttSay(CONNACK, p.rc), MqttErrorCode.BrokerRefused);
    s.st = S.SUBSCRIBING;
    s.a = p.sp ? 8 : 0; // session present, kept until Connected (no tick comes before)
    E(s, ka);
    // restore the subscriptions (8 filters per SUBSCRIBE), then the queue
    const L = s.onDown(null);
    for (let i = 1; i < L.length; i += 8) s.onData(s, mqttEnc(SUBSCRIBE, 0x8000 | i, L.slice(i, i + 8)));
    const out = s.out;
    s.out = [];
    for (let i = 0; i < out.length; i++) {
      const m = out[i];
      const n = m.charCodeAt(0);
      if (n > 4) E(MqttEvent.Error, { code: MqttErrorCode.GaveUp, text: "gave up a QoS 1 message after 5 sends" }, s);
      else {
        s.onData(s, m.substr(3));
        if (m.charCodeAt(3) & 2) s.out.push(String.fromCharCode(n + 1) + m.substr(1, 2) + "\x3a" + m.substr(4)); // DUP when sent again
      }
    }
    if (L.length < 2 && s.t == l) {
      s.st = S.CONNECTED;
      E(MqttEvent.Connected, s.a > 7, s);
    }
  } else if (t == PUBLISH) {
    E(MqttEvent.Message, p, s);
    if (p.qos) s.onData(s, mqttEnc(PUBACK, p.id!));
  } else if (t == PUBACK) {
    for (let i = 0; i < s.out.length; i++) if (((s.out[i].charCodeAt(1) << 8) | s.out[i].charCodeAt(2)) == p.id) s.out.splice(i--, 1);
  } else if (t == SUBACK) {
    const L = s.onDown(null);
    const c = p.codes!;
    const k = p.id! & 0x7fff;
    for (let j = 0; j < c.length; j++) if (c.charCodeAt(j) > 2 && L[k + j]) E(MqttEvent.Error, { code: MqttErrorCode.SubscriptionRefused, text: "subscription refused: " + L[k + j].substr(1), topic: L[k + j].substr(1) }, s);
    if (s.st == S.SUBSCRIBING && k + c.length >= L.length) {
      s.st = S.CONNECTED;
      E(MqttEvent.Connected, s.a > 7, s);
    }
  } else if (t == SKIPPED) {
    E(MqttEvent.Error, { code: MqttErrorCode.Skipped, text: "skipped a " + p.size + "-byte " + mqttSay(p.ptype!) + (p.topic ? " on " + p.topic : "") + " (limit " + s.maxPacket + ")", topic: p.topic, size: p.size }, s);
    if (p.id) s.onData(s, mqttEnc(PUBACK, p.id));
  } else if (t != PINGRESP && t != UNSUBACK) s.onDown(s, "unexpected " + mqttSay(t), MqttErrorCode.Protocol);
}

// The end of a connection, and the app API (onDown, publish, subscribe, connected, reconnect):
//   onDown(t, reason, err): transport t went down ({code, text, ...}; ignored unless t is the current
//     transport);
//   onDown(session, reason, code): the session drops its current connection itself;
//   reconnect(reason): DISCONNECT when connected, close, a new attempt after the backoff;
//   publish(topic, payload, qos), subscribe(filter, qos), connected();
//   onDown(null): the subscriptions as a list, ["", QoS digit + filter, ...] (decodes subs).
// Each drop arms the timer for the next attempt (full-jitter backoff).
function onDown(this: MqttSession, a?: any, b?: any, c?: any): any {
  const s = this;
  const E = s.e; // a plain call (see mqttSession)
  const on = s.st > S.CONNECTING; // CONNACK received
  if (a === undefined) return s.st == S.CONNECTED;
  if (a === null) {
    const L = s.subs.split("\x00");
    for (let i = 1, f = ""; i < L.length; i++) {
      f = f.substr(0, L[i].charCodeAt(0) - 1) + L[i].substr(2);
      L[i] = L[i].charAt(1) + f;
    }
    return L;
  }
  if (typeof a == "string" && b != null) {
    const e = mqttSay(a, typeof b == "number") || (c > 1 ? "bad QoS " + c : "");
    if (e) return E(MqttEvent.Error, { code: MqttErrorCode.BadArgument, text: e, topic: a }, s);
    if (typeof b == "number") {
      // subscribe(filter, qos): remembered (replacing an earlier QoS), sent now when connected
      const L = s.onDown(null);
      const R = s.subs.split("\x00");
      let k = 1;
      let j = 0;
      while (k < L.length && L[k].substr(1) != a) k++;
      const f = L[k - 1].substr(1); // the previous filter (entries are never removed)
      while (j < 254 && j < a.length && a.charAt(j) == f.charAt(j)) j++;
      R[k] = String.fromCharCode(j + 1) + (b ? 1 : 0) + a.substr(j);
      s.subs = R.join("\x00");
      if (on) s.onData(s, mqttEnc(SUBSCRIBE, 0x8000 | k, [(b ? 1 : 0) + a]));
      return;
    }
    // publish(topic, payload, qos): QoS 0 goes out now when connected; the rest waits in the queue
    let id = 0;
    while (c && !id) {
      id = s.nid = (s.nid % 32767) + 1;
      for (let i = 0; i < s.out.length; i++) if (((s.out[i].charCodeAt(1) << 8) | s.out[i].charCodeAt(2)) == id) id = 0;
    }
    let m = mqttEnc(c ? 0x32 : 0x30, id, a, b);
    if (on) {
      s.onData(s, m);
      if (!c) return;
      m = "\x3a" + m.substr(1); // DUP when sent again
    }
    if (s.out.length >= (s.queueMax || 20)) {
      let k = 0;
      for (let i = s.out.length - 1; i >= 0; i--) if (!(s.out[i].charCodeAt(3) & 2)) k = i;
      s.out.splice(k, 1);
      E(MqttEvent.Error, { code: MqttErrorCode.QueueFull, text: "queue full, dropped a message (" + ++s.dr + " so far)" }, s);
    }
    s.out.push(String.fromCharCode(on ? 1 : 0, id >> 8, id & 255) + m);
    return;
  }
  if (typeof a == "string") {
    // reconnect(reason)
    if (on) s.onData(s, "\xe0\x00"); // DISCONNECT
    b = a;
    a = s;
    c = -1; // asked for: no error
  }
  if ((a !== s && a !== s.t) || !s.st) return;
  const was = s.st;
  if (a === s) s.t!.close(); // a transport that reported its own end is already closed
  s.st = S.WAIT;
  s.t = null;
  const ms = Math.floor(Math.random() * Math.min(s.backoffMax || 120000, (s.backoffMin || 1000) * (1 << Math.min(s.tr++, 20))));
  E(s, ms);
  // c: the error's code (the session's own drops), or the transport's error ({code, text, ...})
  if (typeof c != "object") c = { code: c || MqttErrorCode.Transport, text: b };
  if (c.code > 0 && (was != S.CONNECTED || c.code == MqttErrorCode.Protocol)) E(MqttEvent.Error, c, s);
  if (was == S.CONNECTED) E(MqttEvent.Offline, b, s);
  E(MqttEvent.Log, "mqtt: retry " + s.tr + " in " + ms + " ms", s);
}
