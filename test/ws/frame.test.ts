// WebSocket frame codec: byte-exact against the `ws` library's Sender, streaming decoder cases.
import * as fc from "fast-check";
// ws exports Sender at runtime; @types/ws does not declare it
const { Sender } = require("ws") as { Sender: { frame(data: Buffer, opts: any): Buffer[] } };
import { wsFrame } from "../../firmware/ws/frame";
import { BIN as WS_BINARY, CLOSE as WS_CLOSE, PING as WS_PING, PONG as WS_PONG, wsDecoder } from "./harness";

const KEY = "\x12\x34\xab\xcd";
function refFrame(payload: string, opcode: number, opts: { mask?: boolean; fin?: boolean } = {}): string {
  const parts = Sender.frame(Buffer.from(payload, "latin1"), {
    fin: opts.fin !== false,
    opcode,
    mask: opts.mask !== false,
    readOnly: false,
    rsv1: false,
    generateMask: (m: Buffer) => Buffer.from(KEY, "latin1").copy(m),
  } as any);
  return Buffer.concat(parts).toString("latin1");
}
function decode(s: string, splits: number[] = []) {
  const out: [number, string][] = [];
  const d = wsDecoder((op, data) => out.push([op, data]));
  let err = "";
  let last = 0;
  for (const at of splits.concat([s.length])) {
    if (err) break;
    err = d.feed(s.substring(last, at));
    last = at;
  }
  // glue consecutive data pieces: the decoder streams them, the message is their concatenation
  const msgs: [number, string][] = [];
  for (const [op, data] of out) {
    const prev = msgs[msgs.length - 1];
    if (op == WS_BINARY && prev && prev[0] == WS_BINARY) prev[1] += data;
    else msgs.push([op, data]);
  }
  return { out, msgs, err };
}
const bytes = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode((i * 7 + 3) & 255)).join("");

describe("client frames", () => {
  test.each([0, 1, 125, 126, 1000, 65535, 65536, 70000])("masked binary frame of %i bytes matches ws", (n) => {
    const p = bytes(n);
    expect(wsFrame(WS_BINARY, p, KEY)).toBe(refFrame(p, 2));
  });
  test("control frames; a random mask when none is given", () => {
    expect(wsFrame(WS_PONG, "hi", KEY)).toBe(refFrame("hi", 10));
    expect(wsFrame(WS_CLOSE, "\x03\xe8", KEY)).toBe(refFrame("\x03\xe8", 8));
    const keys = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const f = wsFrame(WS_BINARY, "abc");
      expect(f.length).toBe(9);
      expect(f.substr(0, 2)).toBe("\x82\x83");
      const k = f.substr(2, 4);
      keys.add(k);
      expect(Array.from(f.substr(6), (c, j) => String.fromCharCode(c.charCodeAt(0) ^ k.charCodeAt(j))).join("")).toBe("abc");
    }
    expect(keys.size).toBeGreaterThan(15);
  });
  test("out of memory (E.toString gives undefined): a plain error, thrown", () => {
    (global as any).E = { toString: () => undefined };
    try {
      expect(() => wsFrame(WS_BINARY, "ab", KEY)).toThrow("out of memory (2-byte frame)");
    } finally {
      delete (global as any).E;
    }
  });
});

describe("server frames", () => {
  test("7-, 16- and 64-bit lengths, several frames per chunk, split at every byte", () => {
    const lens = [0, 5, 125, 126, 300, 65535, 65536, 70001];
    const s = lens.map((n) => refFrame(bytes(n), 2, { mask: false })).join("");
    const want = lens.filter((n) => n > 0).map((n) => [WS_BINARY, bytes(n)]);
    const whole = decode(s);
    expect(whole.err).toBe("");
    // empty frames carry nothing; consecutive data pieces are one MQTT byte stream anyway
    expect(whole.out.map((x) => x[1]).join("")).toBe(want.map((x) => x[1]).join(""));
    const small = lens.slice(0, 5).map((n) => refFrame(bytes(n), 2, { mask: false })).join("");
    const every = decode(small, Array.from({ length: small.length - 1 }, (_, i) => i + 1));
    expect(every.err).toBe("");
    expect(every.out.map((x) => x[1]).join("")).toBe(lens.slice(0, 5).map(bytes).join(""));
  });
  test("fragmented message with a ping in the middle (answered); a pong (ignored); close (echoed, ends)", () => {
    const s =
      refFrame("abc", 2, { mask: false, fin: false }) +
      refFrame("P", 9, { mask: false }) +
      refFrame("def", 0, { mask: false, fin: false }) +
      refFrame("gh", 0, { mask: false }) +
      refFrame("", 10, { mask: false }) +
      refFrame("", 9, { mask: false }) +
      refFrame("\x03\xe8bye", 8, { mask: false }) +
      refFrame("after", 2, { mask: false });
    const r = decode(s, [2, 7, 9]);
    expect(r.err).toBe("ws: server closed (code 1000)");
    expect(r.msgs).toEqual([[WS_BINARY, "abc"], [WS_PING, "P"], [WS_BINARY, "defgh"], [WS_PING, ""], [WS_CLOSE, "\x03\xe8"]]);
    expect(decode(refFrame("", 8, { mask: false })).err).toBe("ws: server closed (code 0)");
  });
  test("a split control frame is held whole (at most 127 bytes), data is not held at all", () => {
    const ping = refFrame("p".repeat(125), 9, { mask: false });
    const out: [number, string][] = [];
    const d = wsDecoder((op, x) => out.push([op, x]));
    expect(d.feed(ping.substr(0, 100))).toBe("");
    expect(d.l.b.length).toBe(100);
    expect(d.feed(ping.substr(100) + refFrame("x".repeat(300), 2, { mask: false }).substr(0, 50))).toBe("");
    expect(out).toEqual([[WS_PING, "p".repeat(125)], [WS_BINARY, "x".repeat(46)]]);
    expect(d.l.b).toBe("");
    expect(d.l.n).toBe(254);
  });
  const bad: [string, string, string][] = [
    ["text frame", refFrame("{}", 1, { mask: false }), "ws: bad frame (bytes 129 2)"],
    ["masked frame", refFrame("x", 2), "ws: bad frame (bytes 130 129)"],
    ["reserved bits", "\xc2\x00", "ws: bad frame (bytes 194 0)"],
    ["reserved opcode", "\x83\x00", "ws: bad frame (bytes 131 0)"],
    ["continuation first", refFrame("x", 0, { mask: false }), "ws: bad frame (bytes 128 1)"],
    ["new message inside a fragmented one", refFrame("a", 2, { mask: false, fin: false }) + refFrame("b", 2, { mask: false }), "ws: bad frame (bytes 130 1)"],
    ["fragmented ping", "\x09\x00", "ws: bad frame (bytes 9 0)"],
    ["long ping", "\x89\x7e\x00\x05", "ws: bad frame (bytes 137 126)"],
    ["64-bit length over 4 GB", "\x82\x7f\x00\x00\x00\x01\x00\x00\x00\x00", "ws: frame too big (4294967296 bytes)"],
    ["over the 1 MB limit", "\x82\x7f\x00\x00\x00\x00\x00\x10\x00\x01", "ws: frame too big (1048577 bytes)"],
    ["over the limit, continuation", refFrame("a", 2, { mask: false, fin: false }) + "\x00\x7f\x00\x00\x00\x00\x7f\x00\x00\x00", "ws: frame too big (2130706432 bytes)"],
  ];
  test.each(bad)("rejects %s clearly", (_n, s, msg) => {
    expect(decode(s).err).toBe(msg);
  });
  test("1 MB exactly is accepted, streamed", () => {
    const r = decode("\x82\x7f\x00\x00\x00\x00\x00\x10\x00\x00" + "x".repeat(1000));
    expect(r.err).toBe("");
    expect(r.out).toEqual([[WS_BINARY, "x".repeat(1000)]]);
  });
  test("property: any split of a valid frame stream gives the same bytes; garbage never throws", () => {
    const frameArb = fc.record({ n: fc.integer({ min: 0, max: 400 }), op: fc.constantFrom(2, 9, 10) });
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 10 }), fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 20 }), (fs, sp) => {
        const s = fs.map((f) => refFrame(bytes(f.op == 2 ? f.n : f.n % 126), f.op, { mask: false })).join("");
        const splits = [...new Set(sp.filter((x) => x < s.length))].sort((a, b) => a - b);
        const a = decode(s);
        const b = decode(s, splits);
        expect(b.err).toBe("");
        expect(b.msgs.filter((m) => m[0] != WS_BINARY)).toEqual(a.msgs.filter((m) => m[0] != WS_BINARY));
        expect(b.out.filter((m) => m[0] == WS_BINARY).map((m) => m[1]).join("")).toBe(a.out.filter((m) => m[0] == WS_BINARY).map((m) => m[1]).join(""));
      }),
      { numRuns: 200 }
    );
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 }), (g) => {
        const r = decode(String.fromCharCode(...g), [3, 50]);
        expect(typeof r.err).toBe("string");
      }),
      { numRuns: 500 }
    );
  });
});
