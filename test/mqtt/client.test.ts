// The device client (createMqttClient) end to end over a fake socket module and jest's fake
// timers: URL re-signed per attempt, one timer at most, and nothing grows over 2000 reconnects
// (the session alone is cycled 5000 times in session.test.ts); log lines; app handler errors.
jest.mock("crypto", () => require("../support/espruino-crypto").espruinoCrypto());
import { createHash } from "crypto";
import { EventEmitter } from "events";
import { createMqttClient } from "../../firmware/mqtt/client";
import { MqttErrorCode, MqttEvent } from "../../firmware/mqtt/events";
import { WS_GUID } from "../../firmware/ws/handshake";

class FakeSock extends EventEmitter {
  written: string[] = [];
  ended = 0;
  write(s: string) {
    this.written.push(s);
    return true;
  }
  end() {
    this.ended++;
  }
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

// the upgrade answer, CONNACK and (with `sub`) the SUBACK for the one restored subscription
function answer(s: FakeSock, sub = true) {
  const key = /Sec-WebSocket-Key: (\S+)/.exec(s.written[0])![1];
  const acc = createHash("sha1").update(key + WS_GUID).digest("base64");
  s.emit("data", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acc + "\r\n\r\n" + "\x82\x04\x20\x02\x00\x00" + (sub ? "\x82\x05\x90\x03\x80\x01\x01" : ""));
}

test("2000 reconnects through the real adapter: one timer, one live socket, flat state, a fresh URL each time", () => {
  const socks: FakeSock[] = [];
  let opened = 0;
  const net = {
    connect() {
      opened++;
      const s = new FakeSock();
      socks.push(s);
      return s;
    },
  };
  let signed = 0;
  const events: Record<number, number> = {};
  const log = jest.spyOn(console, "log").mockImplementation(() => {});
  const c = createMqttClient({
    clientId: "t1",
    net,
    keepAlive: 30,
    backoffMin: 10,
    backoffMax: 50,
    open: (cb) => cb(null, "ws://example.test/mqtt?sig=" + ++signed),
    onEvent: (t) => (events[t] = (events[t] || 0) + 1),
  });
  c.subscribe("a/#", 1);
  const shape = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const s = socks[socks.length - 1];
    expect(s.written.length).toBe(1); // the upgrade request, written at connect()
    answer(s);
    expect(c.connected()).toBe(true);
    expect(jest.getTimerCount()).toBe(1);
    c.publish("p", "x", 1);
    if (i % 2) s.emit("close", false);
    else jest.advanceTimersByTime(40000); // PINGREQ, then no PINGRESP: the client ends the socket
    expect(c.connected()).toBe(false);
    expect(s.ended).toBe(1);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(60);
    expect(opened).toBe(i + 2);
    socks[socks.length - 2].removeAllListeners(); // the test's own references
    if (i > 50) shape.add([c.out.length, c.subs, Object.keys(c).length].join(","));
    if (i > 100) socks.splice(0, socks.length - 1);
  }
  expect(signed).toBe(2001);
  expect(events[MqttEvent.Connected]).toBe(2000);
  expect(events[MqttEvent.Offline]).toBe(2000);
  expect(shape.size).toBe(1);
  expect(c.out.length).toBe(5); // never acknowledged QoS 1 publishes: given up after 5 sends each
  expect(events[MqttEvent.Error]).toBe(1995); // "gave up a QoS 1 message after 5 sends"
  log.mockRestore();
});

// a net module handing out FakeSocks, and the console captured
function fakeConsoleBoard() {
  const socks: FakeSock[] = [];
  const net = { connect: () => (socks.push(new FakeSock()), socks[socks.length - 1]) };
  const lines: string[] = [];
  const log = jest.spyOn(console, "log").mockImplementation((l: string) => lines.push(l));
  return { socks, net, lines, log };
}

test("log lines are printed for the serial console; a 403 reaches the app with its Date", () => {
  const { socks, net, lines, log } = fakeConsoleBoard();
  const errs: any[] = [];
  const c = createMqttClient({ clientId: "t1", net, open: (cb) => cb(null, "wss://h/mqtt"), onEvent: (t, a) => t == MqttEvent.Error && errs.push(a) });
  socks[0].emit("data", "HTTP/1.1 403 Forbidden\r\nDate: Sun, 22 Nov 2026 00:30:00 GMT\r\nContent-Length: 2\r\n\r\n{}");
  expect(errs).toEqual([{ code: MqttErrorCode.HttpRefused, text: "ws: upgrade refused (HTTP 403)", status: 403, body: "{}", date: "Sun, 22 Nov 2026 00:30:00 GMT" }]);
  expect(lines[0]).toBe("[W] mqtt: ws: upgrade refused (HTTP 403)");
  expect(lines[1]).toMatch(/^\[I\] mqtt: retry 1 in \d+ ms$/);
  expect(c.connected()).toBe(false);
  log.mockRestore();
});

test("an exception in the app's event handler is logged and changes nothing", () => {
  const { socks, net, lines, log } = fakeConsoleBoard();
  const c = createMqttClient({
    clientId: "t1",
    net,
    open: (cb) => cb(null, "ws://h/mqtt"),
    onEvent: (t) => {
      if (t == MqttEvent.Message || t == MqttEvent.Connected) throw new Error("app bug");
    },
  });
  c.subscribe("a", 1);
  answer(socks[0]);
  expect(c.connected()).toBe(true);
  // a QoS 1 PUBLISH (id 5) in a binary frame: delivered (the handler throws), still acknowledged
  socks[0].emit("data", "\x82\x08\x32\x06\x00\x01a\x00\x05x");
  expect(lines.filter((l) => /threw/.test(l))).toEqual(["[E] mqtt: event " + MqttEvent.Connected + " handler threw: Error: app bug", "[E] mqtt: event " + MqttEvent.Message + " handler threw: Error: app bug"]);
  // client frames: 0x82, 0x80 | length, the 4-byte mask, the masked packet
  const unmask = (f: string) => f.substr(6).replace(/[^]/g, (ch, i) => String.fromCharCode(ch.charCodeAt(0) ^ f.charCodeAt(2 + (i % 4))));
  const sent = socks[0].written.slice(1).map(unmask);
  expect(sent.length).toBe(3); // CONNECT, SUBSCRIBE, PUBACK
  expect(sent[2]).toBe("\x40\x02\x00\x05");
  expect(c.connected()).toBe(true);
  jest.advanceTimersByTime(1000);
  expect(socks.length).toBe(1);
  log.mockRestore();
});

// On Espruino (and in the simulator) a socket data handler that runs out of memory is removed and
// the error flags say MEMORY; the client's timer looks every 2 s and drops such a link.
describe("a link made deaf by running out of memory is dropped within seconds and comes back", () => {
  let flags: string[] = [];
  beforeEach(() => {
    flags = [];
    (global as any).E = { getErrorFlags: () => flags.splice(0) };
  });
  afterEach(() => delete (global as any).E);
  // a socket that keeps its data handler where Espruino does ("#ondata")
  class EspSock extends FakeSock {
    on(ev: string, f: any): this {
      if (ev == "data") (this as any)["#ondata"] = f;
      return super.on(ev, (...a: any[]) => (ev != "data" || (this as any)["#ondata"]) && f.apply(this, a));
    }
  }
  for (const cause of ["the handler was removed", "the MEMORY flag"]) {
    test(cause, () => {
      const socks: EspSock[] = [];
      const net = { connect: () => (socks.push(new EspSock()), socks[socks.length - 1]) };
      const errs: any[] = [];
      const log = jest.spyOn(console, "log").mockImplementation(() => {});
      const c = createMqttClient({ clientId: "t1", net, keepAlive: 60, backoffMin: 100, backoffMax: 100, open: (cb) => cb(null, "ws://h/mqtt"), onEvent: (t, a) => t == MqttEvent.Error && errs.push(a) });
      c.subscribe("a/#", 1);
      answer(socks[0]);
      expect(c.connected()).toBe(true);
      jest.advanceTimersByTime(10000); // healthy: nothing happens
      expect(c.connected()).toBe(true);
      expect(jest.getTimerCount()).toBe(1);
      if (cause == "the MEMORY flag") flags.push("CALLBACK", "LOW_MEMORY", "MEMORY");
      else delete (socks[0] as any)["#ondata"];
      jest.advanceTimersByTime(2000);
      expect(c.connected()).toBe(false);
      expect(socks[0].ended).toBe(1);
      expect(errs).toEqual([{ code: MqttErrorCode.OutOfMemory, text: cause == "the MEMORY flag" ? "ws: out of memory; dropping the link" : "ws: the socket lost its data handler; dropping the link" }]);
      jest.advanceTimersByTime(100);
      expect(socks.length).toBe(2);
      answer(socks[1]);
      expect(c.connected()).toBe(true);
      log.mockRestore();
    });
  }
});
