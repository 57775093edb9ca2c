// Object-form wrappers over the device's shadow and jobs logic (firmware/shadow/shadow.ts shadowDo,
// firmware/jobs/jobs.ts jobsDo, each one function behind ONE hook): the unit tests, the fuzzers and
// Node tools use these, the firmware calls shadowDo/jobsDo directly. Kept here, not in firmware/,
// so the modules hold only what the device runs (npm run size counts their functions).
import { shadowDo, ShadowOp, shadowValue } from "../../firmware/shadow/shadow";
import { jobsDo, JobsOp, jobsValue } from "../../firmware/jobs/jobs";
import { jsonScanFeed, jsonScanStart, JsonValueHandler } from "../../firmware/json/scan";
import type { JobRecord as JobRec } from "../../firmware/jobs/jobs";
import { Hook, HookOp } from "../../firmware/app/hook";

// ---- the modules' hook from an object of named functions
// shadow: pub(sub, msg), apply(key, v), reboot(), mark(m?) -> stored marker, log(level, line)
// jobs:   pub(sub, msg), store(file, rec) -> false when it could not, ops ",a,b,", run(doc, done(problem?)),
//         reboot(), log(level, line)
export interface ShadowHooks {
  pub(sub: string, msg: any): void;
  apply(key: string, v: any): void;
  reboot(): void;
  mark(m?: string): string;
  log(lvl: string, msg: string): void;
}
export interface JobHooks {
  pub(sub: string, msg: any): void;
  store(file: string, r: JobRec): boolean;
  ops: string;
  run(doc: any, done: (err?: string) => void): void;
  reboot(): void;
  log(lvl: string, msg: string): void;
}

export function hookOf(o: any): Hook {
  return ((op: HookOp, a?: any, b?: any) => {
    if (op === HookOp.Publish) return o.pub(a, b);
    if (op === HookOp.Apply) return o.apply(a, b);
    if (op === HookOp.Reboot) return o.reboot();
    if (op === HookOp.RebootMarker) return a === undefined ? o.mark() : o.mark(a);
    if (op === HookOp.Store) return o.store(a, b);
    if (op === HookOp.RunJob) return o.run(a, b);
    if (op === HookOp.JobOperations) return o.ops;
    return o.log("IWE"[op - HookOp.Info], a);
  }) as Hook;
}

// ---- messages: read as the device reads them, by the streaming scanner over the JSON text (a
// string is a payload as is; anything else is sent as JSON), in slices of `slices` (whole when
// absent); "" when read, else the scanner's complaint (then the module is not told to act)
export function feed(onValue: JsonValueHandler, payload: any, slices?: number[]): string {
  const text = typeof payload === "string" ? payload : JSON.stringify(payload);
  const bytes = Buffer.from(text === undefined ? "null" : text, "utf8").toString("latin1"); // the device's binary string
  const st = jsonScanStart(onValue);
  let at = 0;
  for (const n of slices || []) {
    const e = jsonScanFeed(st, bytes.substr(at, n));
    if (e) return e;
    at += n;
  }
  return jsonScanFeed(st, bytes.substr(at)) || jsonScanFeed(st, null);
}

// ---- shadow
export const checkDesired = (k: string, v: any): string | null => shadowDo(ShadowOp.Check, k, v);
export const shadowInit = (hooks: ShadowHooks, prefix: string): void => shadowDo(ShadowOp.Init, hookOf(hooks), prefix);
export const shadowLink = (up: boolean): void => shadowDo(ShadowOp.Link, up);
export const shadowReport = (ch: any): void => shadowDo(ShadowOp.Report, ch);
export function shadowMsg(sub: string, m: any, slices?: number[]): string {
  shadowDo(ShadowOp.Begin, sub);
  const e = feed(shadowValue, m, slices);
  if (!e) shadowDo(ShadowOp.End);
  return e;
}

// ---- jobs
export const jobsInit = (hooks: JobHooks, r: JobRec | null): void => jobsDo(JobsOp.Init, hookOf(hooks), r);
export const jobsConnected = (): void => jobsDo(JobsOp.Connected);
// sub: the topic after ".../jobs/"
export function jobsMsg(sub: string, m: any, slices?: number[]): string {
  jobsDo(JobsOp.Begin, sub);
  const e = feed(jobsValue, m, slices);
  if (!e) jobsDo(JobsOp.End);
  return e;
}
export const jobsNext = (m: any): void => void jobsMsg("notify-next", m);
export const jobsAccepted = (jobId: string, m: any): void => void jobsMsg(jobId + "/update/accepted", m);
export const jobsRejected = (jobId: string, m: any): void => void jobsMsg(jobId + "/update/rejected", m);

// ---- the fuzzers' interface
export interface ShadowApi {
  connected(): void;
  disconnected(): void;
  report(ch: any): void;
  msg(sub: string, m: any, slices?: number[]): void;
}
export interface JobsApi {
  connected(): void;
  onNext(m: any): void;
  onAccepted(jobId: string, m: any): void;
  onRejected(jobId: string, m: any): void;
}

// Test-side shadow hooks: mark() reads the stored marker, setMark(m) stores one.
export interface TestShadowHooks {
  pub(sub: string, msg: any): void;
  apply(key: string, v: any): void;
  reboot(): void;
  mark(): string;
  setMark(m: string): void;
  log(lvl: string, msg: string): void;
}

export function shadowApi(t: TestShadowHooks, prefix: string): ShadowApi {
  shadowInit(
    {
      pub: t.pub,
      apply: t.apply,
      reboot: t.reboot,
      mark: (m?: string) => {
        if (typeof m === "string") t.setMark(m);
        return t.mark();
      },
      log: t.log,
    },
    prefix,
  );
  return { connected: () => shadowLink(true), disconnected: () => shadowLink(false), report: shadowReport, msg: shadowMsg };
}

// Test-side job hooks: save(r) (Storage always works), known(op) and run(doc, finish(ok, why)).
export interface TestJobHooks {
  pub(sub: string, msg: any): void;
  save(r: JobRec): void;
  known(op: string): boolean;
  run(doc: any, finish: (ok: boolean, why: string) => void): void;
  reboot(): void;
  log(lvl: string, msg: string): void;
}
export const OPS = ["blink", "reboot", "set-config"];

export function jobsApi(t: TestJobHooks, rec: JobRec | null): JobsApi {
  jobsInit(
    {
      pub: t.pub,
      store: (_file: string, r: JobRec) => {
        t.save(r);
        return true;
      },
      ops: "," + OPS.join(",") + ",",
      run: (doc: any, done: any) => t.run(doc, (ok, why) => done(ok ? undefined : why || "failed")),
      reboot: t.reboot,
      log: t.log,
    },
    rec,
  );
  return { connected: jobsConnected, onNext: jobsNext, onAccepted: jobsAccepted, onRejected: jobsRejected };
}
