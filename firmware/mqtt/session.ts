// MQTT 3.1.1 session state machine: no I/O and no Espruino globals. It drives a transport
// ({open, write, close}) obtained from env.connect() for every attempt, is told about the
// transport's life through onUp/onData/onDown, and keeps time with env.now() and ONE timer
// (env.wake(ms) re-arms it, ms < 0 cancels; the owner calls onTimer() when it fires).
//
// Behaviour:
// - connects, and after any failure or loss reconnects forever: full-jitter exponential backoff
//   (random(0, min(backoffMax, backoffMin * 2^n))), n reset once a connection stayed up stableMs;
//   every attempt calls env.connect(), so the URL is signed afresh each time;
// - keep-alive clamped to kaMin..kaMax (AWS: 30..1200 s); PINGREQ when nothing was sent or received
//   for keepAlive; no PINGRESP (and no other byte) within pingTimeout -> the link is declared dead;
// - QoS 1 publishes keep their packet id until PUBACK and are re-sent with DUP after a reconnect
//   (whatever the clean-session flag: at-least-once from the device's side), at most maxSends
//   times in all: AWS closes the connection over a publish its policy denies, and such a message
//   must not block the session forever;
// - while offline publishes wait in a bounded queue (queueMax entries, in-flight QoS 1 included):
//   when full the oldest QoS 0 goes first, then the oldest QoS 1; drops are counted in a log line;
// - subscriptions are remembered and restored after every CONNACK, at most 8 filters per
//   SUBSCRIBE (AWS limit), before queued publishes go out; a refused filter (0x80) is reported
//   per topic and forgotten;
// - an incoming packet over maxPacket is skipped without buffering, reported, and acknowledged
//   if it was a QoS 1 PUBLISH; malformed input closes that connection only.
// Events (env.event(type, arg)): "connect" (arg: session present), "offline" (reason, after a
// connection that had been up), "message" (packet: topic, payload, qos, retain, dup),
// "error" ({msg, status?, body?, date?}), "log" (a line in plain words).

//
// Memory diet: one class with few methods (a class method costs ~6 Espruino variables whatever
// its length), the MQTT decoder's state on the session itself (mqttFeed hands packets to onData),
// aliases instead of extra methods (onUp = onData, start = onTimer, reconnect = end = onDown,
// unsubscribe = subscribe), short property names on this long-lived object, no closures.

import {
  CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBLISH, SKIPPED, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE,
  MqttPacket, mqttEnc, mqttFeed, mqttSay,
} from "./codec";

export interface MqttTransport {
  open(): void;
  write(data: string): void;
  close(): void;
}

// The session passes itself as the last argument, so one shared env object can serve every
// session without per-session closures (see client.ts); envs that ignore it work as well.
export interface MqttEnv {
  now?: () => number; // ms (default: Date.now())
  connect(s: MqttSession): MqttTransport; // a fresh, not yet opened transport for one attempt
  wake(ms: number, s: MqttSession): void; // (re)arm the single timer; ms < 0 cancels it
  event(type: string, arg: any, s: MqttSession): void;
  random?: () => number;
}

export interface MqttOptions {
  clientId: string; // AWS: the thing name
  keepAlive?: number; // seconds, default 60, clamped to kaMin..kaMax
  kaMin?: number; // default 30 (AWS)
  kaMax?: number; // default 1200 (AWS)
  clean?: boolean; // clean session, default true (see README: AWS persistent sessions)
  username?: string;
  password?: string;
  maxPacket?: number; // largest incoming packet kept, bytes (default 4096)
  queueMax?: number; // outbound messages kept while offline + QoS 1 in flight (default 20)
  pingTimeout?: number; // ms to wait for PINGRESP (default 10000)
  connectTimeout?: number; // ms from opening the transport to CONNACK (default 30000)
  backoffMin?: number; // ms (default 1000)
  backoffMax?: number; // ms (default 120000)
  stableMs?: number; // a connection up this long resets the backoff (default 60000)
  maxSends?: number; // a QoS 1 message sent this often without PUBACK is given up (default 5)
}

export type MqttCallback = (err: string | null, arg?: any) => void;

// One outbound item: a PUBLISH (t, p, q, r, d) or a SUBSCRIBE/UNSUBSCRIBE request (k, f, g).
interface OutMsg {
  t?: string; // topic
  p?: string; // payload
  q?: number;
  r?: boolean; // retain
  i: number; // packet id (QoS 1, requests), 0 until assigned
  d?: number; // times sent: re-sent with DUP when > 0
  k?: number; // SUBSCRIBE or UNSUBSCRIBE
  f?: string[]; // filters of a request
  g?: number[]; // requested QoS per filter (SUBSCRIBE)
  c?: MqttCallback;
}
interface Sub {
  f: string;
  q: number;
  c?: MqttCallback;
}

// Session states: a const enum, inlined as numbers by the build (module-level constants would
// each hold variables on the device); the named exports are for tests.
const enum S {
  IDLE = 0,
  WAIT = 1,
  OPENING = 2,
  CONNECTING = 3,
  CONNECTED = 4,
}
export const IDLE = S.IDLE;
export const WAIT = S.WAIT;
export const OPENING = S.OPENING;
export const CONNECTING = S.CONNECTING;
export const CONNECTED = S.CONNECTED;

export class MqttSession {
  o: MqttOptions;
  env: MqttEnv;
  st: number;
  t: MqttTransport | null;
  out: OutMsg[]; // queued publishes and QoS 1 in flight
  subs: Sub[];
  pend: OutMsg[]; // SUBSCRIBE / UNSUBSCRIBE waiting for their ack
  gone: string[]; // filters to unsubscribe at the next connect (persistent sessions)
  nid: number;
  tr: number; // attempts since the last stable connection
  dr: number; // messages dropped (queue full)
  tx: number; // last byte sent (ms)
  rx: number; // last byte received
  pg: number; // PINGREQ sent at (0: none outstanding)
  at: number; // WAIT: next attempt at; OPENING, CONNECTING: attempt opened at; CONNECTED: up since
  tn: number; // last env.now(), to notice the clock going backwards
  tid: any; // timer id (client.ts)
  // decoder state (mqttFeed)
  max: number;
  ds: number;
  nb: number;
  body: string;
  skt: string;
  // reconnect(reason): DISCONNECT when connected, close, and a new attempt after the usual backoff
  // (with a freshly signed URL), e.g. before the 24-hour limit of a SigV4 connection. The reason
  // must be a string. end(): stops for good. Both are aliases of onDown.
  declare reconnect: (reason: string) => void;
  declare end: () => void;
  // onUp(t): the transport is open (an alias of onData without data).
  declare onUp: (t: MqttTransport) => void;
  // start(): connects (an alias of onTimer: a client that is not running starts an attempt).
  declare start: () => void;
  // unsubscribe(filter, cb?): forgets the filter and unsubscribes (an alias of subscribe without a
  // numeric QoS). cb(err) once the broker answered; offline it is done at once (persistent
  // sessions: the UNSUBSCRIBE is sent at the next connect).
  declare unsubscribe: (filter: string, cb?: MqttCallback) => void;
  // pkt(t, packet): one decoded packet (called by mqttFeed; an alias of onData).
  declare pkt: (t: MqttTransport | null, p: MqttPacket) => void;
  constructor(o: MqttOptions, env: MqttEnv) {
    this.o = o;
    this.env = env;
    this.st = S.IDLE;
    this.t = null;
    this.max = o.maxPacket === undefined ? 4096 : o.maxPacket;
    this.out = [];
    this.subs = [];
    this.pend = [];
    this.gone = [];
    this.nid = this.tr = this.dr = this.ds = this.nb = 0;
    this.tx = this.rx = this.pg = this.at = 0;
    this.body = this.skt = "";
    this.tn = 0;
    this.tn = this.now();
  }

  // ---------------------------------------------------------------- app API
  connected(): boolean {
    return this.st == S.CONNECTED;
  }
  // qos 0 or 1. cb(err) when sent (QoS 0) or acknowledged (QoS 1), or when dropped.
  publish(topic: string, payload: string, qos: number, cb?: MqttCallback, retain?: boolean): boolean {
    const e = mqttSay(topic, false) || (qos > 1 ? "QoS 2 is not supported" : "");
    const m: OutMsg = { t: topic, p: payload, q: qos ? 1 : 0, r: !!retain, i: 0, d: 0, c: cb };
    const on = this.st == S.CONNECTED;
    if (e) {
      this.cb(this.env.event, "error", { msg: e });
      this.cb(cb, e);
      return false;
    }
    if (on && !qos) {
      this.write(m);
      this.cb(cb, null);
      return true;
    }
    // bounded: when full, drop the oldest QoS 0 (else the oldest QoS 1)
    const max = Math.max(1, this.o.queueMax === undefined ? 20 : this.o.queueMax);
    if (this.out.length >= max) {
      let k = 0;
      for (let i = this.out.length - 1; i >= 0; i--) if (!this.out[i].q) k = i;
      const x = this.out.splice(k, 1)[0];
      this.dr++;
      this.cb(this.env.event, "log", "mqtt: outbound queue full (" + max + "): dropped the oldest QoS " + x.q + " message to " + x.t + " (" + this.dr + " dropped so far)");
      this.cb(x.c, "dropped: outbound queue full");
    }
    this.out.push(m);
    if (on) this.write(m);
    return true;
  }
  // cb(err, grantedQos) once the broker answered (after the next connect when offline). The QoS
  // must be a number: subscribe(filter, cb) is unsubscribe(filter, cb).
  subscribe(filter: string, qos: any, cb?: MqttCallback): boolean {
    const e = mqttSay(filter, true);
    let s: Sub | undefined;
    if (typeof qos != "number") {
      for (let i = 0; i < this.subs.length; i++) if (this.subs[i].f == filter) this.subs.splice(i--, 1);
      if (this.st == S.CONNECTED) this.write({ k: UNSUBSCRIBE, i: 0, f: [filter], c: qos });
      else {
        if (this.o.clean === false && this.gone.indexOf(filter) < 0) this.gone.push(filter);
        this.cb(qos, null);
      }
      return true;
    }
    if (e) {
      this.cb(this.env.event, "error", { msg: e });
      this.cb(cb, e);
      return false;
    }
    for (let i = 0; i < this.subs.length; i++) if (this.subs[i].f == filter) s = this.subs[i];
    if (!s) this.subs.push((s = { f: filter, q: 0 }));
    s.q = qos ? 1 : 0;
    s.c = cb;
    const g = this.gone.indexOf(filter);
    if (g >= 0) this.gone.splice(g, 1);
    if (this.st == S.CONNECTED) this.write({ k: SUBSCRIBE, i: 0, f: [filter], g: [s.q] });
    return true;
  }
  // ---------------------------------------------------------------- transport events
  // onData(t, d): bytes from the broker; onData(t) (= onUp): the transport is open;
  // onData(t, packet) (= pkt): one packet decoded by mqttFeed.
  onData(t: MqttTransport | null, d?: any): void {
    if (t !== this.t) return;
    if (d === undefined) {
      if (this.st != S.OPENING) return;
      this.st = S.CONNECTING;
      this.ds = this.nb = 0;
      this.body = this.skt = "";
      const o = this.o;
      this.write(mqttEnc(CONNECT, Math.round(Math.min(Math.max(o.keepAlive || 60, o.kaMin === undefined ? 30 : o.kaMin), o.kaMax === undefined ? 1200 : o.kaMax)), o)); // keep-alive (s) clamped as in onTimer
      this.rx = this.tx;
      return;
    }
    if (this.st < S.CONNECTING) return;
    if (typeof d == "object") {
      // one packet decoded by mqttFeed
      const p: MqttPacket = d;
      const y = p.type;
      const ev = this.env.event;
      if (this.st == S.CONNECTING && y != CONNACK) return this.onDown(this, "the broker sent " + mqttSay(y) + " before CONNACK");
      if (y == CONNACK) {
        if (this.st != S.CONNECTING) return this.onDown(this, "the broker sent a second CONNACK");
        if (p.rc) return this.onDown(this, "the broker refused the connection (" + mqttSay(CONNACK, p.rc) + ")");
        this.st = S.CONNECTED;
        this.at = this.now();
        this.cb(ev, "log", "mqtt: connected as " + this.o.clientId + (p.sp ? " (session present)" : ""));
        // restore subscriptions (8 filters per SUBSCRIBE: AWS limit), pending unsubscribes, then the queue
        for (let i = 0; i < this.subs.length; i += 8) {
          const m: OutMsg = { k: SUBSCRIBE, i: 0, f: [], g: [] };
          for (let j = i; j < i + 8 && j < this.subs.length; j++) {
            m.f!.push(this.subs[j].f);
            m.g!.push(this.subs[j].q);
          }
          this.write(m);
        }
        while (this.gone.length && this.st == S.CONNECTED) this.write({ k: UNSUBSCRIBE, i: 0, f: this.gone.splice(0, 8) });
        const out = this.out;
        const max = this.o.maxSends === undefined ? 5 : this.o.maxSends;
        let j = 0;
        this.out = [];
        for (; j < out.length && this.st == S.CONNECTED; j++) {
          const m = out[j];
          if (m.d! >= max) {
            // a message the broker keeps dropping the connection over (AWS does that for a topic the
            // policy denies) must not block the session forever
            this.cb(ev, "error", { msg: "gave up on a QoS 1 message to " + m.t + " after " + m.d + " sends without PUBACK" });
            this.cb(m.c, "not acknowledged after " + m.d + " sends");
            continue;
          }
          if (m.q) this.out.push(m);
          this.write(m);
          if (!m.q) this.cb(m.c, null);
        }
        // anything not sent (the connection dropped meanwhile) stays queued, in order
        for (; j < out.length; j++) this.out.push(out[j]);
        if (this.st == S.CONNECTED) this.cb(ev, "connect", p.sp);
        if (this.st == S.CONNECTED) this.onTimer(true);
      } else if (y == PUBLISH) {
        if (p.qos! > 1) return this.onDown(this, "the broker sent a QoS 2 message; only QoS 0 and 1 are supported");
        this.cb(ev, "message", p);
        if (p.qos) this.write(mqttEnc(PUBACK, p.id!));
      } else if (y == PUBACK) {
        for (let i = 0; i < this.out.length; i++) {
          const m = this.out[i];
          if (m.q && m.i == p.id && m.d) {
            this.out.splice(i, 1);
            return this.cb(m.c, null);
          }
        }
      } else if (y == SUBACK || y == UNSUBACK) {
        let pd: OutMsg | undefined;
        for (let i = 0; i < this.pend.length && !pd; i++) {
          if (this.pend[i].i == p.id && this.pend[i].k == (y == SUBACK ? SUBSCRIBE : UNSUBSCRIBE)) pd = this.pend.splice(i, 1)[0];
        }
        if (!pd) return;
        if (y == UNSUBACK) return this.cb(pd.c, null);
        const f = pd.f!;
        if (p.codes!.length != f.length) return this.onDown(this, "SUBACK has " + p.codes!.length + " codes for " + f.length + " filters");
        for (let j = 0; j < f.length; j++) {
          const code = p.codes![j];
          for (let i = 0; i < this.subs.length; i++) {
            const s = this.subs[i];
            if (s.f != f[j]) continue;
            const c = s.c;
            s.c = undefined;
            if (code == 0x80) {
              this.subs.splice(i--, 1);
              this.cb(ev, "error", { msg: "the broker refused the subscription to " + s.f });
            }
            this.cb(c, code == 0x80 ? "subscription refused" : null, code);
          }
        }
      } else if (y == PINGRESP) {
        this.pg = 0;
      } else if (y == SKIPPED) {
        this.cb(ev, "error", { msg: "skipped a " + p.size + "-byte " + mqttSay(p.ptype!) + (p.topic ? " on " + p.topic : "") + ": over the " + this.max + "-byte limit" });
        if (p.ptype == PUBLISH && p.qos == 1 && p.id) this.write(mqttEnc(PUBACK, p.id));
      } else this.onDown(this, "the broker sent an unexpected " + mqttSay(y));
      return;
    }
    this.rx = this.now();
    const e = mqttFeed(this, d);
    if (e && t === this.t) this.onDown(this, "protocol error from the broker: " + e);
  }
  // The single timer fired (rearm: only compute the next wake-up and re-arm the timer).
  onTimer(rearm?: boolean): void {
    const now = this.now();
    const st = this.st;
    const o = this.o;
    const cto = o.connectTimeout === undefined ? 30000 : o.connectTimeout;
    const pto = o.pingTimeout === undefined ? 10000 : o.pingTimeout;
    const ka = 1000 * Math.round(Math.min(Math.max(o.keepAlive || 60, o.kaMin === undefined ? 30 : o.kaMin), o.kaMax === undefined ? 1200 : o.kaMax)); // keep-alive, ms
    let at = -1;
    if (!rearm) {
      if (st <= S.WAIT) {
        if (st == S.IDLE || now >= this.at) {
          // a new attempt: every one gets a fresh transport (and a freshly signed URL)
          this.st = S.OPENING;
          this.at = now;
          this.pg = 0;
          const t = this.env.connect(this);
          this.t = t;
          this.onTimer(true);
          t.open();
          return;
        }
      } else if (st == S.OPENING || st == S.CONNECTING) {
        if (now - this.at >= cto) return this.onDown(this, st == S.OPENING ? "timed out opening the connection" : "no CONNACK from the broker in time");
      } else if (st == S.CONNECTED) {
        if (this.pg) {
          if (now - Math.max(this.pg, this.rx) >= pto) return this.onDown(this, "no PINGRESP from the broker in time: the link is dead");
        } else if (now - this.tx >= ka || now - this.rx >= ka) {
          this.write(mqttEnc(PINGREQ, 0));
          this.pg = now;
        }
      }
    }
    if (st == S.WAIT) at = this.at;
    else if (st == S.OPENING || st == S.CONNECTING) at = this.at + cto;
    else if (st == S.CONNECTED) at = this.pg ? Math.max(this.pg, this.rx) + pto : Math.min(this.tx, this.rx) + ka;
    this.env.wake(at < 0 ? -1 : Math.max(0, at - now), this);
  }

  // ---------------------------------------------------------------- internals
  // env.now(), with stored times shifted when the clock went backwards (SNTP, 403 Date fix)
  now(): number {
    const n = this.env.now ? this.env.now() : Date.now();
    const d = n - this.tn;
    if (d < 0) {
      this.tx += d;
      this.rx += d;
      if (this.pg) this.pg += d;
      this.at += d;
    }
    this.tn = n;
    return n;
  }
  // calls an app callback, or the env's event handler (f = env.event); an exception there is
  // logged, never breaks the session
  cb(f: Function | undefined, a: any, b?: any): void {
    if (!f) return;
    try {
      f(a, b, this);
    } catch (e) {
      if (a != "log") this.cb(this.env.event, "log", (f == this.env.event ? "app handler for '" + a + "'" : "app callback") + " threw: " + e);
    }
  }
  // One method for the end of a connection (a method costs ~6 variables; aliases cost 1):
  // - onDown(t, reason, err?): transport t went down (ignored unless t is the current transport);
  // - onDown(this, reason, err?): the session drops the current connection itself;
  // - reconnect(reason) = onDown(reason): DISCONNECT when connected, close, reconnect (re-signed);
  // - end() = onDown(): stops for good: DISCONNECT if connected, no more reconnects; pending
  //   callbacks get an error.
  // Each drop schedules the next attempt (full-jitter backoff).
  onDown(t?: any, reason?: any, err?: any): void {
    const o = this.o;
    const ev = this.env.event;
    const pend = this.pend;
    const out = this.out;
    const cur = this.t;
    const was = this.st;
    if (typeof t != "object") {
      if (was == S.CONNECTED) this.write(mqttEnc(DISCONNECT, 0));
      if (t === undefined) {
        // end()
        this.st = S.IDLE;
        this.t = null;
        if (cur) cur.close();
        this.env.wake(-1, this);
        this.out = [];
        this.pend = [];
        for (let i = 0; i < out.length; i++) this.cb(out[i].c, "client ended");
        return;
      }
      reason = t;
      t = this;
    }
    if ((t !== cur && t !== this) || was <= S.WAIT) return;
    const now = this.now();
    this.st = S.WAIT;
    this.t = null;
    if (t === this && cur) cur.close(); // a transport that reported its own end is already closed
    this.pg = 0;
    this.pend = [];
    for (let i = 0; i < pend.length; i++) {
      if (pend[i].k == UNSUBSCRIBE) {
        if (o.clean === false) this.gone.push(pend[i].f![0]);
        this.cb(pend[i].c, null);
      }
    }
    if (was == S.CONNECTED && now - this.at >= (o.stableMs === undefined ? 60000 : o.stableMs)) this.tr = 0;
    const cap = Math.min(o.backoffMax === undefined ? 120000 : o.backoffMax, (o.backoffMin === undefined ? 1000 : o.backoffMin) * Math.pow(2, Math.min(this.tr, 20)));
    const delay = Math.floor((this.env.random ? this.env.random() : Math.random()) * cap);
    this.tr++;
    this.at = now + delay;
    if (was == S.CONNECTED) this.cb(ev, "offline", reason);
    else {
      const e = err || { msg: reason };
      e.msg = e.msg || reason;
      this.cb(ev, "error", e);
    }
    this.cb(ev, "log", "mqtt: " + reason + "; reconnecting in " + delay + " ms (attempt " + this.tr + ")");
    this.onTimer(true);
  }
  // writes raw bytes (a string), or sends an item (remembered in pend until its ack when a
  // SUBSCRIBE/UNSUBSCRIBE request; QoS 1 publishes get a packet id and DUP when re-sent); packet ids
  // skip those still in use
  write(m: string | OutMsg): void {
    if (typeof m != "string") {
      while ((m.q || m.k) && !m.i) {
        const n = (this.nid = (this.nid % 65535) + 1);
        m.i = n;
        for (let i = 0; i < this.out.length; i++) if (this.out[i].i == n && this.out[i] != m) m.i = 0;
        for (let i = 0; i < this.pend.length; i++) if (this.pend[i].i == n) m.i = 0;
      }
      if (m.k) this.pend.push(m);
      else m.d!++;
      m = m.k ? mqttEnc(m.k, m.i, m.f, m.g) : mqttEnc(0x30 | (m.d! > 1 ? 8 : 0) | (m.q! << 1) | (m.r ? 1 : 0), m.i, m.t, m.p);
    }
    if (!this.t) return;
    this.tx = this.now();
    this.t.write(m);
  }
}
(MqttSession.prototype as any).reconnect = (MqttSession.prototype as any).end = MqttSession.prototype.onDown;
(MqttSession.prototype as any).onUp = (MqttSession.prototype as any).pkt = MqttSession.prototype.onData;
(MqttSession.prototype as any).start = MqttSession.prototype.onTimer;
(MqttSession.prototype as any).unsubscribe = MqttSession.prototype.subscribe;
