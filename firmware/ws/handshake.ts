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

export interface WsUpgradeRequest {
  h: string; // host name
  p: number; // port
  r: string; // the request
  k: string; // its Sec-WebSocket-Key
}
export interface WsUpgradeAnswer {
  code: number; // 0, MqttErrorCode.HttpRefused or MqttErrorCode.Protocol
  text: string;
  status: number;
  body: string;
  date: string;
  c?: number; // the body length to wait for
}

export function wsUpgrade(url: string): WsUpgradeRequest | string;
export function wsUpgrade(head: string, accept: string): WsUpgradeAnswer | undefined;
export function wsUpgrade(text: string, accept?: string): any {
  let blankLine = text.indexOf("\r\n\r\n");
  if (accept == null) {
    const parts = text.split("/"); // scheme, "", host[:port], path...
    const scheme = parts[0];
    const hostPort = parts[2] || "";
    const host = hostPort.split(":");
    const port = host[1] ? +host[1] : scheme == "wss:" ? 443 : 80;
    if ((scheme != "ws:" && scheme != "wss:") || parts[1] || !host[0] || !(port > 0)) return "ws: bad URL";
    let key = "";
    for (let n = 16; n--; ) key += String.fromCharCode(Math.random() * 256);
    key = btoa(key);
    return {
      h: host[0],
      p: port,
      k: key,
      r: "GET /" + parts.slice(3).join("/") + " HTTP/1.1\r\nHost: " + hostPort +
        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
        "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
    };
  }
  // (Espruino 2v29's indexOf also "finds" a needle that runs off the end of the text: a head cut
  // after "\r\n" would count as complete)
  if (blankLine < 0 || text.substr(blankLine, 4) != "\r\n\r\n") return;
  const status = +text.substr(text.indexOf(" ") + 1, 3) | 0;
  const answer: WsUpgradeAnswer = { code: 0, text: "", status: status, body: text.substr(blankLine + 4), date: "", c: 512 };
  let accepted = false;
  for (const line of text.substr(0, blankLine).split("\r\n")) {
    // header lines (names without white space around them, as HTTP requires)
    const colon = line.indexOf(":");
    const name = line.substr(0, colon).toLowerCase();
    const value = line.substr(colon + 1).trim();
    if (name == "sec-websocket-accept") accepted = value == accept;
    if (name == "date") answer.date = value;
    if (name == "content-length") answer.c = Math.min(+value, 512);
  }
  if (status != 101 || !accepted) {
    answer.code = status < 200 ? MqttErrorCode.Protocol : MqttErrorCode.HttpRefused;
    answer.text = "ws: " + (status < 200 ? "bad upgrade answer" : "upgrade refused") + " (HTTP " + status + ")";
  }
  return answer;
}
