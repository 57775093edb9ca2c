// Shadow sync logic (pure) with fake hooks.
import { appliedVersion as ver } from "../../firmware/shadow/shadow";
import { checkDesired, shadowInit, shadowLink, shadowMsg, shadowReport } from "../fuzz/app-modules";

// a facade over the module's functions, as the tests were written against an object
const S = {
  connected: () => shadowLink(true),
  disconnected: () => shadowLink(false),
  report: shadowReport,
  msg: shadowMsg,
  get ver() {
    return ver;
  },
};

function make(mark = "") {
  const out: { sub: string; msg: any }[] = [];
  const applied: [string, any][] = [];
  const st = { mark, reboots: 0, logs: [] as string[] };
  shadowInit(
    {
      pub: (sub, msg) => out.push({ sub, msg: JSON.parse(JSON.stringify(msg)) }),
      apply: (k, v) => applied.push([k, v]),
      reboot: () => st.reboots++,
      mark: (m?: string) => (m !== undefined ? (st.mark = m) : st.mark),
      log: (l, m) => st.logs.push(l + " " + m),
    },
    "x",
  );
  return { s: S, out, applied, st };
}
const last = (out: any[]) => out[out.length - 1];

test("checkDesired validates types and bounds", () => {
  expect(checkDesired("on", true)).toBeNull();
  expect(checkDesired("on", "yes")).toBe("must be true or false");
  expect(checkDesired("refresh", 10)).toBeNull();
  expect(checkDesired("refresh", 0)).toMatch(/1\.\.86400/);
  expect(checkDesired("refresh", 2.5)).toMatch(/whole/);
  expect(checkDesired("refresh", "5")).toBe("must be a whole number 1..86400");
  expect(checkDesired("refresh", true)).toBe("must be a whole number 1..86400");
  expect(checkDesired("refresh", 86400)).toBeNull();
  expect(checkDesired("refresh", 86401)).toMatch(/1\.\.86400/);
  expect(checkDesired("refresh", NaN)).toMatch(/1\.\.86400/);
  expect(checkDesired("color", "red")).toBe("unknown key");
});

test("connect: get first, no update before get/accepted, then one report of changed keys", () => {
  const { s, out } = make();
  s.report({ on: false, btnCount: 0 }); // offline: staged
  s.connected();
  expect(out).toEqual([{ sub: "shadow/get", msg: { clientToken: "x1" } }]);
  s.report({ uptime: 5 }); // waiting for get: staged
  expect(out.length).toBe(1);
  s.msg("get/accepted", { state: { reported: { on: false, btnCount: 0 } }, version: 4, clientToken: "x1" });
  expect(last(out)).toEqual({ sub: "shadow/update", msg: { state: { reported: { uptime: 5 } }, clientToken: "x2" } });
  s.report({ uptime: 5, on: false });
  expect(out.length).toBe(2); // nothing changed: nothing sent
});

test("get/rejected 404 (no shadow yet): first report creates it", () => {
  const { s, out } = make();
  s.report({ on: false });
  s.connected();
  s.msg("get/rejected", { code: 404, message: "No shadow exists with name: 'd1'", clientToken: "x1" });
  expect(last(out).msg.state.reported).toEqual({ on: false });
});

test("delta from get/accepted is applied and reported (offline change)", () => {
  const { s, out, applied } = make();
  s.connected();
  s.msg("get/accepted", {
    state: { desired: { on: true, refresh: 7 }, reported: { on: false, refresh: 30 }, delta: { on: true, refresh: 7 } },
    version: 9,
    clientToken: "x1",
  });
  expect(applied).toEqual([["on", true], ["refresh", 7]]);
  expect(last(out).msg.state.reported).toEqual({ on: true, refresh: 7 });
  expect(s.ver).toBe(9);
});

test("version: stale delta ignored, equal version applied, either order with accepted", () => {
  const { s, out, applied } = make();
  s.connected();
  s.msg("get/accepted", { state: { reported: { on: false } }, version: 10, clientToken: "x1" });
  s.msg("update/delta", { version: 9, state: { on: true } });
  expect(applied).toEqual([]);
  expect(last(out)).toEqual({ sub: "shadow/get", msg: { clientToken: "x2" } }); // stale: re-read the shadow
  s.msg("get/accepted", { state: { reported: { on: false } }, version: 10, clientToken: "x2" });
  s.msg("update/delta", { version: 10, state: { on: true } });
  expect(applied).toEqual([["on", true]]);
  // accepted for someone else's update then its delta with the same version
  s.msg("update/accepted", { version: 11, state: { desired: { on: false } } });
  s.msg("update/delta", { version: 11, state: { on: false } });
  expect(applied).toEqual([["on", true], ["on", false]]);
  expect(last(out).msg.state.reported).toEqual({ on: false });
  // a duplicate of an applied delta is harmless and is reported again so the delta clears
  s.msg("update/delta", { version: 11, state: { on: false } });
  expect(last(out).msg.state.reported).toEqual({ on: false });
});

test("get/accepted is authoritative even with a lower version (shadow recreated)", () => {
  const { s, applied } = make();
  s.connected();
  s.msg("get/accepted", { state: { reported: {} }, version: 50, clientToken: "x1" });
  s.disconnected();
  s.connected();
  s.msg("get/accepted", { state: { delta: { on: true } }, version: 2, clientToken: "x2" });
  expect(applied).toEqual([["on", true]]);
});

test("offline reports coalesce into one update, latest wins", () => {
  const { s, out } = make();
  s.connected();
  s.msg("get/accepted", { state: { reported: {} }, version: 1, clientToken: "x1" });
  s.report({ uptime: 1 });
  s.disconnected();
  const n = out.length;
  s.report({ uptime: 2, temperature: 20 });
  s.report({ uptime: 3, btnCount: 1 });
  expect(out.length).toBe(n);
  s.connected();
  s.msg("get/accepted", { state: { reported: { uptime: 1 } }, version: 2, clientToken: last(out).msg.clientToken });
  expect(out.length).toBe(n + 2);
  expect(last(out).msg.state.reported).toEqual({ uptime: 3, temperature: 20, btnCount: 1 });
});

test("keys of someone else are left alone (counted in a log line); the device's own invalid values are errors, cleared", () => {
  const { s, out, applied, st } = make();
  s.connected();
  s.msg("get/accepted", { state: { reported: {} }, version: 1, clientToken: "x1" });
  s.msg("update/delta", { version: 2, state: { color: "red", on: "yes", refresh: 5, nested: { on: true } } });
  expect(applied).toEqual([["refresh", 5]]);
  expect(last(out).msg.state).toEqual({
    reported: { refresh: 5, errors: { on: "must be true or false" } },
    desired: { on: null },
  });
  expect(st.logs).toContain("I shadow: 2 desired keys are not this device's (left alone)");
  s.msg("update/delta", { version: 3, state: { on: true, color: "red", nested: { on: true } } });
  expect(last(out).msg.state).toEqual({ reported: { on: true, errors: null } });
  expect(st.logs.filter((l) => l.includes("left alone")).length).toBe(1); // said again only when the count changes
  // a delta of only someone else's keys: nothing applied, nothing sent (no fight, no loop)
  const n = out.length;
  s.msg("update/delta", { version: 4, state: { color: "blue", nested: { on: false } } });
  expect(out.length).toBe(n);
  expect(() => s.msg("update/delta", { version: 5, state: null })).not.toThrow();
  expect(() => s.msg("update/delta", "junk" as any)).not.toThrow();
});

test("values the device cannot hold (objects, arrays, over-long strings) are invalid, never a crash", () => {
  const { s, out, applied } = make();
  s.connected();
  s.msg("get/accepted", { state: { reported: {} }, version: 1, clientToken: "x1" });
  s.msg("update/delta", { version: 2, state: { on: { deep: [1, 2] }, refresh: "9".repeat(200), reboot: [true] } });
  expect(applied).toEqual([]);
  expect(last(out).msg.state.reported.errors).toEqual({ on: "must be true or false", refresh: "must be a whole number 1..86400", reboot: "must be true or false" });
  expect(last(out).msg.state.desired).toEqual({ on: null, refresh: null, reboot: null });
});

test("a large get/accepted read in small slices: only the device's keys count", () => {
  const { s, out, applied, st } = make();
  s.report({ on: false, refresh: 30 });
  s.connected();
  const desired: any = {};
  const meta: any = {};
  for (let i = 0; i < 150; i++) {
    desired["app" + i] = "v" + i;
    meta["app" + i] = { timestamp: 1700000000 };
  }
  desired.on = true;
  desired.big = "x".repeat(1500);
  const doc = {
    state: { desired, reported: { on: false, refresh: 30, errors: { old: "x" }, other: { a: [1, 2, 3] } }, delta: { ...desired } },
    metadata: { desired: meta, reported: { on: { timestamp: 1 } } },
    version: 7,
    timestamp: 1700000001,
    clientToken: "x1",
  };
  const text = JSON.stringify(doc);
  expect(text.length).toBeGreaterThan(8000);
  const slices: number[] = [];
  for (let n = 0; n < text.length; n += 37) slices.push(37);
  expect(s.msg("get/accepted", doc, slices)).toBe("");
  expect(applied).toEqual([["on", true]]);
  // on applied and reported; the cloud's errors object is replaced by none; nothing else touched
  expect(last(out).msg.state).toEqual({ reported: { on: true, errors: null } });
  expect(st.logs).toContain("I shadow: 151 desired keys are not this device's (left alone)");
});

test("reboot: cleared, marker saved, reboots after the update is accepted, once", () => {
  const { s, out, st } = make();
  s.connected();
  s.msg("get/accepted", { state: { reported: {} }, version: 1, clientToken: "x1" });
  s.msg("update/delta", { version: 2, state: { reboot: true }, metadata: { reboot: { timestamp: 1700000000 } } });
  const u = last(out).msg;
  expect(u.state.desired).toEqual({ reboot: null });
  expect(st.mark).toBe("t1700000000");
  expect(st.reboots).toBe(0);
  s.msg("update/accepted", { version: 3, clientToken: u.clientToken });
  expect(st.reboots).toBe(1);
  expect(st.mark).toBe(""); // the request is cleared in the cloud: nothing to remember
  // a late copy of the same delta (QoS 1) is older than the clearing update: no second reboot
  s.msg("update/delta", { version: 2, state: { reboot: true }, metadata: { reboot: { timestamp: 1700000000 } } });
  expect(st.reboots).toBe(1);

  // the clearing update was lost: after the reboot the request is seen again, no second reboot
  const b = make("t1700000000");
  b.s.connected();
  b.s.msg("get/accepted", {
    state: { desired: { reboot: true }, delta: { reboot: true } },
    metadata: { desired: { reboot: { timestamp: 1700000000 } } },
    version: 3,
    clientToken: "x1",
  });
  expect(b.st.reboots).toBe(0);
  expect(last(b.out).msg.state.desired).toEqual({ reboot: null });
  b.s.msg("update/accepted", { version: 4, clientToken: last(b.out).msg.clientToken });
  expect(b.st.reboots).toBe(0);
  expect(b.st.mark).toBe("");
});

test("two reboot requests within the same second are two reboots", () => {
  const { s, out, st } = make();
  s.connected();
  s.msg("get/accepted", { state: { reported: {} }, version: 1, clientToken: "x1" });
  s.msg("update/delta", { version: 2, state: { reboot: true }, metadata: { reboot: { timestamp: 1700000000 } } });
  s.msg("update/accepted", { version: 3, clientToken: last(out).msg.clientToken });
  expect(st.reboots).toBe(1);
  // (the board restarts with the marker it has in Storage)
  const b = make(st.mark);
  b.s.connected();
  b.s.msg("get/accepted", { state: { reported: {} }, version: 3, clientToken: "x1" });
  b.s.msg("update/delta", { version: 5, state: { reboot: true }, metadata: { reboot: { timestamp: 1700000000 } } });
  b.s.msg("update/accepted", { version: 6, clientToken: last(b.out).msg.clientToken });
  expect(b.st.reboots).toBe(1);
});

test("update/rejected: 409 refetches, 400/413 not resent, others re-staged", () => {
  const { s, out, st } = make();
  s.connected();
  s.msg("get/accepted", { state: { reported: {} }, version: 1, clientToken: "x1" });
  s.report({ uptime: 1 });
  s.msg("update/rejected", { code: 409, message: "Version conflict", clientToken: last(out).msg.clientToken });
  expect(last(out).sub).toBe("shadow/get");
  s.msg("get/accepted", { state: { reported: {} }, version: 2, clientToken: last(out).msg.clientToken });
  expect(last(out).msg.state.reported).toEqual({ uptime: 1 });
  const n = out.length;
  s.msg("update/rejected", { code: 413, message: "The payload exceeds the maximum size allowed", clientToken: last(out).msg.clientToken });
  expect(out.length).toBe(n);
  s.report({ uptime: 2 });
  expect(last(out).msg.state.reported).toEqual({ uptime: 2 });
  // not ours: ignored
  s.msg("update/rejected", { code: 409, clientToken: "other" });
  expect(out.length).toBe(n + 1);
  expect(st.logs.some((l) => l.includes("413"))).toBe(true);
});

test("reboot: connection lost before the clearing update was accepted -> reboots anyway, once", () => {
  const { s, out, st } = make();
  s.connected();
  s.msg("get/accepted", { state: { reported: {} }, version: 1, clientToken: "x1" });
  s.msg("update/delta", { version: 2, state: { reboot: true } });
  expect(last(out).msg.state.desired).toEqual({ reboot: null });
  expect(st.mark).toBe("v2");
  s.disconnected();
  expect(st.reboots).toBe(1);
  s.disconnected();
  expect(st.reboots).toBe(1);
});

test("an absurd delta version is treated as absent and blocks nothing", () => {
  const { s, applied } = make();
  s.connected();
  s.msg("get/accepted", { state: { reported: {} }, version: 3, clientToken: "x1" });
  s.msg("update/delta", { version: 1e308, state: { on: true } });
  s.msg("update/delta", { version: -1, state: { refresh: 5 } });
  s.msg("update/delta", { version: "7", state: { refresh: 6 } });
  expect(s.ver).toBe(3);
  s.msg("update/delta", { version: 4, state: { on: false } });
  expect(applied).toEqual([["on", true], ["refresh", 5], ["refresh", 6], ["on", false]]);
});

test("a report lost with the link is sent again after the reconnect's get/accepted", () => {
  const { s, out } = make();
  s.connected();
  s.msg("get/accepted", { state: { reported: {} }, version: 1, clientToken: "x1" });
  s.report({ on: true, btnCount: 3 });
  expect(last(out).msg.state.reported).toEqual({ on: true, btnCount: 3 });
  s.disconnected(); // the update's answer never came
  s.connected();
  s.msg("get/accepted", { state: { reported: { on: true } }, version: 2, clientToken: last(out).msg.clientToken });
  expect(last(out).msg.state).toEqual({ reported: { btnCount: 3 } }); // only what the cloud lacks
});

test("update/rejected 429 or 500: everything is sent again with the next report, once", () => {
  const { s, out } = make();
  s.connected();
  s.msg("get/accepted", { state: { reported: {} }, version: 1, clientToken: "x1" });
  s.report({ on: false, refresh: 30 });
  const n = out.length;
  s.msg("update/rejected", { code: 429, message: "Too Many Requests", clientToken: last(out).msg.clientToken });
  expect(out.length).toBe(n); // no resend loop on the rejection itself
  s.report({ uptime: 9 });
  expect(last(out).msg.state.reported).toEqual({ on: false, refresh: 30, uptime: 9 });
  s.msg("update/rejected", { code: 500, message: "Internal service failure", clientToken: last(out).msg.clientToken });
  s.report({ uptime: 10 });
  expect(last(out).msg.state.reported).toEqual({ on: false, refresh: 30, uptime: 10 });
  s.msg("update/accepted", { version: 5, clientToken: last(out).msg.clientToken });
  s.report({ uptime: 11 });
  expect(last(out).msg.state.reported).toEqual({ uptime: 11 });
});

test("null deletes only a key the cloud has; odd characters in values survive", () => {
  const { s, out } = make();
  s.report({ sensorError: null, temperature: 21 });
  s.connected();
  s.msg("get/accepted", { state: { reported: { temperature: 21, humidity: 40, color: "red" } }, version: 1, clientToken: "x1" });
  expect(out.length).toBe(1); // the cloud already holds temperature 21 and no sensorError: nothing to send
  s.report({ temperature: null, humidity: null, sensorError: 'line\r\n"quoted"\\ \x01' });
  expect(last(out).msg.state.reported).toEqual({ temperature: null, humidity: null, sensorError: 'line\r\n"quoted"\\ \x01' });
  s.report({ temperature: null, humidity: 41, sensorError: null });
  expect(last(out).msg.state.reported).toEqual({ humidity: 41, sensorError: null });
});

test("a delta that comes while the get is unanswered is applied and reported after get/accepted", () => {
  const { s, out, applied } = make();
  s.connected();
  s.msg("update/delta", { version: 3, state: { refresh: 9 } });
  expect(applied).toEqual([["refresh", 9]]);
  expect(out.length).toBe(1); // only the get: no update before get/accepted
  s.msg("get/accepted", { state: { desired: { refresh: 9 }, reported: { refresh: 30 }, delta: { refresh: 9 } }, version: 3, clientToken: "x1" });
  expect(last(out).msg.state.reported).toEqual({ refresh: 9 });
});

test("malformed answers (state or reported not objects) never throw", () => {
  const { s, out } = make();
  s.report({ on: false });
  for (const state of [5, "x", true, null, { reported: 5 }, { reported: "abc" }, { reported: [1], delta: "x" }]) {
    s.connected();
    expect(() => s.msg("get/accepted", { state, version: 2, clientToken: last(out).msg.clientToken })).not.toThrow();
    expect(last(out).msg.state.reported).toEqual({ on: false });
    s.disconnected();
  }
});
