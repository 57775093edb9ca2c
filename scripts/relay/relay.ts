// TLS relay for boards without TLS (the ESP8266 build of Espruino): the device opens a plain TCP connection
// carrying its SigV4-presigned WebSocket upgrade; the relay reads the HTTP request head (bounded size and
// time) to learn the Host header, checks it against an allow-list, opens TLS to that host (certificate
// verified, SNI = host) and forwards every byte unchanged in both directions, the head included.
// It holds no credentials: the device signs its own URL, and the relay cannot change it without breaking
// the signature. Logs never contain the query string (it carries the signature and session token).
import * as net from "net";
import * as tls from "tls";

export interface RelayOptions {
  host?: string; // listen address, default 0.0.0.0
  port?: number; // listen port, default 8883 (0 = ephemeral)
  allow: string[]; // exact hosts, or suffixes starting with "." (e.g. ".iot.eu-west-1.amazonaws.com")
  ca?: string | Buffer | Array<string | Buffer>; // trust these CAs instead of the system ones (tests, private CAs)
  maxConnections?: number; // concurrent device connections, default 16
  maxPerAddress?: number; // concurrent connections from one source address, default 4
  maxHeadBytes?: number; // request head limit, default 8192
  headTimeoutMs?: number; // time allowed for the request head, default 3 s
  connectTimeoutMs?: number; // time allowed for the TCP + TLS connection upstream, default 15 s
  idleTimeoutMs?: number; // close a connection after this long without traffic either way, default 30 min; 0 = never
  log?: (line: string) => void;
  // Where to open the TCP connection for an allowed host (tests map names to 127.0.0.1). TLS still
  // verifies the certificate for, and sends SNI of, the Host header's name.
  resolve?: (host: string, port: number) => { host: string; port: number };
}

export interface Relay {
  port: number;
  address: string;
  active(): number;
  close(): Promise<void>;
}

export const DEFAULTS = {
  host: "0.0.0.0",
  port: 8883,
  maxConnections: 16,
  maxPerAddress: 4,
  maxHeadBytes: 8192,
  // a device sends its head in one write right after connecting: 3 s covers a slow WiFi link
  headTimeoutMs: 3000,
  connectTimeoutMs: 15000,
  idleTimeoutMs: 30 * 60 * 1000,
};

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

// Normalises and checks allow-list entries: "host", ".suffix" or "*.suffix". Throws a plain-words error.
export function parseAllowList(entries: string[]): string[] {
  const out: string[] = [];
  entries.map((e) => e.trim().toLowerCase()).filter(Boolean).forEach((e) => {
    let x = e.startsWith("*.") ? e.slice(1) : e;
    if (x.startsWith(".")) {
      const rest = x.slice(1);
      if (!HOSTNAME.test(rest) || !rest.includes(".")) throw new Error(`allow-list suffix "${e}" is too broad or not a host name suffix (use e.g. .iot.eu-west-1.amazonaws.com)`);
      out.push("." + rest);
      return;
    }
    if (x.includes(":")) throw new Error(`allow-list entry "${e}": give host names without a port`);
    if (!HOSTNAME.test(x) && !IPV4.test(x)) throw new Error(`allow-list entry "${e}" is not a host name`);
    out.push(x);
  });
  if (!out.length) throw new Error("the allow-list is empty: pass --allow <endpoint host>[,<host>...]");
  return out;
}

export function isAllowedHost(host: string, allow: string[]): boolean {
  const h = host.toLowerCase();
  return allow.some((a) => (a.startsWith(".") ? h.endsWith(a) && h.length > a.length : h === a));
}

export interface RequestHead {
  method: string;
  path: string; // without the query string
  hasQuery: boolean;
  host: string; // lower case, no port
  port: number; // from Host, default 443
  upgrade: string; // value of the Upgrade header, lower case ("" when absent)
}

// Parses an HTTP/1.x request head (the bytes before the blank line). Returns a plain reason on failure.
export function parseRequestHead(head: string): RequestHead | string {
  const lines = head.split("\r\n");
  const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(lines[0]);
  if (!m) return "the request line is not HTTP/1.x";
  const hosts: string[] = [];
  let upgrade = "";
  for (let i = 1; i < lines.length; i++) {
    const c = lines[i].indexOf(":");
    if (c <= 0) return "a header line has no name";
    const name = lines[i].slice(0, c).trim().toLowerCase();
    const value = lines[i].slice(c + 1).trim();
    if (name === "host") hosts.push(value);
    if (name === "upgrade") upgrade = value.toLowerCase();
  }
  if (hosts.length !== 1) return hosts.length ? "more than one Host header" : "no Host header";
  const hm = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(hosts[0]);
  if (!hm) return "the Host header is not a host name";
  const port = hm[2] === undefined ? 443 : Number(hm[2]);
  if (port < 1 || port > 65535) return "the Host header has an invalid port";
  const host = hm[1].toLowerCase().replace(/\.$/, "");
  if (!HOSTNAME.test(host) && !IPV4.test(host)) return "the Host header is not a host name";
  let target = m[2];
  if (/^https?:\/\//i.test(target)) target = target.replace(/^https?:\/\/[^/]*/i, "") || "/";
  const q = target.indexOf("?");
  return { method: m[1], path: q < 0 ? target : target.slice(0, q), hasQuery: q >= 0, host, port, upgrade };
}

const REASONS: Record<number, string> = {
  400: "Bad Request", 403: "Forbidden", 408: "Request Timeout", 431: "Request Header Fields Too Large",
  502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
};

function httpError(status: number, reason: string): string {
  const body = "relay: " + reason + "\n";
  return `HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

// Printable, bounded form of a path for the log (it never contains the query string).
function safePath(p: string): string {
  return p.replace(/[^\x21-\x7e]/g, "?").slice(0, 100);
}

export async function startRelay(opts: RelayOptions): Promise<Relay> {
  const o = { ...DEFAULTS, ...opts };
  const allow = parseAllowList(opts.allow);
  const log = opts.log || ((l: string) => console.log(new Date().toISOString() + " " + l));
  const sockets = new Set<net.Socket>(); // device and upstream sockets, destroyed by close()
  let active = 0;
  let nextId = 1;
  const perAddress = new Map<string, number>();
  // connections still waiting for their request head, oldest first: when every slot is taken, the oldest of these
  // gives way, so connections that send nothing cannot lock a device out
  const awaitingHead = new Map<number, (reason: string) => void>();

  const server = net.createServer((client) => {
    const id = nextId++;
    const address = client.remoteAddress || "?";
    const from = `${address}:${client.remotePort}`;
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => undefined);
    const fromHere = perAddress.get(address) || 0;
    if (fromHere >= o.maxPerAddress) {
      log(`#${id} ${from} refused: ${fromHere} connections already open from ${address} (limit ${o.maxPerAddress})`);
      client.end(httpError(503, `too many connections from one address (limit ${o.maxPerAddress})`));
      return;
    }
    if (active >= o.maxConnections) {
      const oldest = awaitingHead.entries().next();
      if (oldest.done) {
        log(`#${id} ${from} refused: ${active} connections already open (limit ${o.maxConnections})`);
        client.end(httpError(503, `too many connections (limit ${o.maxConnections})`));
        return;
      }
      oldest.value[1]("no request head yet, and every connection slot is needed");
    }
    active++;
    perAddress.set(address, fromHere + 1);
    client.on("close", () => {
      const left = (perAddress.get(address) || 1) - 1;
      if (left) perAddress.set(address, left); else perAddress.delete(address);
    });
    handle(id, from, client);
  });

  function handle(id: number, from: string, client: net.Socket): void {
    const t0 = Date.now();
    let upBytes = 0; // device -> AWS
    let downBytes = 0; // AWS -> device
    let head = Buffer.alloc(0);
    let upstream: tls.TLSSocket | undefined;
    let upConnected = false;
    let target = "";
    let done = false;
    let closeReason = "";

    client.setNoDelay(true);
    client.setKeepAlive(true, 60000);

    const finish = (reason: string) => {
      if (done) return;
      done = true;
      active--;
      awaitingHead.delete(id);
      log(`#${id} closed${target ? " " + target : ""}: ${reason}; up ${upBytes} B, down ${downBytes} B, ${Date.now() - t0} ms`);
    };
    const refuse = (status: number, reason: string) => {
      clearTimeout(headTimer);
      awaitingHead.delete(id);
      client.removeListener("data", onHead);
      log(`#${id} ${from} refused (${status}): ${reason}`);
      client.end(httpError(status, reason));
      closeReason = "refused";
      setTimeout(() => client.destroy(), 2000).unref();
    };

    const headTimer = setTimeout(() => refuse(408, `no complete request head within ${o.headTimeoutMs} ms`), o.headTimeoutMs);
    awaitingHead.set(id, (reason) => {
      refuse(408, reason);
      client.destroy(); // the slot is needed now, not after the 408 drains
      finish("gave way to a new connection");
    });
    client.on("error", (e) => {
      closeReason = closeReason || "device error: " + e.message;
    });
    client.on("close", () => {
      clearTimeout(headTimer);
      const up = upstream;
      if (up && !up.destroyed) {
        // the device is gone: let the endpoint see a clean TLS close, then make sure the socket goes
        if (upConnected) {
          up.end();
          setTimeout(() => up.destroy(), 2000).unref();
        } else up.destroy();
      }
      finish(closeReason || "device closed");
    });

    const onHead = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) {
        if (head.length > o.maxHeadBytes) refuse(431, `request head longer than ${o.maxHeadBytes} bytes`);
        return;
      }
      if (end > o.maxHeadBytes) return refuse(431, `request head longer than ${o.maxHeadBytes} bytes`);
      clearTimeout(headTimer);
      awaitingHead.delete(id);
      client.removeListener("data", onHead);
      client.pause();
      const req = parseRequestHead(head.subarray(0, end).toString("latin1"));
      if (typeof req === "string") return refuse(400, req);
      if (req.method !== "GET" || req.upgrade !== "websocket") return refuse(400, "only WebSocket upgrades (GET with Upgrade: websocket) are relayed");
      if (!isAllowedHost(req.host, allow)) return refuse(403, `${req.host} is not on this relay's allow-list`);
      target = `${req.host}:${req.port}`;
      log(`#${id} ${from} -> ${target} GET ${safePath(req.path)}${req.hasQuery ? "?<query hidden>" : ""}`);
      connectUpstream(req);
    };
    client.on("data", onHead);

    function connectUpstream(req: RequestHead): void {
      const dest = opts.resolve ? opts.resolve(req.host, req.port) : { host: req.host, port: req.port };
      const isIp = net.isIP(req.host) !== 0;
      const up = tls.connect({
        host: dest.host,
        port: dest.port,
        servername: isIp ? undefined : req.host,
        ca: o.ca,
        rejectUnauthorized: true,
        checkServerIdentity: (_h, cert) => tls.checkServerIdentity(req.host, cert),
      });
      upstream = up;
      sockets.add(up);
      up.on("close", () => sockets.delete(up));
      up.setNoDelay(true);
      const connectTimer = setTimeout(() => {
        up.destroy(new Error(`no TLS connection to ${target} within ${o.connectTimeoutMs} ms`));
      }, o.connectTimeoutMs);
      let connected = false;
      up.on("secureConnect", () => {
        connected = true;
        upConnected = true;
        clearTimeout(connectTimer);
        if (client.destroyed) return up.destroy();
        // the head and anything the device sent after it, unchanged
        up.write(head);
        upBytes += head.length;
        head = Buffer.alloc(0);
        client.on("data", (d: Buffer) => {
          upBytes += d.length;
          if (!up.write(d)) client.pause();
        });
        up.on("drain", () => client.resume());
        up.on("data", (d: Buffer) => {
          downBytes += d.length;
          if (!client.write(d)) up.pause();
        });
        client.on("drain", () => up.resume());
        client.on("end", () => up.end());
        up.on("end", () => client.end());
        client.resume();
        if (o.idleTimeoutMs > 0) {
          const idle = () => {
            closeReason = `idle for ${o.idleTimeoutMs} ms`;
            client.destroy();
            up.destroy();
          };
          client.setTimeout(o.idleTimeoutMs, idle);
        }
      });
      up.on("error", (e) => {
        clearTimeout(connectTimer);
        if (!connected) {
          const why = (e as NodeJS.ErrnoException).code === "ECONNREFUSED" ? "connection refused" : e.message;
          closeReason = "upstream failed";
          log(`#${id} TLS to ${target} failed: ${why}`);
          if (!client.destroyed) {
            client.end(httpError(502, `cannot open a verified TLS connection to ${req.host}: ${why}`));
            setTimeout(() => client.destroy(), 2000).unref();
          }
        } else {
          closeReason = closeReason || "upstream error: " + e.message;
        }
      });
      up.on("close", () => {
        clearTimeout(connectTimer);
        if (connected) {
          closeReason = closeReason || "endpoint closed";
          if (!client.destroyed) {
            client.end();
            setTimeout(() => client.destroy(), 2000).unref();
          }
        }
      });
    }
  }

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => {
      server.removeListener("error", reject);
      const a = server.address() as net.AddressInfo;
      log(`relay listening on ${a.address}:${a.port}, forwarding to ${allow.join(", ")} over verified TLS`);
      resolve({
        port: a.port,
        address: a.address,
        active: () => active,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            sockets.forEach((s) => s.destroy());
          }),
      });
    });
  });
}
