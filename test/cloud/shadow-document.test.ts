import { applyUpdate, parseRequest, computeDelta, getAccepted, isFailure, ShadowRecord, metadataOf, stateBytes } from "../../sim/cloud/shadow/document";

const T = 1700000000;
function upd(rec: ShadowRecord | undefined, body: any): any { return applyUpdate(rec, body, T); }
function ok(rec: ShadowRecord | undefined, body: any) {
  const r = upd(rec, body);
  if (isFailure(r)) throw new Error("unexpected failure " + JSON.stringify(r));
  return r;
}

describe("shadow document rules", () => {
  test("merge: objects recurse, scalars and arrays replace, null deletes, desired:null removes the section", () => {
    let r = ok(undefined, { state: { desired: { a: { b: 1, c: [1, 2] }, d: "x" }, reported: { a: { b: 1 } } } }).record;
    r = ok(r, { state: { desired: { a: { c: [3] }, d: null } } }).record;
    expect(r.state.desired).toEqual({ a: { b: 1, c: [3] } });
    expect(r.metadata.desired).toEqual({ a: { b: { timestamp: T }, c: [{ timestamp: T }] } });
    r = ok(r, { state: { desired: null } }).record;
    expect(r.state.desired).toBeUndefined();
    expect(r.version).toBe(3);
    r = ok(r, { state: { reported: { a: { b: null } } } }).record;
    expect(r.state.reported).toEqual({});
  });
  test("version increases on every accepted update, even an empty one", () => {
    const a = ok(undefined, { state: {} });
    expect(a.record.version).toBe(1);
    expect(ok(a.record, { state: { reported: {} } }).record.version).toBe(2);
  });
  test("array leaves get one metadata entry per element", () => {
    expect(metadataOf([1, { x: 2 }], T)).toEqual([{ timestamp: T }, { x: { timestamp: T } }]);
  });
  test("delta: keys of desired absent or different; keys only in reported never appear", () => {
    expect(computeDelta({ a: 1, b: { c: 1, d: 2 }, e: [1] }, { a: 1, b: { c: 1, d: 3 }, e: [1], z: 9 })).toEqual({ b: { d: 2 } });
    expect(computeDelta({ a: 1 }, { a: 1, z: 1 })).toBeUndefined();
  });
  test("get/accepted includes state.delta when desired != reported", () => {
    const r = ok(undefined, { state: { desired: { x: 1 }, reported: { x: 2 } }, clientToken: "ct" }).record;
    expect(JSON.stringify(getAccepted(r, T, "ct"))).toBe(
      '{"state":{"desired":{"x":1},"reported":{"x":2},"delta":{"x":1}},"metadata":{"desired":{"x":{"timestamp":1700000000}},"reported":{"x":{"timestamp":1700000000}}},"version":1,"timestamp":1700000000,"clientToken":"ct"}');
  });
  test("delta after reported-only update depends on deltaOnReportedOnly", () => {
    const r = ok(undefined, { state: { desired: { x: 1 } } }).record;
    expect(applyUpdate(r, { state: { reported: { x: 2 } } }, T)).toHaveProperty("delta");
    expect((applyUpdate(r, { state: { reported: { x: 2 } } }, T, { deltaOnReportedOnly: false }) as any).delta).toBeUndefined();
  });

  const errors: Array<[string, any, number, string]> = [
    ["missing state", { clientToken: "a" }, 400, "Missing required node: state"],
    ["state not object", { state: 5 }, 400, "State node must be an object"],
    ["state null", { state: null }, 400, "State node must be an object"],
    ["desired not object", { state: { desired: 1 } }, 400, "Desired node must be an object"],
    ["reported not object", { state: { reported: [1] } }, 400, "Reported node must be an object"],
    ["delta node", { state: { delta: {} } }, 400, "State contains an invalid node: 'delta'"],
    ["too deep", { state: { reported: { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } } } }, 400, "JSON contains too many levels of nesting; maximum is 6"],
    ["null in array", { state: { reported: { a: [1, null] } } }, 400, "Invalid JSON"],
    ["version conflict", { state: {}, version: 7 }, 409, "Version conflict"],
    ["too large", { state: { reported: { s: "x".repeat(8200) } } }, 413, "The payload exceeds the maximum size allowed"],
  ];
  test.each(errors)("%s", (_n, body, code, message) => {
    const r = upd(undefined, body);
    expect(isFailure(r)).toBe(true);
    expect(r).toMatchObject({ code, message });
  });
  test("six levels are allowed", () => {
    ok(undefined, { state: { reported: { a: { b: { c: { d: { e: { f: 1 } } } } } } } });
  });
  test("size limit counts desired+reported, not metadata", () => {
    const big = "x".repeat(8192 - stateBytes({ reported: { s: "" } }));
    ok(undefined, { state: { reported: { s: big } } });
    expect(upd(undefined, { state: { reported: { s: big + "x" } } })).toMatchObject({ code: 413 });
  });
  test("request parsing: Invalid JSON, Invalid clientToken, Invalid version", () => {
    expect(parseRequest("{", false)).toMatchObject({ ok: false, code: 400, message: "Invalid JSON" });
    expect(parseRequest("[1]", false)).toMatchObject({ ok: false, code: 400, message: "Invalid JSON" });
    expect(parseRequest("", false)).toMatchObject({ ok: false, message: "Invalid JSON" });
    expect(parseRequest("", true)).toMatchObject({ ok: true });
    expect(parseRequest(JSON.stringify({ clientToken: "x".repeat(65) }), true)).toMatchObject({ ok: false, message: "Invalid clientToken" });
    expect(parseRequest(JSON.stringify({ clientToken: "x".repeat(64) }), true)).toMatchObject({ ok: true });
    expect(parseRequest(JSON.stringify({ version: "3" }), true)).toMatchObject({ ok: false, message: "Invalid version" });
    expect(parseRequest(JSON.stringify({ version: -1 }), true)).toMatchObject({ ok: false, message: "Invalid version" });
  });
});
