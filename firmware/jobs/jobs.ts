// AWS IoT Jobs runner. Pure: no I/O and no Espruino globals; the app (app/device.ts) injects ONE
// hook function (see shadow.ts). Flat module state (one runner per device). One job at a time.
// Every step is written to Storage (hook "s") BEFORE its status update is sent,
// so across a reboot the same execution (jobId + executionNumber) is never run twice:
//   rec.st = "IN_PROGRESS"  sent, handler not started yet       -> after reboot: start again
//            "RUN"  handler started                              -> after reboot: FAILED (interrupted)
//            "SUCCEEDED" | "FAILED" | "REJECTED": terminal sent,
//                   or the reboot operation is rebooting         -> after reboot: sent (again)
//            "X"    the cloud said the execution is over          -> ignored
// The record is also the execution in hand (no second copy). Rejections (VersionMismatch,
// throttling, internal errors) are retried at most twice with the version the cloud sent; the rest
// (InvalidStateTransition, TerminalStateReached, ...) abandon the execution: never a loop.

import type { Hook } from "../shadow/shadow";

// Storage file "iot.job" holds the record:
export interface JobRec {
  j: string; // jobId
  n: number; // executionNumber
  st: string;
}

// The app's hook (the same function as the shadow's):
//   hook("p", sub, msg)    publish; sub after "$aws/things/<thing>/": "jobs/$next/get" or "jobs/<jobId>/update"
//   hook("s", file, rec)   write "iot.job" to Storage; false when it could not
//   hook("o")              supported operations, comma separated with leading and trailing commas
//   hook("r", doc, done)   run a supported operation; done(problem) fails it, done() succeeds
//   hook("b")              reboot
//   hook("I"|"W"|"E", line)  log

// Memory: the whole runner is ONE function (a retained function costs 5 JS variables + 1 per
// parameter on Espruino), jobsDo(op, a, b); tests use it through the object-form wrappers in
// test/fuzz/app-modules.ts. While idle only small integers and the record stay.
let h: Hook;
let rec: any; // persisted record of the last execution we touched; the one in hand while busy
let busy = 0; // 0 idle, 1 handling rec, 2 its handler is running
let doc: any; // job document of the execution in hand
let ver = 0; // expected version of the execution in hand (0 = unknown)
let fly: any = 0; // the status update in flight (sent again on a retryable rejection), 0 when none
let tries = 0;

// jobsDo(op, a, b):
//   "i" (hook, rec)     (re)start with the app's hook and the record read from Storage (or null)
//   "c"                 connected: ask for $next
//   "o"                 the payload of notify-next or $next/get/accepted was too big to receive: ask
//                       for the execution without its document (then it is rejected)
//   "n" (msg)           notify-next or $next/get/accepted
//   "a" (jobId, msg)    .../jobs/<jobId>/update/accepted
//   "j" (jobId, msg)    .../jobs/<jobId>/update/rejected
//   "s" (status, why)   (internal) record the step, then send the status update
//   "u"                 (internal) send the update in flight
//   "v" (st)            (internal) record the step in Storage; false when it could not be written
export function jobsDo(op: string, a?: any, b?: any): any {
  const r = rec;
  const P = "IN_PROGRESS";
  if (op == "i") {
    h = a;
    rec = b;
    busy = ver = fly = tries = doc = 0;
    return;
  }
  if (op == "c" || op == "o") {
    // "c" also when the update answer was lost (reconnect) or the execution is done: decide again from rec
    if (op == "c" && busy < 2) busy = fly = doc = 0;
    return h("p", "jobs/$next/get", op == "o" ? { includeJobDocument: false } : {});
  }
  if (op == "n") {
    const ex = a && a.execution;
    if (busy || !ex || !ex.jobId) return;
    const n = ex.executionNumber;
    busy = 1;
    ver = ex.versionNumber || 0;
    if (!(r && r.j == ex.jobId && r.n == n)) rec = { j: ex.jobId, n: n };
    const s = rec.st;
    if (s == "X") return (busy = 0);
    if (s == "RUN") return jobsDo("s", "FAILED", "interrupted by a restart");
    if (s && s != P) return jobsDo("s", s); // a terminal status not confirmed: again
    doc = ex.jobDocument;
    const o = doc && doc.operation;
    // no document: the one the cloud has was too large to receive ("o")
    if (h("o").split(",").indexOf(o) < 1) return jobsDo("s", "REJECTED", doc ? "unknown operation: " + o : "job document too large");
    h("I", "job " + ex.jobId + " " + o + " starting");
    return jobsDo("s", P);
  }
  if (op == "v") {
    r.st = a;
    return h("s", "iot.job", r);
  }
  if (op == "s") {
    if (a != P) h("I", "job " + r.j + " " + a + (b ? ": " + b : ""));
    jobsDo("v", a);
    tries = 0;
    fly = { status: a };
    if (b) fly.statusDetails = { reason: b };
    op = "u";
  }
  if (op == "u") {
    if (ver) fly.expectedVersion = ver;
    return h("p", "jobs/" + r.j + "/update", fly);
  }
  // "a" / "j": the answer to our update. Nothing in flight (already handled: MQTT QoS 1 may deliver
  // it twice) or the handler running: ignore
  if (busy != 1 || r.j != a || !fly) return;
  const es = b && b.executionState;
  const nv = es && es.versionNumber; // the version the cloud has now, when it says
  if (op == "a") {
    ver = nv || (ver && ver + 1);
    const st = fly.status;
    fly = 0;
    if (st != P) return jobsDo("c"); // done: the next one
    const rb = doc.operation == "reboot";
    // never start what a reboot could make us start again: the step must be in Storage first
    // (the reboot operation is done once the board restarts: SUCCEEDED is sent after the boot)
    if (!jobsDo("v", rb ? "SUCCEEDED" : "RUN")) return jobsDo("s", "FAILED", "Storage full");
    if (rb) return h("b");
    busy = 2;
    return h("r", doc, (e?: string) => {
      if (rec == r) {
        busy = 1;
        jobsDo("s", e ? "FAILED" : "SUCCEEDED", e);
      }
    });
  }
  // "j": update/rejected
  const c = b && b.code;
  const again = "VersionMismatch RequestThrottled InternalError".indexOf(c) > -1 && ++tries < 3;
  h("W", "job " + a + (again ? " retry " : " abandoned ") + c);
  if (again) {
    ver = nv || ver;
    return jobsDo("u");
  }
  jobsDo("v", "X");
  jobsDo("c");
}
