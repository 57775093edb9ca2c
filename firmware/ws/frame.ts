// WebSocket (RFC 6455) frame codec for a client: pure, over binary strings, no I/O.
// Outgoing frames are masked with a caller-supplied 4-byte key. Incoming frames are decoded as a
// stream: data-frame payloads (binary and continuation) are passed on piece by piece as they
// arrive, never buffered, so a fragmented or split message costs no memory here; control frames
// (at most 125 bytes) are collected and handed over whole.

export const WS_CONT = 0;
export const WS_TEXT = 1;
export const WS_BINARY = 2;
export const WS_CLOSE = 8;
export const WS_PING = 9;
export const WS_PONG = 10;

// Uint8Array -> binary string. The device adapter passes E.toString (no per-byte variables);
// this fallback works anywhere.
export function u8ToStr(u: Uint8Array): string {
  let s = "";
  for (let i = 0; i < u.length; i += 4096) s += String.fromCharCode.apply(null, u.subarray(i, i + 4096) as any);
  return s;
}

export function wsFrame(op: number, payload: string, key: string, toStr?: (u: Uint8Array) => string): string {
  const n = payload.length;
  let h = String.fromCharCode(0x80 | op);
  if (n < 126) h += String.fromCharCode(0x80 | n);
  else if (n < 65536) h += String.fromCharCode(0xfe, n >> 8, n & 255);
  else h += String.fromCharCode(0xff, 0, 0, 0, 0, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255);
  const k = new Uint8Array(4);
  for (let j = 0; j < 4; j++) k[j] = key.charCodeAt(j);
  const u = new Uint8Array(n);
  for (let i = 0; i < n; i++) u[i] = payload.charCodeAt(i) ^ k[i & 3];
  return h + key + (toStr || u8ToStr)(u);
}

// Streaming decoder for server frames. feed() returns "" or an error in plain words (the
// connection must then be dropped). on(op, data): op WS_BINARY for each piece of message payload
// (binary or continuation), WS_CLOSE / WS_PING / WS_PONG with the whole control payload.
export class WsDecoder {
  max: number;
  on: (op: number, data: string) => void;
  st: number; // 0 header, 1 payload, 3 failed
  hb: string; // header bytes so far
  need: number; // header length
  op: number;
  left: number; // payload bytes still to come
  ctl: string; // control payload being collected
  frag: boolean; // inside a fragmented data message
  constructor(max: number, on: (op: number, data: string) => void) {
    this.max = max;
    this.on = on;
    this.st = 0;
    this.hb = this.ctl = "";
    this.need = 2;
    this.op = this.left = 0;
    this.frag = false;
  }
  feed(c: string): string {
    const n = c.length;
    let i = 0;
    if (this.st == 3) return "WebSocket decoder used after an error";
    while (i < n) {
      if (this.st == 0) {
        const take = Math.min(this.need - this.hb.length, n - i);
        this.hb += c.substr(i, take);
        i += take;
        if (this.hb.length < this.need) continue;
        if (this.need == 2) {
          const e = this.head();
          if (e) return this.fail(e);
          if (this.hb.length < this.need) continue;
        }
        const e2 = this.length();
        if (e2) return this.fail(e2);
      } else {
        const take = Math.min(this.left, n - i);
        const piece = take == n ? c : c.substr(i, take);
        i += take;
        this.left -= take;
        if (this.op < 8) this.on(WS_BINARY, piece);
        else this.ctl += piece;
      }
      if (this.st == 1 && this.left == 0) this.done();
    }
    return "";
  }
  // first two header bytes: validate, work out the header length
  head(): string {
    const b0 = this.hb.charCodeAt(0);
    const b1 = this.hb.charCodeAt(1);
    const op = b0 & 15;
    const fin = (b0 & 128) > 0;
    if (b0 & 0x70) return "the server set reserved WebSocket bits (no extension was agreed)";
    if (b1 & 128) return "the server sent a masked WebSocket frame";
    if (op == WS_TEXT) return "the server sent a text frame; MQTT over WebSocket needs binary frames";
    if (op == WS_BINARY || op == WS_CONT) {
      if (op == WS_BINARY && this.frag) return "the server started a new message inside a fragmented one";
      if (op == WS_CONT && !this.frag) return "the server sent a continuation frame outside a message";
      this.frag = !fin;
    } else if (op == WS_CLOSE || op == WS_PING || op == WS_PONG) {
      if (!fin || (b1 & 127) > 125) return "the server sent a fragmented or oversize control frame";
    } else return "the server sent a frame with reserved opcode " + op;
    this.op = op;
    const l = b1 & 127;
    this.need = l == 126 ? 4 : l == 127 ? 10 : 2;
    return "";
  }
  // whole header present: payload length
  length(): string {
    const h = this.hb;
    let len = h.charCodeAt(1) & 127;
    if (this.need == 4) len = (h.charCodeAt(2) << 8) | h.charCodeAt(3);
    else if (this.need == 10) {
      if (h.charCodeAt(2) | h.charCodeAt(3) | h.charCodeAt(4) | h.charCodeAt(5)) return "the server sent a WebSocket frame larger than 4 GB";
      len = ((h.charCodeAt(6) << 24) >>> 0) + (h.charCodeAt(7) << 16) + (h.charCodeAt(8) << 8) + h.charCodeAt(9);
    }
    if (len > this.max) return "the server sent a WebSocket frame of " + len + " bytes, over the " + this.max + "-byte limit";
    this.hb = "";
    this.need = 2;
    this.left = len;
    this.ctl = "";
    this.st = 1;
    return "";
  }
  done(): void {
    this.st = 0;
    if (this.op >= 8) {
      const c = this.ctl;
      this.ctl = "";
      this.on(this.op, c);
    }
  }
  fail(msg: string): string {
    this.st = 3;
    this.hb = this.ctl = "";
    return msg;
  }
}
