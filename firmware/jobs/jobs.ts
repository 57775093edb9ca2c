// AWS IoT Jobs runner. Pure: no I/O and no Espruino globals; jobs/adapter.ts injects the hooks.
// One job at a time. Every step is written to Storage (hooks.save) BEFORE its status update is sent,
// so across a reboot the same execution (jobId + executionNumber) is never run twice:
//   rec.st = "IP"   IN_PROGRESS sent, handler not started yet   -> after reboot: start again
//            "RUN"  handler started                              -> after reboot: FAILED (interrupted)
//            "RB"   the reboot operation is rebooting            -> after reboot: SUCCEEDED
//            "SUCCEEDED" | "FAILED" | "REJECTED": terminal sent  -> after reboot: sent again
//            "X"    the cloud said the execution is over          -> ignored
// Rejections (VersionMismatch, InvalidStateTransition, TerminalStateReached, ...) are retried at
// most twice, then the execution is abandoned: never a loop.

export interface JobRec {
  j: string; // jobId
  n: number; // executionNumber
  st: string;
}

export interface JobHooks {
  pub(sub: string, msg: any): void; // sub after "$aws/things/<thing>/": "jobs/$next/get" or "jobs/<jobId>/update"
  save(r: JobRec): void;
  known(op: string): boolean; // is this operation supported?
  run(doc: any, done: (ok: boolean, why: string) => void): void; // run a supported operation
  reboot(): void;
  log(lvl: string, msg: string): void;
}

const TERMINAL = ["SUCCEEDED", "FAILED", "REJECTED"];

export class Jobs {
  h: JobHooks;
  rec: JobRec | null; // persisted record of the last execution we touched
  cur: JobRec | null; // execution being handled now
  doc: any;
  v: number; // expected version of cur
  run: boolean; // handler running
  sent: string; // status of the update in flight
  why: string;
  tries: number;
  noDoc: string; // clientToken of a $next/get without document (oversize document)

  constructor(h: JobHooks, rec: JobRec | null) {
    this.h = h;
    this.rec = rec && typeof rec.j === "string" ? rec : null;
    this.cur = null;
    this.doc = null;
    this.v = 0;
    this.run = false;
    this.sent = "";
    this.why = "";
    this.tries = 0;
    this.noDoc = "";
  }

  connected(): void {
    if (this.cur && !this.run) this.cur = null; // its update answer was lost: decide again from rec
    this.next();
  }

  next(): void {
    this.h.pub("jobs/$next/get", {});
  }

  // The payload of notify-next or $next/get/accepted was too big to receive: ask for the
  // execution without its document, then reject it.
  oversize(): void {
    this.noDoc = "nd" + (this.tries & 7);
    this.h.pub("jobs/$next/get", { includeJobDocument: false, clientToken: this.noDoc });
  }

  // notify-next or $next/get/accepted
  onNext(m: any): void {
    if (!m || typeof m !== "object") return;
    const ex = m.execution;
    const big = this.noDoc !== "" && m.clientToken === this.noDoc;
    if (big) this.noDoc = "";
    if (!ex || typeof ex.jobId !== "string") return;
    const c = this.cur;
    const n = ex.executionNumber || 0;
    if (c) {
      if (c.j !== ex.jobId || c.n !== n) this.h.log("I", "job " + ex.jobId + " waits for " + c.j);
      return;
    }
    const cur: JobRec = { j: ex.jobId, n: n, st: "" };
    this.cur = cur;
    this.v = ex.versionNumber || 0;
    this.tries = 0;
    const r = this.rec;
    if (r && r.j === cur.j && r.n === n) {
      if (r.st === "X") {
        this.cur = null;
        return;
      }
      if (r.st === "RUN") return this.send("FAILED", "interrupted by a restart");
      if (r.st === "RB") return this.send("SUCCEEDED", "rebooted");
      if (TERMINAL.indexOf(r.st) >= 0) return this.send(r.st, "");
      // "IP": never started, start again below
    }
    const doc = ex.jobDocument;
    this.doc = doc;
    if (big || !doc) return this.send("REJECTED", big ? "job document too large for this device" : "no job document");
    const op = doc.operation;
    if (typeof op !== "string" || !this.h.known(op)) return this.send("REJECTED", "unknown operation: " + op);
    this.h.log("I", "job " + cur.j + " " + op + " starting");
    this.send("IN_PROGRESS", "");
  }

  send(st: string, why: string): void {
    const c = this.cur;
    if (!c) return;
    this.sent = st;
    this.why = why;
    if (st !== "IN_PROGRESS") this.h.log("I", "job " + c.j + " " + st + (why ? ": " + why : ""));
    this.save(st === "IN_PROGRESS" ? "IP" : st);
    const m: any = { status: st, clientToken: "j" + c.n };
    if (this.v) m.expectedVersion = this.v;
    if (why) m.statusDetails = { reason: why };
    this.h.pub("jobs/" + c.j + "/update", m);
  }

  save(st: string): void {
    const c = this.cur;
    if (!c) return;
    c.st = st;
    this.rec = { j: c.j, n: c.n, st: st };
    this.h.save(this.rec);
  }

  // .../jobs/<jobId>/update/accepted
  onAccepted(jobId: string, m: any): void {
    const c = this.cur;
    if (!c || c.j !== jobId) return;
    const es = m && m.executionState;
    this.v = es && es.versionNumber ? es.versionNumber : this.v ? this.v + 1 : 0;
    this.tries = 0;
    if (this.sent !== "IN_PROGRESS") {
      this.cur = null;
      this.doc = null;
      this.next();
      return;
    }
    const doc = this.doc;
    if (doc.operation === "reboot") {
      this.save("RB");
      this.h.log("I", "job " + jobId + " rebooting");
      this.h.reboot();
      return;
    }
    this.save("RUN");
    this.run = true;
    this.h.run(doc, (ok, why) => {
      this.run = false;
      if (this.cur === c) this.send(ok ? "SUCCEEDED" : "FAILED", why);
    });
  }

  // .../jobs/<jobId>/update/rejected
  onRejected(jobId: string, m: any): void {
    const c = this.cur;
    if (!c || c.j !== jobId || !m) return;
    const code = m.code;
    const es = m.executionState;
    this.h.log("W", "job " + jobId + " update rejected: " + code + (m.message ? " " + m.message : ""));
    if (code === "VersionMismatch" || code === "RequestThrottled" || code === "InternalError") {
      if (++this.tries <= 2) {
        this.v = es && es.versionNumber ? es.versionNumber : 0;
        if (es && TERMINAL.indexOf(es.status) >= 0) return this.drop();
        return this.send(this.sent, this.why);
      }
    }
    this.drop();
  }

  // The cloud will not take updates for this execution (terminal, removed, or retries used up).
  drop(): void {
    const c = this.cur;
    if (!c) return;
    this.h.log("W", "job " + c.j + " abandoned");
    this.save("X");
    this.cur = null;
    this.doc = null;
    this.next();
  }
}
