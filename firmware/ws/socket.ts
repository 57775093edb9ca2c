// Thin WebSocket client adapter over an Espruino socket (require("net") or require("tls")).
// The protocol work is in frame.ts and handshake.ts; this file only moves bytes and owns the
// socket. It reports to a sink (the MQTT session) with itself as first argument, so events from
// an old link are recognised and ignored: sink.onUp(link), sink.onData(link, binaryString),
// sink.onDown(link, reason, error): error is {code, text, ...} (events.ts: HttpRefused with status,
// body and date; Transport; Protocol; NoUrl), text == reason. onDown is called at most once;
// close() never calls it.
//
// Memory diet: one method (open, write and close are the same function), seven properties, the
// frame decoder's state on the link itself, and no closures: one module-level function, onSocket, serves
// the socket's data, error and close events (it finds its link in the socket's L: Espruino calls
// socket callbacks with `this` = the socket) and is also the URL provider's callback.

import { LinkState, WsOp, wsFrame } from "./frame";
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
let linkAwaitingUrl: WsLink | 0 | undefined;

// As a socket callback (this = the socket): data (a binary string), error ({message}) and close
// (a boolean). Called plainly: the URL provider's answer (err, url) for linkAwaitingUrl.
function onSocket(this: any, data?: any, url?: string): void {
  let link: any = this && this.L;
  if (!link) {
    link = linkAwaitingUrl;
    linkAwaitingUrl = 0;
    if (!link || link.t != LinkState.AwaitingUrl) return;
    if (data || !url) return link.write({ code: MqttErrorCode.NoUrl, text: "ws: no URL (" + data + ")" }, 0);
    const options: WsOptions = link.o;
    const upgrade = wsUpgrade(url);
    if (typeof upgrade == "string") return link.write({ code: MqttErrorCode.NoUrl, text: upgrade }, 0);
    link.t = LinkState.Upgrading;
    link.b = "";
    link.h = btoa(String.fromCharCode.apply(0, new Uint8Array(require("crypto").SHA1(upgrade.k + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) as any));
    try {
      const socket = (link.c = (options.net || require(options.tls ? "tls" : "net")).connect({ host: options.relayHost || upgrade.h, port: options.relayPort || upgrade.p }));
      socket.L = link;
      socket.on("data", onSocket);
      socket.on("error", onSocket);
      socket.on("close", onSocket);
      socket.write(upgrade.r); // the upgrade request (Espruino sends what is written while connecting once connected)
    } catch (e) {
      link.write("ws: no socket (" + e + ")", 0);
    }
    return;
  }
  let state = link.t;
  if (state > LinkState.ReadingRefusal) return;
  // an error, or the end (which completes a refusal's body)
  // (a TLS handshake that fails ends the upgrade with mbedTLS's "unsent data" error)
  if (typeof data != "string")
    return link.write(state == LinkState.ReadingRefusal ? link.h : state == LinkState.Upgrading && link.o.tls ? "TLS handshake failed" : data && data.message ? "socket error: " + data.message : "socket closed", 0);
  if (state == LinkState.Upgrading) {
    // the upgrade answer (head bounded to 2 KB)
    const answer = wsUpgrade((link.b += data), link.h);
    if (!answer) {
      if (link.b.length > 2048) link.write({ code: MqttErrorCode.Protocol, text: "ws: upgrade answer too long" }, 0);
      return;
    }
    link.b = "";
    data = answer.body;
    if (!answer.code) {
      link.t = LinkState.Open;
      link.h = 0;
      link.s.onUp(link);
    } else if (answer.status < 200) return link.write({ code: answer.code, text: answer.text }, 0); // Protocol: no status (HttpRefused only)
    else {
      link.t = LinkState.ReadingRefusal;
      link.h = answer;
      link.n = answer.c;
      answer.body = "";
      delete answer.c;
    }
    state = link.t;
  }
  if (state == LinkState.Open) {
    const problem = wsFrame(link, data);
    if (problem) link.write(problem, 0);
  }
  if (state == LinkState.ReadingRefusal) {
    // a refused upgrade's body, bounded to 512 bytes
    const refusal = link.h;
    refusal.body = (refusal.body + data).substr(0, 512);
    if (refusal.body.length >= link.n) link.write(refusal, 0);
  }
}

export class WsLink {
  declare s: WsSink;
  declare o: WsOptions;
  // Short keys (they live as long as the link):
  //   t: the LinkState; c: the socket; b: the answer head so far, then frame bytes (frame.ts);
  //   h: the expected Sec-WebSocket-Accept, then the fragment flag (frame.ts) or the refusal;
  //   n: see frame.ts, or the refusal body's length to wait for
  declare t: LinkState;
  declare c: any;
  declare b: string;
  declare h: any;
  declare n: number;
  declare open: () => void;
  declare close: () => void;
  constructor(sink: WsSink, options: WsOptions) {
    this.s = sink;
    this.o = options;
  }
  // write(data): sends data (a binary string) in a masked binary frame when open; write(data, op):
  // a frame of type op. open() (= write() on a new link): asks o.open for a fresh URL, then connects
  // and upgrades. close() (= write() afterwards): closes without a report (a close frame first when
  // open). write(error, 0): the link failed ({code, text, ...}, or a reason string: a Transport
  // error): closes it and reports the end once.
  write(data?: any, op?: any): void {
    const link = this;
    const state = link.t;
    if (op !== 0 && data != null) {
      if (state != LinkState.Open) return;
      try {
        link.c.write(wsFrame(op || WsOp.Binary, data));
      } catch (e) {
        link.write("ws: can't send: " + ((e as any).message || e), 0);
      }
    } else if (!state) {
      link.t = LinkState.AwaitingUrl;
      linkAwaitingUrl = link;
      try {
        link.o.open!(onSocket);
      } catch (e) {
        (onSocket as any)(e);
      }
    } else if (state < LinkState.Closed) {
      if (data == null) link.write("\x03\xe8", WsOp.Close); // close code 1000
      link.t = LinkState.Closed;
      try {
        link.c.end();
      } catch (e) {}
      if (data != null) {
        if (typeof data == "string") data = { code: MqttErrorCode.Transport, text: data };
        link.s.onDown(link, data.text, data);
      }
    }
  }
}
(WsLink.prototype as any).open = (WsLink.prototype as any).close = WsLink.prototype.write;
