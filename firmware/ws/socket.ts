// Thin WebSocket client adapter over an Espruino socket (require("net") or require("tls")).
// The protocol work is in frame.ts and handshake.ts; this file only moves bytes and owns the
// socket. It reports to a sink (the MQTT session) with itself as first argument, so events from
// an old link are recognised and ignored: sink.onUp(link), sink.onData(link, binaryString),
// sink.onDown(link, reason, error): error is {code, text, ...} (events.ts: HttpRefused with status,
// body and date; Transport; Protocol; NoUrl), text == reason. onDown is called at most once;
// close() never calls it.
//
// Memory diet: one method (open, write and close are the same function), seven properties, the
// frame decoder's state on the link itself, and no closures: one module-level function, ev, serves
// the socket's data, error and close events (it finds its link in the socket's L: Espruino calls
// socket callbacks with `this` = the socket) and is also the URL provider's callback.

import { wsFrame } from "./frame";
import { wsUpgrade } from "./handshake";
import { MqttError, MqttErrorCode } from "../mqtt/events";

export interface WsSink {
  onUp(link: any): void;
  onData(link: any, data: string): void;
  onDown(link: any, reason: string, err: MqttError): void;
}

export interface WsOptions {
  tls?: boolean; // open the TCP connection with require("tls")
  relayHost?: string; // TCP target when it differs from the URL's host (the Host header stays the URL's)
  relayPort?: number;
  net?: any; // socket module to use instead of require("net"/"tls") (tests, custom transports)
  // URL provider, called once per connection attempt (the app re-signs each time)
  open?: (cb: (err: any, url?: string) => void) => void;
}

// The link waiting for its URL (the session opens one link at a time; an answer for a link that
// was closed meanwhile finds it dead, or finds no link waiting).
let P: any;

// As a socket callback (this = the socket): data (a binary string), error ({message}) and close
// (a boolean). Called plainly: the URL provider's answer (err, url) for link P.
function ev(this: any, x?: any, u?: string): void {
  let l: any = this && this.L;
  let t: any;
  if (!l) {
    l = P;
    P = 0;
    if (!l || l.t != 1) return;
    if (x || !u) return l.write({ code: MqttErrorCode.NoUrl, text: "ws: no URL (" + x + ")" }, 0);
    const o = l.o;
    const r = wsUpgrade(u);
    if (typeof r == "string") return l.write({ code: MqttErrorCode.NoUrl, text: r }, 0);
    l.t = 2;
    l.b = "";
    l.h = btoa(String.fromCharCode.apply(0, new Uint8Array(require("crypto").SHA1(r.k + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) as any));
    try {
      const s = (l.c = (o.net || require(o.tls ? "tls" : "net")).connect({ host: o.relayHost || r.h, port: o.relayPort || r.p }));
      s.L = l;
      s.on("data", ev);
      s.on("error", ev);
      s.on("close", ev);
      s.write(r.r); // the upgrade request (Espruino sends what is written while connecting once connected)
    } catch (e) {
      l.write("ws: no socket (" + e + ")", 0);
    }
    return;
  }
  t = l.t;
  if (t > 4) return;
  // an error, or the end (which completes a refusal's body)
  if (typeof x != "string") return l.write(t > 3 ? l.h : x && x.message ? "socket error: " + x.message : "socket closed", 0);
  if (t == 2) {
    // the upgrade answer (head bounded to 2 KB)
    const r = wsUpgrade((l.b += x), l.h);
    if (!r) {
      if (l.b.length > 2048) l.write({ code: MqttErrorCode.Protocol, text: "ws: upgrade answer too long" }, 0);
      return;
    }
    l.b = "";
    x = r.body;
    if (!r.code) {
      l.t = 3;
      l.h = 0;
      l.s.onUp(l);
    } else if (r.status < 200) return l.write({ code: r.code, text: r.text, status: r.status }, 0);
    else {
      l.t = 4;
      l.h = r;
      l.n = r.c;
      r.body = "";
      delete r.c;
    }
    t = l.t;
  }
  if (t == 3) {
    const e = wsFrame(l, x);
    if (e) l.write(e, 0);
  }
  if (t == 4) {
    // a refused upgrade's body, bounded to 512 bytes
    const h = l.h;
    h.body = (h.body + x).substr(0, 512);
    if (h.body.length >= l.n) l.write(h, 0);
  }
}

export class WsLink {
  declare s: WsSink;
  declare o: WsOptions;
  // t: 1 waiting for the URL, 2 upgrading, 3 open, 4 reading a refusal's body, 5 closed;
  // c: the socket; b: the answer head so far, then frame bytes (frame.ts);
  // h: the expected Sec-WebSocket-Accept, then the fragment flag (frame.ts) or the refusal; n: see frame.ts
  declare t: number;
  declare c: any;
  declare b: string;
  declare h: any;
  declare n: number;
  declare open: () => void;
  declare close: () => void;
  constructor(s: WsSink, o: WsOptions) {
    this.s = s;
    this.o = o;
  }
  // write(d): sends d (a binary string) in a masked binary frame when open; write(d, op): a frame
  // of type op. open() (= write() on a new link): asks o.open for a fresh URL, then connects and
  // upgrades. close() (= write() afterwards): closes without a report (a close frame first when
  // open). write(error, 0): the link failed ({code, text, ...}, or a reason string: a Transport
  // error): closes it and reports the end once.
  write(a?: any, b?: any): void {
    const l = this;
    const t = l.t;
    if (b !== 0 && a != null) {
      if (t != 3) return;
      try {
        l.c.write(wsFrame(b || 2, a));
      } catch (e) {
        l.write("ws: can't send: " + ((e as any).message || e), 0);
      }
    } else if (!t) {
      l.t = 1;
      P = l;
      try {
        l.o.open!(ev);
      } catch (e) {
        (ev as any)(e);
      }
    } else if (t < 5) {
      if (a == null) l.write("\x03\xe8", 8);
      l.t = 5;
      try {
        l.c.end();
      } catch (e) {}
      if (a != null) {
        if (typeof a == "string") a = { code: MqttErrorCode.Transport, text: a };
        l.s.onDown(l, a.text, a);
      }
    }
  }
}
(WsLink.prototype as any).open = (WsLink.prototype as any).close = WsLink.prototype.write;
