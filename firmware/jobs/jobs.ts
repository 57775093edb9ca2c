// AWS IoT Jobs runner. Pure: no I/O and no Espruino globals; the app (app/device.ts) injects ONE
// hook function (see shadow.ts). Flat module state (one runner per device). One job at a time.
// Every step is written to Storage (hook "s") BEFORE its status update is sent,
// so across a reboot the same execution (jobId + executionNumber) is never run twice:
//   rec.st = "IP"   IN_PROGRESS sent, handler not started yet   -> after reboot: start again
//            "RUN"  handler started                              -> after reboot: FAILED (interrupted)
//            "RB"   the reboot operation is rebooting            -> after reboot: SUCCEEDED
//            "SUCCEEDED" | "FAILED" | "REJECTED": terminal sent  -> after reboot: sent again
//            "X"    the cloud said the execution is over          -> ignored
// Rejections (VersionMismatch, InvalidStateTransition, TerminalStateReached, ...) are retried at
// most twice, then the execution is abandoned: never a loop.

import { Hook, hookOf } from "../shadow/shadow";

export const JOB_FILE = "iot.job"; // Storage file of the record below

export interface JobRec {
  j: string; // jobId
  n: number; // executionNumber
  st: string;
}

// Object form of the hooks (tests); jobsInit adapts it to the hook function:
//   hook("p", sub, msg)    publish; sub after "$aws/things/<thing>/": "jobs/$next/get" or "jobs/<jobId>/update"
//   hook("s", file, rec)   write JOB_FILE to Storage; false when it could not
//   hook("o")              supported operations, comma separated with leading and trailing commas
//   hook("r", doc, done)   run a supported operation; done(problem) fails it, done() succeeds
//   hook("b")              reboot
//   hook("I"|"W"|"E", line)  log
export interface JobHooks {
  pub(sub: string, msg: any): void;
  store(file: string, r: JobRec): boolean;
  ops: string;
  run(doc: any, done: (err?: string) => void): void;
  reboot(): void;
  log(lvl: string, msg: string): void;
}

// Memory: the whole runner is ONE function (a retained function costs 5 JS variables + 1 per
// parameter on Espruino), jobsDo(op, a, b); the exported jobsInit/jobsNext/... wrappers are for
// tests, the firmware calls jobsDo (esbuild drops the wrappers).
let h: Hook;
let rec: JobRec | undefined; // persisted record of the last execution we touched
let cur: JobRec | undefined; // execution being handled now
let doc: any;
let ver = 0; // expected version of cur
let running = 0; // handler running
// (strings start as 0 and get "" from jobsDo("i"): a small integer costs 1 variable, "" costs 2)
let sent: any = 0; // status of the update in flight ("" when none)
let why: any = 0;
let tries = 0;
let noDoc: any = 0; // clientToken of a $next/get without document (oversize document)

// jobsDo(op, a, b):
//   "i" (hook, rec)     (re)start with the app's hook and the record read from Storage (or null)
//   "c"                 connected: ask for $next
//   "o"                 the payload of notify-next or $next/get/accepted was too big to receive: ask
//                       for the execution without its document, then reject it
//   "n" (msg)           notify-next or $next/get/accepted
//   "a" (jobId, msg)    .../jobs/<jobId>/update/accepted
//   "j" (jobId, msg)    .../jobs/<jobId>/update/rejected
//   "s" (status, why)   (internal) record the step, then send the status update
//   "v" (st)            (internal) record the step in Storage; false when it could not be written
export function jobsDo(op: string, a?: any, b?: any): any {
  const c = cur;
  if (op === "i") {
    h = a;
    rec = b && typeof b.j === "string" ? b : undefined;
    cur = doc = undefined;
    ver = tries = running = 0;
    sent = why = noDoc = "";
    return;
  }
  if (op === "c") {
    if (c && !running) cur = undefined; // its update answer was lost: decide again from rec
    return h("p", "jobs/$next/get", {});
  }
  if (op === "o") {
    noDoc = "nd" + (tries & 7);
    return h("p", "jobs/$next/get", { includeJobDocument: false, clientToken: noDoc });
  }
  if (op === "v") {
    if (!c) return false;
    c.st = a;
    rec = { j: c.j, n: c.n, st: a };
    return h("s", "iot.job", rec); // JOB_FILE
  }
  if (op === "s") {
    if (!c) return;
    sent = a;
    why = b;
    if (a !== "IN_PROGRESS") h("I", "job " + c.j + " " + a + (b ? ": " + b : ""));
    jobsDo("v", a === "IN_PROGRESS" ? "IP" : a);
    const m: any = { status: a, clientToken: "j" + c.n };
    if (ver) m.expectedVersion = ver;
    if (b) m.statusDetails = { reason: b };
    return h("p", "jobs/" + c.j + "/update", m);
  }
  if (op === "n") {
    const m = a;
    if (!m || typeof m !== "object") return;
    const ex = m.execution;
    const big = noDoc !== "" && m.clientToken === noDoc;
    if (big) noDoc = "";
    if (!ex || typeof ex.jobId !== "string") return;
    const n = ex.executionNumber || 0;
    if (c) {
      if (c.j !== ex.jobId || c.n !== n) h("I", "job " + ex.jobId + " waits for " + c.j);
      return;
    }
    cur = { j: ex.jobId, n: n, st: "" };
    ver = ex.versionNumber || 0;
    tries = 0;
    const r = rec;
    if (r && r.j === ex.jobId && r.n === n) {
      if (r.st === "X") {
        cur = undefined;
        return;
      }
      if (r.st === "RUN") return jobsDo("s", "FAILED", "interrupted by a restart");
      if (r.st === "RB") return jobsDo("s", "SUCCEEDED", "rebooted");
      if (",SUCCEEDED,FAILED,REJECTED,".indexOf("," + r.st + ",") >= 0) return jobsDo("s", r.st, "");
      // "IP": never started, start again below
    }
    doc = ex.jobDocument;
    if (big || !doc) return jobsDo("s", "REJECTED", big ? "job document too large for this device" : "no job document");
    const o = doc.operation;
    if (typeof o !== "string" || h("o").indexOf("," + o + ",") < 0) return jobsDo("s", "REJECTED", "unknown operation: " + o);
    h("I", "job " + ex.jobId + " " + o + " starting");
    return jobsDo("s", "IN_PROGRESS", "");
  }
  const m = b;
  if (op === "a") {
    // nothing in flight (this answer was already handled: MQTT QoS 1 may deliver it twice) or the
    // handler is running: ignore
    if (!c || c.j !== a || !sent || running) return;
    const es = m && m.executionState;
    ver = es && es.versionNumber ? es.versionNumber : ver ? ver + 1 : 0;
    tries = 0;
    const st = sent;
    sent = "";
    if (st !== "IN_PROGRESS") {
      cur = doc = undefined;
      return h("p", "jobs/$next/get", {});
    }
    const rb = doc.operation === "reboot";
    // never start what a reboot could make us start again: the step must be in Storage first
    if (!jobsDo("v", rb ? "RB" : "RUN")) return jobsDo("s", "FAILED", "Storage full: cannot track the job");
    if (rb) {
      h("I", "job " + a + " rebooting");
      return h("b");
    }
    running = 1;
    return h("r", doc, (err?: string) => {
      running = 0;
      if (cur === c) jobsDo("s", err ? "FAILED" : "SUCCEEDED", err || "");
    });
  }
  // "j": update/rejected
  if (!c || c.j !== a || !m || !sent) return;
  const code = m.code;
  const es = m.executionState;
  h("W", "job " + a + " update rejected: " + code + (m.message ? " " + m.message : ""));
  if ((code === "VersionMismatch" || code === "RequestThrottled" || code === "InternalError") && ++tries <= 2 &&
    !(es && ",SUCCEEDED,FAILED,REJECTED,".indexOf("," + es.status + ",") >= 0)) {
    ver = es && es.versionNumber ? es.versionNumber : 0;
    return jobsDo("s", sent, why);
  }
  // the cloud will not take updates for this execution (terminal, removed, or retries used up)
  h("W", "job " + c.j + " abandoned");
  jobsDo("v", "X");
  cur = doc = undefined;
  h("p", "jobs/$next/get", {});
}

// ---- wrappers (tests); unused by the firmware, so not in the bundle
export function jobsInit(hooks: JobHooks, r: JobRec | null): void {
  jobsDo("i", hookOf(hooks), r);
}
export function jobsConnected(): void {
  jobsDo("c");
}
export function jobsOversize(): void {
  jobsDo("o");
}
export function jobsNext(m: any): void {
  jobsDo("n", m);
}
export function jobsAccepted(jobId: string, m: any): void {
  jobsDo("a", jobId, m);
}
export function jobsRejected(jobId: string, m: any): void {
  jobsDo("j", jobId, m);
}
