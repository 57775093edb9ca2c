// The session state machine against a fake transport and a fake clock.
import {
  CONNECT, DISCONNECT, PINGREQ, PUBACK, PUBLISH, SUBSCRIBE, UNSUBSCRIBE,
  mqttAck, mqttConnack, mqttPublish, mqttSuback, MQTT_PINGRESP, UNSUBACK,
} from "../../firmware/mqtt/codec";
import { CONNECTED, WAIT } from "../../firmware/mqtt/session";
import { FakeWorld } from "./fake";

function up(w: FakeWorld, sp = false) {
  const l = w.link;
  w.s.onUp(l);
  w.s.onData(l, mqttConnack(sp, 0));
  return l;
}
// answers every SUBSCRIBE with all-granted
function subackAll(w: FakeWorld, codes?: number[]) {
  const l = w.link;
  for (const p of l.sent.filter((p) => p.type == SUBSCRIBE)) w.s.onData(l, mqttSuback(p.id!, codes || p.qoss!));
}

describe("connect", () => {
  test("CONNECT carries client id, clean flag and the keep-alive clamped to AWS's 30..1200 s", () => {
    for (const [ka, want] of [[5, 30], [0, 60], [60, 60], [5000, 1200]]) {
      const w = new FakeWorld({ keepAlive: ka || undefined, clean: false });
      w.s.start();
      expect(w.link.opened).toBe(1);
      w.s.onUp(w.link);
      expect(w.link.sent).toEqual([{ type: CONNECT, clientId: "dev1", keepAlive: want, clean: false }]);
    }
  });
  test("CONNACK: connect event; a refusal is an error in plain words and a retry", () => {
    const w = new FakeWorld();
    w.s.start();
    w.s.onUp(w.link);
    w.s.onData(w.link, mqttConnack(false, 5));
    expect(w.ev("error")[0].msg).toMatch(/refused the connection \(refused: not authorized\)/);
    expect(w.link.closed).toBe(1);
    expect(w.s.st).toBe(WAIT);
    w.advance(1000);
    expect(w.links.length).toBe(2);
    up(w, true);
    expect(w.ev("connect")).toEqual([true]);
    expect(w.s.connected()).toBe(true);
  });
  test("no CONNACK in time or a transport that never opens -> retry", () => {
    const w = new FakeWorld({ connectTimeout: 5000 });
    w.s.start();
    w.advance(5000);
    expect(w.ev("error")[0].msg).toMatch(/timed out opening/);
    w.advance(1000);
    w.s.onUp(w.link);
    w.advance(5000);
    expect(w.ev("error")[1].msg).toMatch(/no CONNACK/);
  });
  test("an HTTP refusal from the transport reaches the app with status, body and Date", () => {
    const w = new FakeWorld();
    w.s.start();
    const err = { msg: "WebSocket upgrade refused: HTTP 403 Forbidden", status: 403, body: '{"message":"Signature expired"}', date: "Sun, 22 Nov 2026 00:00:00 GMT" };
    w.s.onDown(w.link, err.msg, err);
    expect(w.ev("error")).toEqual([err]);
  });
  test("events from an old transport are ignored", () => {
    const w = new FakeWorld();
    w.s.start();
    const old = w.link;
    w.s.onDown(old, "socket closed");
    w.advance(1000);
    w.s.onUp(old);
    w.s.onData(old, mqttConnack(false, 0));
    w.s.onDown(old, "late");
    expect(w.s.st).not.toBe(CONNECTED);
    expect(w.links.length).toBe(2);
    up(w);
    expect(w.s.connected()).toBe(true);
  });
});

describe("subscriptions", () => {
  test("restored on every connect, 8 filters per SUBSCRIBE, before queued publishes", () => {
    const w = new FakeWorld();
    const got: any[] = [];
    for (let i = 0; i < 10; i++) w.s.subscribe("t/" + i + "/#", i % 2, (e, q) => got.push([i, e, q]));
    w.s.publish("out", "queued", 1);
    w.s.start();
    const l = up(w);
    expect(l.sent.map((p) => p.type)).toEqual([CONNECT, SUBSCRIBE, SUBSCRIBE, PUBLISH]);
    expect(l.sent[1].filters!.length).toBe(8);
    expect(l.sent[2].filters).toEqual(["t/8/#", "t/9/#"]);
    expect(l.sent[2].qoss).toEqual([0, 1]);
    const codes = [0, 1, 0, 0x80, 0, 1, 0, 1];
    w.s.onData(l, mqttSuback(l.sent[1].id!, codes));
    w.s.onData(l, mqttSuback(l.sent[2].id!, [0, 1]));
    expect(got.find((g) => g[0] == 3)).toEqual([3, "subscription refused", 0x80]);
    expect(got.find((g) => g[0] == 5)).toEqual([5, null, 1]);
    expect(w.ev("error").map((e) => e.msg)).toEqual(["the broker refused the subscription to t/3/#"]);
    // reconnect: the refused filter is forgotten, the rest come back
    w.s.onDown(l, "socket closed");
    w.advance(2000);
    const l2 = up(w);
    const subs = l2.sent.filter((p) => p.type == SUBSCRIBE);
    expect(subs.map((p) => p.filters!.length)).toEqual([8, 1]);
    expect(subs[0].filters).not.toContain("t/3/#");
  });
  test("subscribe/unsubscribe while connected; bad filters are refused in plain words", () => {
    const w = new FakeWorld();
    w.s.start();
    const l = up(w);
    const res: any[] = [];
    expect(w.s.subscribe("a/#/b", 0, (e) => res.push(e))).toBe(false);
    expect(w.s.subscribe("a+", 0, (e) => res.push(e))).toBe(false);
    expect(res).toEqual(["'#' must be the last level on its own in a/#/b", "'+' must fill a whole level in a+"]);
    w.s.subscribe("a/+", 1, (e, q) => res.push([e, q]));
    subackAll(w);
    expect(res[2]).toEqual([null, 1]);
    w.s.unsubscribe("a/+", (e) => res.push(["unsub", e]));
    const u = l.sent[l.sent.length - 1];
    expect(u.type).toBe(UNSUBSCRIBE);
    w.s.onData(l, mqttAck(UNSUBACK, u.id!));
    expect(res[3]).toEqual(["unsub", null]);
    expect(w.s.subs).toEqual([]);
  });
  test("persistent session: an unsubscribe made offline is sent at the next connect", () => {
    const w = new FakeWorld({ clean: false });
    w.s.start();
    w.s.onDown(w.link, "x");
    w.s.unsubscribe("old/#");
    w.advance(1000);
    const l = up(w);
    expect(l.sent.filter((p) => p.type == UNSUBSCRIBE).map((p) => p.filters)).toEqual([["old/#"]]);
  });
});

describe("publish, QoS 1 and the offline queue", () => {
  test("QoS 1 keeps its id until PUBACK and is re-sent with DUP after a reconnect", () => {
    const w = new FakeWorld();
    w.s.start();
    let l = up(w);
    const acks: any[] = [];
    w.s.publish("a", "1", 1, (e) => acks.push(["a", e]));
    w.s.publish("b", "\x00\xff", 0, (e) => acks.push(["b", e]));
    const p1 = l.sent[1];
    expect(p1).toMatchObject({ type: PUBLISH, topic: "a", qos: 1, dup: false });
    expect(l.sent[2]).toMatchObject({ type: PUBLISH, topic: "b", qos: 0, payload: "\x00\xff" });
    expect(acks).toEqual([["b", null]]);
    w.s.onDown(l, "socket closed");
    expect(w.ev("offline")).toEqual(["socket closed"]);
    w.advance(1000);
    l = up(w);
    expect(l.sent[1]).toMatchObject({ type: PUBLISH, topic: "a", qos: 1, dup: true, id: p1.id });
    w.s.onData(l, mqttAck(PUBACK, p1.id!));
    expect(acks).toEqual([["b", null], ["a", null]]);
    expect(w.s.out).toEqual([]);
  });
  test("a QoS 1 message the broker keeps dropping the connection over is given up after maxSends", () => {
    const w = new FakeWorld({ maxSends: 3 });
    w.s.start();
    const res: any[] = [];
    w.s.publish("denied/by/policy", "x", 1, (e) => res.push(e));
    for (let i = 0; i < 4; i++) {
      const l = up(w);
      if (i < 3) expect(l.sent.filter((p) => p.type == PUBLISH).map((p) => p.dup)).toEqual([i > 0]);
      else expect(l.sent.filter((p) => p.type == PUBLISH)).toEqual([]);
      w.s.onDown(l, "socket closed"); // what AWS does after a publish its policy denies
      w.advance(5000);
    }
    expect(res).toEqual(["not acknowledged after 3 sends"]);
    expect(w.ev("error").map((e) => e.msg)).toEqual(["gave up on a QoS 1 message to denied/by/policy after 3 sends without PUBACK"]);
    expect(w.s.out).toEqual([]);
  });
  test("bounded queue: oldest QoS 0 dropped first, then oldest QoS 1, counted in a log line", () => {
    const w = new FakeWorld({ queueMax: 3 });
    const res: any[] = [];
    const pub = (t: string, q: number) => w.s.publish(t, "x", q, (e) => res.push([t, e]));
    pub("a0", 0);
    pub("b1", 1);
    pub("c0", 0);
    pub("d1", 1); // drops a0
    pub("e1", 1); // drops c0
    pub("f1", 1); // drops b1
    expect(res).toEqual([["a0", "dropped: outbound queue full"], ["c0", "dropped: outbound queue full"], ["b1", "dropped: outbound queue full"]]);
    expect(w.ev("log").filter((l) => /queue full/.test(l)).pop()).toMatch(/dropped the oldest QoS 1 message to b1 \(3 dropped so far\)/);
    w.s.start();
    const l = up(w);
    expect(l.sent.filter((p) => p.type == PUBLISH).map((p) => p.topic)).toEqual(["d1", "e1", "f1"]);
  });
  test("incoming QoS 1 is delivered then acknowledged; QoS 0 just delivered", () => {
    const w = new FakeWorld();
    w.s.start();
    const l = up(w);
    w.s.onData(l, mqttPublish("in/x", '{"a":1}', 1, false, false, 9) + mqttPublish("in/y", "\xff", 0, true, false, 0));
    expect(w.ev("message").map((m) => [m.topic, m.payload, m.qos, m.retain])).toEqual([["in/x", '{"a":1}', 1, false], ["in/y", "\xff", 0, true]]);
    expect(l.sent.filter((p) => p.type == PUBACK)).toEqual([{ type: PUBACK, id: 9 }]);
  });
  test("an oversize message is skipped, reported, acknowledged; the next one arrives", () => {
    const w = new FakeWorld({ maxPacket: 100 });
    w.s.start();
    const l = up(w);
    const big = mqttPublish("in/big", "B".repeat(500), 1, false, false, 33);
    for (let i = 0; i < big.length; i += 37) w.s.onData(l, big.substr(i, 37));
    w.s.onData(l, mqttPublish("in/small", "ok", 0, false, false, 0));
    expect(w.ev("error").map((e) => e.msg)).toEqual(["skipped a " + big.length + "-byte PUBLISH on in/big: over the 100-byte limit"]);
    expect(l.sent.filter((p) => p.type == PUBACK)).toEqual([{ type: PUBACK, id: 33 }]);
    expect(w.ev("message").map((m) => m.topic)).toEqual(["in/small"]);
    expect(w.s.connected()).toBe(true);
  });
  test("malformed input closes that connection only; the next one works", () => {
    const w = new FakeWorld();
    w.s.start();
    const l = up(w);
    w.s.onData(l, "\xf0\x00");
    expect(l.closed).toBe(1);
    expect(w.ev("offline")[0]).toMatch(/protocol error from the broker: reserved packet type 15/);
    w.advance(1000);
    up(w);
    expect(w.s.connected()).toBe(true);
  });
  test("app callbacks and handlers that throw are logged and change nothing", () => {
    const w = new FakeWorld();
    w.env.event = (t, a) => {
      w.events.push([t, a]);
      if (t == "message") throw new Error("app bug");
    };
    w.s.start();
    const l = up(w);
    w.s.publish("a", "1", 1, () => {
      throw new Error("cb bug");
    });
    w.s.onData(l, mqttAck(PUBACK, l.sent[1].id!) + mqttPublish("in", "x", 1, false, false, 5) + MQTT_PINGRESP);
    expect(w.ev("log").filter((x) => /threw/.test(x))).toEqual(["app callback threw: Error: cb bug", "app handler for 'message' threw: Error: app bug"]);
    expect(l.sent.filter((p) => p.type == PUBACK)).toEqual([{ type: PUBACK, id: 5 }]);
    expect(w.s.connected()).toBe(true);
    expect(w.s.out).toEqual([]);
  });
  test("bad topics and QoS 2 are refused in plain words", () => {
    const w = new FakeWorld();
    const res: any[] = [];
    w.s.publish("a/+", "x", 0, (e) => res.push(e));
    w.s.publish("a", "x", 2, (e) => res.push(e));
    w.s.publish("", "x", 0, (e) => res.push(e));
    expect(res).toEqual(["topic may not contain wildcards: a/+", "QoS 2 is not supported", "topic is empty"]);
  });
  test("reconnect(): DISCONNECT, close, and a new attempt after the (reset) backoff", () => {
    const w = new FakeWorld();
    w.s.start();
    const l = up(w);
    w.advance(20_000);
    w.s.reconnect("renewing the signed connection");
    expect(l.sent.filter((p) => p.type == DISCONNECT).length).toBe(1);
    expect(l.closed).toBe(1);
    expect(w.ev("offline")).toEqual(["renewing the signed connection"]);
    w.advance(1000);
    expect(w.links.length).toBe(2);
    w.s.reconnect("while opening"); // not connected: just a new attempt
    expect(w.link.closed).toBe(1);
    w.advance(2000);
    expect(w.links.length).toBe(3);
  });
  test("end(): DISCONNECT, timer cancelled, no reconnect, pending callbacks told", () => {
    const w = new FakeWorld();
    w.s.start();
    const l = up(w);
    const res: any[] = [];
    w.s.publish("a", "1", 1, (e) => res.push(e));
    w.s.end();
    expect(l.sent.pop()).toEqual({ type: DISCONNECT });
    expect(l.closed).toBe(1);
    expect(w.timerAt).toBe(-1);
    expect(res).toEqual(["client ended"]);
    w.advance(1e9);
    expect(w.links.length).toBe(1);
  });
});

describe("keep-alive and link death", () => {
  test("PINGREQ when idle; PINGRESP keeps the link; a missing PINGRESP declares it dead", () => {
    const w = new FakeWorld({ keepAlive: 30, pingTimeout: 5000 });
    w.s.start();
    const l = up(w);
    w.advance(29999);
    expect(l.sent.filter((p) => p.type == PINGREQ).length).toBe(0);
    w.advance(1);
    expect(l.sent.filter((p) => p.type == PINGREQ).length).toBe(1);
    w.advance(100);
    w.s.onData(l, MQTT_PINGRESP);
    w.advance(30000);
    expect(l.sent.filter((p) => p.type == PINGREQ).length).toBe(2);
    w.advance(5000);
    expect(w.ev("offline")).toEqual(["no PINGRESP from the broker in time: the link is dead"]);
    expect(l.closed).toBe(1);
  });
  test("a clock that jumps backwards does not stop the pings (at most one keep-alive late)", () => {
    const w = new FakeWorld({ keepAlive: 30, pingTimeout: 5000 });
    w.s.start();
    const l = up(w);
    w.now -= 600_000; // setTime() backwards; Espruino shifts pending timers with it
    w.timerAt -= 600_000;
    w.advance(60000);
    expect(l.sent.filter((p) => p.type == PINGREQ).length).toBe(1);
    w.s.onData(l, MQTT_PINGRESP);
    w.advance(30000);
    expect(l.sent.filter((p) => p.type == PINGREQ).length).toBe(2);
    expect(w.ev("offline")).toEqual([]);
  });
});

describe("backoff", () => {
  test("full jitter, 1 s doubling to a 2 min cap, reset after a stable connection", () => {
    const w = new FakeWorld();
    w.rand = 0.999999;
    w.s.start();
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      w.s.onDown(w.link, "refused");
      delays.push(w.timerAt - w.now);
      w.advance(w.timerAt - w.now);
    }
    expect(delays).toEqual([999, 1999, 3999, 7999, 15999, 31999, 63999, 119999, 119999, 119999]);
    up(w);
    w.advance(30000);
    w.s.onDown(w.link, "lost");
    expect(w.timerAt - w.now).toBe(119999); // not stable long enough
    w.advance(w.timerAt - w.now);
    up(w);
    w.advance(61000);
    w.s.onDown(w.link, "lost");
    expect(w.timerAt - w.now).toBe(999);
    w.rand = 0;
    w.advance(999);
    w.s.onDown(w.link, "x");
    expect(w.timerAt - w.now).toBe(0);
  });
});

describe("no growth across thousands of reconnects", () => {
  test("5000 cycles: queues, pending acks, subscriptions and the timer stay flat", () => {
    const w = new FakeWorld({ queueMax: 5, keepAlive: 30, pingTimeout: 2000 });
    w.s.start();
    for (let i = 0; i < 12; i++) w.s.subscribe("s/" + i, 1);
    const sizes = new Set<string>();
    let wakesPerCycle = new Set<number>();
    for (let c = 0; c < 5000; c++) {
      const before = w.wakes;
      const l = up(w);
      if (c % 3) subackAll(w);
      w.s.publish("p", "m" + c, 1);
      w.s.publish("p", "z", 0);
      w.s.onData(l, mqttPublish("s/1", "x", 1, false, false, (c % 65535) + 1));
      if (c % 2) w.advance(32000); // ping timeout path: the session closes the link
      else w.s.onDown(l, "socket closed"); // the link reports its end: nothing to close
      w.s.publish("p", "offline", c % 2);
      w.advance(w.timerAt - w.now);
      wakesPerCycle.add(w.wakes - before);
      if (c > 10) {
        sizes.add([w.s.out.length, w.s.pend.length, w.s.subs.length, w.s.gone.length, Object.keys(w.s).length].join(","));
        // the previous link was closed by the session exactly when it declared it dead
        expect(w.links[w.links.length - 2].closed).toBe(c % 2);
        expect(w.link.closed).toBe(0);
      }
      w.links.splice(0, w.links.length - 1); // the test's own history, not the session's
      w.events.length = 0;
    }
    expect(w.s.out.length).toBeLessThanOrEqual(5);
    expect(w.s.pend.length).toBe(0);
    expect(w.s.subs.length).toBe(12);
    expect(sizes.size).toBeLessThanOrEqual(2);
    expect(Math.max(...wakesPerCycle)).toBeLessThan(12);
  });
});
