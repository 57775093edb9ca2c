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

// WebSocket opcodes (RFC 6455 5.2).
export const enum WsOp {
  Continuation = 0,
  Text = 1,
  Binary = 2,
  Close = 8,
  Ping = 9,
  Pong = 10,
}

// The states of a link (socket.ts keeps it in link.t; the decoder runs while it is Open).
export const enum LinkState {
  New = 0,
  AwaitingUrl = 1,
  Upgrading = 2,
  Open = 3,
  ReadingRefusal = 4, // a refused upgrade's body
  Closed = 5,
}

export function wsFrame(op: number, payload: string, key?: string): string;
export function wsFrame(link: any, chunk: string): MqttError | "";
// target: the opcode (encode) or the target (decode): one parameter, no alias (a local costs a variable
// on Espruino while the function runs).
export function wsFrame(target: any, data: string, key?: string): any {
  const C = String.fromCharCode;
  let n = data.length;
  let i = 0;
  let problem: MqttError | "" = "";
  let j;
  if (typeof target == "number") {
    // encode: masked through a Uint8Array, back to a binary string with E.toString on Espruino (no
    // per-byte variables; undefined when out of memory)
    if (!key) for (key = "", j = 4; j--; ) key += C(Math.random() * 256);
    const masked = new Uint8Array(n);
    for (; i < n; i++) masked[i] = data.charCodeAt(i) ^ key!.charCodeAt(i & 3);
    let bytes: any = "";
    if (typeof E != "undefined") bytes = E.toString(masked);
    else for (i = 0; i < n; ) bytes += C(masked[i++]); // Node (tests, tools)
    if (typeof bytes != "string") throw "out of memory (" + n + "-byte frame)";
    return C(128 | target) + (n < 126 ? C(128 | n) : n < 65536 ? C(254, n >> 8, n & 255) : C(255, 0, 0, 0, 0, n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)) + key + bytes;
  }
  // decode one chunk (target: the link)
  if (target.b) {
    data = target.b + data;
    target.b = "";
  }
  while (target.t == LinkState.Open && i < data.length && !problem) {
    n = target.n;
    if (n) {
      // data payload: pass it on
      const piece = i || n < data.length ? data.substr(i, n) : data;
      i += piece.length;
      target.n = n - piece.length;
      target.s.onData(target, piece);
      continue;
    }
    const b0 = data.charCodeAt(i);
    const b1 = data.charCodeAt(i + 1); // NaN when absent: the header is incomplete
    const op = b0 & 15;
    let headerLength = 2;
    n = b1 & 127;
    if (n > 125) headerLength = n > 126 ? 10 : 4;
    if (data.length < i + headerLength) break;
    if (headerLength > 2) for (n = 0, j = 2; j < headerLength; ) n = n * 256 + data.charCodeAt(i + j++);
    // reserved bits, a mask, a text frame or reserved opcode, a continuation outside a message or a
    // new message inside one, a fragmented or long control frame
    if (b0 & 112 || b1 & 128 || (op < WsOp.Close ? op != (target.h ? WsOp.Continuation : WsOp.Binary) : op > WsOp.Pong || b0 < 128 || headerLength > 2))
      problem = { code: MqttErrorCode.Protocol, text: "ws: bad frame (bytes " + b0 + " " + b1 + ")" };
    else if (n > 1048576) problem = { code: MqttErrorCode.Protocol, text: "ws: frame too big (" + n + " bytes)", size: n };
    else if (op >= WsOp.Close) {
      // a control frame: wait until it is all here
      if (data.length < i + headerLength + n) break;
      const payload = data.substr(i + headerLength, n);
      i += headerLength + n;
      if (op == WsOp.Ping) target.write(payload, WsOp.Pong);
      if (op == WsOp.Close) {
        target.write(payload.substr(0, 2), WsOp.Close);
        problem = { code: MqttErrorCode.Transport, text: "ws: server closed (code " + ((payload.charCodeAt(0) << 8) | payload.charCodeAt(1)) + ")" };
      }
    } else {
      i += headerLength;
      target.n = n;
      target.h = b0 < 128; // not FIN: inside a fragmented message
    }
  }
  if (!problem) target.b = data.substr(i);
  return problem;
}
