// Opening handshake (pure parts) and the socket adapter over a fake socket module.
jest.mock("crypto", () => require("../support/espruino-crypto").espruinoCrypto());
import { createHash } from "crypto";
import { EventEmitter } from "events";
import { WS_GUID, wsCheckHead, wsParseHead, wsParseUrl, wsRequest } from "../../firmware/ws/handshake";
import { WsLink } from "../../firmware/ws/socket";
import { wsFrame } from "../../firmware/ws/frame";

const accept = (key: string) => createHash("sha1").update(key + WS_GUID).digest("base64");

test("URLs: scheme, signed host with port, path and query", () => {
  expect(wsParseUrl("wss://abc-ats.iot.eu-west-1.amazonaws.com/mqtt?X-Amz-Date=1&b=%2F")).toEqual({
    tls: true, host: "abc-ats.iot.eu-west-1.amazonaws.com", name: "abc-ats.iot.eu-west-1.amazonaws.com", port: 443, path: "/mqtt?X-Amz-Date=1&b=%2F",
  });
  expect(wsParseUrl("ws://127.0.0.1:8883/mqtt")).toEqual({ tls: false, host: "127.0.0.1:8883", name: "127.0.0.1", port: 8883, path: "/mqtt" });
  expect(wsParseUrl("ws://h")).toMatchObject({ port: 80, path: "/" });
  expect(wsParseUrl("ws://h?x=1")).toMatchObject({ host: "h", path: "/?x=1" });
  expect(wsParseUrl("http://h/")).toBe("URL must start with ws:// or wss://");
  expect(wsParseUrl("ws://h:0/")).toBe("URL has no valid host and port");
});

test("upgrade request", () => {
  expect(wsRequest("/mqtt?a=1", "example.com:8443", "dGhlIHNhbXBsZSBub25jZQ==")).toBe(
    "GET /mqtt?a=1 HTTP/1.1\r\nHost: example.com:8443\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"
  );
});

test("response head parsing and checks (RFC 6455 sample key)", () => {
  const ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: mqtt\r\n\r\nXY";
  expect(wsParseHead(ok.substr(0, 40))).toBeNull();
  const h = wsParseHead(ok)!;
  expect(h).toMatchObject({ status: 101, accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", proto: "mqtt", len: ok.length - 2 });
  expect(wsCheckHead(h, accept("dGhlIHNhbXBsZSBub25jZQ=="))).toBe("");
  expect(wsCheckHead(h, "other")).toMatch(/wrong Sec-WebSocket-Accept/);
  expect(wsCheckHead(wsParseHead(ok.replace("mqtt", "wamp"))!, h.accept)).toMatch(/subprotocol wamp/);
  expect(wsCheckHead(wsParseHead("HTTP/1.1 101 X\r\n\r\n")!, "")).toMatch(/lacks Upgrade/);
  const f = wsParseHead("HTTP/1.1 403 Forbidden\r\ndate: Sun, 22 Nov 2026 00:15:00 GMT\r\nContent-Length: 27\r\n\r\n")!;
  expect(f).toMatchObject({ status: 403, reason: "Forbidden", date: "Sun, 22 Nov 2026 00:15:00 GMT", clen: 27 });
  expect(wsCheckHead(f, "")).toBe("WebSocket upgrade refused: HTTP 403 Forbidden");
});

test("a garbage status line or subprotocol reaches the log as short printable ASCII", () => {
  const junk = "HTTP/1.1 0 \u00d9\u00ff\u0001" + "x".repeat(100) + "\r\nSec-WebSocket-Protocol: \u00e9\u0007mqtt5\r\n\r\n";
  const h = wsParseHead(junk)!;
  const err = wsCheckHead(h, "");
  expect(err).toMatch(/^WebSocket upgrade refused: HTTP 0 \?\?\?x+$/);
  expect(err).toMatch(/^[ -~]*$/);
  expect(h.reason.length).toBe(40);
  expect(h.proto).toBe("??mqtt5");
});

// ---------------------------------------------------------------- the adapter

class FakeSock extends EventEmitter {
  written: string[] = [];
  ended = 0;
  opts: any;
  connectCb?: () => void;
  write(s: string) {
    if (typeof s !== "string") throw new Error("non-string write");
    this.written.push(s);
    return true;
  }
  end() {
    this.ended++;
  }
}
function setup(o: any = {}) {
  const socks: FakeSock[] = [];
  const net = {
    connect(opts: any, cb: () => void) {
      const s = new FakeSock();
      s.opts = opts;
      s.connectCb = cb;
      socks.push(s);
      return s;
    },
  };
  const ev: any[] = [];
  const sink = {
    onUp: (l: any) => ev.push(["up"]),
    onData: (l: any, d: string) => ev.push(["data", d]),
    onDown: (l: any, r: string, e?: any) => ev.push(["down", r, e]),
  };
  const link = new WsLink(sink, Object.assign({ net }, o));
  return { link, socks, ev };
}
// opens the link with a URL provider answering `url` at once
function start(link: WsLink, url: string) {
  link.o.open = (cb) => cb(null, url);
  link.open();
}
// the socket connects: the upgrade request (only it) goes out
function connected(s: FakeSock) {
  expect(s.written.length).toBe(0);
  s.connectCb!.call(s); // Espruino calls socket callbacks with this = the socket
  expect(s.written.length).toBe(1);
}
function keyOf(req: string) {
  return /Sec-WebSocket-Key: (\S+)/.exec(req)![1];
}
const ok = (key: string) =>
  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept(key) + "\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n";
function unmask(f: string): string {
  let p = 2;
  let n = f.charCodeAt(1) & 127;
  if (n == 126) (n = (f.charCodeAt(2) << 8) | f.charCodeAt(3)), (p = 4);
  const k = f.substr(p, 4);
  let out = "";
  for (let i = 0; i < n; i++) out += String.fromCharCode(f.charCodeAt(p + 4 + i) ^ k.charCodeAt(i & 3));
  return out;
}

test("through a relay: TCP goes to the relay, Host stays the signed host; split head and early frames", () => {
  const { link, socks, ev } = setup({ relayHost: "192.168.1.5", relayPort: 8080 });
  start(link, "wss://abc.iot.eu-west-1.amazonaws.com/mqtt?X-Amz-Signature=ab");
  const s = socks[0];
  expect(s.opts).toEqual({ host: "192.168.1.5", port: 8080 });
  connected(s);
  const req = s.written[0];
  expect(req).toMatch(/^GET \/mqtt\?X-Amz-Signature=ab HTTP\/1.1\r\nHost: abc.iot.eu-west-1.amazonaws.com\r\n/);
  const key = keyOf(req);
  expect(Buffer.from(key, "base64").length).toBe(16);
  // head split byte by byte, the first frames in the same chunk as its end
  const frames = "\x82\x04\x20\x02\x00\x00" + "\x82\x02\xd0\x00";
  const all = ok(key) + frames;
  for (let i = 0; i < all.length - 12; i++) s.emit("data", all[i]);
  s.emit("data", all.substr(all.length - 12));
  expect(ev).toEqual([["up"], ["data", "\x20\x02\x00\x00"], ["data", "\xd0\x00"]]);
  // outgoing: masked binary frames, a fresh key each
  link.write("\xc0\x00");
  link.write("\xc0\x00");
  const [f1, f2] = s.written.slice(1);
  expect(f1.charCodeAt(0)).toBe(0x82);
  expect(f1.charCodeAt(1)).toBe(0x82);
  expect(unmask(f1)).toBe("\xc0\x00");
  expect(f1.substr(2, 4)).not.toBe(f2.substr(2, 4));
  // ping -> pong with the same payload
  s.emit("data", "\x89\x03abc");
  expect(s.written[3].charCodeAt(0)).toBe(0x8a);
  expect(unmask(s.written[3])).toBe("abc");
  // close -> close reply, socket ended, one down report
  s.emit("data", "\x88\x05\x03\xe9bye");
  expect(s.written[4].charCodeAt(0)).toBe(0x88);
  expect(unmask(s.written[4])).toBe("\x03\xe9");
  expect(s.ended).toBe(1);
  s.emit("close", false);
  expect(ev.slice(3)).toEqual([["down", "the server closed the WebSocket (code 1001 bye)", undefined]]);
});

test("403 with body and Date, split across chunks", () => {
  const { link, socks, ev } = setup();
  start(link, "ws://127.0.0.1:9000/mqtt");
  const s = socks[0];
  expect(s.opts).toEqual({ host: "127.0.0.1", port: 9000 });
  connected(s);
  const body = '{"message":"Forbidden"}';
  const resp = "HTTP/1.1 403 Forbidden\r\nDate: Sun, 22 Nov 2026 00:15:00 GMT\r\nContent-Length: " + body.length + "\r\n\r\n" + body;
  s.emit("data", resp.substr(0, 30));
  s.emit("data", resp.substr(30, 50));
  expect(ev).toEqual([]);
  s.emit("data", resp.substr(80));
  expect(ev).toEqual([["down", "WebSocket upgrade refused: HTTP 403 Forbidden", { msg: "WebSocket upgrade refused: HTTP 403 Forbidden", status: 403, body, date: "Sun, 22 Nov 2026 00:15:00 GMT" }]]);
  expect(s.ended).toBe(1);
  s.emit("close", false);
  expect(ev.length).toBe(1);
});

test("refusal without Content-Length: body (bounded to 512 bytes) until the socket closes", () => {
  const { link, socks, ev } = setup();
  start(link, "ws://h/mqtt");
  const s = socks[0];
  connected(s);
  s.emit("data", "HTTP/1.1 500 Oops\r\nDate: D\r\n\r\n" + "x".repeat(300));
  s.emit("data", "y".repeat(300));
  s.emit("close", false);
  expect(ev.length).toBe(1);
  expect(ev[0][2]).toMatchObject({ status: 500, date: "D" });
  expect(ev[0][2].body).toBe("x".repeat(300) + "y".repeat(212));
});

test("bad Accept, oversize head, text frames, socket errors: one clear down report each", () => {
  {
    const { link, socks, ev } = setup();
    start(link, "ws://h/");
    connected(socks[0]);
    socks[0].emit("data", ok("AAAAAAAAAAAAAAAAAAAAAA=="));
    expect(ev).toEqual([["down", "WebSocket upgrade answer has a wrong Sec-WebSocket-Accept", undefined]]);
  }
  {
    const { link, socks, ev } = setup();
    start(link, "ws://h/");
    connected(socks[0]);
    socks[0].emit("data", "HTTP/1.1 101 OK\r\nX: " + "a".repeat(3000));
    expect(ev[0][1]).toMatch(/head is longer than 2048 bytes/);
  }
  {
    const { link, socks, ev } = setup();
    start(link, "ws://h/");
    const s = socks[0];
    connected(s);
    s.emit("data", ok(keyOf(s.written[0])) + "\x81\x02{}");
    expect(ev).toEqual([["up"], ["down", "the server sent a text frame; MQTT over WebSocket needs binary frames", undefined]]);
  }
  {
    const { link, socks, ev } = setup();
    start(link, "ws://h/");
    socks[0].emit("error", new Error("ECONNREFUSED"));
    socks[0].emit("close", false);
    expect(ev).toEqual([["down", "socket error: ECONNREFUSED", undefined]]);
  }
  {
    const { link, socks, ev } = setup();
    start(link, "ftp://h/");
    expect(socks.length).toBe(0);
    expect(ev).toEqual([["down", "URL must start with ws:// or wss://", undefined]]);
  }
});

test("close() is silent, sends a close frame when open, and later socket events are ignored", () => {
  const { link, socks, ev } = setup();
  start(link, "ws://h/");
  const s = socks[0];
  connected(s);
  s.emit("data", ok(keyOf(s.written[0])));
  link.close();
  expect(unmask(s.written[1])).toBe("\x03\xe8");
  expect(s.ended).toBe(1);
  s.emit("data", "\x82\x01x");
  s.emit("close", false);
  expect(ev).toEqual([["up"]]);
  link.write("x"); // no throw, nothing sent
  expect(s.written.length).toBe(2);
});

test("open(): the URL provider is asked every time; its error is a down report", () => {
  const { socks, ev } = setup();
  const calls: any[] = [];
  const l1 = new WsLink({ onUp() {}, onData() {}, onDown: (l: any, r: string) => ev.push(r) }, { open: (cb: any) => (calls.push(1), cb("clock not set")) });
  l1.open();
  expect(ev).toEqual(["could not get a signed URL: clock not set"]);
  const l2 = new WsLink({ onUp() {}, onData() {}, onDown() {} }, { open: (cb: any) => calls.push(cb) });
  l2.open();
  l2.close();
  calls[1](null, "ws://h/");
  expect(socks.length).toBe(0);
});

test("out of memory while building a frame (E.toString gives undefined): the link goes down cleanly", () => {
  const { link, socks, ev } = setup();
  start(link, "ws://h/");
  const s = socks[0];
  connected(s);
  s.emit("data", ok(keyOf(s.written[0])));
  (global as any).E = { toString: () => undefined };
  try {
    link.write("\xc0\x00");
  } finally {
    delete (global as any).E;
  }
  expect(ev).toEqual([["up"], ["down", "could not send: out of memory for a 2-byte frame", undefined]]);
  expect(s.written.length).toBe(1);
  expect(s.ended).toBe(1);
});
