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

import {
  CONNACK, PINGRESP, PUBACK, PUBLISH, SKIPPED, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE,
  MQTT_DISCONNECT, MQTT_PINGREQ, MqttDecoder, MqttPacket,
  connackWords, mqttAck, mqttConnect, mqttPublish, mqttSubscribe, mqttUnsubscribe, packetName,
} from "./codec";
import { filterProblem, topicProblem } from "./topic";

export interface MqttTransport {
  open(): void;
  write(data: string): void;
  close(): void;
}

export interface MqttEnv {
  now(): number; // ms
  connect(): MqttTransport; // a fresh, not yet opened transport for one attempt
  wake(ms: number): void; // (re)arm the single timer; ms < 0 cancels it
  event(type: string, arg?: any): void;
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

interface OutMsg {
  t: string; // topic
  p: string; // payload
  q: number;
  r: boolean; // retain
  i: number; // packet id (QoS 1), 0 until assigned
  d: number; // times sent: re-sent with DUP when > 0
  c?: MqttCallback;
}
interface Sub {
  f: string;
  q: number;
  c?: MqttCallback;
}
interface Pend {
  i: number;
  k: number; // SUBSCRIBE or UNSUBSCRIBE
  f: string[];
  c?: MqttCallback;
}

export const IDLE = 0;
export const WAIT = 1;
export const OPENING = 2;
export const CONNECTING = 3;
export const CONNECTED = 4;

// calls an app callback; an exception there is logged, never breaks the session
function call(s: MqttSession, cb: MqttCallback | undefined, err: string | null, arg?: any): void {
  if (!cb) return;
  try {
    cb(err, arg);
  } catch (e) {
    s.log("app callback threw: " + e);
  }
}

function dflt(v: number | undefined, d: number): number {
  return v === undefined ? d : v;
}

export class MqttSession {
  o: MqttOptions;
  env: MqttEnv;
  st: number;
  t: MqttTransport | null;
  dec: MqttDecoder;
  ka: number; // ms
  out: OutMsg[];
  subs: Sub[];
  pend: Pend[];
  gone: string[]; // filters to unsubscribe at the next connect (persistent sessions)
  nid: number;
  tries: number;
  drops: number;
  lastTx: number;
  lastRx: number;
  pingAt: number;
  upAt: number;
  openAt: number;
  retryAt: number;
  tn: number;
  constructor(o: MqttOptions, env: MqttEnv) {
    this.o = o;
    this.env = env;
    this.st = IDLE;
    this.t = null;
    this.dec = new MqttDecoder(dflt(o.maxPacket, 4096), this.pkt.bind(this));
    this.ka = 1000 * Math.round(Math.min(Math.max(o.keepAlive || 60, dflt(o.kaMin, 30)), dflt(o.kaMax, 1200)));
    this.out = [];
    this.subs = [];
    this.pend = [];
    this.gone = [];
    this.nid = this.tries = this.drops = 0;
    this.lastTx = this.lastRx = this.pingAt = this.upAt = this.openAt = this.retryAt = 0;
    this.tn = env.now();
  }

  // ---------------------------------------------------------------- app API
  start(): void {
    if (this.st == IDLE) this.open();
  }
  connected(): boolean {
    return this.st == CONNECTED;
  }
  // qos 0 or 1. cb(err) when sent (QoS 0) or acknowledged (QoS 1), or when dropped.
  publish(topic: string, payload: string, qos: number, cb?: MqttCallback, retain?: boolean): boolean {
    const e = topicProblem(topic) || (qos > 1 ? "QoS 2 is not supported" : "");
    if (e) {
      this.err(e);
      call(this, cb, e);
      return false;
    }
    const m: OutMsg = { t: topic, p: payload, q: qos ? 1 : 0, r: !!retain, i: 0, d: 0, c: cb };
    if (this.st == CONNECTED && !qos) {
      this.write(mqttPublish(topic, payload, 0, m.r, false, 0));
      call(this, cb, null);
      return true;
    }
    this.push(m);
    if (this.st == CONNECTED) this.send(m);
    return true;
  }
  // cb(err, grantedQos) once the broker answered (after the next connect when offline).
  subscribe(filter: string, qos: number, cb?: MqttCallback): boolean {
    const e = filterProblem(filter);
    if (e) {
      this.err(e);
      call(this, cb, e);
      return false;
    }
    let s: Sub | undefined;
    for (let i = 0; i < this.subs.length; i++) if (this.subs[i].f == filter) s = this.subs[i];
    if (!s) this.subs.push((s = { f: filter, q: 0 }));
    s.q = qos ? 1 : 0;
    s.c = cb;
    const g = this.gone.indexOf(filter);
    if (g >= 0) this.gone.splice(g, 1);
    if (this.st == CONNECTED) this.sub([filter], [s.q]);
    return true;
  }
  unsubscribe(filter: string, cb?: MqttCallback): void {
    for (let i = 0; i < this.subs.length; i++) if (this.subs[i].f == filter) this.subs.splice(i--, 1);
    if (this.st == CONNECTED) {
      const id = this.id();
      this.pend.push({ i: id, k: UNSUBSCRIBE, f: [filter], c: cb });
      this.write(mqttUnsubscribe(id, [filter]));
      return;
    }
    if (this.o.clean === false && this.gone.indexOf(filter) < 0) this.gone.push(filter);
    call(this, cb, null);
  }
  // Closes the connection on purpose (DISCONNECT first when connected), e.g. before the 24-hour
  // limit of a SigV4 connection, and reconnects with a freshly signed URL after the usual backoff.
  reconnect(reason: string): void {
    if (this.st == CONNECTED) this.write(MQTT_DISCONNECT);
    this.drop(reason);
  }
  // Stops for good: DISCONNECT if connected, no more reconnects; pending callbacks get an error.
  end(): void {
    if (this.st == CONNECTED) this.write(MQTT_DISCONNECT);
    this.st = IDLE;
    this.kill();
    this.env.wake(-1);
    const out = this.out;
    this.out = [];
    this.pend = [];
    const self = this;
    out.forEach(function (m) {
      call(self, m.c, "client ended");
    });
  }

  // ---------------------------------------------------------------- transport events
  onUp(t: MqttTransport): void {
    if (t !== this.t || this.st != OPENING) return;
    this.st = CONNECTING;
    this.dec.reset();
    this.write(mqttConnect(this.o.clientId, this.ka / 1000, this.o.clean !== false, this.o.username, this.o.password));
    this.lastRx = this.lastTx;
  }
  onData(t: MqttTransport, d: string): void {
    if (t !== this.t || this.st < CONNECTING) return;
    this.lastRx = this.now();
    const e = this.dec.feed(d);
    if (e && t === this.t) this.drop("protocol error from the broker: " + e);
  }
  onDown(t: MqttTransport, reason: string, err?: any): void {
    if (t !== this.t) return;
    this.t = null;
    this.drop(reason, err);
  }
  onTimer(): void {
    const now = this.now();
    const st = this.st;
    if (st == WAIT) {
      if (now >= this.retryAt) return this.open();
    } else if (st == OPENING || st == CONNECTING) {
      if (now - this.openAt >= dflt(this.o.connectTimeout, 30000)) {
        return this.drop(st == OPENING ? "timed out opening the connection" : "no CONNACK from the broker in time");
      }
    } else if (st == CONNECTED) {
      if (this.pingAt) {
        if (now - Math.max(this.pingAt, this.lastRx) >= dflt(this.o.pingTimeout, 10000)) {
          return this.drop("no PINGRESP from the broker in time: the link is dead");
        }
      } else if (now - this.lastTx >= this.ka || now - this.lastRx >= this.ka) {
        this.write(MQTT_PINGREQ);
        this.pingAt = now;
      }
    }
    this.arm();
  }

  // ---------------------------------------------------------------- internals
  // env.now(), with stored times shifted when the clock went backwards (SNTP, 403 Date fix)
  now(): number {
    const n = this.env.now();
    const d = n - this.tn;
    if (d < 0) {
      this.lastTx += d;
      this.lastRx += d;
      if (this.pingAt) this.pingAt += d;
      this.upAt += d;
      this.openAt += d;
      this.retryAt += d;
    }
    this.tn = n;
    return n;
  }
  arm(): void {
    const now = this.now();
    const st = this.st;
    let at = -1;
    if (st == WAIT) at = this.retryAt;
    else if (st == OPENING || st == CONNECTING) at = this.openAt + dflt(this.o.connectTimeout, 30000);
    else if (st == CONNECTED) {
      at = this.pingAt
        ? Math.max(this.pingAt, this.lastRx) + dflt(this.o.pingTimeout, 10000)
        : Math.min(this.lastTx, this.lastRx) + this.ka;
    }
    this.env.wake(at < 0 ? -1 : Math.max(0, at - now));
  }
  open(): void {
    this.st = OPENING;
    this.openAt = this.now();
    this.pingAt = 0;
    const t = this.env.connect();
    this.t = t;
    this.arm();
    t.open();
  }
  kill(): void {
    const t = this.t;
    this.t = null;
    if (t) t.close();
  }
  emit(type: string, arg?: any): void {
    try {
      this.env.event(type, arg);
    } catch (e) {
      if (type != "log") this.log("app handler for '" + type + "' threw: " + e);
    }
  }
  log(msg: string): void {
    this.emit("log", msg);
  }
  err(msg: string, extra?: any): void {
    const e = extra || { msg: msg };
    e.msg = e.msg || msg;
    this.emit("error", e);
  }
  // closes the current connection (if any) and schedules the next attempt
  drop(reason: string, err?: any): void {
    if (this.st <= WAIT) return;
    const was = this.st;
    this.st = WAIT;
    this.kill();
    this.pingAt = 0;
    const pend = this.pend;
    this.pend = [];
    const self = this;
    pend.forEach(function (p) {
      if (p.k == UNSUBSCRIBE) {
        if (self.o.clean === false) self.gone.push(p.f[0]);
        call(self, p.c, null);
      }
    });
    const now = this.now();
    if (this.upAt && now - this.upAt >= dflt(this.o.stableMs, 60000)) this.tries = 0;
    this.upAt = 0;
    const cap = Math.min(dflt(this.o.backoffMax, 120000), dflt(this.o.backoffMin, 1000) * Math.pow(2, Math.min(this.tries, 20)));
    const delay = Math.floor((this.env.random ? this.env.random() : Math.random()) * cap);
    this.tries++;
    this.retryAt = now + delay;
    if (was == CONNECTED) this.emit("offline", reason);
    else this.err(reason, err);
    this.log("mqtt: " + reason + "; reconnecting in " + delay + " ms (attempt " + this.tries + ")");
    this.arm();
  }
  write(s: string): void {
    if (!this.t) return;
    this.lastTx = this.now();
    this.t.write(s);
  }
  id(): number {
    for (;;) {
      this.nid = (this.nid % 65535) + 1;
      const n = this.nid;
      let used = false;
      for (let i = 0; i < this.out.length; i++) if (this.out[i].i == n) used = true;
      for (let i = 0; i < this.pend.length; i++) if (this.pend[i].i == n) used = true;
      if (!used) return n;
    }
  }
  // adds to the outbound list, dropping the oldest QoS 0 (else the oldest QoS 1) when full
  push(m: OutMsg): void {
    const max = Math.max(1, dflt(this.o.queueMax, 20));
    if (this.out.length >= max) {
      let k = 0;
      for (let i = this.out.length - 1; i >= 0; i--) if (!this.out[i].q) k = i;
      const x = this.out.splice(k, 1)[0];
      this.drops++;
      this.log("mqtt: outbound queue full (" + max + "): dropped the oldest QoS " + x.q + " message to " + x.t + " (" + this.drops + " dropped so far)");
      call(this, x.c, "dropped: outbound queue full");
    }
    this.out.push(m);
  }
  send(m: OutMsg): void {
    if (m.q && !m.i) m.i = this.id();
    this.write(mqttPublish(m.t, m.p, m.q, m.r, m.d > 0, m.i));
    m.d++;
  }
  sub(f: string[], q: number[]): void {
    const id = this.id();
    this.pend.push({ i: id, k: SUBSCRIBE, f: f });
    this.write(mqttSubscribe(id, f, q));
  }
  // after CONNACK: restore subscriptions (8 per SUBSCRIBE), pending unsubscribes, then the queue
  restore(): void {
    for (let i = 0; i < this.subs.length; i += 8) {
      const part = this.subs.slice(i, i + 8);
      this.sub(
        part.map(function (s) {
          return s.f;
        }),
        part.map(function (s) {
          return s.q;
        })
      );
    }
    while (this.gone.length && this.st == CONNECTED) {
      const f = this.gone.splice(0, 8);
      const id = this.id();
      this.pend.push({ i: id, k: UNSUBSCRIBE, f: f });
      this.write(mqttUnsubscribe(id, f));
    }
    const out = this.out;
    this.out = [];
    let j = 0;
    const max = dflt(this.o.maxSends, 5);
    for (; j < out.length && this.st == CONNECTED; j++) {
      const m = out[j];
      if (m.d >= max) {
        // a message the broker keeps dropping the connection over (AWS does that for a topic the
        // policy denies) must not block the session forever
        this.err("gave up on a QoS 1 message to " + m.t + " after " + m.d + " sends without PUBACK");
        call(this, m.c, "not acknowledged after " + m.d + " sends");
        continue;
      }
      if (m.q) this.out.push(m);
      this.send(m);
      if (!m.q) call(this, m.c, null);
    }
    // anything not sent (the connection dropped meanwhile) stays queued, in order
    for (; j < out.length; j++) this.out.push(out[j]);
  }
  findPend(id: number, k: number): Pend | undefined {
    for (let i = 0; i < this.pend.length; i++) {
      if (this.pend[i].i == id && this.pend[i].k == k) return this.pend.splice(i, 1)[0];
    }
    return undefined;
  }
  // one decoded packet from the broker
  pkt(p: MqttPacket): void {
    if (this.st < CONNECTING) return;
    const t = p.type;
    if (this.st == CONNECTING && t != CONNACK) return this.drop("the broker sent " + packetName(t) + " before CONNACK");
    if (t == CONNACK) {
      if (this.st != CONNECTING) return this.drop("the broker sent a second CONNACK");
      if (p.rc) return this.drop("the broker refused the connection (" + connackWords(p.rc!) + ")");
      this.st = CONNECTED;
      this.upAt = this.now();
      this.log("mqtt: connected as " + this.o.clientId + (p.sp ? " (session present)" : ""));
      this.restore();
      if (this.st == CONNECTED) this.emit("connect", p.sp);
      if (this.st == CONNECTED) this.arm();
    } else if (t == PUBLISH) {
      if (p.qos! > 1) return this.drop("the broker sent a QoS 2 message; only QoS 0 and 1 are supported");
      this.emit("message", p);
      if (p.qos) this.write(mqttAck(PUBACK, p.id!));
    } else if (t == PUBACK) {
      for (let i = 0; i < this.out.length; i++) {
        const m = this.out[i];
        if (m.q && m.i == p.id && m.d) {
          this.out.splice(i, 1);
          call(this, m.c, null);
          return;
        }
      }
    } else if (t == SUBACK) {
      const pd = this.findPend(p.id!, SUBSCRIBE);
      if (!pd) return;
      if (p.codes!.length != pd.f.length) return this.drop("SUBACK has " + p.codes!.length + " codes for " + pd.f.length + " filters");
      for (let j = 0; j < pd.f.length; j++) {
        const code = p.codes![j];
        for (let i = 0; i < this.subs.length; i++) {
          const s = this.subs[i];
          if (s.f != pd.f[j]) continue;
          const cb = s.c;
          s.c = undefined;
          if (code == 0x80) {
            this.subs.splice(i--, 1);
            this.err("the broker refused the subscription to " + s.f);
          }
          call(this, cb, code == 0x80 ? "subscription refused" : null, code);
        }
      }
    } else if (t == UNSUBACK) {
      const pu = this.findPend(p.id!, UNSUBSCRIBE);
      if (pu) call(this, pu.c, null);
    } else if (t == PINGRESP) {
      this.pingAt = 0;
    } else if (t == SKIPPED) {
      this.err(
        "skipped a " + p.size + "-byte " + packetName(p.ptype!) + (p.topic ? " on " + p.topic : "") +
        ": over the " + this.dec.max + "-byte limit"
      );
      if (p.ptype == PUBLISH && p.qos == 1 && p.id) this.write(mqttAck(PUBACK, p.id));
    } else this.drop("the broker sent an unexpected " + packetName(t));
  }
}
