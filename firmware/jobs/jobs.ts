// AWS IoT Jobs runner. Pure: no I/O and no Espruino globals; the app (app/device.ts) injects ONE
// hook function (app/hook.ts). Flat module state (one runner per device). One job at a time.
// Every step is written to Storage (HookOp.Store) BEFORE its status update is sent, so across a
// reboot the same execution (jobId + executionNumber) is never run twice:
//   record.st = "IN_PROGRESS"  sent, handler not started yet       -> after reboot: start again
//               "RUN"  handler started                              -> after reboot: FAILED (interrupted)
//               "SUCCEEDED" | "FAILED" | "REJECTED": terminal sent,
//                      or the reboot operation is rebooting         -> after reboot: sent (again)
//               "X"    the cloud said the execution is over          -> ignored
// The record is also the execution in hand (no second copy). Rejections (VersionMismatch,
// throttling, internal errors) are retried at most twice with the version the cloud sent; the rest
// (InvalidStateTransition, TerminalStateReached, ...) abandon the execution: never a loop.
// Messages are read as they stream in (json/scan.ts): of a job document (up to AWS's 32 KB) the
// device keeps the top-level members, at most 8 (MaxParameters; the operation always), each a scalar
// of at most 64 bytes (anything else is kept as {}: a value no operation accepts). A document it
// cannot use (none, not an object, too many members, an unknown operation) is REJECTED with the
// reason, and the queue moves on.
// Memory: the runner is ONE function (a retained function costs 5 JS variables + 1 per parameter
// on Espruino), jobsDo(op, a, b), plus the scanner's handler jobsValue(); tests use them through
// the wrappers in test/fuzz/app-modules.ts. While idle only small integers and the record stay.
import { Hook, HookOp } from "../app/hook";
import { JsonKind } from "../json/scan";

/** The Storage file "iot.job": the last execution touched (short keys: it lives in RAM and flash). */
export interface JobRecord {
  j: string; // jobId
  n: number; // executionNumber
  st?: string; // the step (see above)
}

/** A job document the device runs: the operation and its parameters. */
export interface JobDocument {
  operation: string; // "blink" | "reboot" | "set-config"
  count?: number; // blink: how many times (1..20, default 5)
  on?: boolean; // set-config
  refresh?: number; // set-config
  [parameter: string]: unknown;
}

// ---- the AWS messages (as in aws-iot-device-sdk-js-v2's iotjobs model), the parts read here
export interface JobExecution {
  jobId: string;
  executionNumber: number;
  versionNumber?: number;
  status?: string;
  jobDocument?: JobDocument;
}
/** notify-next and $next/get/accepted (no execution when nothing is pending). */
export interface NextJobExecution {
  execution?: JobExecution;
}
/** <jobId>/update/accepted and update/rejected (code is set on a rejection). */
export interface UpdateJobExecutionAnswer {
  executionState?: { status?: string; versionNumber?: number };
  code?: string;
  message?: string;
}
export interface UpdateJobExecutionRequest {
  status: string;
  statusDetails?: { reason: string };
  expectedVersion?: number;
}

/** What the device takes from one jobs message while it streams in (everything else is skipped). */
interface JobsNews {
  o: JobsOp.Next | JobsOp.Accepted | JobsOp.Rejected; // what to do with it: Next, Accepted or Rejected
  j: string; // the jobId of the topic (update answers)
  m: NextJobExecution & UpdateJobExecutionAnswer; // the message, with only the members the runner reads
}

export const enum JobsOp {
  /** (hook, record read from Storage or null): (re)start */
  Init = 1,
  /** connected: ask for $next */
  Connected = 2,
  /** (msg): notify-next or $next/get/accepted */
  Next = 3,
  /** (jobId, msg): .../jobs/<jobId>/update/accepted */
  Accepted = 4,
  /** (jobId, msg): .../jobs/<jobId>/update/rejected */
  Rejected = 5,
  /** (status, reason?): record the step, then send the status update (internal) */
  SetStatus = 7,
  /** send the update in flight (internal) */
  Send = 8,
  /** (step): record the step in Storage; false when it could not be written (internal) */
  Record = 9,
  /** (sub): a message begins on one of our jobs topics; sub is the part after ".../jobs/". Its
   * values go to jobsValue() (the scanner's handler), then End. */
  Begin = 10,
  /** the message is complete and well-formed: act on it */
  End = 11,
}

// (const enum: inlined into the code, which stays in flash; a module-level constant takes variables)
const enum Jobs {
  MaxParameters = 8,
  InProgress = "IN_PROGRESS",
}

let hook: Hook;
let record: JobRecord | null; // persisted record of the last execution we touched; the one in hand while busy
let busy = 0; // 0 idle, 1 handling record, 2 its handler is running
let jobDocument: any; // of the execution in hand
let version = 0; // expected version of the execution in hand (0 = unknown)
let inFlight: UpdateJobExecutionRequest | 0 = 0; // the status update sent (again on a retryable rejection)
let tries = 0;
let incoming: JobsNews | 0 = 0; // the message being read
let unread = 0; // members of its job document not kept (over MaxParameters)

// The scanner's handler while a jobs message streams in: keeps what JobsNews describes, and
// returns true for an object or array it needs nothing from (the scanner skips its contents).
export function jobsValue(path: string, kind: JsonKind, value: string | number | boolean | null): boolean {
  const news = incoming;
  if (!news) return true;
  const msg = news.m;
  const ex = msg.execution;
  const doc = ex && ex.jobDocument;
  if (path == "execution") {
    if (kind == JsonKind.Object) msg.execution = {} as JobExecution;
  } else if (path == "code") msg.code = value as string;
  else if (path == "executionState/versionNumber") msg.executionState = { versionNumber: value as number };
  else if (!ex) {
    // (nothing else outside an execution)
  } else if (path == "execution/jobId") ex.jobId = value as string;
  else if (path == "execution/executionNumber") ex.executionNumber = value as number;
  else if (path == "execution/versionNumber") ex.versionNumber = value as number;
  else if (path == "execution/jobDocument") {
    if (kind == JsonKind.Object) ex.jobDocument = {} as JobDocument;
  } else if (doc && path.substr(0, 22) == "execution/jobDocument/" && path.indexOf("/", 22) < 0) {
    // a member of the document (the operation or a parameter); an object or array is skipped
    const key = path.substr(22);
    if (key == "operation" || Object.keys(doc).length < Jobs.MaxParameters) doc[key] = kind < JsonKind.Object ? value : {};
    else unread++;
  }
  return !(!path || path == "execution" || path == "execution/jobDocument" || path == "executionState");
}

export function jobsDo(op: JobsOp.Init, hook: Hook, record: JobRecord | null): void;
export function jobsDo(op: JobsOp.Connected): void;
export function jobsDo(op: JobsOp.Next, msg: NextJobExecution): void;
export function jobsDo(op: JobsOp.Accepted | JobsOp.Rejected, jobId: string, msg: UpdateJobExecutionAnswer): void;
export function jobsDo(op: JobsOp.Begin, sub: string): void;
export function jobsDo(op: JobsOp.End): void;
// internal steps
export function jobsDo(op: JobsOp.SetStatus, status: string, reason?: string): void;
export function jobsDo(op: JobsOp.Send): void;
export function jobsDo(op: JobsOp.Record, step: string): boolean;
export function jobsDo(op: JobsOp, a?: any, b?: any): any {
  const rec = record!;
  if (op == JobsOp.Init) {
    hook = a;
    record = b;
    busy = version = inFlight = tries = jobDocument = incoming = 0;
    return;
  }
  if (op == JobsOp.Begin) {
    // notify-next, $next/get/accepted (a $next/get/rejected has no execution), <jobId>/update/accepted|rejected
    const at = a.indexOf("/update/"); // (Espruino may also match "/upd" at the end: hence the exact checks)
    const answer = a.substr(at + 8); // after <jobId>/update/
    incoming = { o: at < 0 ? JobsOp.Next : answer == "accepted" ? JobsOp.Accepted : JobsOp.Rejected, j: a.substr(0, at), m: {} };
    if (at >= 0 && answer != "accepted" && answer != "rejected") incoming = 0;
    unread = 0;
    return;
  }
  if (op == JobsOp.End) {
    const news = incoming;
    incoming = 0;
    if (!news) return;
    if (news.o == JobsOp.Next) return jobsDo(JobsOp.Next, news.m);
    return jobsDo(news.o, news.j, news.m);
  }
  if (op == JobsOp.Connected) {
    // also when the update's answer was lost (reconnect) or the execution is done: decide again from the record
    if (busy < 2) busy = inFlight = jobDocument = 0;
    return hook(HookOp.Publish, "jobs/$next/get", {});
  }
  if (op == JobsOp.Next) {
    const ex: JobExecution = a && a.execution;
    if (busy || !ex || !ex.jobId) return;
    const n = ex.executionNumber;
    busy = 1;
    version = ex.versionNumber || 0;
    if (!(rec && rec.j == ex.jobId && rec.n == n)) record = { j: ex.jobId, n: n };
    const step = record!.st;
    if (step == "X") return (busy = 0);
    if (step == "RUN") return jobsDo(JobsOp.SetStatus, "FAILED", "interrupted by a restart");
    if (step && step != Jobs.InProgress) return jobsDo(JobsOp.SetStatus, step); // a terminal status not confirmed: again
    jobDocument = ex.jobDocument;
    const operation = jobDocument && jobDocument.operation;
    let reason = "";
    if (!jobDocument) reason = "no job document (a JSON object)";
    else if (unread) reason = "job document has " + (Object.keys(jobDocument).length + unread) + " members; this device reads at most " + Jobs.MaxParameters;
    else if (hook(HookOp.JobOperations).split(",").indexOf(operation) < 1) reason = operation == null ? "no operation" : typeof operation == "object" ? "the operation is not a short text" : "unknown operation: " + operation;
    if (reason) return jobsDo(JobsOp.SetStatus, "REJECTED", reason);
    hook(HookOp.Info, "job " + ex.jobId + " " + operation + " starting");
    return jobsDo(JobsOp.SetStatus, Jobs.InProgress);
  }
  if (op == JobsOp.Record) {
    rec.st = a;
    return hook(HookOp.Store, "iot.job", rec);
  }
  if (op == JobsOp.SetStatus) {
    if (a != Jobs.InProgress) hook(HookOp.Info, "job " + rec.j + " " + a + (b ? ": " + b : ""));
    jobsDo(JobsOp.Record, a);
    tries = 0;
    inFlight = { status: a };
    if (b) inFlight.statusDetails = { reason: b };
    op = JobsOp.Send;
  }
  if (op == JobsOp.Send) {
    if (version) (inFlight as UpdateJobExecutionRequest).expectedVersion = version;
    return hook(HookOp.Publish, "jobs/" + rec.j + "/update", inFlight as UpdateJobExecutionRequest);
  }
  // Accepted / Rejected: the answer to our update. Nothing in flight (already handled: MQTT QoS 1
  // may deliver it twice) or the handler running: ignore
  if (busy != 1 || rec.j != a || !inFlight) return;
  const answer: UpdateJobExecutionAnswer = b || {};
  const state = answer.executionState;
  const cloudVersion = state && state.versionNumber; // the version the cloud has now, when it says
  if (op == JobsOp.Accepted) {
    version = cloudVersion || (version && version + 1);
    const status = inFlight.status;
    inFlight = 0;
    if (status != Jobs.InProgress) return jobsDo(JobsOp.Connected); // done: the next one
    const isReboot = jobDocument.operation == "reboot";
    // never start what a reboot could make us start again: the step must be in Storage first
    // (the reboot operation is done once the board restarts: SUCCEEDED is sent after the boot)
    if (!jobsDo(JobsOp.Record, isReboot ? "SUCCEEDED" : "RUN")) return jobsDo(JobsOp.SetStatus, "FAILED", "Storage full");
    if (isReboot) return hook(HookOp.Reboot);
    busy = 2;
    return hook(HookOp.RunJob, jobDocument, (problem?: string) => {
      if (record == rec) {
        busy = 1;
        jobsDo(JobsOp.SetStatus, problem ? "FAILED" : "SUCCEEDED", problem);
      }
    });
  }
  // Rejected
  const code = answer.code;
  const retry = (code == "VersionMismatch" || code == "RequestThrottled" || code == "InternalError") && ++tries < 3;
  hook(HookOp.Warn, "job " + a + (retry ? " retry " : " abandoned ") + code);
  if (retry) {
    version = cloudVersion || version;
    return jobsDo(JobsOp.Send);
  }
  jobsDo(JobsOp.Record, "X");
  jobsDo(JobsOp.Connected);
}
