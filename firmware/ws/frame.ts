// WebSocket (RFC 6455) frame codec for a client: pure, over binary strings, no I/O.
// Outgoing frames are masked with a caller-supplied 4-byte key. Incoming frames are decoded as a
// stream: data-frame payloads (binary and continuation) are passed on piece by piece as they
// arrive, never buffered, so a fragmented or split message costs no memory here; control frames
// (at most 125 bytes) are collected and handed over whole.
//
// Memory diet: the device uses two functions, wsFrame (encoder) and wsFeed (decoder step, with its
// state on the caller's object: the WebSocket link itself); WsDecoder and u8ToStr are for tests.

export const WS_CONT = 0;
export const WS_TEXT = 1;
export const WS_BINARY = 2;
export const WS_CLOSE = 8;
export const WS_PING = 9;
export const WS_PONG = 10;

// Uint8Array -> binary string (tests and Node; the device uses E.toString).
export function u8ToStr(u: Uint8Array): string {
  let s = "";
  for (let i = 0; i < u.length; i += 4096) s += String.fromCharCode.apply(null, u.subarray(i, i + 4096) as any);
  return s;
}

declare var E: any;

// A masked client frame. The payload is masked through a Uint8Array and turned back into a binary
// string with E.toString on Espruino (no per-byte variables). Throws "out of memory
// for a N-byte frame" when Espruino cannot allocate it.
export function wsFrame(op: number, payload: string, key: string): string {
  const n = payload.length;
  const C = String.fromCharCode;
  let h = C(0x80 | op);
  if (n < 126) h += C(0x80 | n);
  else if (n < 65536) h += C(0xfe, n >> 8, n & 255);
  else h += C(0xff, 0, 0, 0, 0, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255);
  const u = new Uint8Array(n);
  for (let i = 0; i < n; i++) u[i] = payload.charCodeAt(i) ^ key.charCodeAt(i & 3);
  let s: any = "";
  if (typeof E != "undefined" && E.toString) s = E.toString(u);
  else for (let i = 0; i < n; i++) s += C(u[i]); // Node (tests, tools)
  if (typeof s != "string") throw new Error("out of memory for a " + n + "-byte frame");
  return h + key + s;
}

// Decoder state, kept on the caller's object.
export interface WsFeedState {
  max: number; // largest frame accepted
  // receives decoded pieces: (piece, WS_BINARY) for each piece of message payload (binary or
  // continuation), (payload, WS_CLOSE / WS_PING / WS_PONG) with the whole control payload
  data(d: string, op: number): void;
  ws: number; // 0 header, 1 payload, 3 failed
  hb: string; // header bytes so far
  ctl: string; // control payload being collected
  need?: number; // header length
  op?: number;
  left?: number; // payload bytes still to come
  frag?: boolean; // inside a fragmented data message
}

// Streaming decoder step for server frames. Returns "" or an error in plain words (the connection
// must then be dropped; the state stays failed).
export function wsFeed(d: WsFeedState, c: string): string {
  const n = c.length;
  let i = 0;
  let e = "";
  if (d.ws == 3) return "WebSocket decoder used after an error";
  while (i < n && !e) {
    if (d.ws == 0) {
      const need = d.need || 2;
      const take = Math.min(need - d.hb.length, n - i);
      d.hb += c.substr(i, take);
      i += take;
      if (d.hb.length < need) continue;
      const h = d.hb;
      let len = h.charCodeAt(1) & 127;
      if (need == 2) {
        // first two header bytes: validate, work out the header length
        const b0 = h.charCodeAt(0);
        const b1 = h.charCodeAt(1);
        const op = b0 & 15;
        const fin = (b0 & 128) > 0;
        if (b0 & 0x70) e = "the server set reserved WebSocket bits (no extension was agreed)";
        else if (b1 & 128) e = "the server sent a masked WebSocket frame";
        else if (op == WS_TEXT) e = "the server sent a text frame; MQTT over WebSocket needs binary frames";
        else if (op == WS_BINARY || op == WS_CONT) {
          if (op == WS_BINARY && d.frag) e = "the server started a new message inside a fragmented one";
          else if (op == WS_CONT && !d.frag) e = "the server sent a continuation frame outside a message";
          d.frag = !fin;
        } else if (op == WS_CLOSE || op == WS_PING || op == WS_PONG) {
          if (!fin || len > 125) e = "the server sent a fragmented or oversize control frame";
        } else e = "the server sent a frame with reserved opcode " + op;
        d.op = op;
        d.need = len == 126 ? 4 : len == 127 ? 10 : 2;
        if (e || d.need > 2) continue;
      }
      // whole header present: payload length
      if (d.need == 4) len = (h.charCodeAt(2) << 8) | h.charCodeAt(3);
      else if (d.need == 10) {
        if (h.charCodeAt(2) | h.charCodeAt(3) | h.charCodeAt(4) | h.charCodeAt(5)) e = "the server sent a WebSocket frame larger than 4 GB";
        len = ((h.charCodeAt(6) << 24) >>> 0) + (h.charCodeAt(7) << 16) + (h.charCodeAt(8) << 8) + h.charCodeAt(9);
      }
      if (!e && len > d.max) e = "the server sent a WebSocket frame of " + len + " bytes, over the " + d.max + "-byte limit";
      d.hb = d.ctl = "";
      d.need = 2;
      d.left = len;
      d.ws = 1;
    } else {
      const take = Math.min(d.left!, n - i);
      const piece = take == n ? c : c.substr(i, take);
      i += take;
      d.left! -= take;
      if (d.op! < 8) d.data(piece, WS_BINARY);
      else d.ctl += piece;
    }
    if (!e && d.ws == 1 && d.left == 0) {
      d.ws = 0;
      if (d.op! >= 8) {
        const x = d.ctl;
        d.ctl = "";
        d.data(x, d.op!);
      }
    }
  }
  if (e) {
    d.ws = 3;
    d.hb = d.ctl = "";
  }
  return e;
}

// Streaming decoder object (tests, tools): on(op, data) as described at wsFeed; feed(chunk)
// returns "" or an error. Same code as the device (wsFeed).
export class WsDecoder implements WsFeedState {
  max: number;
  ws: number;
  hb: string;
  ctl: string;
  data: (d: string, op: number) => void;
  constructor(max: number, on: (op: number, data: string) => void) {
    this.max = max;
    this.ws = 0;
    this.hb = this.ctl = "";
    this.data = function (d: string, op: number) {
      on(op, d);
    };
  }
  feed(c: string): string {
    return wsFeed(this, c);
  }
}
