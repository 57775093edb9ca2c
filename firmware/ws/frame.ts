// WebSocket (RFC 6455) frames for a client: pure, over binary strings, no I/O. One function (one
// function object on the device) does both directions:
//
//   wsFrame(op, payload, key?) -> a masked client frame: opcode op, FIN set, the 4-byte mask `key`
//     (default: random); throws "out of memory (N-byte frame)" when Espruino cannot allocate it.
//   wsFrame(l, chunk) -> "" or why the connection must close ({code, text}): one step of the streaming decoder of
//     server frames, its state on the link l while it is open (l.t == 3):
//       l.b  bytes of a frame header or of a whole control frame still incomplete (< 128 bytes);
//       l.n  payload bytes of the current data frame still to come;
//       l.h  truthy inside a fragmented message.
//     Data payloads (binary and continuation frames) go on as they arrive, never buffered, with
//     l.s.onData(l, piece); a control frame (<= 125 bytes) is taken whole: a ping is answered with
//     l.write(payload, 10) (a pong), a pong is ignored, a close is echoed with l.write(code, 8) and
//     ends the step with "ws: server closed (code N)" (a Transport error; the rest are Protocol).
//     Refused: text frames, masked frames, reserved bits or opcodes, a continuation outside a
//     message, a new message inside one, a fragmented or long control frame ("ws: bad frame (bytes
//     B0 B1)", the first two header bytes) and data frames over 1 MB ("ws: frame too big (N bytes)").

import { MqttError, MqttErrorCode } from "../mqtt/events";

declare var E: any;

export function wsFrame(op: number, payload: string, key?: string): string;
export function wsFrame(link: any, chunk: string): MqttError | "";
export function wsFrame(l: any, c: string, k?: string): any {
  const C = String.fromCharCode;
  let n = c.length;
  let i = 0;
  let e: MqttError | "" = "";
  let j;
  if (typeof l == "number") {
    // masked through a Uint8Array, back to a binary string with E.toString on Espruino (no
    // per-byte variables; undefined when out of memory)
    if (!k) for (k = "", j = 4; j--; ) k += C(Math.random() * 256);
    const u = new Uint8Array(n);
    for (; i < n; i++) u[i] = c.charCodeAt(i) ^ k!.charCodeAt(i & 3);
    let s: any = "";
    if (typeof E != "undefined") s = E.toString(u);
    else for (i = 0; i < n; ) s += C(u[i++]); // Node (tests, tools)
    if (typeof s != "string") throw "out of memory (" + n + "-byte frame)";
    return C(128 | l) + (n < 126 ? C(128 | n) : n < 65536 ? C(254, n >> 8, n & 255) : C(255, 0, 0, 0, 0, n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)) + k + s;
  }
  if (l.b) {
    c = l.b + c;
    l.b = "";
  }
  while (l.t == 3 && i < c.length && !e) {
    n = l.n;
    if (n) {
      // data payload: pass it on
      const p = i || n < c.length ? c.substr(i, n) : c;
      i += p.length;
      l.n = n - p.length;
      l.s.onData(l, p);
      continue;
    }
    const b0 = c.charCodeAt(i);
    const b1 = c.charCodeAt(i + 1); // NaN when absent: the header is incomplete
    const op = b0 & 15;
    let h = 2;
    n = b1 & 127;
    if (n > 125) h = n > 126 ? 10 : 4;
    if (c.length < i + h) break;
    if (h > 2) for (n = 0, j = 2; j < h; ) n = n * 256 + c.charCodeAt(i + j++);
    if (b0 & 112 || b1 & 128 || (op < 3 ? op != (l.h ? 0 : 2) : op < 8 || op > 10 || b0 < 128 || h > 2)) e = { code: MqttErrorCode.Protocol, text: "ws: bad frame (bytes " + b0 + " " + b1 + ")" };
    else if (n > 1048576) e = { code: MqttErrorCode.Protocol, text: "ws: frame too big (" + n + " bytes)", size: n };
    else if (op > 7) {
      // a control frame: wait until it is all here
      if (c.length < i + h + n) break;
      const p = c.substr(i + h, n);
      i += h + n;
      if (op == 9) l.write(p, 10);
      if (op == 8) {
        l.write(p.substr(0, 2), 8);
        e = { code: MqttErrorCode.Transport, text: "ws: server closed (code " + ((p.charCodeAt(0) << 8) | p.charCodeAt(1)) + ")" };
      }
    } else {
      i += h;
      l.n = n;
      l.h = b0 < 128;
    }
  }
  if (!e) l.b = c.substr(i);
  return e;
}
