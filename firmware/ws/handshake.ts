// WebSocket opening handshake for a client (RFC 6455 section 4): pure, no I/O. One function (one
// function object on the device) does both steps:
//
//   wsUpgrade(url) -> {h: host name, p: port, r: the upgrade request, k: its Sec-WebSocket-Key (16
//     random bytes, base64)}, or "ws: bad URL". url: ws://host[:port]/path?query or wss://...; the
//     request's Host header is host[:port] as written in the URL, i.e. what was signed, whatever TCP
//     target (a relay) the socket goes to.
//   wsUpgrade(head, accept) -> the answer in `head` checked against the expected Sec-WebSocket-Accept:
//     undefined while its blank line has not arrived, then {code, text, status, date, body, c}: code 0
//     and text "" for a 101 with the right Sec-WebSocket-Accept, otherwise HttpRefused "ws: upgrade
//     refused (HTTP 403)" (status >= 200: a body follows) or Protocol "ws: bad upgrade answer (HTTP
//     101)" (anything else); body = the bytes
//     after the head; date = the Date header; c = the body length to wait for (Content-Length, at
//     most 512).

import { MqttErrorCode } from "../mqtt/events";

// The GUID of RFC 6455: Sec-WebSocket-Accept = base64(SHA1(key + WS_GUID)) (socket.ts has it as a literal).
export const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export function wsUpgrade(a: string, b?: string): any {
  let e = a.indexOf("\r\n\r\n");
  if (b == null) {
    const q = a.split("/"); // scheme, "", host[:port], path...
    const s = q[0];
    const h = q[2] || "";
    const c = h.split(":");
    const p = c[1] ? +c[1] : s == "wss:" ? 443 : 80;
    if ((s != "ws:" && s != "wss:") || q[1] || !c[0] || !(p > 0)) return "ws: bad URL";
    for (b = "", e = 16; e--; ) b += String.fromCharCode(Math.random() * 256);
    b = btoa(b);
    return {
      h: c[0],
      p: p,
      k: b,
      r: "GET /" + q.slice(3).join("/") + " HTTP/1.1\r\nHost: " + h +
        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + b +
        "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
    };
  }
  if (e < 0) return;
  const st = +a.substr(a.indexOf(" ") + 1, 3) | 0;
  const r = { code: 0, text: "", status: st, body: a.substr(e + 4), date: "", c: 512 };
  let ok = false;
  for (const x of a.substr(0, e).split("\r\n")) {
    // header lines (names without white space around them, as HTTP requires)
    const j = x.indexOf(":");
    const k = x.substr(0, j).toLowerCase();
    const v = x.substr(j + 1).trim();
    if (k == "sec-websocket-accept") ok = v == b;
    if (k == "date") r.date = v;
    if (k == "content-length") r.c = Math.min(+v, 512);
  }
  if (st != 101 || !ok) {
    r.code = st < 200 ? MqttErrorCode.Protocol : MqttErrorCode.HttpRefused;
    r.text = "ws: " + (st < 200 ? "bad upgrade answer" : "upgrade refused") + " (HTTP " + st + ")";
  }
  return r;
}
