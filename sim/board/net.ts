// net / tls sockets backed by real Node sockets.
// - 'data' delivers latin1 binary strings, at most `mss` bytes per event (TCP MSS on ESP8266: 536).
// - Errors arrive as 'error' {code, message} then 'close'. Codes follow Espruino's SOCKET_ERR_*
//   list as closely as known (approximate): -1 host not found, -2 connection reset,
//   -3 connection closed, -5 timeout, -6 no connection, -7 unknown, -8 SSL handshake failed.
// - TLS (ESP32 only) mimics Espruino's mbedTLS use: the server certificate is NOT verified and no
//   SNI is sent (measured on the 2v29 ESP32 build: its ClientHello carries no server_name, whatever
//   the host); ca/key/cert options are passed through (client certificate) but ca does not enable
//   verification.
import * as net from "net";
import * as tls from "tls";

export const SOCKET_ERRORS = {
  HOST_NOT_FOUND: { code: -1, message: "host not found" },
  RESET: { code: -2, message: "connection reset" },
  CLOSED: { code: -3, message: "connection closed" },
  TIMEOUT: { code: -5, message: "timeout" },
  NO_CONN: { code: -6, message: "no connection" },
  UNKNOWN: { code: -7, message: "unknown error" },
  SSL_HAND: { code: -8, message: "SSL handshake failed" },
};
// The SNI the board sends: none ("" makes Node leave the extension out, even for a host name).
export const TLS_SNI = "";

export type Resolver = (host: string, port: number) => { host: string; port: number };

interface SockRec {
  sock: net.Socket;
  tls: boolean;
  connected: boolean;
  done: boolean; // close already reported to the firmware
  heldOut: Buffer[];
  heldIn: Buffer[];
  placeholder?: boolean; // connect() while WiFi was down: no Node socket behind it
}

export interface NetHooks {
  event(sid: number, ev: string, arg?: string): void;
}

function mapError(e: any, isTls: boolean): { code: number; message: string } {
  const c = e && e.code;
  if (c === "ENOTFOUND" || c === "EAI_AGAIN") return SOCKET_ERRORS.HOST_NOT_FOUND;
  if (c === "ECONNREFUSED" || c === "ECONNRESET" || c === "EPIPE") return SOCKET_ERRORS.RESET;
  if (c === "ETIMEDOUT") return SOCKET_ERRORS.TIMEOUT;
  if (isTls && (/SSL|TLS|certificate/i.test(String(e && e.message)) || (c && String(c).startsWith("ERR_SSL")))) return SOCKET_ERRORS.SSL_HAND;
  return SOCKET_ERRORS.UNKNOWN;
}

export class NetModel {
  private socks = new Map<number, SockRec>();
  stalled = false;
  bytesSent = 0;
  bytesReceived = 0;
  constructor(
    private hooks: NetHooks,
    private mss: number,
    private resolve: Resolver,
    private linkUp: () => boolean,
  ) {}
  get count(): number {
    return this.socks.size;
  }
  pendingBytes(): number {
    let n = 0;
    for (const r of this.socks.values()) {
      n += r.sock.writableLength || 0;
      for (const b of r.heldOut) n += b.length;
      for (const b of r.heldIn) n += b.length;
    }
    return n;
  }
  private fail(sid: number, err: { code: number; message: string }): void {
    const r = this.socks.get(sid);
    if (!r || r.done) return;
    r.done = true;
    this.socks.delete(sid);
    this.hooks.event(sid, "error", JSON.stringify(err));
    this.hooks.event(sid, "close", "1");
  }
  connect(sid: number, host: string, port: number, useTls: boolean, extraJson: string): void {
    if (!this.linkUp()) {
      // No WiFi: the DNS lookup / connect fails shortly after.
      // The placeholder never touches the network; writes to it are buffered then dropped with it, as
      // Espruino buffers writes to a socket that is still connecting.
      const dummy = new net.Socket();
      dummy.on("error", () => undefined);
      const r: SockRec = { sock: dummy, tls: useTls, connected: false, done: false, heldOut: [], heldIn: [], placeholder: true };
      this.socks.set(sid, r);
      setTimeout(() => this.fail(sid, net.isIP(host) ? SOCKET_ERRORS.NO_CONN : SOCKET_ERRORS.HOST_NOT_FOUND), 20);
      return;
    }
    const target = this.resolve(host, port);
    let sock: net.Socket;
    if (useTls) {
      let extra: any = {};
      try {
        extra = JSON.parse(extraJson);
      } catch {
        extra = {};
      }
      sock = tls.connect({
        host: target.host,
        port: target.port,
        rejectUnauthorized: false,
        servername: TLS_SNI,
        key: extra.key,
        cert: extra.cert,
      });
    } else {
      sock = net.connect({ host: target.host, port: target.port });
    }
    sock.setNoDelay(true);
    const r: SockRec = { sock, tls: useTls, connected: false, done: false, heldOut: [], heldIn: [] };
    this.socks.set(sid, r);
    sock.on(useTls ? "secureConnect" : "connect", () => {
      if (r.done) return;
      r.connected = true;
      this.hooks.event(sid, "connect");
    });
    sock.on("data", (buf: Buffer) => {
      if (r.done) return;
      if (this.stalled) {
        r.heldIn.push(buf);
        return;
      }
      this.deliver(sid, r, buf);
    });
    sock.on("end", () => {
      if (r.done || this.stalled) return;
      this.hooks.event(sid, "end");
    });
    sock.on("error", (e) => {
      this.fail(sid, mapError(e, useTls));
    });
    sock.on("close", () => {
      if (r.done) return;
      if (this.stalled) return; // a stalled link reports nothing
      r.done = true;
      this.socks.delete(sid);
      this.hooks.event(sid, "close", "0");
    });
  }
  private deliver(sid: number, r: SockRec, buf: Buffer): void {
    this.bytesReceived += buf.length;
    for (let i = 0; i < buf.length; i += this.mss) {
      if (r.done) return;
      this.hooks.event(sid, "data", buf.subarray(i, i + this.mss).toString("latin1"));
    }
  }
  write(sid: number, data: string): boolean {
    const r = this.socks.get(sid);
    if (!r || r.done) return false;
    if (r.placeholder) return true;
    const buf = Buffer.from(data, "latin1");
    if (this.stalled) {
      r.heldOut.push(buf);
      return true;
    }
    this.bytesSent += buf.length;
    r.sock.write(buf, () => {
      if (!r.done && r.sock.writableLength === 0) this.hooks.event(sid, "drain");
    });
    return true;
  }
  end(sid: number): void {
    const r = this.socks.get(sid);
    if (!r || r.done) return;
    if (this.stalled) {
      r.heldOut.push(Buffer.alloc(0)); // end after release
      (r as any).endAfter = true;
      return;
    }
    r.sock.end();
  }
  /** faults.resetSockets: like a TCP RST on every device socket. */
  resetAll(): void {
    for (const [sid, r] of [...this.socks]) {
      try {
        if (typeof (r.sock as any).resetAndDestroy === "function" && r.connected && !r.tls) (r.sock as any).resetAndDestroy();
        else r.sock.destroy();
      } catch {
        r.sock.destroy();
      }
      this.fail(sid, SOCKET_ERRORS.RESET);
    }
  }
  /** WiFi lost: every socket errors and closes; the Node socket is destroyed (the peer sees a close). */
  linkDown(): void {
    for (const [sid, r] of [...this.socks]) {
      r.sock.destroy();
      this.fail(sid, SOCKET_ERRORS.CLOSED);
    }
  }
  /** faults.stallSockets: nothing moves in either direction until released. */
  stall(on: boolean): void {
    this.stalled = on;
    if (on) return;
    for (const [sid, r] of [...this.socks]) {
      const out = r.heldOut;
      r.heldOut = [];
      for (const b of out) if (b.length) this.write(sid, b.toString("latin1"));
      if ((r as any).endAfter) r.sock.end();
      const inn = r.heldIn;
      r.heldIn = [];
      for (const b of inn) this.deliver(sid, r, b);
      if (r.sock.destroyed && !r.done) {
        r.done = true;
        this.socks.delete(sid);
        this.hooks.event(sid, "close", "0");
      }
    }
  }
  /** Reboot/stop: sockets vanish without events (the context is gone). */
  destroyAll(): void {
    for (const r of this.socks.values()) {
      r.done = true;
      r.sock.destroy();
    }
    this.socks.clear();
  }
}
