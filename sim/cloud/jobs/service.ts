/**
 * Jobs service: job creation for things and thing groups, per-thing executions, the MQTT jobs API with responses
 * sent only to the requesting connection, notify / notify-next through the broker, step timeouts, cancel.
 */
import { JsonStore } from "../store";
import { Registry, RegistryError } from "../registry";
import { CreateJobOptions } from "../types";
import {
  Execution, JobsFailure, JOB_LIMITS, applyDeviceUpdate, executionBody, executionState, forceStatus, isJobsFailure,
  isPending, nextOf, notifyBody, notifyNextExecution, parseJobsRequest, pendingOf, rejectedBody, startNext, summary, checkStepTimeout,
} from "./model";

export interface JobInfo {
  jobId: string;
  document: object;
  targets: string[];
  targetSelection: "SNAPSHOT" | "CONTINUOUS";
  status: "IN_PROGRESS" | "CANCELED" | "COMPLETED";
  createdAt: number;
  lastUpdatedAt: number;
  completedAt?: number;
  stepTimeoutInMinutes?: number;
  description?: string;
  forceCanceled?: boolean;
  reasonCode?: string;
  comment?: string;
}
interface JobRecord { job: JobInfo; executions: Record<string, Execution> }

type Body = Record<string, any>;

export interface JobsServiceOptions {
  store: JsonStore;
  registry: Registry;
  now: () => number;
  minuteMs: number;
  publish: (topic: string, body: Body) => void;
  log?: (m: string) => void;
  /** jobs MQTT requests per connection per second before RequestThrottled (default 50) */
  requestsPerSecond?: number;
}

const JOB_ID_RE = /^[a-zA-Z0-9_-]{1,64}$/;

export class JobsError extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) { super(message); }
}

export class JobsService {
  private jobs = new Map<string, JobRecord>();
  private seq = 0;
  private timer?: NodeJS.Timeout;
  private rate = new WeakMap<object, { second: number; count: number }>();
  private chains = new Map<string, Promise<void>>();

  constructor(private o: JobsServiceOptions) {
    const loaded = o.store.loadAll<JobRecord>("jobs", (f, e) => o.log && o.log("job file unreadable, skipped: " + f + ": " + e.message));
    for (const [k, v] of loaded) {
      this.jobs.set(k, v);
      for (const t in v.executions) this.seq = Math.max(this.seq, v.executions[t].seq + 1);
    }
  }

  private ts(): number { return Math.floor(this.o.now() / 1000); }

  start(): void {
    const every = Math.max(20, Math.min(1000, Math.floor(this.o.minuteMs / 4)));
    this.timer = setInterval(() => this.sweepTimeouts(), every);
    this.timer.unref();
    this.sweepTimeouts();
  }

  stop(): void { if (this.timer) clearInterval(this.timer); this.timer = undefined; }

  forgetConnection(_client: object): void { /* per-connection state lives in WeakMaps */ }

  // ------------------------------------------------------------------ queries
  executionsOf(thing: string): Execution[] {
    const out: Execution[] = [];
    for (const r of this.jobs.values()) { const e = r.executions[thing]; if (e) out.push(e); }
    return out;
  }

  private docOf(jobId: string): object { return this.jobs.get(jobId)!.job.document; }

  describeJob(jobId: string): JobInfo & { executions: Record<string, string> } | undefined {
    const r = this.jobs.get(jobId);
    if (!r) return undefined;
    const ex: Record<string, string> = {};
    for (const t in r.executions) ex[t] = r.executions[t].status;
    return { ...r.job, executions: ex };
  }

  execution(jobId: string, thing: string): Execution | undefined {
    const r = this.jobs.get(jobId);
    return r ? r.executions[thing] : undefined;
  }

  describeExecution(jobId: string, thing: string): Body | undefined {
    const e = this.execution(jobId, thing);
    return e ? executionBody(e, undefined, this.o.now()) : undefined;
  }

  listExecutionsForThing(thing: string): Body[] {
    return this.executionsOf(thing).sort((a, b) => a.queuedAt - b.queuedAt || a.seq - b.seq).map((e) => {
      const o: Body = { jobId: e.jobId, status: e.status, queuedAt: e.queuedAt };
      if (e.startedAt !== undefined) o.startedAt = e.startedAt;
      o.lastUpdatedAt = e.lastUpdatedAt;
      o.executionNumber = e.executionNumber;
      o.versionNumber = e.versionNumber;
      return o;
    });
  }

  // ------------------------------------------------------------------ notifications
  private snapshot(thing: string): { members: string; head: string } {
    const execs = this.executionsOf(thing);
    const members = execs.filter(isPending).map((e) => e.jobId).sort().join("\n");
    const h = nextOf(execs);
    return { members, head: h ? h.jobId : "" };
  }

  private notifyIfChanged(thing: string, before: { members: string; head: string }): void {
    const after = this.snapshot(thing);
    const ts = this.ts();
    if (after.members !== before.members) this.o.publish("$aws/things/" + thing + "/jobs/notify", notifyBody(this.executionsOf(thing), ts));
    if (after.head !== before.head) {
      const h = nextOf(this.executionsOf(thing));
      this.o.publish("$aws/things/" + thing + "/jobs/notify-next", h ? { timestamp: ts, execution: notifyNextExecution(h, this.docOf(h.jobId)) } : { timestamp: ts });
    }
  }

  private async persist(jobId: string): Promise<void> {
    const r = this.jobs.get(jobId);
    if (r) await this.o.store.put("jobs", jobId, r);
  }

  private refreshJobStatus(r: JobRecord): void {
    if (r.job.status !== "IN_PROGRESS") return;
    const all = Object.values(r.executions);
    if (all.length && all.every((e) => !isPending(e)) && r.job.targetSelection === "SNAPSHOT") {
      r.job.status = "COMPLETED"; r.job.completedAt = this.ts(); r.job.lastUpdatedAt = this.ts();
    }
  }

  // ------------------------------------------------------------------ control plane
  private resolveTargets(targets: string[]): { things: string[]; arns: string[] } {
    const reg = this.o.registry;
    const things = new Set<string>();
    const arns: string[] = [];
    for (const raw of targets) {
      const m = /^arn:aws[a-z-]*:iot:[^:]*:[^:]*:(thing|thinggroup)\/(.+)$/.exec(raw);
      const kind = m ? m[1] : reg.things.has(raw) ? "thing" : reg.groups.has(raw) ? "thinggroup" : "";
      const name = m ? m[2] : raw;
      if (kind === "thing" && reg.things.has(name)) { things.add(name); arns.push("thing/" + name); }
      else if (kind === "thinggroup" && reg.groups.has(name)) { for (const t of reg.groups.get(name)!.things) things.add(t); arns.push("thinggroup/" + name); }
      else throw new JobsError("ResourceNotFoundException", "Target " + raw + " is neither an existing thing nor an existing thing group", 404);
    }
    return { things: [...things], arns };
  }

  async createJob(o: CreateJobOptions): Promise<Body> {
    if (!o || typeof o.jobId !== "string" || !JOB_ID_RE.test(o.jobId)) throw new JobsError("InvalidRequestException", "jobId must be 1-64 characters from a-z A-Z 0-9 _ -");
    if (this.jobs.has(o.jobId)) throw new JobsError("ResourceAlreadyExistsException", "Job " + o.jobId + " already exists", 409);
    if (!o.document || typeof o.document !== "object" || Array.isArray(o.document)) throw new JobsError("InvalidRequestException", "The job document must be a JSON object");
    if (Buffer.byteLength(JSON.stringify(o.document)) > JOB_LIMITS.maxDocumentBytes) throw new JobsError("InvalidRequestException", "The job document exceeds 32 KB");
    if (!Array.isArray(o.targets) || o.targets.length === 0) throw new JobsError("InvalidRequestException", "targets must list at least one thing or thing group");
    if (o.stepTimeoutInMinutes !== undefined && (checkStepTimeout(o.stepTimeoutInMinutes) || o.stepTimeoutInMinutes === -1)) throw new JobsError("InvalidRequestException", "stepTimeoutInMinutes must be a whole number from 1 to 10080");
    const { things, arns } = this.resolveTargets(o.targets);
    const ts = this.ts();
    const rec: JobRecord = {
      job: { jobId: o.jobId, document: JSON.parse(JSON.stringify(o.document)), targets: arns, targetSelection: o.targetSelection || "SNAPSHOT",
        status: "IN_PROGRESS", createdAt: ts, lastUpdatedAt: ts, stepTimeoutInMinutes: o.stepTimeoutInMinutes, description: o.description },
      executions: {},
    };
    const befores = things.map((t) => this.snapshot(t));
    this.jobs.set(o.jobId, rec);
    things.forEach((t) => { rec.executions[t] = this.newExecution(o.jobId, t, ts); });
    await this.persist(o.jobId);
    things.forEach((t, i) => this.notifyIfChanged(t, befores[i]));
    return { jobId: o.jobId, jobArn: "arn:aws:iot:local:000000000000:job/" + o.jobId, description: o.description };
  }

  private newExecution(jobId: string, thing: string, ts: number): Execution {
    return { jobId, thingName: thing, status: "QUEUED", queuedAt: ts, lastUpdatedAt: ts, versionNumber: 1, executionNumber: 1, seq: this.seq++ };
  }

  /** A thing added to a group: continuous jobs targeting the group get an execution for it (snapshot jobs do not). */
  onThingAddedToGroup(group: string, thing: string): void {
    for (const r of this.jobs.values()) {
      if (r.job.targetSelection !== "CONTINUOUS" || r.job.status !== "IN_PROGRESS") continue;
      if (r.job.targets.indexOf("thinggroup/" + group) < 0 || r.executions[thing]) continue;
      const before = this.snapshot(thing);
      r.executions[thing] = this.newExecution(r.job.jobId, thing, this.ts());
      this.persist(r.job.jobId).catch((e) => this.o.log && this.o.log("persisting job failed: " + e.message));
      this.notifyIfChanged(thing, before);
    }
  }

  async cancelJob(jobId: string, o: { force?: boolean; reasonCode?: string; comment?: string }): Promise<void> {
    const r = this.jobs.get(jobId);
    if (!r) throw new JobsError("ResourceNotFoundException", "Job " + jobId + " does not exist", 404);
    if (r.job.status === "COMPLETED") throw new JobsError("InvalidStateTransitionException", "Job " + jobId + " is already COMPLETED", 409);
    const ts = this.ts();
    r.job.status = "CANCELED"; r.job.lastUpdatedAt = ts; r.job.forceCanceled = !!o.force; r.job.reasonCode = o.reasonCode; r.job.comment = o.comment;
    const touched: Array<[string, { members: string; head: string }]> = [];
    for (const t in r.executions) {
      const e = r.executions[t];
      if (e.status === "QUEUED" || (e.status === "IN_PROGRESS" && o.force)) {
        touched.push([t, this.snapshot(t)]);
        r.executions[t] = forceStatus(e, "CANCELED", ts);
      }
    }
    await this.persist(jobId);
    for (const [t, b] of touched) this.notifyIfChanged(t, b);
  }

  /** Moves every execution whose step deadline passed to TIMED_OUT. */
  sweepTimeouts(): void {
    const nowMs = this.o.now();
    for (const r of this.jobs.values()) {
      let changed = false;
      for (const t in r.executions) {
        const e = r.executions[t];
        if (e.status === "IN_PROGRESS" && e.stepTimeoutAt !== undefined && e.stepTimeoutAt <= nowMs) {
          const before = this.snapshot(t);
          r.executions[t] = forceStatus(e, "TIMED_OUT", this.ts());
          changed = true;
          this.o.log && this.o.log("job " + r.job.jobId + " on " + t + " TIMED_OUT");
          this.notifyIfChanged(t, before);
        }
      }
      if (changed) {
        this.refreshJobStatus(r);
        this.persist(r.job.jobId).catch((e) => this.o.log && this.o.log("persisting job failed: " + e.message));
      }
    }
  }

  // ------------------------------------------------------------------ MQTT device API
  /** Handles a publish on $aws/things/{thing}/jobs/...; `reply` reaches only the requesting connection. */
  handleMqtt(topic: string, payload: Buffer, conn: object, reply: (topic: string, body: Body) => void): boolean {
    const p = topic.split("/");
    if (p[0] !== "$aws" || p[1] !== "things" || p[3] !== "jobs" || p.length < 5) return false;
    const thing = p[2];
    const rest = p.slice(4);
    const last = rest[rest.length - 1];
    if (last === "accepted" || last === "rejected" || rest[0] === "notify" || rest[0] === "notify-next") return true; // responses / notifications: nothing to do
    const base = "$aws/things/" + thing + "/jobs/";
    const parsed = parseJobsRequest(payload);
    const ct = parsed.clientToken;
    const reject = (t: string, f: JobsFailure) => reply(t + "/rejected", rejectedBody(f, this.ts(), ct));
    let kind: "get" | "start-next" | "describe" | "update" | null = null;
    let jobId = "";
    if (rest.length === 1 && rest[0] === "get") kind = "get";
    else if (rest.length === 1 && rest[0] === "start-next") kind = "start-next";
    else if (rest.length === 2 && rest[1] === "get") { kind = "describe"; jobId = rest[0]; }
    else if (rest.length === 2 && rest[1] === "update" && rest[0] !== "$next") { kind = "update"; jobId = rest[0]; }
    if (!kind) { reject(topic, { code: "InvalidTopic", message: "Topic " + topic + " does not map to a jobs API" }); return true; }
    const rate = this.rate.get(conn) || { second: -1, count: 0 };
    const sec = this.ts();
    if (rate.second !== sec) { rate.second = sec; rate.count = 0; }
    rate.count++;
    this.rate.set(conn, rate);
    if (rate.count > (this.o.requestsPerSecond || 50)) { reject(topic, { code: "RequestThrottled", message: "Too many jobs requests on this connection" }); return true; }
    if (!parsed.ok) { reject(topic, parsed.failure); return true; }
    const chainKey = thing;
    const prev = this.chains.get(chainKey) || Promise.resolve();
    const run = prev.then(async () => {
      try {
        await this.process(kind!, thing, jobId, parsed.body, ct, topic, base, reply, reject);
      } catch (e) {
        this.o.log && this.o.log("jobs request failed: " + (e as Error).message);
        reject(topic, { code: "InternalError", message: "Internal error" });
      }
    });
    this.chains.set(chainKey, run);
    run.then(() => { if (this.chains.get(chainKey) === run) this.chains.delete(chainKey); });
    return true;
  }

  private async process(kind: string, thing: string, jobId: string, body: Body, ct: string | undefined, topic: string,
    base: string, reply: (t: string, b: Body) => void, reject: (t: string, f: JobsFailure) => void): Promise<void> {
    this.sweepTimeouts();
    const ts = this.ts();
    const nowMs = this.o.now();
    const withToken = (o: Body) => { if (ct !== undefined) o.clientToken = ct; return o; };
    if (kind === "get") {
      const p = pendingOf(this.executionsOf(thing));
      reply(topic + "/accepted", withToken({ inProgressJobs: p.inProgress.map(summary), queuedJobs: p.queued.map(summary), timestamp: ts }));
      return;
    }
    if (kind === "describe") {
      const e = jobId === "$next" ? nextOf(this.executionsOf(thing)) : this.execution(jobId, thing);
      if (!e) {
        if (jobId === "$next") { reply(topic + "/accepted", withToken({ timestamp: ts })); return; }
        reject(topic, { code: "ResourceNotFound", message: "No job execution " + jobId + " for thing " + thing }); return;
      }
      if (body.executionNumber !== undefined && body.executionNumber !== e.executionNumber) {
        reject(topic, { code: "ResourceNotFound", message: "No job execution " + jobId + " #" + body.executionNumber + " for thing " + thing }); return;
      }
      if (body.includeJobDocument !== undefined && typeof body.includeJobDocument !== "boolean") {
        reject(topic, { code: "InvalidRequest", message: "includeJobDocument must be true or false" }); return;
      }
      if (jobId !== "$next" && e.status !== "QUEUED" && e.status !== "IN_PROGRESS") {
        reject(topic, { code: "TerminalStateReached", message: "Job execution " + jobId + " is in the terminal state " + e.status, executionState: executionState(e) }); return;
      }
      const doc = body.includeJobDocument === false ? undefined : this.docOf(e.jobId);
      reply(topic + "/accepted", withToken({ execution: executionBody(e, doc, nowMs), timestamp: ts }));
      return;
    }
    if (kind === "start-next") {
      const h = nextOf(this.executionsOf(thing));
      if (!h) { reply(topic + "/accepted", withToken({ timestamp: ts })); return; }
      const r = this.jobs.get(h.jobId)!;
      const n = startNext(h, body, ts, nowMs, this.o.minuteMs, r.job.stepTimeoutInMinutes);
      if (isJobsFailure(n)) { reject(topic, n); return; }
      const before = this.snapshot(thing);
      r.executions[thing] = n;
      try { await this.persist(h.jobId); } catch (e) { r.executions[thing] = h; throw e; }
      reply(topic + "/accepted", withToken({ execution: executionBody(n, r.job.document, nowMs), timestamp: ts }));
      this.notifyIfChanged(thing, before);
      return;
    }
    // update
    const e = this.execution(jobId, thing);
    if (!e) { reject(topic, { code: "ResourceNotFound", message: "No job execution " + jobId + " for thing " + thing }); return; }
    for (const f of ["includeJobExecutionState", "includeJobDocument"]) {
      if (body[f] !== undefined && typeof body[f] !== "boolean") { reject(topic, { code: "InvalidRequest", message: f + " must be true or false" }); return; }
    }
    const r = this.jobs.get(jobId)!;
    const n = applyDeviceUpdate(e, body as any, ts, nowMs, this.o.minuteMs, r.job.stepTimeoutInMinutes);
    if (isJobsFailure(n)) { reject(topic, n); return; }
    const before = this.snapshot(thing);
    r.executions[thing] = n;
    this.refreshJobStatus(r);
    try { await this.persist(jobId); } catch (err) { r.executions[thing] = e; throw err; }
    const out: Body = {};
    if (body.includeJobExecutionState) out.executionState = executionState(n);
    if (body.includeJobDocument) out.jobDocument = r.job.document;
    out.timestamp = ts;
    reply(topic + "/accepted", withToken(out));
    this.notifyIfChanged(thing, before);
  }
}

export { RegistryError };
