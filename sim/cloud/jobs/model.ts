/**
 * AWS IoT Jobs execution state machine and MQTT bodies (PURE: no I/O; timestamps passed in, epoch seconds,
 * except stepTimeoutAt which is epoch ms). Contract section 3.
 */
import { nestedDeeperThan } from "../json-depth";

export type ExecStatus = "QUEUED" | "IN_PROGRESS" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "REJECTED" | "REMOVED" | "CANCELED";
export const ALL_STATUSES: ExecStatus[] = ["QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "REMOVED", "CANCELED"];
export const DEVICE_STATUSES: ExecStatus[] = ["IN_PROGRESS", "SUCCEEDED", "FAILED", "REJECTED"];
export const TERMINAL: ExecStatus[] = ["SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "REMOVED", "CANCELED"];

export type JobsErrorCode = "InvalidTopic" | "InvalidJson" | "InvalidRequest" | "InvalidStateTransition" | "ResourceNotFound" |
  "VersionMismatch" | "InternalError" | "RequestThrottled" | "TerminalStateReached";

export interface Execution {
  jobId: string;
  thingName: string;
  status: ExecStatus;
  statusDetails?: Record<string, string>;
  queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
  versionNumber: number;
  executionNumber: number;
  /** ms epoch when the running step times out; undefined = no timer */
  stepTimeoutAt?: number;
  /** creation order (ties of queuedAt) */
  seq: number;
}

export interface JobsFailure { code: JobsErrorCode; message: string; executionState?: { status: ExecStatus; statusDetails?: Record<string, string>; versionNumber: number } }

export const JOB_LIMITS = { maxDocumentBytes: 32 * 1024, stepTimeoutMin: 1, stepTimeoutMax: 10080, maxClientTokenBytes: 64, maxJsonDepth: 32 };

export function isTerminal(s: ExecStatus): boolean { return TERMINAL.indexOf(s) >= 0; }
export function isPending(e: Execution): boolean { return e.status === "QUEUED" || e.status === "IN_PROGRESS"; }

function byAge(a: Execution, b: Execution): number { return a.queuedAt - b.queuedAt || a.seq - b.seq; }

/** Pending executions of one thing, oldest first. */
export function pendingOf(execs: Execution[]): { inProgress: Execution[]; queued: Execution[] } {
  return {
    inProgress: execs.filter((e) => e.status === "IN_PROGRESS").sort(byAge),
    queued: execs.filter((e) => e.status === "QUEUED").sort(byAge),
  };
}

/** Head of the queue ($next / start-next / notify-next): oldest IN_PROGRESS, else oldest QUEUED. */
export function nextOf(execs: Execution[]): Execution | undefined {
  const p = pendingOf(execs);
  return p.inProgress[0] || p.queued[0];
}

export function summary(e: Execution): Record<string, unknown> {
  const o: Record<string, unknown> = { jobId: e.jobId, queuedAt: e.queuedAt };
  if (e.startedAt !== undefined) o.startedAt = e.startedAt;
  o.lastUpdatedAt = e.lastUpdatedAt;
  o.executionNumber = e.executionNumber;
  o.versionNumber = e.versionNumber;
  return o;
}

/** JobExecution as the get / start-next responses carry it. */
export function executionBody(e: Execution, document: object | undefined, nowMs?: number): Record<string, unknown> {
  const o: Record<string, unknown> = { jobId: e.jobId, thingName: e.thingName };
  if (document !== undefined) o.jobDocument = document;
  o.status = e.status;
  if (e.statusDetails && Object.keys(e.statusDetails).length) o.statusDetails = { ...e.statusDetails };
  o.queuedAt = e.queuedAt;
  if (e.startedAt !== undefined) o.startedAt = e.startedAt;
  o.lastUpdatedAt = e.lastUpdatedAt;
  if (e.stepTimeoutAt !== undefined && nowMs !== undefined && e.status === "IN_PROGRESS") {
    o.approximateSecondsBeforeTimedOut = Math.max(0, Math.round((e.stepTimeoutAt - nowMs) / 1000));
  }
  o.versionNumber = e.versionNumber;
  o.executionNumber = e.executionNumber;
  return o;
}

/** notify-next execution (contract order: jobId,status,queuedAt,startedAt?,lastUpdatedAt,versionNumber,executionNumber,jobDocument). */
export function notifyNextExecution(e: Execution, document: object): Record<string, unknown> {
  const o: Record<string, unknown> = { jobId: e.jobId, status: e.status, queuedAt: e.queuedAt };
  if (e.startedAt !== undefined) o.startedAt = e.startedAt;
  o.lastUpdatedAt = e.lastUpdatedAt;
  o.versionNumber = e.versionNumber;
  o.executionNumber = e.executionNumber;
  o.jobDocument = document;
  return o;
}

export function notifyBody(execs: Execution[], ts: number): Record<string, unknown> {
  const p = pendingOf(execs);
  const jobs: Record<string, unknown> = {};
  if (p.inProgress.length) jobs.IN_PROGRESS = p.inProgress.map(summary);
  if (p.queued.length) jobs.QUEUED = p.queued.map(summary);
  return { timestamp: ts, jobs };
}

export function executionState(e: Execution): JobsFailure["executionState"] {
  const s: JobsFailure["executionState"] = { status: e.status } as any;
  if (e.statusDetails && Object.keys(e.statusDetails).length) s!.statusDetails = { ...e.statusDetails };
  s!.versionNumber = e.versionNumber;
  return s;
}

export function rejectedBody(f: JobsFailure, ts: number, clientToken?: string): Record<string, unknown> {
  const o: Record<string, unknown> = { code: f.code, message: f.message };
  if (clientToken !== undefined) o.clientToken = clientToken;
  o.timestamp = ts;
  if (f.executionState) o.executionState = f.executionState;
  return o;
}

function isPlainObject(v: unknown): v is Record<string, unknown> { return typeof v === "object" && v !== null && !Array.isArray(v); }

/** Common request checks: JSON object, clientToken. */
export function parseJobsRequest(payload: Buffer | string): { ok: true; body: Record<string, unknown>; clientToken?: string } | { ok: false; failure: JobsFailure; clientToken?: string } {
  const text = typeof payload === "string" ? payload : payload.toString("utf8");
  let body: unknown = {};
  if (text.trim() !== "") {
    if (nestedDeeperThan(text, JOB_LIMITS.maxJsonDepth)) return { ok: false, failure: { code: "InvalidJson", message: "Request payload is nested deeper than " + JOB_LIMITS.maxJsonDepth + " levels" } };
    try { body = JSON.parse(text); } catch { return { ok: false, failure: { code: "InvalidJson", message: "Request payload is not valid JSON" } }; }
  }
  if (!isPlainObject(body)) return { ok: false, failure: { code: "InvalidJson", message: "Request payload must be a JSON object" } };
  const ct = body.clientToken;
  if (ct !== undefined && (typeof ct !== "string" || Buffer.byteLength(ct) > JOB_LIMITS.maxClientTokenBytes)) {
    return { ok: false, failure: { code: "InvalidRequest", message: "clientToken must be a string of at most 64 bytes" } };
  }
  return { ok: true, body, clientToken: ct as string | undefined };
}

export function checkStatusDetails(v: unknown): JobsFailure | null {
  if (v === undefined) return null;
  if (!isPlainObject(v)) return { code: "InvalidRequest", message: "statusDetails must be an object of string values" };
  for (const k of Object.keys(v)) {
    if (typeof v[k] !== "string") return { code: "InvalidRequest", message: "statusDetails." + k + " must be a string" };
  }
  return null;
}

export function checkStepTimeout(v: unknown): JobsFailure | null {
  if (v === undefined || v === -1) return null;
  if (typeof v !== "number" || !Number.isInteger(v) || v < JOB_LIMITS.stepTimeoutMin || v > JOB_LIMITS.stepTimeoutMax) {
    return { code: "InvalidRequest", message: "stepTimeoutInMinutes must be a whole number from 1 to 10080, or -1" };
  }
  return null;
}

/** Parses expectedVersion (number or numeric string). */
export function parseExpectedVersion(v: unknown): number | undefined | JobsFailure {
  if (v === undefined) return undefined;
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === "string" && /^\d+$/.test(v)) return +v;
  return { code: "InvalidRequest", message: "expectedVersion must be a whole number (or a string of digits)" };
}

function mergeDetails(cur: Record<string, string> | undefined, upd: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!upd) return cur;
  return { ...(cur || {}), ...upd };
}

/** Computes the step timeout deadline for a step timeout in minutes (undefined/-1 handled by the caller). */
export function deadline(nowMs: number, minutes: number, minuteMs: number): number { return nowMs + minutes * minuteMs; }

export interface UpdateRequest {
  status: unknown;
  statusDetails?: unknown;
  expectedVersion?: unknown;
  executionNumber?: unknown;
  stepTimeoutInMinutes?: unknown;
}

/**
 * Applies a device's {jobId}/update. Returns the new execution or a failure. `defaultStepTimeout` is the job's
 * stepTimeoutInMinutes (applied when the execution moves to IN_PROGRESS without its own value).
 */
export function applyDeviceUpdate(e: Execution, req: UpdateRequest, ts: number, nowMs: number, minuteMs: number, defaultStepTimeout?: number): Execution | JobsFailure {
  if (typeof req.status !== "string" || ALL_STATUSES.indexOf(req.status as ExecStatus) < 0) {
    return { code: "InvalidRequest", message: "status must be one of IN_PROGRESS, SUCCEEDED, FAILED, REJECTED" };
  }
  const bad = checkStatusDetails(req.statusDetails) || checkStepTimeout(req.stepTimeoutInMinutes);
  if (bad) return bad;
  const ev = parseExpectedVersion(req.expectedVersion);
  if (typeof ev === "object") return ev;
  if (req.executionNumber !== undefined && req.executionNumber !== e.executionNumber) {
    return { code: "ResourceNotFound", message: "No job execution " + e.jobId + " #" + String(req.executionNumber) + " for thing " + e.thingName };
  }
  if (ev !== undefined && ev !== e.versionNumber) {
    return { code: "VersionMismatch", message: "expectedVersion " + ev + " does not match the current version " + e.versionNumber, executionState: executionState(e) };
  }
  const to = req.status as ExecStatus;
  if (isTerminal(e.status)) {
    return { code: "InvalidStateTransition", message: "Job execution " + e.jobId + " is in the terminal state " + e.status + " and cannot change to " + to, executionState: executionState(e) };
  }
  if (DEVICE_STATUSES.indexOf(to) < 0) {
    return { code: "InvalidStateTransition", message: "A device may set IN_PROGRESS, SUCCEEDED, FAILED or REJECTED, not " + to, executionState: executionState(e) };
  }
  const n: Execution = { ...e, status: to, statusDetails: mergeDetails(e.statusDetails, req.statusDetails as Record<string, string> | undefined), lastUpdatedAt: ts, versionNumber: e.versionNumber + 1 };
  if (to === "IN_PROGRESS") {
    if (e.status === "QUEUED") n.startedAt = ts;
    const st = req.stepTimeoutInMinutes as number | undefined;
    if (st === -1) n.stepTimeoutAt = undefined;
    else if (st !== undefined) n.stepTimeoutAt = deadline(nowMs, st, minuteMs);
    else if (e.status === "QUEUED" && defaultStepTimeout) n.stepTimeoutAt = deadline(nowMs, defaultStepTimeout, minuteMs);
  } else {
    n.stepTimeoutAt = undefined;
  }
  return n;
}

/** start-next: moves a QUEUED head to IN_PROGRESS (IN_PROGRESS head returned unchanged). */
export function startNext(e: Execution, req: { statusDetails?: unknown; stepTimeoutInMinutes?: unknown }, ts: number, nowMs: number, minuteMs: number, defaultStepTimeout?: number): Execution | JobsFailure {
  const bad = checkStatusDetails(req.statusDetails) || checkStepTimeout(req.stepTimeoutInMinutes);
  if (bad) return bad;
  if (e.status === "IN_PROGRESS") return e;
  const n: Execution = { ...e, status: "IN_PROGRESS", startedAt: ts, lastUpdatedAt: ts, versionNumber: e.versionNumber + 1,
    statusDetails: mergeDetails(e.statusDetails, req.statusDetails as Record<string, string> | undefined) };
  const st = req.stepTimeoutInMinutes as number | undefined;
  if (st !== undefined && st !== -1) n.stepTimeoutAt = deadline(nowMs, st, minuteMs);
  else if (st === undefined && defaultStepTimeout) n.stepTimeoutAt = deadline(nowMs, defaultStepTimeout, minuteMs);
  return n;
}

/** Service-side transitions (cancel, timeout, remove). */
export function forceStatus(e: Execution, to: "CANCELED" | "TIMED_OUT" | "REMOVED", ts: number): Execution {
  return { ...e, status: to, lastUpdatedAt: ts, versionNumber: e.versionNumber + 1, stepTimeoutAt: undefined };
}

export function isJobsFailure(x: unknown): x is JobsFailure {
  return isPlainObject(x) && typeof x.code === "string" && typeof x.message === "string" && !("jobId" in x);
}
