// One interface over the device's shadow and jobs logic, whichever shape the sources have: a class
// (new Shadow(hooks, prefix) / new Jobs(hooks, rec)) or flat module state (shadowInit/shadowMsg/
// shadowLink(up) or shadowConnected/shadowDisconnected, jobsInit/jobsNext...), so the fuzzers
// follow refactors of firmware/shadow and firmware/jobs (they changed shape several times).
import * as S from "../../firmware/shadow/shadow";
import * as J from "../../firmware/jobs/jobs";
import type { JobRec } from "../../firmware/jobs/jobs";

export interface ShadowApi {
  connected(): void;
  disconnected(): void;
  report(ch: any): void;
  msg(sub: string, m: any): void;
}
export interface JobsApi {
  connected(): void;
  oversize(): void;
  onNext(m: any): void;
  onAccepted(jobId: string, m: any): void;
  onRejected(jobId: string, m: any): void;
}

// Test-side shadow hooks; mark()/setMark() are offered both ways (older: mark() + setMark(m);
// newer: mark(m?) that stores m when given and returns the stored marker).
export interface TestShadowHooks {
  pub(sub: string, msg: any): void;
  apply(key: string, v: any): void;
  reboot(): void;
  mark(): string;
  setMark(m: string): void;
  log(lvl: string, msg: string): void;
}

export function shadowApi(t: TestShadowHooks, prefix: string): ShadowApi {
  const A: any = S;
  const hooks: any = {
    pub: t.pub,
    apply: t.apply,
    reboot: t.reboot,
    mark: (m?: string) => {
      if (typeof m === "string") t.setMark(m);
      return t.mark();
    },
    setMark: t.setMark,
    log: t.log,
  };
  if (typeof A.Shadow === "function") {
    const o = new A.Shadow(hooks, prefix);
    return { connected: () => o.connected(), disconnected: () => o.disconnected(), report: (c) => o.report(c), msg: (s, m) => o.msg(s, m) };
  }
  A.shadowInit(hooks, prefix);
  if (typeof A.shadowLink === "function") {
    return { connected: () => A.shadowLink(true), disconnected: () => A.shadowLink(false), report: A.shadowReport, msg: A.shadowMsg };
  }
  return { connected: A.shadowConnected, disconnected: A.shadowDisconnected, report: A.shadowReport, msg: A.shadowMsg };
}

// Test-side hooks: known(op) and run(doc, finish(ok, why)); translated to what the module takes
// (older: known(), save(r) and done(ok, why); newer: ops ",a,b,", store(file, r) and done(problem?)).
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
  const A: any = J;
  const classic = typeof A.Jobs === "function";
  const hooks: any = {
    pub: t.pub,
    save: t.save,
    store: (_file: string, r: JobRec) => {
      t.save(r);
      return true;
    },
    known: t.known,
    ops: "," + OPS.join(",") + ",",
    run: (doc: any, done: any) => t.run(doc, (ok, why) => (classic ? done(ok, why) : done(ok ? undefined : why || "failed"))),
    reboot: t.reboot,
    log: t.log,
  };
  if (classic) {
    const o = new A.Jobs(hooks, rec);
    return { connected: () => o.connected(), oversize: () => o.oversize(), onNext: (m) => o.onNext(m), onAccepted: (j, m) => o.onAccepted(j, m), onRejected: (j, m) => o.onRejected(j, m) };
  }
  A.jobsInit(hooks, rec);
  return { connected: A.jobsConnected, oversize: A.jobsOversize, onNext: A.jobsNext, onAccepted: A.jobsAccepted, onRejected: A.jobsRejected };
}
