// Fuzzing the device's WebSocket frame decoder (firmware/ws/frame.ts) and HTTP upgrade answer
// parser (firmware/ws/handshake.ts) from their TypeScript sources.
// Invariants: data payloads come out exactly (any split), pings answered whole and <= 125 bytes,
// nothing held beyond one incomplete header or control frame (< 128 bytes), errors in plain words,
// no throw on anything; the upgrade parser never throws, never reads past the blank line, and only
// a complete, correct 101 answer passes the check.
import { MqttErrorCode } from "../../firmware/mqtt/events";
import * as fc from "fast-check";
import { createHash } from "crypto";
import { wsFrame } from "../../firmware/ws/frame";
import { WS_GUID, wsUpgrade } from "../../firmware/ws/handshake";
import { BIN as WS_BINARY, CLOSE as WS_CLOSE, PING as WS_PING, PONG as WS_PONG, wsDecoder } from "../ws/harness";
import { bytes, chunks, expectPlainError, fuzz, mutate, mutation, splits } from "./fuzz-config";

// A server frame (unmasked), as a broker sends it.
function serverFrame(op: number, payload: string, fin = true): string {
  const n = payload.length;
  let h = String.fromCharCode((fin ? 0x80 : 0) | op);
  if (n < 126) h += String.fromCharCode(n);
  else if (n < 65536) h += String.fromCharCode(126, n >> 8, n & 255);
  else h += String.fromCharCode(127, 0, 0, 0, 0, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255);
  return h + payload;
}

interface Out {
  data: string;
  ctl: [number, string][];
  err: string;
}
function decode(s: string, at: number[]): Out {
  const o: Out = { data: "", ctl: [], err: "" };
  const d = wsDecoder((op, x) => {
    if (op === WS_BINARY) o.data += x;
    else {
      expect(x.length).toBeLessThanOrEqual(125);
      o.ctl.push([op, x]);
    }
  });
  for (const c of chunks(s, at)) {
    const e = d.feed(c);
    expect(d.l.b.length).toBeLessThan(128);
    if (e) {
      o.err = e;
      break; // the link closes
    }
  }
  return o;
}

// A message: binary, possibly fragmented into continuation frames, with control frames between.
const msgArb = fc.record({
  parts: fc.array(fc.oneof({ weight: 5, arbitrary: bytes(300) }, { weight: 1, arbitrary: fc.integer({ min: 126, max: 70000 }).map((n) => "m".repeat(n)) }), { minLength: 1, maxLength: 3 }),
  ctl: fc.array(fc.record({ op: fc.constantFrom(WS_PING, WS_PONG), p: bytes(125) }), { maxLength: 2 }),
});

describe("WebSocket frame decoder fuzzing", () => {
  test("fragmented messages with control frames between, split anywhere: payload exact", () => {
    fc.assert(
      fc.property(fc.array(msgArb, { minLength: 1, maxLength: 4 }).chain((ms) => {
        let s = "";
        let data = "";
        const ctl: [number, string][] = [];
        for (const m of ms) {
          m.parts.forEach((p, i) => {
            s += serverFrame(i === 0 ? WS_BINARY : 0, p, i === m.parts.length - 1);
            data += p;
            if (i < m.ctl.length) {
              s += serverFrame(m.ctl[i].op, m.ctl[i].p);
              if (m.ctl[i].op == WS_PING) ctl.push([WS_PING, m.ctl[i].p]); // answered; pongs are ignored
            }
          });
        }
        return fc.tuple(fc.constant({ s, data, ctl }), splits(s.length));
      }), ([x, at]) => {
        const o = decode(x.s, at);
        expect(o.err).toBe("");
        expect(o.data).toBe(x.data);
        expect(o.ctl).toEqual(x.ctl);
      }),
      fuzz(200)
    );
  });

  test("random garbage: data or a plain-words error, bounded state, never a throw", () => {
    fc.assert(
      fc.property(bytes(1200).chain((g) => fc.tuple(fc.constant(g), splits(g.length))), ([g, at]) => {
        const o = decode(g, at);
        if (o.err) expectPlainError(o.err);
        expect(o.data.length).toBeLessThanOrEqual(g.length);
      }),
      fuzz(1500)
    );
  });

  test("mutated valid frame streams: outcome does not depend on chunking, never a throw", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(WS_BINARY, WS_PING, WS_PONG, WS_CLOSE), bytes(200)), { minLength: 1, maxLength: 5 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.nat(), (fr, ms, seed) => {
        const s = mutate(fr.map(([op, p]) => serverFrame(op, op >= 8 ? p.substr(0, 125) : p)).join(""), ms);
        const whole = decode(s, []);
        const split = decode(s, s.length > 1 ? [1 + (seed % (s.length - 1))] : []);
        expect(split).toEqual(whole);
        if (whole.err) expectPlainError(whole.err);
      }),
      fuzz(1500)
    );
  });

  test("masked, text, reserved bits or opcodes, stray continuations, long control frames are refused in plain words", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (b0, b1) => {
        const o = decode(String.fromCharCode(b0, b1) + "\x00".repeat(12), []);
        const op = b0 & 15;
        const bad = (b0 & 0x70) !== 0 || (b1 & 128) !== 0 || op === 1 || op === 0 || (op > 2 && op < 8) || op > 10 ||
          (op >= 8 && (!(b0 & 128) || (b1 & 127) > 125));
        if (bad) expect(o.err).toBe("ws: bad frame (bytes " + b0 + " " + b1 + ")");
        else expect(o.err).not.toBe("ws: bad frame (bytes " + b0 + " " + b1 + ")"); // (the zeros after it may be)
      }),
      fuzz(2000)
    );
  });

  test("a data frame declared over 1 MB (up to 2^64 bytes) is refused before any payload", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 8, maxLength: 8 }), fc.boolean(), (len, cont) => {
        const n = len.reduce((a, b) => a * 256 + b, 0);
        const head = cont ? serverFrame(WS_BINARY, "a", false) + "\x80" : "\x82";
        const o = decode(head + String.fromCharCode(127, ...len) + "x".repeat(50), []);
        if (n > 1 << 20) {
          expect(o.err).toBe("ws: frame too big (" + n + " bytes)");
          expect(o.data).toBe(cont ? "a" : "");
        } else {
          expect(o.err).toBe("");
          expect(o.data).toBe((cont ? "a" : "") + "x".repeat(Math.min(n, 50)));
        }
      }),
      fuzz(300)
    );
  });

  test("our own masked client frames round-trip through a reference unmasking", () => {
    fc.assert(
      fc.property(bytes(70000), bytes(4, 4), (p, key) => {
        const f = Buffer.from(wsFrame(WS_BINARY, p, key), "latin1");
        let len = f[1] & 127;
        let off = 2;
        if (len === 126) {
          len = f.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          len = Number(f.readBigUInt64BE(2));
          off = 10;
        }
        expect(f[0]).toBe(0x82);
        expect(f[1] & 128).toBe(128);
        const k = f.subarray(off, off + 4);
        const body = Buffer.from(f.subarray(off + 4));
        for (let i = 0; i < body.length; i++) body[i] ^= k[i & 3];
        expect(body.length).toBe(len);
        expect(body.toString("latin1")).toBe(p);
      }),
      fuzz(60)
    );
  });
});

// ---------------------------------------------------------------- HTTP upgrade answer

const accept = (key: string) => createHash("sha1").update(key + WS_GUID).digest("base64");
const headerArb = fc.tuple(
  fc.string({ minLength: 1, maxLength: 20, unit: fc.constantFrom("a", "X", "-", "c", "t") }),
  fc.string({ maxLength: 40, unit: fc.constantFrom("a", " ", ":", "/", "1", ";", "=") })
);
function caseMix(s: string, seed: number): string {
  return s
    .split("")
    .map((c, i) => ((seed >> i % 16) & 1 ? c.toUpperCase() : c.toLowerCase()))
    .join("");
}

describe("HTTP upgrade answer parser fuzzing", () => {
  test("random bytes: undefined until a blank line, never reads past it, never throws", () => {
    fc.assert(
      fc.property(bytes(600), fc.boolean(), (g, blank) => {
        const buf = blank ? g + "\r\n\r\n" + "tail" : g;
        const h: any = wsUpgrade(buf, accept("k"));
        if (buf.indexOf("\r\n\r\n") < 0) {
          expect(h).toBeUndefined();
          return;
        }
        expect(h.body).toBe(buf.substr(buf.indexOf("\r\n\r\n") + 4));
        expect(Number.isInteger(h.status)).toBe(true);
        if (h.status !== 101) expect(h.text).toMatch(/^ws: (bad upgrade answer|upgrade refused) \(HTTP -?\d+\)$/);
        expectPlainError(h.text || "passed: a 101 with the right Sec-WebSocket-Accept");
      }),
      fuzz(1500)
    );
  });

  test("a correct 101 answer passes whatever the header order, case and spacing", () => {
    fc.assert(
      fc.property(bytes(16, 16).map((k) => Buffer.from(k, "latin1").toString("base64")), fc.array(headerArb, { maxLength: 6 }), fc.integer(), fc.constantFrom("", " ", "  ", "\t"), fc.boolean(), (key, extra, seed, sp, proto) => {
        const need: [string, string][] = [
          [caseMix("upgrade", seed), caseMix("websocket", seed >> 3)],
          [caseMix("connection", seed >> 5), caseMix("Upgrade", seed >> 7)],
          [caseMix("sec-websocket-accept", seed >> 9), accept(key)],
        ];
        if (proto) need.push(["Sec-WebSocket-Protocol", "mqtt"]);
        const all = extra.filter(([k]) => !/^(upgrade|connection|sec-websocket-accept|sec-websocket-protocol)$/i.test(k)).concat(need);
        all.sort((a, b) => ((a[0].length * 31 + seed) % 7) - ((b[0].length * 31 + seed) % 7));
        const head = "HTTP/1.1 101 Switching Protocols\r\n" + all.map(([k, v]) => k + ":" + sp + v + sp).join("\r\n") + "\r\n\r\n";
        const h: any = wsUpgrade(head + "\x82\x02\x20\x00", accept(key));
        expect(h.text).toBe("");
        expect(h.body).toBe("\x82\x02\x20\x00");
      }),
      fuzz(500)
    );
  });

  test("a 101 with its status or Sec-WebSocket-Accept damaged is refused in plain words", () => {
    const good = (key: string) => ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: " + accept(key), "Sec-WebSocket-Protocol: mqtt"];
    fc.assert(
      fc.property(bytes(16, 16).map((k) => Buffer.from(k, "latin1").toString("base64")), fc.integer({ min: 0, max: 4 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (key, line, ms) => {
        const lines = good(key);
        lines[line] = mutate(lines[line], ms).replace(/\r|\n/g, "");
        const h: any = wsUpgrade(lines.join("\r\n") + "\r\n\r\n", accept(key));
        if (h.text) expect(h.text).toMatch(/^ws: (bad upgrade answer|upgrade refused) \(HTTP -?\d+\)$/);
        // must fail: another status, the Accept value or its header name damaged (beyond case), or
        // the head ended before it (a line damaged to an empty one)
        const st = +lines[0].substr(lines[0].indexOf(" ") + 1, 3) | 0;
        const acc = lines[3].indexOf(":");
        const blank = lines.indexOf("");
        if (st !== 101 || (blank >= 0 && blank < 3) || lines[3].substr(0, acc).toLowerCase() !== "sec-websocket-accept" || lines[3].substr(acc + 1).trim() !== accept(key)) expect(h.text).not.toBe("");
        else expect(h.text).toBe("");
      }),
      fuzz(1500)
    );
  });

  test("status lines of every shape give a status number and a refusal that names it", () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }).filter((n) => n !== 101), fc.string({ maxLength: 30, unit: fc.constantFrom("a", "b", " ", "-") }), (st, reason) => {
        const h: any = wsUpgrade("HTTP/1.1 " + st + " " + reason + "\r\nDate: Sun, 22 Nov 2026 01:00:00 GMT\r\nContent-Length: 2\r\n\r\n{}", "x");
        expect(h).toEqual({ code: st < 200 ? MqttErrorCode.Protocol : MqttErrorCode.HttpRefused, text: "ws: " + (st < 200 ? "bad upgrade answer" : "upgrade refused") + " (HTTP " + st + ")", status: st, c: 2, date: "Sun, 22 Nov 2026 01:00:00 GMT", body: "{}" });
      }),
      fuzz(300)
    );
  });

  test("URL parser: random strings give a URL or a plain-words error", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 60 }), fc.webUrl().map((u) => u.replace(/^https?/, "ws"))), (u) => {
        const r: any = wsUpgrade(u);
        if (typeof r === "string") expect(r).toBe("ws: bad URL");
        else {
          expect(u).toMatch(/^wss?:\/\//);
          expect(r.p).toBeGreaterThan(0);
          expect(r.h.length).toBeGreaterThan(0);
          expect(r.r).toMatch(/^GET \/\S* HTTP\/1.1\r\nHost: [^\r\n]+\r\n/);
          expect(r.r).toContain("\r\nSec-WebSocket-Key: " + r.k + "\r\n");
        }
      }),
      fuzz(500)
    );
  });
});
