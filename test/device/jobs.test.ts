// Jobs runner (pure) with fake hooks.
import type { JobRecord as JobRec } from "../../firmware/jobs/jobs";
import { jobsAccepted, jobsConnected, jobsInit, jobsMsg, jobsNext, jobsRejected } from "../fuzz/app-modules";

const J = { connected: jobsConnected, onNext: jobsNext, onAccepted: jobsAccepted, onRejected: jobsRejected };

function make(rec: JobRec | null = null) {
  const out: { sub: string; msg: any }[] = [];
  const st = { rec, full: false, reboots: 0, runs: [] as any[], done: null as null | ((err?: string) => void) };
  jobsInit(
    {
      pub: (sub, msg) => out.push({ sub, msg: JSON.parse(JSON.stringify(msg)) }),
      store: (f, r) => {
        if (st.full) return false;
        st.rec = { ...r };
        return true;
      },
      ops: ",reboot,blink,set-config,",
      run: (doc, done) => {
        st.runs.push(doc);
        st.done = done;
      },
      reboot: () => st.reboots++,
      log: () => {},
    },
    rec,
  );
  return { j: J, out, st };
}
const ex = (jobId: string, doc: any, v = 1, n = 1) => ({ execution: { jobId, jobDocument: doc, versionNumber: v, executionNumber: n, status: "QUEUED" } });
const last = (out: any[]) => out[out.length - 1];

test("a job runs once: IN_PROGRESS (expectedVersion), handler, SUCCEEDED, then $next", () => {
  const { j, out, st } = make();
  j.connected();
  expect(out[0]).toEqual({ sub: "jobs/$next/get", msg: {} });
  j.onNext(ex("j1", { operation: "blink", count: 2 }));
  expect(last(out)).toEqual({ sub: "jobs/j1/update", msg: { status: "IN_PROGRESS", expectedVersion: 1 } });
  expect(st.rec).toEqual({ j: "j1", n: 1, st: "IN_PROGRESS" });
  j.onNext(ex("j1", { operation: "blink" })); // duplicate notify
  j.onAccepted("j1", {});
  expect(st.runs.length).toBe(1);
  expect(st.rec!.st).toBe("RUN");
  st.done!();
  expect(last(out).msg).toEqual({ status: "SUCCEEDED", expectedVersion: 2 });
  expect(st.rec!.st).toBe("SUCCEEDED");
  j.onAccepted("j1", {});
  expect(last(out).sub).toBe("jobs/$next/get");
  j.onNext(ex("j1", { operation: "blink" }, 3)); // late duplicate after completion
  expect(st.runs.length).toBe(1);
});

test("handler failure -> FAILED with statusDetails", () => {
  const { j, out, st } = make();
  j.onNext(ex("j2", { operation: "set-config", refresh: -1 }));
  j.onAccepted("j2", { executionState: { status: "IN_PROGRESS", versionNumber: 2 } });
  st.done!("refresh must be a whole number 1..86400");
  expect(last(out).msg).toEqual({
    status: "FAILED",
    expectedVersion: 2,
    statusDetails: { reason: "refresh must be a whole number 1..86400" },
  });
});

test("unknown operation -> REJECTED without running", () => {
  const { j, out, st } = make();
  j.onNext(ex("j3", { operation: "format-disk" }));
  expect(last(out).msg).toMatchObject({ status: "REJECTED", statusDetails: { reason: "unknown operation: format-disk" } });
  expect(st.runs.length).toBe(0);
  j.onNext(ex("j4", { nothing: 1 }));
  expect(out.filter((o) => o.sub === "jobs/j4/update").length).toBe(0); // one at a time
});

test("reboot job: marker saved, reboot; SUCCEEDED reported after boot, not run twice", () => {
  const a = make();
  a.j.onNext(ex("r1", { operation: "reboot" }));
  a.j.onAccepted("r1", {});
  expect(a.st.reboots).toBe(1);
  expect(a.st.rec).toEqual({ j: "r1", n: 1, st: "SUCCEEDED" }); // sent after the boot
  const b = make(a.st.rec);
  b.j.connected();
  b.j.onNext({ execution: { jobId: "r1", jobDocument: { operation: "reboot" }, versionNumber: 2, executionNumber: 1, status: "IN_PROGRESS" } });
  expect(last(b.out).msg).toMatchObject({ status: "SUCCEEDED", expectedVersion: 2 });
  expect(b.st.reboots).toBe(0);
});

test("a job interrupted by a restart while running is FAILED, not run again", () => {
  const b = make({ j: "k1", n: 1, st: "RUN" });
  b.j.onNext(ex("k1", { operation: "blink" }, 2));
  expect(b.st.runs.length).toBe(0);
  expect(last(b.out).msg).toMatchObject({ status: "FAILED", statusDetails: { reason: "interrupted by a restart" } });
  // a terminal status that was not confirmed is sent again
  const c = make({ j: "k2", n: 1, st: "SUCCEEDED" });
  c.j.onNext(ex("k2", { operation: "blink" }, 3));
  expect(last(c.out).msg).toMatchObject({ status: "SUCCEEDED" });
  expect(c.st.runs.length).toBe(0);
});

test("a retried update keeps its status and reason, with the version the cloud sent", () => {
  const { j, out, st } = make();
  j.onNext(ex("t1", { operation: "set-config", refresh: -1 }));
  j.onAccepted("t1", {});
  st.done!("refresh must be a whole number 1..86400");
  j.onRejected("t1", { code: "VersionMismatch", executionState: { status: "IN_PROGRESS", versionNumber: 7 } });
  expect(last(out)).toEqual({ sub: "jobs/t1/update", msg: { status: "FAILED", expectedVersion: 7, statusDetails: { reason: "refresh must be a whole number 1..86400" } } });
  j.onRejected("t1", { code: "RequestThrottled" });
  expect(last(out).msg).toMatchObject({ status: "FAILED", expectedVersion: 7 });
  j.onAccepted("t1", {});
  expect(last(out)).toEqual({ sub: "jobs/$next/get", msg: {} });
  expect(st.rec).toEqual({ j: "t1", n: 1, st: "FAILED" });
});

test("rejections never loop", () => {
  const { j, out, st } = make();
  j.onNext(ex("v1", { operation: "blink" }));
  j.onRejected("v1", { code: "VersionMismatch", executionState: { status: "IN_PROGRESS", versionNumber: 5 } });
  expect(last(out).msg).toMatchObject({ status: "IN_PROGRESS", expectedVersion: 5 });
  j.onRejected("v1", { code: "VersionMismatch" });
  j.onRejected("v1", { code: "VersionMismatch" });
  expect(st.rec).toEqual({ j: "v1", n: 1, st: "X" });
  expect(last(out).sub).toBe("jobs/$next/get");
  const n = out.length;
  j.onNext(ex("v1", { operation: "blink" }, 6)); // the cloud still offers it: ignored
  expect(out.length).toBe(n);
  // terminal state: dropped at once
  j.onNext(ex("v2", { operation: "blink" }));
  j.onRejected("v2", { code: "InvalidStateTransition", message: "canceled" });
  expect(st.rec).toEqual({ j: "v2", n: 1, st: "X" });
  j.onRejected("v2", { code: "TerminalStateReached" }); // stray: ignored
  expect(st.runs.length).toBe(0);
});

test("connection lost while waiting for an answer: decided again from the record", () => {
  const { j, out, st } = make();
  j.onNext(ex("w1", { operation: "blink" }));
  j.connected(); // reconnect before IN_PROGRESS was answered
  j.onNext(ex("w1", { operation: "blink" }));
  expect(out.filter((o) => o.msg.status === "IN_PROGRESS").length).toBe(2);
  j.onAccepted("w1", {});
  j.connected(); // reconnect while the handler runs: not run twice
  j.onNext(ex("w1", { operation: "blink" }, 2));
  expect(st.runs.length).toBe(1);
});

test("Storage full: the handler is not started (it could run twice after a reboot), FAILED instead", () => {
  const { j, out, st } = make();
  j.onNext(ex("f1", { operation: "blink" }));
  st.full = true;
  j.onAccepted("f1", {});
  expect(st.runs.length).toBe(0);
  expect(last(out).msg).toMatchObject({ status: "FAILED", statusDetails: { reason: "Storage full" } });
  j.onAccepted("f1", {});
  j.onNext(ex("r1", { operation: "reboot" }));
  j.onAccepted("r1", {});
  expect(st.reboots).toBe(0);
  expect(last(out).msg).toMatchObject({ status: "FAILED" });
});

test("a 30 KB job document read in slices: the operation and its parameters are picked out, the rest skipped", () => {
  const { st, out } = make();
  const doc = { notes: "n".repeat(22000), steps: Array.from({ length: 300 }, (_, i) => ({ i, what: "step " + i })), operation: "blink", count: 3 };
  const msg = ex("big-1", doc, 1, 1);
  const text = JSON.stringify(msg);
  expect(text.length).toBeGreaterThan(30000);
  const slices: number[] = [];
  for (let n = 0; n < text.length; n += 536) slices.push(536); // TCP segments of an ESP8266
  expect(jobsMsg("notify-next", msg, slices)).toBe("");
  expect(last(out).msg).toEqual({ status: "IN_PROGRESS", expectedVersion: 1 });
  jobsAccepted("big-1", {});
  // what the handler gets: the scalars as they are, the rest as {} (a value no operation accepts)
  expect(st.runs).toEqual([{ notes: {}, steps: {}, operation: "blink", count: 3 }]);
});

test("documents the device cannot use are REJECTED in plain words, and the queue moves on", () => {
  const cases: [any, string][] = [
    [{ count: 1 }, "no operation"],
    [{ operation: 7 }, "unknown operation: 7"],
    [{ operation: "x".repeat(100) }, "the operation is not a short text"],
    [{ operation: { name: "blink" } }, "the operation is not a short text"],
    [Object.fromEntries([["operation", "blink"], ...Array.from({ length: 20 }, (_, i) => ["p" + i, i])]), "job document has 21 members; this device reads at most 8"],
  ];
  for (const [doc, reason] of cases) {
    const { out } = make();
    jobsNext(ex("r-1", doc));
    expect(last(out).msg).toEqual({ status: "REJECTED", statusDetails: { reason }, expectedVersion: 1 });
    jobsAccepted("r-1", {});
    expect(last(out).sub).toBe("jobs/$next/get");
  }
  for (const doc of ["a string", [1, 2], null, 5]) {
    const { out } = make();
    jobsNext(ex("r-2", doc));
    expect(last(out).msg.statusDetails).toEqual({ reason: "no job document (a JSON object)" });
  }
});

test("a jobs message that is not JSON is not acted on", () => {
  const { out } = make();
  expect(jobsMsg("notify-next", '{"execution":{"jobId":"j","jobDocument":{"operation":"blink"}')).toMatch(/ends early/);
  expect(jobsMsg("notify-next", '{"execution":{"jobId":"j",,}}')).toMatch(/bad JSON/);
  expect(out).toEqual([]);
});
