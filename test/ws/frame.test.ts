// WebSocket frame codec: byte-exact against the `ws` library's Sender, streaming decoder cases.
import * as fc from "fast-check";
// ws exports Sender at runtime; @types/ws does not declare it
const { Sender } = require("ws") as { Sender: { frame(data: Buffer, opts: any): Buffer[] } };
import { WS_BINARY, WS_CLOSE, WS_PING, WS_PONG, WsDecoder, u8ToStr, wsFrame } from "../../firmware/ws/frame";

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
function decode(s: string, splits: number[] = [], max = 1 << 20) {
  const out: [number, string][] = [];
  const d = new WsDecoder(max, (op, data) => out.push([op, data]));
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
  test("control frames and a custom Uint8Array converter", () => {
    expect(wsFrame(WS_PONG, "hi", KEY)).toBe(refFrame("hi", 10));
    expect(wsFrame(WS_CLOSE, "\x03\xe8", KEY)).toBe(refFrame("\x03\xe8", 8));
    expect(u8ToStr(new Uint8Array([0, 255, 65]))).toBe("\x00\xffA");
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
  test("fragmented message with a ping in the middle; pong and close", () => {
    const s =
      refFrame("abc", 2, { mask: false, fin: false }) +
      refFrame("P", 9, { mask: false }) +
      refFrame("def", 0, { mask: false, fin: false }) +
      refFrame("gh", 0, { mask: false }) +
      refFrame("", 10, { mask: false }) +
      refFrame("\x03\xe8bye", 8, { mask: false });
    const r = decode(s, [2, 7, 9]);
    expect(r.err).toBe("");
    expect(r.msgs).toEqual([[WS_BINARY, "abc"], [WS_PING, "P"], [WS_BINARY, "defgh"], [WS_PONG, ""], [WS_CLOSE, "\x03\xe8bye"]]);
  });
  const bad: [string, string, RegExp][] = [
    ["text frame", refFrame("{}", 1, { mask: false }), /text frame; MQTT over WebSocket needs binary frames/],
    ["masked frame", refFrame("x", 2), /masked/],
    ["reserved bits", "\xc2\x00", /reserved WebSocket bits/],
    ["reserved opcode", "\x83\x00", /reserved opcode 3/],
    ["continuation first", refFrame("x", 0, { mask: false }), /continuation frame outside a message/],
    ["new message inside a fragmented one", refFrame("a", 2, { mask: false, fin: false }) + refFrame("b", 2, { mask: false }), /new message inside a fragmented one/],
    ["fragmented ping", "\x09\x00", /fragmented or oversize control frame/],
    ["huge ping", "\x89\x7e\x00\x80", /fragmented or oversize control frame/],
    ["64-bit length over 4 GB", "\x82\x7f\x00\x00\x00\x01\x00\x00\x00\x00", /larger than 4 GB/],
    ["over the configured max", "\x82\x7e\x10\x00", /4096 bytes, over the 1000-byte limit/],
  ];
  test.each(bad)("rejects %s clearly", (_n, s, re) => {
    const r = decode(s, [], 1000);
    expect(r.err).toMatch(re);
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
        const r = decode(String.fromCharCode(...g), [3, 50], 1000);
        expect(typeof r.err).toBe("string");
      }),
      { numRuns: 500 }
    );
  });
});
