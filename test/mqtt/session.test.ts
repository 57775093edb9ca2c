// The session state machine against a fake transport and a fake timer.
import { CONNECT, DISCONNECT, PINGREQ, PUBACK, PUBLISH, PUBREL, SUBSCRIBE } from "../../firmware/mqtt/codec";
import { mqttAck, mqttConnack, mqttPublish, mqttSuback, MQTT_PINGRESP } from "../../sim/mqtt/codec-server";
import { CONNECTED, CONNECTING, MqttEnv, SUBSCRIBING, WAIT } from "../../firmware/mqtt/session";
import { FakeWorld } from "./fake";
import { MqttErrorCode, MqttEvent } from "../../firmware/mqtt/events";

afterEach(() => jest.restoreAllMocks());

// the transport opens and the broker accepts; SUBSCRIBEs are answered all-granted unless told not to
function up(w: FakeWorld, sp = false, suback = true) {
  const l = w.link;
  w.s.onUp(l);
  w.s.onData(l, mqttConnack(sp, 0));
  if (suback) subackAll(w);
  return l;
}
// answers every SUBSCRIBE not answered yet with all-granted (or the given codes), including the ones
// each SUBACK brings (the session subscribes one filter after the other)
function subackAll(w: FakeWorld, codes?: number[]) {
  const l: any = w.link;
  for (;;) {
    const subs = l.sent.filter((p: any) => p.type == SUBSCRIBE);
    if (subs.length <= (l.acked || 0)) return;
    const p = subs[l.acked || 0];
    l.acked = (l.acked || 0) + 1;
    w.s.onData(l, mqttSuback(p.id!, codes || p.qoss!));
  }
}
const types = (w: FakeWorld) => w.link.sent.map((p) => p.type);

describe("connect", () => {
  test("CONNECT carries client id, clean flag and the keep-alive clamped to AWS's 30..1200 s", () => {
    for (const [ka, want] of [[5, 30], [0, 60], [60, 60], [5000, 1200]]) {
      const w = new FakeWorld({ keepAlive: ka || undefined, clean: false });
      expect(w.link.opened).toBe(1);
      w.s.onUp(w.link);
      expect(w.link.sent).toEqual([{ type: CONNECT, clientId: "dev1", keepAlive: want, clean: false }]);
      expect(w.s.st).toBe(CONNECTING);
    }
    const w = new FakeWorld({ keepAlive: 2, kaMin: 1, username: "u", password: "p" });
    w.s.onUp(w.link);
    expect(w.link.sent).toEqual([{ type: CONNECT, clientId: "dev1", keepAlive: 2, clean: true, username: "u", password: "p" }]);
  });
  test("CONNACK: connect event with session present; a refusal is an error in plain words and a retry", () => {
    const w = new FakeWorld();
    w.s.onUp(w.link);
    w.s.onData(w.link, mqttConnack(false, 5));
    expect(w.ev(MqttEvent.Error)).toEqual([{ code: MqttErrorCode.BrokerRefused, text: "the broker refused the connection: not authorized" }]);
    expect(w.link.closed).toBe(1);
    expect(w.s.st).toBe(WAIT);
    expect(w.ev(MqttEvent.Log)).toEqual(["mqtt: retry 1 in 500 ms"]);
    w.advance(500);
    expect(w.links.length).toBe(2);
    up(w, true);
    expect(w.ev(MqttEvent.Connected)).toEqual([true]);
    expect(w.s.connected()).toBe(true);
  });
  test("no CONNACK within 30 s, or a transport that never opens -> retry", () => {
    const w = new FakeWorld();
    w.advance(30000);
    expect(w.ev(MqttEvent.Error)[0].text).toBe("timed out opening the connection");
    w.advance(500); // the backoff (random 0.5 of 1 s)
    w.s.onUp(w.link);
    w.advance(29999); // 30 s from the start of the attempt
    expect(w.ev(MqttEvent.Error).length).toBe(1);
    w.advance(1);
    expect(w.ev(MqttEvent.Error)[1]).toEqual({ code: MqttErrorCode.Timeout, text: "no CONNACK in time" });
    expect(w.links.map((l) => l.closed)).toEqual([1, 1]);
  });
  test("an HTTP refusal from the transport reaches the app with status, body and Date", () => {
    const w = new FakeWorld();
    const err = { code: MqttErrorCode.HttpRefused, text: "ws: upgrade refused (HTTP 403)", status: 403, body: '{"message":"Signature expired"}', date: "Sun, 22 Nov 2026 00:00:00 GMT" };
    w.s.onDown(w.link, err.text, err);
    expect(w.ev(MqttEvent.Error)).toEqual([err]);
    expect(w.link.closed).toBe(0); // it closed itself
  });
  test("events from an old transport are ignored", () => {
    const w = new FakeWorld();
    const old = w.link;
    w.s.onDown(old, "socket closed");
    w.advance(1000);
    w.s.onUp(old);
    w.s.onData(old, mqttConnack(false, 0));
    w.s.onDown(old, "late");
    expect(w.s.st).not.toBe(CONNECTED);
    expect(w.links.length).toBe(2);
    expect(w.ev(MqttEvent.Error).length).toBe(1);
    up(w);
    expect(w.s.connected()).toBe(true);
  });
  test("packets a broker must not send close the connection", () => {
    const w = new FakeWorld();
    w.s.onUp(w.link);
    w.s.onData(w.link, mqttPublish("a", "x", 0, false, false, 0));
    expect(w.ev(MqttEvent.Error)).toEqual([{ code: MqttErrorCode.Protocol, text: "unexpected PUBLISH" }]); // before CONNACK
    w.advance(1000);
    up(w);
    w.s.onData(w.link, mqttConnack(false, 0));
    expect(w.ev(MqttEvent.Offline)).toEqual(["unexpected CONNACK"]);
    w.advance(2000);
    up(w);
    w.s.onData(w.link, mqttAck(PUBREL, 3));
    expect(w.ev(MqttEvent.Offline)[1]).toBe("unexpected PUBREL");
  });
});

describe("subscriptions", () => {
  test("restored on every connect one filter at a time, each after the previous SUBACK, the queue behind the last; connect once all acknowledged", () => {
    const w = new FakeWorld();
    for (let i = 0; i < 10; i++) w.s.subscribe("t/" + i + "/#", i % 2);
    w.s.subscribe("t/4/#", 1); // again, with another QoS: replaces
    w.s.publish("out", "queued", 1);
    const l = up(w, false, false);
    expect(types(w)).toEqual([CONNECT, SUBSCRIBE]); // one at a time: a lower memory peak
    const qos = [0, 1, 0, 1, 1, 1, 0, 1, 0, 1];
    for (let i = 0; i < 10; i++) {
      const sub = l.sent.filter((p) => p.type == SUBSCRIBE).pop()!;
      expect(l.sent.filter((p) => p.type == PUBLISH).length).toBe(i < 9 ? 0 : 1); // the queue right behind the last SUBSCRIBE
      expect(sub).toMatchObject({ type: SUBSCRIBE, filters: ["t/" + i + "/#"], qoss: [qos[i]] });
      expect(w.s.st).toBe(SUBSCRIBING);
      expect(w.s.connected()).toBe(false);
      w.s.onData(l, mqttSuback(sub.id!, [i == 3 || i == 8 ? 0x80 : qos[i]]));
    }
    expect(types(w)).toEqual([CONNECT].concat(new Array(10).fill(SUBSCRIBE), [PUBLISH]));
    expect(w.ev(MqttEvent.Error)).toEqual([3, 8].map((i) => ({ code: MqttErrorCode.SubscriptionRefused, text: "subscription refused: t/" + i + "/#", topic: "t/" + i + "/#" })));
    expect(w.ev(MqttEvent.Connected)).toEqual([false]);
    expect(w.s.connected()).toBe(true);
    // reconnect: all of them come back (a refused one is asked again)
    w.s.onDown(l, "socket closed");
    w.advance(2000);
    const l2 = up(w);
    expect(l2.sent.filter((p) => p.type == SUBSCRIBE).map((p) => p.filters!.length)).toEqual(new Array(10).fill(1));
    expect(w.ev(MqttEvent.Connected)).toEqual([false, false]);
  });
  test("each SUBACK has half a keep-alive; subscribe() while subscribing joins the chain, while connected goes out at once", () => {
    const w = new FakeWorld({ keepAlive: 60 });
    w.s.subscribe("a", 1);
    w.s.subscribe("b", 1);
    const l = up(w, false, false);
    w.advance(29999);
    w.s.onData(l, mqttSuback(l.sent[1].id!, [1])); // "a", just in time: "b" gets its own 30 s
    (l as any).acked = 1; // (for subackAll)
    w.s.subscribe("c", 0); // while subscribing: not sent now
    expect(l.sent.filter((p) => p.type == SUBSCRIBE).map((p) => p.filters![0])).toEqual(["a", "b"]);
    w.advance(29999);
    expect(w.ev(MqttEvent.Error)).toEqual([]);
    subackAll(w);
    expect(l.sent.filter((p) => p.type == SUBSCRIBE).map((p) => p.filters![0])).toEqual(["a", "b", "c"]);
    expect(w.s.connected()).toBe(true);
    w.s.subscribe("d", 1);
    expect(l.sent[l.sent.length - 1]).toMatchObject({ type: SUBSCRIBE, filters: ["d"] });
  });
  test("no SUBACK in time (half a keep-alive) -> reconnect", () => {
    const w = new FakeWorld({ keepAlive: 60 });
    w.s.subscribe("a/b", 1);
    up(w, false, false);
    w.advance(30000);
    expect(w.ev(MqttEvent.Error).map((e) => e.text)).toEqual(["no SUBACK in time"]);
    expect(w.ev(MqttEvent.Offline)).toEqual([]);
    expect(w.link.closed).toBe(1);
  });
  test("subscribe while connected; bad filters are refused in plain words", () => {
    const w = new FakeWorld();
    const l = up(w);
    w.s.subscribe("a/#/b", 0);
    w.s.subscribe("a+", 0);
    w.s.subscribe("", 1);
    expect(w.ev(MqttEvent.Error).map((e) => e.text)).toEqual(['bad topic filter "a/#/b"', 'bad topic filter "a+"', 'bad topic filter ""']);
    w.s.subscribe("a/+", 1);
    expect(l.sent[l.sent.length - 1]).toMatchObject({ type: SUBSCRIBE, filters: ["a/+"], qoss: [1] });
    w.s.onData(l, mqttSuback(l.sent[l.sent.length - 1].id!, [0x80]));
    expect(w.ev(MqttEvent.Error).pop().text).toBe("subscription refused: a/+");
    expect(w.ev(MqttEvent.Connected).length).toBe(1);
    expect(w.s.onDown(null)).toEqual(["", "1a/+"]);
  });
  test("stored compactly (front-coded); any set of filters comes back exactly, in order, with the latest QoS", () => {
    const fc = require("fast-check");
    const level = fc.constantFrom("$aws", "things", "t1", "shadow", "update", "+", "a", "", "x".repeat(300));
    const filter = fc.array(level, { minLength: 1, maxLength: 6 }).map((l: string[]) => l.join("/")).filter((f: string) => f.length > 0);
    fc.assert(
      fc.property(fc.array(fc.tuple(filter, fc.integer({ min: 0, max: 1 })), { maxLength: 20 }), (subs: [string, number][]) => {
        const w = new FakeWorld();
        const want = new Map<string, number>();
        for (const [f, q] of subs) {
          w.s.subscribe(f, q);
          want.set(f, q);
        }
        expect(w.s.onDown(null)).toEqual([""].concat([...want].map(([f, q]) => q + f)));
        jest.restoreAllMocks();
      }),
      { numRuns: 300 }
    );
    const w = new FakeWorld();
    for (const x of ["shadow/get/+", "shadow/update/accepted", "shadow/update/rejected", "shadow/update/delta", "jobs/notify-next", "jobs/+/+/+"]) w.s.subscribe("$aws/things/real-1/" + x, 1);
    expect(w.s.subs.length).toBe(98); // 227 characters in full
  });
});

describe("publish, QoS 1 and the offline queue", () => {
  test("QoS 1 keeps its id until PUBACK and is re-sent with DUP after a reconnect", () => {
    const w = new FakeWorld();
    let l = up(w);
    w.s.publish("a", "1", 1);
    w.s.publish("b", "\x00\xff", 0);
    const p1 = l.sent[1];
    expect(p1).toMatchObject({ type: PUBLISH, topic: "a", qos: 1, payload: "1" });
    expect(l.raw[1].charCodeAt(0)).toBe(0x32); // no DUP the first time
    expect(l.sent[2]).toMatchObject({ type: PUBLISH, topic: "b", qos: 0, payload: "\x00\xff" });
    expect(w.s.out.length).toBe(1);
    w.s.onDown(l, "socket closed");
    expect(w.ev(MqttEvent.Offline)).toEqual(["socket closed"]);
    w.advance(1000);
    l = up(w);
    expect(l.sent[1]).toMatchObject({ type: PUBLISH, topic: "a", qos: 1, id: p1.id, payload: "1" });
    expect(l.raw[1].charCodeAt(0)).toBe(0x3a); // DUP
    w.s.onData(l, mqttAck(PUBACK, p1.id!));
    expect(w.s.out).toEqual([]);
  });
  test("packet ids skip the ones still in flight", () => {
    const w = new FakeWorld();
    const l = up(w);
    w.s.nid = 32766;
    w.s.publish("a", "1", 1); // 32767
    w.s.publish("b", "1", 1); // 1
    w.s.onData(l, mqttAck(PUBACK, 1));
    w.s.nid = 32766; // 32767 is still in flight
    w.s.publish("c", "1", 1);
    expect(l.sent.filter((p) => p.type == PUBLISH).map((p) => p.id)).toEqual([32767, 1, 1]);
    w.s.nid = 32766;
    w.s.publish("d", "1", 1);
    expect(l.sent[l.sent.length - 1].id).toBe(2);
  });
  test("a QoS 1 message the broker keeps dropping the connection over is given up after 5 sends", () => {
    const w = new FakeWorld();
    w.s.publish("denied/by/policy", "x", 1);
    for (let i = 0; i < 6; i++) {
      const l = up(w);
      const pubs = l.sent.filter((p) => p.type == PUBLISH);
      expect(pubs.length).toBe(i < 5 ? 1 : 0);
      if (i < 5) expect(l.raw[l.raw.length - 1].charCodeAt(0)).toBe(i ? 0x3a : 0x32);
      w.s.onDown(l, "socket closed"); // what AWS does after a publish its policy denies
      w.advance(w.timerAt - w.now);
    }
    expect(w.ev(MqttEvent.Error).map((e) => e.text)).toEqual(["gave up a QoS 1 message after 5 sends"]);
    expect(w.s.out).toEqual([]);
  });
  test("bounded queue: oldest QoS 0 dropped first, then oldest QoS 1, counted in a QueueFull error", () => {
    const w = new FakeWorld({ queueMax: 3 });
    const pub = (t: string, q: number) => w.s.publish(t, "x", q);
    pub("a0", 0);
    pub("b1", 1);
    pub("c0", 0);
    pub("d1", 1); // drops a0
    pub("e1", 1); // drops c0
    pub("f1", 1); // drops b1
    expect(w.ev(MqttEvent.Error)).toEqual([1, 2, 3].map((n) => ({ code: MqttErrorCode.QueueFull, text: "queue full, dropped a message (" + n + " so far)" })));
    const l = up(w);
    expect(l.sent.filter((p) => p.type == PUBLISH).map((p) => p.topic)).toEqual(["d1", "e1", "f1"]);
  });
  test("QoS 0 queued offline goes out once at the next connect, in order with QoS 1", () => {
    const w = new FakeWorld();
    w.s.publish("q0", "x", 0);
    w.s.publish("q1", "y", 1);
    const l = up(w);
    expect(l.sent.filter((p) => p.type == PUBLISH).map((p) => [p.topic, p.qos])).toEqual([["q0", 0], ["q1", 1]]);
    expect(w.s.out.length).toBe(1);
  });
  test("incoming QoS 1 is delivered then acknowledged; QoS 0 just delivered", () => {
    const w = new FakeWorld();
    w.s.subscribe("in/+", 0);
    const l = up(w);
    w.s.onData(l, mqttPublish("in/x", '{"a":1}', 1, false, false, 9) + mqttPublish("in/y", "\xff", 0, true, false, 0));
    expect(w.ev(MqttEvent.Message).map((m) => [m.topic, m.payload, m.qos, m.retain])).toEqual([["in/x", '{"a":1}', 1, 0], ["in/y", "\xff", 0, 1]]);
    expect(l.sent.filter((p) => p.type == PUBACK)).toEqual([{ type: PUBACK, id: 9 }]);
  });
  test("a message over maxPacket reaches the app as Part slices as it streams in, acknowledged after its last byte", () => {
    const w = new FakeWorld({ maxPacket: 100 });
    w.s.subscribe("in/+", 1);
    const l = up(w);
    const payload = Array.from({ length: 500 }, (_, i) => String.fromCharCode(i & 255)).join("");
    const big = mqttPublish("in/big", payload, 1, false, false, 33);
    const pubacks = () => l.sent.filter((p) => p.type == PUBACK);
    let chunks = 0;
    for (let i = 0; i < big.length; i += 37) {
      w.s.onData(l, big.substr(i, 37));
      chunks++;
      expect(w.ev(MqttEvent.Part).length).toBeLessThanOrEqual(chunks); // at most one slice per chunk
      if (i + 37 < big.length) expect(pubacks()).toEqual([]); // not before the last byte
      expect((w.s.body || "").length).toBeLessThanOrEqual(100); // never buffered whole
    }
    w.s.onData(l, mqttPublish("in/small", "ok", 0, false, false, 0));
    const parts = w.ev(MqttEvent.Part);
    expect(parts.length).toBeGreaterThan(10);
    parts.forEach((p, k) => {
      expect(p).toMatchObject({ topic: "in/big", size: 500, at: parts.slice(0, k).reduce((n, q) => n + q.data.length, 0) });
    });
    expect(parts.map((p) => p.data).join("")).toBe(payload);
    expect(pubacks()).toEqual([{ type: PUBACK, id: 33 }]);
    expect(w.ev(MqttEvent.Message).map((m) => m.topic)).toEqual(["in/small"]); // within maxPacket: one Message
    expect(w.ev(MqttEvent.Error)).toEqual([]);
    expect(w.s.connected()).toBe(true);
  });
  test("a PUBLISH on a topic no subscription matches is ignored with a log line (acknowledged if QoS 1), whole or in parts", () => {
    const w = new FakeWorld({ maxPacket: 100 });
    w.s.subscribe("$aws/things/t1/jobs/+/+/+", 1);
    w.s.subscribe("dev/+/in/#", 1);
    const l = up(w);
    const send = (t: string, p: string, q: number, id: number) => w.s.onData(l, mqttPublish(t, p, q, false, false, id));
    send("x", "{}", 1, 1); // never subscribed (a job notice lookalike)
    send("$aws/things/t1/jobs/notify-next", "{}", 0, 0); // two levels, not three
    send("dev/a/in", "{}", 0, 0); // '#' includes the parent level
    send("dev/a/in/b/c", "{}", 0, 0);
    send("dev/a/out/b", "{}", 1, 2);
    send("$aws/things/t1/jobs/j1/get/accepted", "z".repeat(300), 1, 3); // in parts
    send("other/big", "z".repeat(300), 1, 4); // in parts, not subscribed
    expect(w.ev(MqttEvent.Message).map((m) => m.topic)).toEqual(["dev/a/in", "dev/a/in/b/c"]);
    expect(w.ev(MqttEvent.Part).map((m) => m.topic)).toEqual(["$aws/things/t1/jobs/j1/get/accepted"]);
    expect(w.ev(MqttEvent.Log)).toEqual(["x", "$aws/things/t1/jobs/notify-next", "dev/a/out/b", "other/big"].map((t) => "mqtt: ignored a PUBLISH on " + t + " (not subscribed)"));
    expect(l.sent.filter((p) => p.type == PUBACK).map((p) => p.id)).toEqual([1, 2, 3, 4]);
    expect(w.s.connected()).toBe(true);
  });
  test("a PUBLISH declared longer than AWS can send, or another packet over maxPacket, is a protocol error: the link is dropped and comes back", () => {
    const w = new FakeWorld({ maxPacket: 2048 });
    w.s.subscribe("a/#", 1);
    let l = up(w);
    w.s.onData(l, "\x32\x86\x82\x08"); // remaining length 131334: over AWS's 131332
    expect(l.closed).toBe(1);
    expect(w.ev(MqttEvent.Error)).toEqual([{ code: MqttErrorCode.Protocol, text: "protocol error: a 131338-byte PUBLISH (AWS IoT sends at most 128 KB)", size: 131338 }]);
    expect(w.ev(MqttEvent.Offline)).toEqual(["protocol error: a 131338-byte PUBLISH (AWS IoT sends at most 128 KB)"]);
    w.advance(w.timerAt - w.now);
    l = up(w);
    expect(w.s.connected()).toBe(true);
    w.s.onData(l, mqttSuback(0x8001, new Array(3000).fill(1)));
    expect(w.ev(MqttEvent.Error)[1]).toMatchObject({ code: MqttErrorCode.Protocol, text: "protocol error: a 3005-byte SUBACK (limit 2048)" });
    expect(l.closed).toBe(1);
  });
  test("malformed input closes that connection only; the next one works", () => {
    const w = new FakeWorld();
    const l = up(w);
    w.s.onData(l, "\xf0\x00");
    expect(l.closed).toBe(1);
    expect(w.ev(MqttEvent.Offline)).toEqual(["protocol error: bad packet header 240"]);
    expect(w.ev(MqttEvent.Error)).toEqual([{ code: MqttErrorCode.Protocol, text: "protocol error: bad packet header 240" }]);
    w.advance(1000);
    up(w);
    expect(w.s.connected()).toBe(true);
  });
  test("a packet that makes the app drop the connection: the rest of that chunk is ignored", () => {
    const w = new FakeWorld();
    w.s.subscribe("in/#", 1);
    const l = up(w);
    const env = w.s.e;
    w.s.e = ((a: any, b: any, c: any) => {
      const r = env(a, b, c);
      if (a === MqttEvent.Message) w.s.reconnect("app says so");
      return r;
    }) as MqttEnv;
    w.s.onData(l, mqttPublish("in/1", "x", 1, false, false, 5) + mqttPublish("in/2", "y", 0, false, false, 0));
    expect(w.events.filter((e) => e[0] == MqttEvent.Message).map((e) => e[1].topic)).toEqual(["in/1"]);
    expect(l.sent.map((p) => p.type)).toEqual([CONNECT, SUBSCRIBE, DISCONNECT]); // no PUBACK after the close
    expect(l.closed).toBe(1);
  });
  test("bad topics and QoS 2 are refused in plain words", () => {
    const w = new FakeWorld();
    w.s.publish("a/+", "x", 0);
    w.s.publish("a", "x", 2);
    w.s.publish("", "x", 0);
    w.s.publish("a\x00b", "x", 0);
    expect(w.ev(MqttEvent.Error).map((e) => e.text)).toEqual(['bad topic "a/+"', "publish: bad QoS 2 (0 or 1)", 'bad topic ""', 'bad topic "a\x00b"']);
    expect(w.ev(MqttEvent.Error).map((e) => e.code)).toEqual([1, 2, 3, 4].map(() => MqttErrorCode.BadArgument));
    expect(w.s.out).toEqual([]);
  });
  test("calls with wrong argument types: numbers and booleans are sent as text, the rest refused (BadArgument); never a SUBSCRIBE or a disconnect", () => {
    const w = new FakeWorld();
    w.s.subscribe("keep/#", 1);
    const l = up(w);
    const api: any = w.s;
    api.publish("t/a", 42, 1); // once sent a SUBSCRIBE to t/a
    api.publish("t/c", true, 0);
    api.publish("t/b", undefined, 0); // once closed the link
    api.publish("t/d", null, 0);
    api.publish("t/e", { a: 1 }, 0);
    api.publish("t/f", ["x"], 1);
    api.publish("t/g", "x"); // no QoS
    api.publish("t/h", "x", "1");
    api.publish(42, "x", 0);
    api.publish(undefined, "x", 0);
    api.subscribe("s/a", "1");
    api.subscribe("s/b"); // no QoS
    api.subscribe(42, 1);
    api.subscribe(null, 0);
    api.subscribe(undefined, 1);
    api.subscribe({}, 1);
    const sent = l.sent.filter((p) => p.type != SUBSCRIBE || p.filters![0] != "keep/#");
    expect(sent.map((p) => [p.type, p.topic, p.payload])).toEqual([[CONNECT, undefined, undefined], [PUBLISH, "t/a", "42"], [PUBLISH, "t/c", "true"]]);
    expect(w.ev(MqttEvent.Error)).toEqual([
      { code: MqttErrorCode.BadArgument, text: "publish: the payload must be a string, not undefined", topic: "t/b" },
      { code: MqttErrorCode.BadArgument, text: "publish: the payload must be a string, not null", topic: "t/d" },
      { code: MqttErrorCode.BadArgument, text: "publish: the payload must be a string, not object", topic: "t/e" },
      { code: MqttErrorCode.BadArgument, text: "publish: the payload must be a string, not object", topic: "t/f" },
      { code: MqttErrorCode.BadArgument, text: "publish: bad QoS undefined (0 or 1)", topic: "t/g" },
      { code: MqttErrorCode.BadArgument, text: "publish: bad QoS 1 (0 or 1)", topic: "t/h" },
      { code: MqttErrorCode.BadArgument, text: "publish: the topic must be a string, not number", topic: "42" },
      { code: MqttErrorCode.BadArgument, text: "publish: the topic must be a string, not undefined", topic: "undefined" },
      { code: MqttErrorCode.BadArgument, text: "subscribe: bad QoS 1 (0 or 1)", topic: "s/a" },
      { code: MqttErrorCode.BadArgument, text: "subscribe: bad QoS undefined (0 or 1)", topic: "s/b" },
      { code: MqttErrorCode.BadArgument, text: "subscribe: the filter must be a string, not number", topic: "42" },
      { code: MqttErrorCode.BadArgument, text: "subscribe: the filter must be a string, not object", topic: "null" },
      { code: MqttErrorCode.BadArgument, text: "subscribe: the filter must be a string, not undefined", topic: "undefined" },
      { code: MqttErrorCode.BadArgument, text: "subscribe: the filter must be a string, not object", topic: "[object Object]" },
    ]);
    expect(w.s.onDown(null)).toEqual(["", "1keep/#"]); // nothing remembered
    expect(l.closed).toBe(0);
    expect(w.ev(MqttEvent.Offline)).toEqual([]);
    expect(w.s.connected()).toBe(true);
    expect(w.s.out).toEqual([expect.stringContaining("t/a")]); // the QoS 1 "42" awaits its PUBACK
  });
  test("reconnect(): DISCONNECT, close, and a new attempt after the backoff", () => {
    const w = new FakeWorld();
    const l = up(w);
    w.s.reconnect("renewing the signed connection");
    expect(l.sent.filter((p) => p.type == DISCONNECT).length).toBe(1);
    expect(l.closed).toBe(1);
    expect(w.ev(MqttEvent.Offline)).toEqual(["renewing the signed connection"]);
    expect(w.ev(MqttEvent.Error)).toEqual([]); // asked for: not an error
    w.advance(1000);
    expect(w.links.length).toBe(2);
    w.s.reconnect("while opening"); // not connected: just a new attempt
    expect(w.link.closed).toBe(1);
    expect(w.link.sent).toEqual([]);
    w.s.reconnect("while waiting"); // nothing to do
    w.advance(2000);
    expect(w.links.length).toBe(3);
  });
});

describe("keep-alive and link death", () => {
  test("PINGREQ when idle (a tick every half keep-alive); PINGRESP keeps the link; a missing one declares it dead", () => {
    const w = new FakeWorld({ keepAlive: 30, pingTimeout: 5000 });
    const l = up(w);
    const pings = () => l.sent.filter((p) => p.type == PINGREQ).length;
    w.advance(14999);
    expect(pings()).toBe(0);
    w.advance(1); // nothing sent or received for a whole tick
    expect(pings()).toBe(1);
    w.advance(100);
    w.s.onData(l, MQTT_PINGRESP);
    w.advance(4900); // the PINGRESP deadline passed with an answer; the ping counts as sent
    w.advance(14999);
    expect(pings()).toBe(1);
    w.advance(1); // idle again: 20 s between pings, never more than the keep-alive
    expect(pings()).toBe(2);
    w.advance(4999);
    expect(w.ev(MqttEvent.Offline)).toEqual([]);
    w.advance(1);
    expect(w.ev(MqttEvent.Offline)).toEqual(["no PINGRESP in time: the link is dead"]);
    expect(l.closed).toBe(1);
  });
  test("the PINGRESP deadline counts PINGRESP packets, not bytes: a packet stalled half way does not keep the link", () => {
    const w = new FakeWorld({ keepAlive: 30, pingTimeout: 5000 });
    w.s.subscribe("in/#", 1);
    const l = up(w);
    w.advance(30000); // the first tick saw the SUBSCRIBE and SUBACK; the second pings
    expect(l.sent.filter((p) => p.type == PINGREQ).length).toBe(1);
    const big = mqttPublish("in/x", "y".repeat(1000), 1, false, false, 7);
    for (let i = 0; i < 10; i++) {
      w.s.onData(l, big.substr(i * 50, 50)); // bytes keep coming, the packet never ends
      w.advance(400);
    }
    w.advance(1000);
    expect(w.ev(MqttEvent.Offline)).toEqual(["no PINGRESP in time: the link is dead"]);
    expect(w.ev(MqttEvent.Error)).toEqual([]); // a timeout while connected: Offline says it
    expect(l.closed).toBe(1);
  });
  test("a link that only sends (half-open) is pinged and found dead; traffic both ways needs no ping", () => {
    const w = new FakeWorld({ keepAlive: 30 });
    const l = up(w);
    for (let i = 0; i < 10; i++) {
      w.s.publish("t", "x", 0);
      w.s.onData(l, mqttPublish("in", "y", 0, false, false, 0));
      w.advance(5000);
    }
    expect(l.sent.filter((p) => p.type == PINGREQ).length).toBe(0);
    for (let i = 0; i < 10 && !w.ev(MqttEvent.Offline).length; i++) {
      w.s.publish("t", "x", 0);
      w.advance(5000);
    }
    expect(l.sent.filter((p) => p.type == PINGREQ).length).toBe(1);
    expect(w.ev(MqttEvent.Offline)).toEqual(["no PINGRESP in time: the link is dead"]);
  });
  test("the session reads no clock: Date.now jumping back or forth changes nothing", () => {
    let now = 5e12;
    jest.spyOn(Date, "now").mockImplementation(() => (now = now > 1e12 ? 1000 : 9e12));
    const w = new FakeWorld({ keepAlive: 30 });
    const l = up(w);
    const pings = () => l.sent.filter((p) => p.type == PINGREQ).length;
    for (let i = 0, n = 0; i < 120; i++) {
      w.advance(1000);
      if (pings() > n) {
        n = pings();
        w.s.onData(l, MQTT_PINGRESP);
      }
    }
    expect(pings()).toBe(5); // at 15, 40, 65, 90, 115 s (the tick after a ping comes at its 10 s deadline)
    expect(w.ev(MqttEvent.Offline)).toEqual([]);
  });
});

describe("backoff", () => {
  test("full jitter, 1 s doubling to a 2 min cap, reset after a stable connection", () => {
    const w = new FakeWorld({ keepAlive: 60 });
    w.rand = 0.999999;
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      w.s.onDown(w.link, "refused");
      delays.push(w.timerAt - w.now);
      w.advance(w.timerAt - w.now);
    }
    expect(delays).toEqual([999, 1999, 3999, 7999, 15999, 31999, 63999, 119999, 119999, 119999]);
    up(w);
    w.advance(29000);
    w.s.onDown(w.link, "lost");
    expect(w.timerAt - w.now).toBe(119999); // not stable long enough
    w.advance(w.timerAt - w.now);
    up(w);
    w.advance(30000); // half a keep-alive
    w.s.onDown(w.link, "lost");
    expect(w.timerAt - w.now).toBe(999);
    w.rand = 0;
    w.advance(999);
    w.s.onDown(w.link, "x");
    expect(w.timerAt - w.now).toBe(0);
  });
  test("backoffMin and backoffMax", () => {
    const w = new FakeWorld({ backoffMin: 100, backoffMax: 250 });
    w.rand = 0.999999;
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      w.s.onDown(w.link, "refused");
      delays.push(w.timerAt - w.now);
      w.advance(w.timerAt - w.now);
    }
    expect(delays).toEqual([99, 199, 249, 249]);
  });
});

describe("no growth across thousands of reconnects", () => {
  test("5000 cycles: queue, subscriptions, session properties and the timer stay flat", () => {
    const w = new FakeWorld({ queueMax: 5, keepAlive: 30, pingTimeout: 2000 });
    for (let i = 0; i < 12; i++) w.s.subscribe("s/" + i, 1);
    const subs = w.s.subs;
    const sizes = new Set<string>();
    const wakesPerCycle = new Set<number>();
    for (let c = 0; c < 5000; c++) {
      const before = w.wakes;
      const l = up(w, false, c % 3 > 0);
      w.s.publish("p", "m" + c, 1);
      w.s.publish("p", "z", 0);
      w.s.onData(l, mqttPublish("s/1", "x", 1, false, false, (c % 65535) + 1));
      if (c % 2) while (w.s.st != WAIT) w.advance(w.timerAt - w.now); // no SUBACK / PINGRESP in time: the session closes the link
      else w.s.onDown(l, "socket closed"); // the link reports its end: nothing to close
      w.s.publish("p", "offline", c % 2);
      w.advance(w.timerAt - w.now);
      wakesPerCycle.add(w.wakes - before);
      if (c > 10) {
        sizes.add([w.s.out.length, Object.keys(w.s).length, w.s.body].join(","));
        expect(w.links[w.links.length - 2].closed).toBe(c % 2);
        expect(w.link.closed).toBe(0);
      }
      w.links.splice(0, w.links.length - 1); // the test's own history, not the session's
      w.events.length = 0;
    }
    expect(w.s.out.length).toBeLessThanOrEqual(5);
    expect(w.s.subs).toBe(subs);
    expect(sizes.size).toBeLessThanOrEqual(2);
    expect(Math.max(...wakesPerCycle)).toBeLessThan(12 + 12); // 12 filters: one SUBSCRIBE (and its deadline) each
  });
});
