// Thin WebSocket client adapter over an Espruino socket (require("net") or require("tls")).
// The protocol work is in frame.ts and handshake.ts; this file only moves bytes and owns the
// socket. It reports to a sink (the MQTT session) with itself as first argument, so events from
// an old link are recognised and ignored: sink.onUp(link), sink.onData(link, binaryString),
// sink.onDown(link, reason, httpError?). onDown is called at most once; close() never calls it.
//
// Memory diet: few methods, the frame decoder's state on the link itself (wsFeed), and no
// closures per socket: one shared handler serves the socket's connect, data, error and close events
// (it finds its link through the socket: Espruino calls socket callbacks with `this` = the
// socket). The upgrade request waits in `buf` until the socket connects.

import { WS_BINARY, WS_CLOSE, WS_PING, wsFeed, wsFrame } from "./frame";
import { WsHead, wsHead, wsParseUrl } from "./handshake";

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

// Limits (literals in the code: module-level constants would hold variables on the device):
// 2048 response head bytes kept while waiting for the blank line, 512 error body bytes kept.

declare var btoa: (s: string) => string;

// The socket's events, `this` = the socket: connect (Espruino passes the socket, Node nothing),
// data (a string), error ({message}) and close (hadError: a boolean, as Espruino passes it).
function sockEv(this: any, x: any): void {
  const l: WsLink = this.L;
  if (!l || l.sock !== this) return;
  if (typeof x == "string") l.data(x);
  else if (x === undefined || x === this) {
    // connected: send the upgrade request
    if (l.st == 1) this.write(l.buf);
    l.buf = "";
  } else l.close(typeof x == "object" ? "socket error: " + (x.message || x) : "socket closed");
}

export class WsLink {
  declare open: () => void;
  sink: WsSink;
  o: WsOptions;
  sock: any;
  st: number; // 0 idle, 1 connecting/handshake, 2 open, 3 error body, 4 dead
  buf: string; // the upgrade request until connected, the response head so far (bounded), the error body
  hd: any; // the expected Sec-WebSocket-Accept until the head arrives, then a refused upgrade's head
  // frame decoder state (wsFeed)
  max: number;
  ws: number;
  hb: string;
  ctl: string;
  constructor(sink: WsSink, o: WsOptions) {
    this.sink = sink;
    this.o = o;
    this.sock = this.hd = null;
    this.st = this.ws = 0;
    this.buf = this.hb = this.ctl = "";
    this.max = o.maxFrame || 1048576;
  }
  // data(d): bytes from the socket; data(d, op): a decoded frame (from wsFeed); data() (= open()):
  // asks o.open for a fresh URL, then opens the socket and sends the upgrade (unless close() came first).
  data(d?: string, op?: number): void {
    const st = this.st;
    if (d === undefined) {
      const self = this;
      try {
        this.o.open!(function (err: any, url?: string) {
          if (self.st) return; // closed meanwhile, or answered twice
          if (err || !url) return self.close("could not get a signed URL: " + (err || "no URL"));
          let k = "";
          for (let i = 0; i < 16; i++) k += String.fromCharCode((Math.random() * 256) | 0);
          k = btoa(k);
          const u = wsParseUrl(url, k);
          if (typeof u == "string") return self.close(u);
          const o = self.o;
          let s: any;
          try {
            s = (o.net || require(o.tls ? "tls" : "net")).connect({ host: o.relayHost || u.name, port: o.relayPort || u.port }, sockEv);
          } catch (e) {
            return self.close("could not open a socket: " + e);
          }
          const h = new Uint8Array(require("crypto").SHA1(k + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11") /* WS_GUID */);
          k = "";
          for (let i = 0; i < h.length; i++) k += String.fromCharCode(h[i]);
          self.hd = btoa(k);
          self.st = 1;
          self.sock = s;
          s.L = self;
          s.on("data", sockEv);
          s.on("error", sockEv);
          s.on("close", sockEv);
          self.buf = u.req!;
        });
      } catch (e) {
        this.close("the URL provider threw: " + e);
      }
      return;
    }
    if (op === WS_BINARY) return this.sink.onData(this, d);
    if (op === WS_PING) return this.write(d, 0xa);
    if (op === WS_CLOSE) {
      this.write(d.substr(0, 2), WS_CLOSE);
      return this.close("the server closed the WebSocket (code " + (d.length >= 2 ? (d.charCodeAt(0) << 8) | d.charCodeAt(1) : 1005) + (d.length > 2 ? " " + d.substr(2) : "") + ")");
    }
    if (op !== undefined) return; // pong
    if (st == 2) {
      const e = wsFeed(this, d);
      if (e) this.close(e);
    } else if (st == 1) {
      this.buf += d;
      const h = wsHead(this.buf, this.hd);
      if (!h) {
        if (this.buf.length > 2048) this.close("WebSocket upgrade answer head is longer than " + 2048 + " bytes");
        return;
      }
      const rest = this.buf.substr(h.len);
      this.buf = "";
      if (h.err) {
        if (h.status == 101 || !h.status) return this.close(h.err);
        this.hd = h;
        this.st = 3;
        return this.data(rest);
      }
      this.st = 2;
      this.sink.onUp(this);
      if (rest.length && this.st == 2) this.data(rest);
    } else if (st == 3) {
      // a bounded error body after a refused upgrade
      const h: WsHead = this.hd;
      this.buf = (this.buf + d).substr(0, 512);
      if (h.clen >= 0 && this.buf.length >= Math.min(h.clen, 512)) this.close("");
    }
  }
  // Transport interface for the session: one MQTT packet per binary frame (op: other frame types).
  write(d: string, op?: number): void {
    if (this.st != 2) return;
    let k = "";
    for (let i = 0; i < 4; i++) k += String.fromCharCode((Math.random() * 256) | 0);
    try {
      this.sock.write(wsFrame(op || WS_BINARY, d, k));
    } catch (e) {
      this.close("could not send: " + ((e && (e as any).message) || e));
    }
  }
  // close(): closes the link without a report (a close frame first when open). close(reason): the
  // link failed: closes it and reports the end once (reason "": the refused upgrade's body is complete).
  close(reason?: string): void {
    const s = this.sock;
    const h = this.hd;
    const body = this.buf;
    const was = this.st;
    if (was == 4) return;
    if (reason === undefined) this.write("\x03\xe8", WS_CLOSE);
    this.st = 4;
    this.sock = this.hd = null;
    this.buf = "";
    if (s) {
      try {
        s.end();
      } catch (e) {}
    }
    if (reason === undefined) return;
    if (was == 3) {
      const msg = "WebSocket upgrade refused: HTTP " + h.status + (h.reason ? " " + h.reason : "");
      this.sink.onDown(this, msg, { msg: msg, status: h.status, body: body, date: h.date });
    } else this.sink.onDown(this, reason);
  }
}
(WsLink.prototype as any).open = WsLink.prototype.data;
