// AWS IoT Jobs runner. Pure: no I/O and no Espruino globals; the app (app/device.ts) injects the
// hooks. Flat module state (one runner per device). One job at a time. Every step is written to Storage (hooks.save) BEFORE its status update is sent,
// so across a reboot the same execution (jobId + executionNumber) is never run twice:
//   rec.st = "IP"   IN_PROGRESS sent, handler not started yet   -> after reboot: start again
//            "RUN"  handler started                              -> after reboot: FAILED (interrupted)
//            "RB"   the reboot operation is rebooting            -> after reboot: SUCCEEDED
//            "SUCCEEDED" | "FAILED" | "REJECTED": terminal sent  -> after reboot: sent again
//            "X"    the cloud said the execution is over          -> ignored
// Rejections (VersionMismatch, InvalidStateTransition, TerminalStateReached, ...) are retried at
// most twice, then the execution is abandoned: never a loop.

export const JOB_FILE = "iot.job"; // Storage file of the record below

export interface JobRec {
  j: string; // jobId
  n: number; // executionNumber
  st: string;
}

export interface JobHooks {
  pub(sub: string, msg: any): void; // sub after "$aws/things/<thing>/": "jobs/$next/get" or "jobs/<jobId>/update"
  store(file: string, r: JobRec): boolean; // write JOB_FILE to Storage; false when it could not
  ops: string; // supported operations, comma separated with leading and trailing commas
  run(doc: any, done: (err?: string) => void): void; // run a supported operation; done(problem) fails it
  reboot(): void;
  log(lvl: string, msg: string): void;
}

const TERMINAL = ",SUCCEEDED,FAILED,REJECTED,"; // a string, not an array: fewer variables

let h: JobHooks;
let rec: JobRec | null = null; // persisted record of the last execution we touched
let cur: JobRec | null = null; // execution being handled now
let doc: any = null;
let ver = 0; // expected version of cur
let running = false; // handler running
let sent = ""; // status of the update in flight
let why = "";
let tries = 0;
let noDoc = ""; // clientToken of a $next/get without document (oversize document)

// (Re)starts the runner with its hooks and the record read from Storage (or null).
export function jobsInit(hooks: JobHooks, r: JobRec | null): void {
  h = hooks;
  rec = r && typeof r.j === "string" ? r : null;
  cur = doc = null;
  ver = tries = 0;
  running = false;
  sent = why = noDoc = "";
}

export function jobsConnected(): void {
  if (cur && !running) cur = null; // its update answer was lost: decide again from rec
  h.pub("jobs/$next/get", {});
}

// The payload of notify-next or $next/get/accepted was too big to receive: ask for the
// execution without its document, then reject it.
export function jobsOversize(): void {
  noDoc = "nd" + (tries & 7);
  h.pub("jobs/$next/get", { includeJobDocument: false, clientToken: noDoc });
}

// notify-next or $next/get/accepted
export function jobsNext(m: any): void {
  if (!m || typeof m !== "object") return;
  const ex = m.execution;
  const big = noDoc !== "" && m.clientToken === noDoc;
  if (big) noDoc = "";
  if (!ex || typeof ex.jobId !== "string") return;
  const n = ex.executionNumber || 0;
  if (cur) {
    if (cur.j !== ex.jobId || cur.n !== n) h.log("I", "job " + ex.jobId + " waits for " + cur.j);
    return;
  }
  cur = { j: ex.jobId, n: n, st: "" };
  ver = ex.versionNumber || 0;
  tries = 0;
  const r = rec;
  if (r && r.j === cur.j && r.n === n) {
    if (r.st === "X") {
      cur = null;
      return;
    }
    if (r.st === "RUN") return send("FAILED", "interrupted by a restart");
    if (r.st === "RB") return send("SUCCEEDED", "rebooted");
    if (TERMINAL.indexOf("," + r.st + ",") >= 0) return send(r.st, "");
    // "IP": never started, start again below
  }
  doc = ex.jobDocument;
  if (big || !doc) return send("REJECTED", big ? "job document too large for this device" : "no job document");
  const op = doc.operation;
  if (typeof op !== "string" || h.ops.indexOf("," + op + ",") < 0) return send("REJECTED", "unknown operation: " + op);
  h.log("I", "job " + cur.j + " " + op + " starting");
  send("IN_PROGRESS", "");
}

function send(st: string, w: string): void {
  const c = cur;
  if (!c) return;
  sent = st;
  why = w;
  if (st !== "IN_PROGRESS") h.log("I", "job " + c.j + " " + st + (w ? ": " + w : ""));
  save(st === "IN_PROGRESS" ? "IP" : st);
  const m: any = { status: st, clientToken: "j" + c.n };
  if (ver) m.expectedVersion = ver;
  if (w) m.statusDetails = { reason: w };
  h.pub("jobs/" + c.j + "/update", m);
}

// Records the step in Storage; false when it could not be written (full flash).
function save(st: string): boolean {
  const c = cur;
  if (!c) return false;
  c.st = st;
  rec = { j: c.j, n: c.n, st: st };
  return h.store(JOB_FILE, rec);
}

// .../jobs/<jobId>/update/accepted
export function jobsAccepted(jobId: string, m: any): void {
  const c = cur;
  // nothing in flight (this answer was already handled: MQTT QoS 1 may deliver it twice) or the
  // handler is running: ignore
  if (!c || c.j !== jobId || !sent || running) return;
  const es = m && m.executionState;
  ver = es && es.versionNumber ? es.versionNumber : ver ? ver + 1 : 0;
  tries = 0;
  const st = sent;
  sent = "";
  if (st !== "IN_PROGRESS") {
    cur = doc = null;
    h.pub("jobs/$next/get", {});
    return;
  }
  // never start what a reboot could make us start again: the step must be in Storage first
  if (!save(doc.operation === "reboot" ? "RB" : "RUN")) return send("FAILED", "Storage full: cannot track the job");
  if (doc.operation === "reboot") {
    h.log("I", "job " + jobId + " rebooting");
    h.reboot();
    return;
  }
  running = true;
  h.run(doc, (err) => {
    running = false;
    if (cur === c) send(err ? "FAILED" : "SUCCEEDED", err || "");
  });
}

// .../jobs/<jobId>/update/rejected
export function jobsRejected(jobId: string, m: any): void {
  const c = cur;
  if (!c || c.j !== jobId || !m || !sent) return;
  const code = m.code;
  const es = m.executionState;
  h.log("W", "job " + jobId + " update rejected: " + code + (m.message ? " " + m.message : ""));
  if ((code === "VersionMismatch" || code === "RequestThrottled" || code === "InternalError") && ++tries <= 2 &&
    !(es && TERMINAL.indexOf("," + es.status + ",") >= 0)) {
    ver = es && es.versionNumber ? es.versionNumber : 0;
    return send(sent, why);
  }
  // the cloud will not take updates for this execution (terminal, removed, or retries used up)
  h.log("W", "job " + c.j + " abandoned");
  save("X");
  cur = doc = null;
  h.pub("jobs/$next/get", {});
}
