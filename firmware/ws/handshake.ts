// WebSocket opening handshake for a client (RFC 6455 section 4): pure, no I/O.
// Memory diet: the device uses two functions, wsParseUrl (URL + upgrade request) and wsHead (response
// head parsing + checks); wsRequest, wsParseHead and wsCheckHead are thin wrappers for tests.

export const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export interface WsUrl {
  tls: boolean; // wss:
  host: string; // authority as written (host[:port]): the Host header, i.e. what was signed
  name: string; // host name only
  port: number;
  path: string; // path + query
  req?: string; // the upgrade request, when a key was given
}

// Parses ws://host[:port]/path?query or wss://...; returns an error in plain words when it is not one.
// With `key` (base64 Sec-WebSocket-Key), also builds the upgrade request (Host: the signed host,
// which may differ from the TCP target behind a relay).
export function wsParseUrl(url: string, key?: string): WsUrl | string {
  const tls = url.indexOf("wss://") == 0;
  if (!tls && url.indexOf("ws://") != 0) return "URL must start with ws:// or wss://";
  const rest = url.substr(tls ? 6 : 5);
  let slash = rest.indexOf("/");
  const q = rest.indexOf("?");
  if (slash < 0 || (q >= 0 && q < slash)) slash = q;
  const host = slash < 0 ? rest : rest.substr(0, slash);
  let path = slash < 0 ? "/" : rest.substr(slash);
  if (path.charAt(0) == "?") path = "/" + path;
  const colon = host.indexOf(":");
  const name = colon < 0 ? host : host.substr(0, colon);
  const port = colon < 0 ? (tls ? 443 : 80) : parseInt(host.substr(colon + 1), 10);
  if (!name.length || !(port > 0 && port < 65536)) return "URL has no valid host and port";
  const u: WsUrl = { tls: tls, host: host, name: name, port: port, path: path };
  if (key !== undefined) {
    u.req =
      "GET " + path + " HTTP/1.1\r\nHost: " + host +
      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
      "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n";
  }
  return u;
}

// The upgrade request (tests).
export function wsRequest(path: string, host: string, key: string): string {
  return (wsParseUrl("ws://" + host + path, key) as WsUrl).req!;
}

export interface WsHead {
  status: number;
  reason: string;
  accept: string;
  date: string;
  proto: string;
  upgrade: string;
  conn: string;
  clen: number; // Content-Length, -1 when absent
  len: number; // bytes of the head including the blank line; the rest of the buffer is frames/body
  err: string; // "" when a 101 head completes the handshake, otherwise why not (in plain words)
}

// Parses the response head once the blank line has arrived (null while it is incomplete) and
// checks it against the expected Sec-WebSocket-Accept value.
export function wsHead(buf: string, accept: string): WsHead | null {
  const end = buf.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const lines = buf.substr(0, end).split("\r\n");
  const sl = lines[0];
  const sp1 = sl.indexOf(" ");
  const sp2 = sl.indexOf(" ", sp1 + 1);
  const h: WsHead = {
    status: sl.indexOf("HTTP/") == 0 ? parseInt(sl.substr(sp1 + 1, 3), 10) || 0 : 0,
    // the reason ends up in a log line: printable ASCII only, and short, whatever the server sent
    reason: sp2 < 0 ? "" : sl.substr(sp2 + 1, 40).replace(/[^ -~]/g, "?"),
    accept: "",
    date: "",
    proto: "",
    upgrade: "",
    conn: "",
    clen: -1,
    len: end + 4,
    err: "",
  };
  for (let i = 1; i < lines.length; i++) {
    const c = lines[i].indexOf(":");
    if (c < 0) continue;
    const k = lines[i].substr(0, c).trim().toLowerCase();
    const v = lines[i].substr(c + 1).trim();
    if (k == "sec-websocket-accept") h.accept = v;
    else if (k == "date") h.date = v;
    else if (k == "sec-websocket-protocol") h.proto = v.substr(0, 20).replace(/[^ -~]/g, "?");
    else if (k == "upgrade") h.upgrade = v.toLowerCase();
    else if (k == "connection") h.conn = v.toLowerCase();
    else if (k == "content-length") h.clen = parseInt(v, 10);
  }
  if (h.status != 101) h.err = "WebSocket upgrade refused: HTTP " + h.status + (h.reason ? " " + h.reason : "");
  else if (h.upgrade != "websocket" || h.conn.indexOf("upgrade") < 0) h.err = "WebSocket upgrade answer lacks Upgrade/Connection headers";
  else if (h.accept != accept) h.err = "WebSocket upgrade answer has a wrong Sec-WebSocket-Accept";
  else if (h.proto && h.proto != "mqtt") h.err = "server chose WebSocket subprotocol " + h.proto + " instead of mqtt";
  return h;
}

// Test wrappers: parse only / check a parsed head against an accept value.
export function wsParseHead(buf: string): WsHead | null {
  const h = wsHead(buf, "");
  if (h) (h as any).src = buf.substr(0, h.len);
  return h;
}
export function wsCheckHead(h: WsHead, accept: string): string {
  return wsHead((h as any).src, accept)!.err;
}
