// The streaming JSON scanner (firmware/json/scan.ts), straight from the TypeScript source: vectors for
// every JSON form and error, and properties against a reference walk over JSON.parse's result.
import * as fc from "fast-check";
import { JsonKind, JsonScanState, jsonScanFeed, jsonScanStart } from "../../firmware/json/scan";
import { bytes, chunks, expectPlainError, fuzz, mutate, mutation, splits } from "../fuzz/fuzz-config";

type Event = [string, JsonKind, string | number | boolean | null];
const utf8 = (s: string) => Buffer.from(s, "utf8").toString("latin1");

// Scans `doc` (a binary string) in the given slices; checks the state's bounds after each slice.
// `skip` is asked for each object and array: true skips its contents.
function scan(doc: string, at: number[] = [], max?: number, skip?: (path: string) => boolean): { events: Event[]; err: string } {
  const events: Event[] = [];
  const st = jsonScanStart((p, k, v) => {
    events.push([p, k, v]);
    return !!skip && (k == JsonKind.Object || k == JsonKind.Array) && skip(p);
  }, max);
  let err = "";
  for (const c of chunks(doc, at).concat([null as any])) {
    err = jsonScanFeed(st, c);
    expectBounded(st);
    if (err) break;
  }
  return { events, err };
}

function expectBounded(st: JsonScanState) {
  expect(st.s.length).toBeLessThanOrEqual(32);
  expect(st.v.length).toBeLessThanOrEqual(Math.max(st.m, 32));
  expect(st.k.length).toBeLessThanOrEqual(st.m + 1);
  expect(st.p.length).toBeLessThanOrEqual(32 * (st.m + 2));
  expect(st.x.length).toBeLessThanOrEqual(6);
}

// What the scanner must report for a parsed value: the reference the properties compare against.
function walk(v: unknown, max = 64, skip = (_path: string) => false, path = "", top = true, out: Event[] = []): Event[] {
  if (v === null) out.push([path, JsonKind.Null, null]);
  else if (typeof v == "boolean") out.push([path, JsonKind.Boolean, v]);
  else if (typeof v == "number") out.push(JSON.stringify(v).length > 32 ? [path, JsonKind.TooLong, null] : [path, JsonKind.Number, v]);
  else if (typeof v == "string") {
    const b = utf8(v);
    out.push(b.length > max ? [path, JsonKind.TooLong, null] : [path, JsonKind.String, b]);
  } else if (Array.isArray(v)) {
    out.push([path, JsonKind.Array, null]);
    if (!skip(path)) v.forEach((x, i) => walk(x, max, skip, (top ? "" : path + "/") + i, false, out));
  } else {
    out.push([path, JsonKind.Object, null]);
    if (!skip(path))
      for (const key of Object.keys(v as object)) {
      const b = utf8(key);
      const k = b.length > max ? b.substr(0, max) + "\x01" : b.split("/").join("\x01");
      walk((v as any)[key], max, skip, (top ? "" : path + "/") + k, false, out);
    }
  }
  return out;
}

const ok = (doc: string, max?: number) => {
  const r = scan(utf8(doc), [], max);
  expect(r.err).toBe("");
  return r.events;
};
const fails = (doc: string) => scan(utf8(doc)).err;

describe("vectors", () => {
  test("a shadow delta: paths, kinds and values in document order", () => {
    expect(ok('{"version":7,"state":{"on":true,"refresh":30,"name":"x","gone":null},"timestamp":1700000000}')).toEqual([
      ["", JsonKind.Object, null],
      ["version", JsonKind.Number, 7],
      ["state", JsonKind.Object, null],
      ["state/on", JsonKind.Boolean, true],
      ["state/refresh", JsonKind.Number, 30],
      ["state/name", JsonKind.String, "x"],
      ["state/gone", JsonKind.Null, null],
      ["timestamp", JsonKind.Number, 1700000000],
    ]);
  });

  test("arrays: elements by index, nested containers, the member after a closed container", () => {
    expect(ok('{"steps":[1,[true,false],{"a":"b"},[]],"after":0}')).toEqual([
      ["", JsonKind.Object, null],
      ["steps", JsonKind.Array, null],
      ["steps/0", JsonKind.Number, 1],
      ["steps/1", JsonKind.Array, null],
      ["steps/1/0", JsonKind.Boolean, true],
      ["steps/1/1", JsonKind.Boolean, false],
      ["steps/2", JsonKind.Object, null],
      ["steps/2/a", JsonKind.String, "b"],
      ["steps/3", JsonKind.Array, null],
      ["after", JsonKind.Number, 0],
    ]);
  });

  test("scalars and empty containers at the root", () => {
    expect(ok("42")).toEqual([["", JsonKind.Number, 42]]);
    expect(ok('""')).toEqual([["", JsonKind.String, ""]]);
    expect(ok("null")).toEqual([["", JsonKind.Null, null]]);
    expect(ok("{}")).toEqual([["", JsonKind.Object, null]]);
    expect(ok("[]")).toEqual([["", JsonKind.Array, null]]);
    expect(ok('{"":{},"e":[],"s":""}')).toEqual([
      ["", JsonKind.Object, null],
      ["", JsonKind.Object, null],
      ["e", JsonKind.Array, null],
      ["s", JsonKind.String, ""],
    ]);
  });

  test("every number form", () => {
    const forms = ["0", "-0", "1e5", "1E+5", "1.5e-3", "0.0", "-12.75", "1E-0", "123456789012", "-0.5e+10"];
    const got = ok("[" + forms.join(",") + "]").slice(1);
    expect(got.map((e) => e[2])).toEqual(forms.map((f) => JSON.parse(f)));
    expect(Object.is(got[1][2], -0)).toBe(true);
    expect(ok("[" + "1".repeat(32) + "," + "1".repeat(33) + "]").slice(1)).toEqual([
      ["0", JsonKind.Number, 11111111111111111111111111111111],
      ["1", JsonKind.TooLong, null],
    ]);
  });

  test("every escape, \\u escapes as UTF-8 bytes, surrogate pairs, raw UTF-8", () => {
    const doc = '["\\" \\\\ \\/ \\b \\f \\n \\r \\t","\\u0041\\u00e9\\u20ac\\ud83d\\ude00","é€😀","\\ud800x","\\udc00","\\ud800\\ud800"]';
    expect(ok(doc).slice(1).map((e) => e[2])).toEqual(['" \\ / \b \f \n \r \t', utf8("Aé€😀"), utf8("é€😀"), utf8("\ufffdx"), utf8("\ufffd"), utf8("\ufffd\ufffd")]);
  });

  test("whitespace everywhere", () => {
    expect(ok(' \t\r\n{ "a" \n:\t[ 1 , "x" ,\r{ } ] , "b" : true } \n')).toEqual(ok('{"a":[1,"x",{}],"b":true}'));
  });

  test("long strings are TooLong and never buffered; long keys and keys with '/' never alias a short path", () => {
    const long = "x".repeat(5000);
    const events: Event[] = [];
    const st = jsonScanStart((p, k, v) => events.push([p, k, v]), 8);
    const doc = `{"s":"${long}","12345678":"12345678","123456789":{"on":true},"a/b":1,"k":"ok"}`;
    for (let i = 0; i < doc.length; i += 100) {
      expect(jsonScanFeed(st, doc.substr(i, 100))).toBe("");
      expect(st.v.length).toBeLessThanOrEqual(8);
    }
    expect(jsonScanFeed(st, null)).toBe("");
    expect(events).toEqual([
      ["", JsonKind.Object, null],
      ["s", JsonKind.TooLong, null],
      ["12345678", JsonKind.String, "12345678"],
      ["12345678\x01", JsonKind.Object, null],
      ["12345678\x01/on", JsonKind.Boolean, true],
      ["a\x01b", JsonKind.Number, 1],
      ["k", JsonKind.String, "ok"],
    ]);
  });

  test("nesting to the limit and beyond", () => {
    const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
    const e = ok(deep(32));
    expect(e.length).toBe(32);
    expect(e[31][0]).toBe(Array(31).fill("0").join("/"));
    expect(fails(deep(33))).toBe("bad JSON at byte 32: JSON nested deeper than 32 levels");
    expect(fails('{"a":'.repeat(33) + "1" + "}".repeat(33))).toMatch(/nested deeper than 32 levels/);
  });

  test.each([
    ["", "JSON ends early"],
    ["{", "JSON ends early"],
    ['{"a":1', "JSON ends early"],
    ['"abc', "JSON ends early"],
    ['"\\u12', "JSON ends early"],
    ["[1,]", 'bad JSON at byte 3: unexpected "]"'],
    ['{"a":1,}', 'bad JSON at byte 7: unexpected "}"'],
    ['{"a" 1}', 'bad JSON at byte 5: unexpected "1"'],
    ['{"a":1 "b":2}', 'bad JSON at byte 7: unexpected """'],
    ["{1:2}", 'bad JSON at byte 1: unexpected "1"'],
    ["[1}", 'bad JSON at byte 2: unexpected "}"'],
    ["]", 'bad JSON at byte 0: unexpected "]"'],
    ["{} {}", 'bad JSON at byte 3: unexpected "{"'],
    ["01", "bad JSON at byte 2: bad number"],
    ["-", "bad JSON at byte 1: bad number"],
    ["1.", "bad JSON at byte 2: bad number"],
    [".5", 'bad JSON at byte 0: unexpected "."'],
    ["+1", 'bad JSON at byte 0: unexpected "+"'],
    ["1e", "bad JSON at byte 2: bad number"],
    ["1.5.2", "bad JSON at byte 5: bad number"],
    ["[1e+]", "bad JSON at byte 4: bad number"],
    ["[tru]", 'bad JSON at byte 4: unknown word "tru"'],
    ["nulls", 'bad JSON at byte 5: unknown word "nulls"'],
    ["[falsey]", "bad JSON at byte 6: unknown word"],
    ["[True]", 'bad JSON at byte 1: unexpected "T"'],
    ['"\\x"', "bad JSON at byte 2: bad escape in a string"],
    ['"\\u12g4"', "bad JSON at byte 5: bad \\u escape in a string"],
    ["[1]\x00", "bad JSON at byte 3: unexpected byte 0"],
    ["\xef\xbb\xbf{}", "bad JSON at byte 0: unexpected byte 239"],
    ["{'a':1}", "bad JSON at byte 1: unexpected \"'\""],
  ])("malformed %j: %s", (doc, msg) => {
    const err = scan(doc).err;
    expect(err).toBe(msg);
    expectPlainError(err);
  });

  test("after an error the scanner is dead and keeps saying so", () => {
    const st = jsonScanStart(() => undefined);
    const e = jsonScanFeed(st, "[1,,");
    expect(e).toBe('bad JSON at byte 3: unexpected ","');
    expect(jsonScanFeed(st, "2]")).toBe(e);
    expect(jsonScanFeed(st, null)).toBe(e);
  });

  test("a handler that returns true skips an object or array: nothing inside is reported", () => {
    const doc = '{"state":{"desired":{"on":true}},"metadata":{"desired":{"on":{"timestamp":1}},"s":"a}]\\"{[","t":[[{}],"]"]},"version":3}';
    const skip = (p: string) => p == "metadata";
    const want = walk(JSON.parse(doc), 64, skip);
    expect(want.map((e) => e[0])).toEqual(["", "state", "state/desired", "state/desired/on", "metadata", "version"]);
    for (let cut = 0; cut <= doc.length; cut++) expect(scan(doc, [cut], 64, skip)).toEqual({ events: want, err: "" });
    expect(scan('[{"a":[1,2]}]', [], 64, (p) => p == "").events).toEqual([["", JsonKind.Array, null]]);
    expect(scan('{"a":{"b":"}', [], 64, (p) => p == "a").err).toBe("JSON ends early");
    expect(scan('{"a":{"b":"\\', [], 64, (p) => p == "a").err).toBe("JSON ends early");
  });

  test("byte positions count across slices", () => {
    expect(scan('{"a":[1,2,#]}', [3, 7, 9]).err).toBe('bad JSON at byte 10: unexpected "#"');
  });
});

// Some JSON texts, from JSON.stringify of arbitrary values with unicode strings, laid out compactly,
// pretty-printed with every whitespace character, or with every non-ASCII character escaped.
const layout = fc.constantFrom(0, 1, 2);
function text(v: unknown, how: number): string {
  if (how == 1) return JSON.stringify(v, null, " \t\r\n");
  const s = JSON.stringify(v);
  return how == 2 ? s.replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0")) : s;
}
const value = fc.jsonValue({ maxDepth: 6, stringUnit: "binary" });

describe("properties", () => {
  test("any JSON value split anywhere: the events of a reference walk over JSON.parse", () => {
    fc.assert(
      fc.property(value, layout, fc.integer({ min: 1, max: 80 }), fc.integer({ min: 0, max: 1000 }), (v, how, max, seed) => {
        const doc = utf8(text(v, how));
        const at = [...new Set(Array.from({ length: seed % 20 }, (_, i) => ((seed * 7919 + i * 104729) % Math.max(1, doc.length)) + 0))].sort((a, b) => a - b);
        const r = scan(doc, at, max);
        expect(r.err).toBe("");
        expect(r.events).toEqual(walk(JSON.parse(text(v, how)), max));
      }),
      fuzz(400),
    );
  });

  test("skipped subtrees, split anywhere: the reference walk without them", () => {
    fc.assert(
      fc.property(
        value.chain((v) => {
          const doc = utf8(text(v, 0));
          return fc.tuple(fc.constant(v), fc.constant(doc), splits(doc.length), fc.integer({ min: 2, max: 5 }));
        }),
        ([v, doc, at, mod]) => {
          const skip = (p: string) => p.length % mod == 1;
          expect(scan(doc, at, 64, skip)).toEqual({ events: walk(JSON.parse(text(v, 0)), 64, skip), err: "" });
        },
      ),
      fuzz(400),
    );
  });

  test("byte-by-byte and random splits give the same events", () => {
    fc.assert(
      fc.property(value, (v) => {
        const doc = utf8(JSON.stringify(v));
        const one = scan(doc);
        const each = scan(doc, Array.from({ length: doc.length }, (_, i) => i).slice(1));
        expect(each).toEqual(one);
      }),
      fuzz(40),
    );
    fc.assert(
      fc.property(value.chain((v) => fc.tuple(fc.constant(utf8(JSON.stringify(v))), splits(utf8(JSON.stringify(v)).length))), ([doc, at]) => {
        expect(scan(doc, at)).toEqual(scan(doc));
      }),
      fuzz(300),
    );
  });

  test("random bytes never throw and end in \"\" or an error in plain words, with bounded state", () => {
    fc.assert(
      fc.property(bytes(300), splits(300), fc.integer({ min: 1, max: 70 }), (b, at, max) => {
        const r = scan(b, at.filter((x) => x < b.length), max);
        if (r.err) expectPlainError(r.err);
        else expect(() => JSON.parse(Buffer.from(b, "latin1").toString("utf8"))).not.toThrow();
      }),
      fuzz(1500),
    );
  });

  test("mutated documents: the same verdict as JSON.parse on ASCII, never a throw", () => {
    const ascii = fc.jsonValue({ maxDepth: 4, stringUnit: "binary-ascii" });
    fc.assert(
      fc.property(ascii, fc.array(mutation, { minLength: 1, maxLength: 4 }), (v, ms) => {
        const doc = mutate(JSON.stringify(v), ms);
        const r = scan(doc);
        let valid = true;
        try {
          JSON.parse(doc);
        } catch {
          valid = false;
        }
        // the scanner accepts raw control bytes inside strings (bounded and harmless); JSON.parse does not
        if (valid || /"[^"]*[\x00-\x1f]/.test(doc)) {
          if (valid) expect(r.err).toBe("");
        } else expectPlainError(r.err);
      }),
      fuzz(1500),
    );
  });
});
