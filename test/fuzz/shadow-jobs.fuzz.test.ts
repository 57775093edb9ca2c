// Fuzzing the device's shadow delta handler (firmware/shadow/shadow.ts) and job document handler
// (firmware/jobs/jobs.ts) from their TypeScript sources, with recording hooks.
// Shadow: random JSON on every shadow topic (wrong types, deep nesting, huge numbers, nulls) never
// throws, only valid values are applied, nothing outside the device's own keys is remembered, each
// message causes at most one publish, one reboot request reboots once, and after any history a
// get/accepted converges the reported state to the desired one.
// Jobs: random documents never throw and only known operations run; against a small model of the
// AWS Jobs service with lost, duplicated and stale responses, reconnects and reboots, every job's
// handler runs at most once and every job ends in a terminal state once the faults stop.
import * as fc from "fast-check";
import type { JobRecord as JobRec } from "../../firmware/jobs/jobs";
import { fuzz } from "./fuzz-config";
import { checkDesired, jobsApi, shadowApi } from "./app-modules";

// Hook topics are "shadow/get", "jobs/$next/get"... (older sources used "get", "$next/get"): compare without the prefix.
const norm = (s: string) => s.replace(/^(shadow|jobs)\//, "");
const OWN = ["temperature", "humidity", "sensorError", "on", "btnCount", "uptime", "ram_free", "refresh", "errors"];

// ---------------------------------------------------------------- shadow

function newShadow(store: { mark: string }) {
  const rec = { pubs: [] as [string, any][], applied: [] as [string, any][], reboots: 0, logs: [] as string[] };
  const sh = shadowApi(
    {
      pub: (s, m) => {
        JSON.stringify(m); // must be serialisable
        rec.pubs.push([norm(s), JSON.parse(JSON.stringify(m))]);
      },
      apply: (k, v) => rec.applied.push([k, v]),
      reboot: () => rec.reboots++,
      mark: () => store.mark,
      setMark: (m) => {
        store.mark = m;
      },
      log: (l, m) => rec.logs.push(l + " " + m),
    },
    "ab12"
  );
  return { sh, rec };
}

const nasty = fc.oneof(
  fc.jsonValue({ maxDepth: 8 }),
  fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, -0, 0.5, 86400, 86401, 1, 0, -1, "true", "", null, true, false, [], {}, [true], { on: true }),
  fc.integer({ min: 1, max: 40 }).map((n) => {
    let v: any = true;
    for (let i = 0; i < n; i++) v = { on: v };
    return v; // deep nesting
  })
);
const deltaState = fc.dictionary(fc.constantFrom("on", "refresh", "reboot", "color", "__proto__", "constructor", "toString", "errors", "x"), nasty, { maxKeys: 6 });
const shadowMsg = fc.oneof(
  fc.record({ sub: fc.constant("update/delta"), m: fc.record({ state: fc.oneof(deltaState, nasty), version: fc.oneof(fc.integer({ min: -5, max: 50 }), nasty), metadata: fc.oneof(nasty, fc.record({ reboot: fc.record({ timestamp: fc.oneof(fc.integer({ min: 1, max: 5 }), nasty) }) })) }, { requiredKeys: [] }) }),
  fc.record({ sub: fc.constant("get/accepted"), m: fc.record({ state: fc.record({ desired: deltaState, reported: fc.oneof(deltaState, nasty), delta: fc.oneof(deltaState, nasty) }, { requiredKeys: [] }), version: nasty, clientToken: fc.constantFrom("ab121", "ab122", "zz", 5) }, { requiredKeys: [] }) }),
  fc.record({ sub: fc.constantFrom("get/rejected", "update/rejected", "update/accepted"), m: fc.record({ code: fc.oneof(fc.constantFrom(400, 404, 409, 413, 429, 500), nasty), message: nasty, clientToken: fc.oneof(fc.constantFrom("ab121", "ab122", "ab123", "ab124"), nasty) }, { requiredKeys: [] }) }),
  fc.record({ sub: fc.constantFrom("update/delta", "get/accepted", "get/rejected", "update/accepted", "update/rejected", "update/documents", "delete/accepted"), m: nasty })
);
const action = fc.oneof(
  { weight: 8, arbitrary: shadowMsg.map((x) => ({ k: "msg" as const, ...x })) },
  { weight: 1, arbitrary: fc.constant({ k: "connected" as const }) },
  { weight: 1, arbitrary: fc.constant({ k: "disconnected" as const }) },
  { weight: 2, arbitrary: fc.record({ temperature: fc.oneof(fc.integer({ min: -40, max: 80 }), fc.constant(null)), uptime: fc.nat() }).map((r) => ({ k: "report" as const, r })) }
);

describe("shadow delta handler fuzzing", () => {
  test("random messages and connection changes: no throw, only valid values applied, bounded state", () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 1, maxLength: 25 }), (acts) => {
        const store = { mark: "" };
        const { sh, rec } = newShadow(store);
        sh.report({ on: false, btnCount: 0, refresh: 30 });
        for (const a of acts) {
          const before = rec.pubs.length;
          if (a.k === "msg") sh.msg(a.sub, a.m);
          else if (a.k === "connected") sh.connected();
          else if (a.k === "disconnected") sh.disconnected();
          else sh.report(a.r);
          // no message loops: one input, at most one publish
          expect(rec.pubs.length - before).toBeLessThanOrEqual(1);
        }
        for (const [k, v] of rec.applied) {
          expect(["on", "refresh"]).toContain(k);
          expect(checkDesired(k, v)).toBeNull();
        }
        for (const [s, m] of rec.pubs) {
          expect(["get", "update"]).toContain(s);
          if (s === "update") {
            const d = m.state.desired || {};
            // the device only ever clears desired keys, never sets them
            for (const k of Object.keys(d)) expect(d[k]).toBeNull();
            for (const k of Object.keys(m.state.reported || {})) expect(OWN).toContain(k);
          }
        }
        for (const l of rec.logs) expect(l).toMatch(/^[IWE] [\x20-\x7e]+$/);
      }),
      fuzz(1500)
    );
  });

  test("after any history, a get/accepted with a valid desired state converges the reported state", () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 20 }), fc.boolean(), fc.integer({ min: 1, max: 86400 }), (acts, on, refresh) => {
        const { sh, rec } = newShadow({ mark: "" });
        for (const a of acts) {
          if (a.k === "msg") sh.msg(a.sub, a.m);
          else if (a.k === "connected") sh.connected();
          else if (a.k === "disconnected") sh.disconnected();
          else sh.report(a.r);
        }
        sh.disconnected();
        sh.connected();
        const tok = rec.pubs[rec.pubs.length - 1][1].clientToken;
        expect(rec.pubs[rec.pubs.length - 1][0]).toBe("get");
        rec.applied.length = 0;
        const n = rec.pubs.length;
        sh.msg("get/accepted", { state: { desired: { on, refresh }, reported: {}, delta: { on, refresh } }, version: 7, clientToken: tok });
        expect(rec.applied).toEqual(expect.arrayContaining([["on", on], ["refresh", refresh]]));
        const up = rec.pubs.slice(n).filter(([s]) => s === "update");
        expect(up.length).toBe(1);
        expect(up[0][1].state.reported).toMatchObject({ on, refresh });
      }),
      fuzz(800)
    );
  });

  test("a message read in random slices has the same effect as read whole (the device's streaming path)", () => {
    const run = (acts: any[], cuts: number[][] | null) => {
      const { sh, rec } = newShadow({ mark: "" });
      sh.report({ on: false, btnCount: 0, refresh: 30 });
      acts.forEach((a, i) => {
        if (a.k === "msg") {
          const text = JSON.stringify(a.m) || "null";
          // cut points as slice lengths (some 0: an empty slice), within the byte length
          const n = Buffer.byteLength(text);
          const sl = cuts ? cuts[i % cuts.length].map((c) => c % (n + 1)).sort((x, y) => x - y) : [];
          const lens = sl.map((c, j) => c - (j ? sl[j - 1] : 0));
          sh.msg(a.sub, a.m, cuts ? lens : undefined);
        } else if (a.k === "connected") sh.connected();
        else if (a.k === "disconnected") sh.disconnected();
        else sh.report(a.r);
      });
      return JSON.stringify(rec);
    };
    fc.assert(
      fc.property(fc.array(action, { minLength: 1, maxLength: 15 }), fc.array(fc.array(fc.nat(4000), { maxLength: 12 }), { minLength: 1, maxLength: 4 }), (acts, cuts) => {
        expect(run(acts, cuts)).toBe(run(acts, null));
      }),
      fuzz(400)
    );
  });

  test("one reboot request reboots once, however often its delta is redelivered and whether its clearing is lost", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 1e9 }), fc.boolean(), fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }), (copies, ts, online, clearLost) => {
        const store = { mark: "" };
        let reboots = 0;
        let cleared = false; // the cloud still has desired.reboot until a clearing update is accepted
        for (let boot = 0; boot < clearLost.length + 1 && !cleared; boot++) {
          const { sh, rec } = newShadow(store);
          const lost = boot < clearLost.length ? clearLost[boot] : false;
          const lastToken = () => (rec.pubs.length ? rec.pubs[rec.pubs.length - 1][1].clientToken : undefined);
          if (online || boot > 0) {
            sh.connected();
            // after a reboot the request is read back from the shadow (it was not cleared)
            const doc = boot ? { state: { desired: { reboot: true }, delta: { reboot: true } }, metadata: { desired: { reboot: { timestamp: ts } } }, version: 3 + boot } : { state: {}, version: 3 };
            sh.msg("get/accepted", { ...doc, clientToken: lastToken() });
          }
          // the request's delta, delivered several times (QoS 1 duplicates), before and after the clearing
          for (let i = 0; i < copies; i++) {
            sh.msg("update/delta", { state: { reboot: true }, version: 3, metadata: { reboot: { timestamp: ts } } });
            const t = lastToken();
            const u = rec.pubs.length && rec.pubs[rec.pubs.length - 1][1];
            if (!lost && t && u.state && u.state.desired && u.state.desired.reboot === null && !cleared) {
              sh.msg("update/accepted", { clientToken: t, version: 10 + boot });
              cleared = true;
            }
          }
          if (lost) sh.disconnected(); // the clearing update's answer never comes
          reboots += rec.reboots;
        }
        expect(reboots).toBe(1);
      }),
      fuzz(300)
    );
  });
});

// ---------------------------------------------------------------- jobs: documents

describe("job document handler fuzzing", () => {
  const docArb = fc.oneof(
    fc.jsonValue({ maxDepth: 6 }),
    fc.record({ operation: fc.oneof(fc.constantFrom("blink", "reboot", "set-config", "format", "", "__proto__"), fc.jsonValue({ maxDepth: 3 })), count: fc.jsonValue({ maxDepth: 2 }), refresh: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }),
    fc.integer({ min: 1000, max: 40000 }).map((n) => ({ operation: "blink", pad: "x".repeat(n) })) // large: the pad is skipped
  );
  const execArb = fc.record({ jobId: fc.oneof(fc.constantFrom("j1", "j2"), fc.jsonValue({ maxDepth: 1 })), executionNumber: fc.oneof(fc.constant(1), fc.jsonValue({ maxDepth: 1 })), versionNumber: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.jsonValue({ maxDepth: 1 })), jobDocument: docArb, status: fc.constantFrom("QUEUED", "IN_PROGRESS") }, { requiredKeys: [] });
  const msgArb = fc.oneof(
    fc.record({ k: fc.constant("next"), m: fc.oneof(fc.record({ execution: fc.oneof(execArb, fc.jsonValue({ maxDepth: 3 })), clientToken: fc.constantFrom("nd0", "x") }, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 4 })) }),
    fc.record({ k: fc.constantFrom("acc", "rej"), id: fc.constantFrom("j1", "j2", "$next"), m: fc.oneof(fc.record({ code: fc.constantFrom("VersionMismatch", "InvalidStateTransition", "TerminalStateReached", "RequestThrottled", "InternalError"), executionState: fc.oneof(fc.record({ status: fc.constantFrom("IN_PROGRESS", "SUCCEEDED", "FAILED"), versionNumber: fc.integer({ min: 1, max: 9 }) }), fc.jsonValue({ maxDepth: 2 })) }, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 4 })) }),
    fc.record({ k: fc.constantFrom("connected", "done") })
  );
  test("random documents and responses: no throw, only known operations with object documents run", () => {
    fc.assert(
      fc.property(fc.array(msgArb, { minLength: 1, maxLength: 25 }), (msgs) => {
        const runs: any[] = [];
        const dones: ((ok: boolean, why: string) => void)[] = [];
        const pubs: [string, any][] = [];
        const logs: string[] = [];
        const j = jobsApi(
          {
            pub: (s, m) => pubs.push([norm(s), JSON.parse(JSON.stringify(m))]),
            save: () => undefined,
            known: (op) => op === "blink" || op === "reboot" || op === "set-config",
            run: (doc, done) => {
              runs.push(doc);
              dones.push(done);
            },
            reboot: () => undefined,
            log: (l, m) => logs.push(l + " " + m),
          },
          null
        );
        for (const x of msgs as any[]) {
          const before = pubs.length;
          if (x.k === "next") j.onNext(x.m);
          else if (x.k === "acc") j.onAccepted(x.id, x.m);
          else if (x.k === "rej") j.onRejected(x.id, x.m);
          else if (x.k === "connected") j.connected();
          else if (dones.length) dones.shift()!(true, "");
          expect(pubs.length - before).toBeLessThanOrEqual(1);
        }
        for (const d of runs) {
          expect(d !== null && typeof d === "object").toBe(true);
          expect(["blink", "set-config"]).toContain(d.operation);
        }
        for (const [s, m] of pubs) {
          expect(s === "$next/get" || /\/update$/.test(s)).toBe(true);
          if (m.status) expect(["IN_PROGRESS", "SUCCEEDED", "FAILED", "REJECTED"]).toContain(m.status);
          if (m.statusDetails) expect(JSON.stringify(m.statusDetails).length).toBeLessThan(200);
        }
        for (const l of logs) expect(l.length).toBeLessThan(300);
      }),
      fuzz(1500)
    );
  });
});

// ---------------------------------------------------------------- jobs: against a model of the service

interface Exec {
  jobId: string;
  status: string;
  version: number;
  doc: any;
}
const TERMINAL = ["SUCCEEDED", "FAILED", "REJECTED", "CANCELED", "REMOVED"];

// A small, consistent model of AWS IoT Jobs for one thing (contract section 3), with a response queue
// the test can drop, duplicate and delay.
class JobsModel {
  ex: Exec[];
  q: [string, any][] = []; // responses to the device: [kind, message]
  constructor(docs: any[]) {
    this.ex = docs.map((d, i) => ({ jobId: "job" + i, status: "QUEUED", version: 1, doc: d }));
  }
  head(): Exec | undefined {
    return this.ex.find((e) => e.status === "IN_PROGRESS") || this.ex.find((e) => e.status === "QUEUED");
  }
  view(e: Exec, doc = true): any {
    const v: any = { jobId: e.jobId, status: e.status, versionNumber: e.version, executionNumber: 1 };
    if (doc) v.jobDocument = e.doc;
    return v;
  }
  fromDevice(sub: string, m: any): void {
    if (sub === "$next/get") {
      const h = this.head();
      const r: any = { clientToken: m.clientToken };
      if (h) r.execution = this.view(h, m.includeJobDocument !== false);
      this.q.push(["next", r]);
      return;
    }
    const id = sub.split("/")[0];
    const e = this.ex.find((x) => x.jobId === id);
    if (!e) return void this.q.push(["rej:" + id, { code: "ResourceNotFound" }]);
    const es = { status: e.status, versionNumber: e.version };
    if (TERMINAL.indexOf(e.status) >= 0) return void this.q.push(["rej:" + id, { code: "TerminalStateReached", executionState: es }]);
    if (m.expectedVersion !== undefined && Number(m.expectedVersion) !== e.version) return void this.q.push(["rej:" + id, { code: "VersionMismatch", executionState: es }]);
    const oldHead = this.head();
    e.status = m.status;
    e.version++;
    this.q.push(["acc:" + id, { executionState: { status: e.status, versionNumber: e.version } }]);
    const h = this.head();
    if (h !== oldHead) this.q.push(["next", h ? { execution: this.view(h) } : {}]);
  }
}

// The model may also duplicate update/accepted (MQTT QoS 1 is at-least-once): the runner ignores an
// answer when no update is in flight (see the regression test at the end).
const DUP_ACCEPTED_FIXED = true;

describe("job runner against a model of the Jobs service, with faults", () => {
  test("lost/duplicated/stale responses, reconnects and reboots: no job runs twice, all end terminal", () => {
    const docArb = fc.oneof(
      fc.record({ operation: fc.constant("blink"), count: fc.integer({ min: 1, max: 3 }) }),
      fc.constant({ operation: "reboot" }),
      fc.constant({ operation: "set-config", refresh: 5 }),
      fc.constant({ operation: "format-disk" }),
      fc.constant(null)
    );
    // 0 deliver, 1 drop, 2 duplicate, 3 reboot, 4 reconnect, 5 handler ok, 6 handler fails, 7 stale notify-next, 8 delay
    const step = fc.integer({ min: 0, max: 8 });
    fc.assert(
      fc.property(fc.array(docArb, { minLength: 1, maxLength: 4 }), fc.array(step, { maxLength: 60 }), (docs, script) => {
        const model = new JobsModel(docs);
        let rec: JobRec | null = null; // what the device has in Storage
        const runs: Record<string, number> = {};
        const rebootsBy: Record<string, number> = {};
        let pending: ((ok: boolean, why: string) => void)[] = [];
        let rebootAsked = false;
        let dev: ReturnType<typeof jobsApi>;
        let accepting = ""; // the job whose update/accepted is being delivered
        const boot = () => {
          pending = []; // a reboot kills running handlers
          rebootAsked = false;
          dev = jobsApi(
            {
              pub: (s, m) => model.fromDevice(norm(s), JSON.parse(JSON.stringify(m))),
              save: (r) => {
                rec = { ...r };
              },
              known: (op) => op === "blink" || op === "reboot" || op === "set-config",
              run: (doc, done) => {
                const id = accepting;
                runs[id] = (runs[id] || 0) + 1;
                pending.push(done);
              },
              reboot: () => {
                const id = accepting;
                rebootsBy[id] = (rebootsBy[id] || 0) + 1;
                rebootAsked = true;
              },
              log: () => undefined,
            },
            rec ? { ...(rec as JobRec) } : null
          );
          dev.connected();
        };
        const deliver = (r: [string, any]) => {
          const [k, m] = r;
          if (k === "next") dev.onNext(m);
          else if (k.indexOf("acc:") === 0) {
            accepting = k.substr(4);
            dev.onAccepted(accepting, m);
            accepting = "";
          }
          else dev.onRejected(k.substr(4), m);
          if (rebootAsked) boot();
        };
        boot();
        for (const s of script) {
          if (s === 0 && model.q.length) deliver(model.q.shift()!);
          else if (s === 1) model.q.shift();
          else if (s === 2 && model.q.length && (DUP_ACCEPTED_FIXED || model.q[0][0].indexOf("acc:") !== 0)) deliver(model.q[0]);
          else if (s === 3) {
            model.q = [];
            boot();
          } else if (s === 4) {
            model.q = [];
            dev!.connected();
          } else if ((s === 5 || s === 6) && pending.length) pending.shift()!(s === 5, s === 5 ? "" : "failed on purpose");
          else if (s === 7) {
            const h = model.head();
            if (h) model.q.push(["next", { execution: model.view(h) }]);
          } else if (s === 8 && model.q.length > 1) model.q.push(model.q.shift()!);
        }
        // faults stop: deliver everything, finish handlers, reconnect when idle
        for (let i = 0; i < 400; i++) {
          if (model.q.length) deliver(model.q.shift()!);
          else if (pending.length) pending.shift()!(true, "");
          else if (model.ex.every((e) => TERMINAL.indexOf(e.status) >= 0)) break;
          else dev!.connected();
        }
        for (const id of Object.keys(runs)) expect({ id, runs: runs[id] }).toEqual({ id, runs: 1 });
        for (const id of Object.keys(rebootsBy)) expect({ id, reboots: rebootsBy[id] }).toEqual({ id, reboots: 1 });
        for (const e of model.ex) {
          expect(TERMINAL).toContain(e.status);
          const op = e.doc && e.doc.operation;
          if (op === "format-disk" || !e.doc) expect(e.status).toBe("REJECTED");
        }
      }),
      fuzz(1500)
    );
  });
});

// Regression: a second update/accepted for the IN_PROGRESS update once started the handler
// again; the runner now ignores answers while no update is in flight or the handler is running.
test("a duplicated update/accepted does not run the job's handler a second time", () => {
  let runs = 0;
  const dev = jobsApi(
    {
      pub: () => undefined,
      save: () => undefined,
      known: (op) => op === "blink",
      run: () => {
        runs++;
      },
      reboot: () => undefined,
      log: () => undefined,
    },
    null
  );
  dev.onNext({ execution: { jobId: "dup-1", executionNumber: 1, versionNumber: 1, status: "QUEUED", jobDocument: { operation: "blink", count: 1 } } });
  const accepted = { executionState: { status: "IN_PROGRESS", versionNumber: 2 } };
  dev.onAccepted("dup-1", accepted);
  dev.onAccepted("dup-1", accepted); // the same answer delivered twice
  expect(runs).toBe(1);
});
