// Thin WebSocket client adapter over an Espruino socket (require("net") or require("tls")).
// The protocol work is in frame.ts and handshake.ts; this file only moves bytes and owns the
// socket. It reports to a sink (the MQTT session) with itself as first argument, so events from
// an old link are recognised and ignored: sink.onUp(link), sink.onData(link, binaryString),
// sink.onDown(link, reason, httpError?). onDown is called at most once; close() never calls it.

import { WS_BINARY, WS_CLOSE, WS_PING, WsDecoder, wsFrame, u8ToStr } from "./frame";
import { WS_GUID, wsCheckHead, wsParseHead, wsParseUrl, wsRequest, WsHead } from "./handshake";

export interface WsSink {
  onUp(link: any): void;
  onData(link: any, data: string): void;
  onDown(link: any, reason: string, err?: WsHttpError): void;
}

// A refused upgrade: status, bounded body and the server's Date header (for clock correction).
export interface WsHttpError {
  msg: string;
  status: number;
  body: string;
  date: string;
}

export interface WsOptions {
  tls?: boolean; // open the TCP connection with require("tls")
  relayHost?: string; // TCP target when it differs from the URL's host (the Host header stays the URL's)
  relayPort?: number;
  maxFrame?: number; // largest incoming frame accepted (default 1 MB; data is streamed, not buffered)
  net?: any; // socket module to use instead of require("net"/"tls") (tests, custom transports)
  // URL provider, called once per connection attempt (the app re-signs each time)
  open?: (cb: (err: any, url?: string) => void) => void;
}

const MAX_HEAD = 2048; // response head bytes kept while waiting for the blank line
const MAX_BODY = 512; // error body bytes kept

declare var E: any;
declare var btoa: (s: string) => string;

function rnd(n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode((Math.random() * 256) | 0);
  return s;
}
function toStr(u: Uint8Array): string {
  if (typeof E == "undefined" || !E.toString) return u8ToStr(u);
  const s = E.toString(u); // undefined when Espruino is out of memory
  if (typeof s != "string") throw new Error("out of memory for a " + u.length + "-byte frame");
  return s;
}
function sha1b64(s: string): string {
  const u = new Uint8Array(require("crypto").SHA1(s));
  let r = "";
  for (let i = 0; i < u.length; i++) r += String.fromCharCode(u[i]);
  return btoa(r);
}

export class WsLink {
  sink: WsSink;
  o: WsOptions;
  sock: any;
  st: number; // 0 idle, 1 connecting/handshake, 2 open, 3 error body, 4 dead
  buf: string; // handshake response so far (bounded)
  acc: string; // expected Sec-WebSocket-Accept
  hd: WsHead | null;
  dec: WsDecoder | null;
  constructor(sink: WsSink, o: WsOptions) {
    this.sink = sink;
    this.o = o;
    this.sock = null;
    this.st = 0;
    this.buf = this.acc = "";
    this.hd = null;
    this.dec = null;
  }
  // Asks o.open for a fresh URL, then start()s with it.
  open(): void {
    const self = this;
    try {
      this.o.open!(function (err: any, url?: string) {
        if (self.st) return; // closed meanwhile, or answered twice
        if (err || !url) self.down("could not get a signed URL: " + (err || "no URL"));
        else self.start(url);
      });
    } catch (e) {
      this.down("the URL provider threw: " + e);
    }
  }
  // Opens the socket and sends the upgrade for `url` (ignored if close() came first).
  start(url: string): void {
    if (this.st) return;
    const u = wsParseUrl(url);
    if (typeof u == "string") return this.down(u);
    const o = this.o;
    const useTls = !!o.tls;
    let mod: any;
    try {
      mod = o.net || require(useTls ? "tls" : "net");
    } catch (e) {
      return this.down(useTls ? "this board has no TLS (require('tls') failed)" : "require('net') failed");
    }
    const key = btoa(rnd(16));
    this.acc = sha1b64(key + WS_GUID);
    this.st = 1;
    const self = this;
    const req = wsRequest(u.path, u.host, key);
    let s: any;
    try {
      s = mod.connect({ host: o.relayHost || u.name, port: o.relayPort || u.port }, function () {
        if (self.sock == s && self.st == 1) s.write(req);
      });
    } catch (e) {
      return this.down("could not open a socket: " + e);
    }
    this.sock = s;
    s.on("data", function (d: string) {
      if (self.sock == s) self.data(d);
    });
    s.on("error", function (e: any) {
      if (self.sock == s) self.down("socket error: " + ((e && e.message) || e));
    });
    s.on("close", function () {
      if (self.sock == s) self.down("socket closed");
    });
  }
  data(d: string): void {
    if (this.st == 2) {
      const e = this.dec!.feed(d);
      if (e) this.down(e);
      return;
    }
    if (this.st == 3) return this.body(d);
    if (this.st != 1) return;
    this.buf += d;
    const h = wsParseHead(this.buf);
    if (!h) {
      if (this.buf.length > MAX_HEAD) this.down("WebSocket upgrade answer head is longer than " + MAX_HEAD + " bytes");
      return;
    }
    const rest = this.buf.substr(h.len);
    this.buf = "";
    const err = wsCheckHead(h, this.acc);
    if (err) {
      if (h.status == 101 || !h.status) return this.down(err);
      this.hd = h;
      this.st = 3;
      return this.body(rest);
    }
    this.st = 2;
    this.dec = new WsDecoder(this.o.maxFrame || 1048576, this.frame.bind(this));
    this.sink.onUp(this);
    if (rest.length && this.st == 2) this.data(rest);
  }
  // collects a bounded error body after a refused upgrade
  body(d: string): void {
    const h = this.hd!;
    this.buf = (this.buf + d).substr(0, MAX_BODY);
    if (h.clen >= 0 && this.buf.length >= Math.min(h.clen, MAX_BODY)) this.down("", true);
  }
  frame(op: number, d: string): void {
    if (op == WS_BINARY) this.sink.onData(this, d);
    else if (op == WS_PING) this.send(0xa, d);
    else if (op == WS_CLOSE) {
      const code = d.length >= 2 ? (d.charCodeAt(0) << 8) | d.charCodeAt(1) : 1005;
      this.send(WS_CLOSE, d.substr(0, 2));
      this.down("the server closed the WebSocket (code " + code + (d.length > 2 ? " " + d.substr(2) : "") + ")");
    }
  }
  send(op: number, d: string): void {
    if (this.st != 2) return;
    try {
      this.sock.write(wsFrame(op, d, rnd(4), toStr));
    } catch (e) {
      this.down("could not send: " + ((e && (e as any).message) || e));
    }
  }
  // Transport interface for the session: one MQTT packet per binary frame.
  write(d: string): void {
    this.send(WS_BINARY, d);
  }
  close(): void {
    this.send(WS_CLOSE, "\x03\xe8");
    this.end();
  }
  end(): void {
    this.st = 4;
    const s = this.sock;
    this.sock = null;
    this.dec = null;
    this.hd = null;
    this.buf = "";
    if (s) {
      try {
        s.end();
      } catch (e) {}
    }
  }
  // reports the end of the link once (an HTTP refusal when httpErr)
  down(reason: string, httpErr?: boolean): void {
    if (this.st == 4) return;
    const h = this.hd;
    const body = this.buf;
    const was = this.st;
    this.end();
    if (h && (httpErr || was == 3)) {
      const msg = "WebSocket upgrade refused: HTTP " + h.status + (h.reason ? " " + h.reason : "");
      this.sink.onDown(this, msg, { msg: msg, status: h.status, body: body, date: h.date });
    } else this.sink.onDown(this, reason);
  }
}
