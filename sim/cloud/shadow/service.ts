/**
 * Shadow service: MQTT request topics -> document rules -> persistence -> response topics (through the broker).
 * Requests on one shadow are processed in order; at most 10 requests in flight per connection (429 beyond).
 */
import {
  ShadowRecord, ShadowFailure, JsonObject, ERR, SHADOW_LIMITS, applyUpdate, deleteAccepted, deletedRecord, getAccepted,
  isFailure, isValidShadowName, isValidThingName, notFound, parseRequest, rejected, documentOf,
} from "./document";
import { JsonStore } from "../store";

export interface ShadowServiceOptions {
  store: JsonStore;
  now: () => number;
  publish: (topic: string, body: JsonObject) => void;
  shuffleResponses?: boolean;
  deltaOnReportedOnly?: boolean;
  /** artificial processing latency in ms (tests of the in-flight limit) */
  latencyMs?: number;
  log?: (msg: string) => void;
}

export interface RequestContext {
  /** identity of the connection (in-flight accounting); undefined = no limit (HTTP API, admin calls) */
  conn?: object;
  /** credential expired (session credentials): answer 401 */
  expired?: boolean;
  /** credential may not touch this thing (HTTP API): answer 403 */
  forbidden?: boolean;
}

export type Op = "get" | "update" | "delete";

export function shadowPrefix(thing: string, name?: string): string {
  return "$aws/things/" + thing + "/shadow" + (name ? "/name/" + name : "");
}

/** Parses a shadow request topic; null when the topic is not a shadow request. */
export function parseShadowTopic(topic: string): { thing: string; name?: string; op: Op } | null {
  const p = topic.split("/");
  if (p[0] !== "$aws" || p[1] !== "things" || p[3] !== "shadow") return null;
  let op: string, name: string | undefined;
  if (p.length === 5) op = p[4];
  else if (p.length === 7 && p[4] === "name") { name = p[5]; op = p[6]; }
  else return null;
  if (op !== "get" && op !== "update" && op !== "delete") return null;
  return { thing: p[2], name, op };
}

function storeKey(thing: string, name?: string): string { return name ? thing + "~" + name : thing; }

export class ShadowService {
  private records = new Map<string, ShadowRecord>();
  private chains = new Map<string, Promise<void>>();
  private inFlight = new WeakMap<object, number>();

  constructor(private o: ShadowServiceOptions) {
    const loaded = o.store.loadAll<ShadowRecord>("shadows", (f, e) => o.log && o.log("shadow file unreadable, skipped: " + f + ": " + e.message));
    for (const [k, v] of loaded) this.records.set(k, v);
  }

  private ts(): number { return Math.floor(this.o.now() / 1000); }

  /** Current record (undefined if it never existed or was deleted). */
  record(thing: string, name?: string): ShadowRecord | undefined {
    const r = this.records.get(storeKey(thing, name));
    return r && r.exists ? r : undefined;
  }

  /** get/accepted body of a shadow, or undefined. */
  get(thing: string, name?: string): JsonObject | undefined {
    const r = this.record(thing, name);
    return r ? getAccepted(r, this.ts()) : undefined;
  }

  document(thing: string, name?: string): JsonObject | undefined {
    const r = this.record(thing, name);
    return r ? documentOf(r) : undefined;
  }

  /** Named shadows of a thing (sorted). */
  listNamed(thing: string): string[] {
    const out: string[] = [];
    const pre = thing + "~";
    for (const [k, r] of this.records) if (r.exists && k.startsWith(pre)) out.push(k.slice(pre.length));
    return out.sort();
  }

  /** Handles an MQTT request publish. Returns true when the topic was a shadow request. */
  handleMqtt(topic: string, payload: Buffer, ctx: RequestContext): boolean {
    const t = parseShadowTopic(topic);
    if (!t) return false;
    const prefix = shadowPrefix(t.thing, t.name) + "/" + t.op;
    const conn = ctx.conn;
    if (conn) {
      const n = this.inFlight.get(conn) || 0;
      if (n >= SHADOW_LIMITS.maxInFlight) {
        const parsed = parseRequest(payload, true);
        this.o.publish(prefix + "/rejected", rejected(ERR.throttled, this.ts(), parsed.ok ? parsed.clientToken : parsed.clientToken));
        return true;
      }
      this.inFlight.set(conn, n + 1);
    }
    this.request(t.op, t.thing, t.name, payload, ctx).then((res) => {
      if (conn) this.inFlight.set(conn, (this.inFlight.get(conn) || 1) - 1);
      for (const [suffix, body] of res.messages) this.o.publish(prefix + "/" + suffix, body);
    });
    return true;
  }

  /**
   * Runs one request (serialized per shadow). Resolves with the messages to publish (suffix, body) and the
   * outcome; never rejects.
   */
  request(op: Op, thing: string, name: string | undefined, payload: Buffer | string, ctx: RequestContext = {}): Promise<{ messages: Array<[string, JsonObject]>; ok: boolean; body: JsonObject }> {
    const key = storeKey(thing, name);
    const prev = this.chains.get(key) || Promise.resolve();
    let result!: { messages: Array<[string, JsonObject]>; ok: boolean; body: JsonObject };
    const run = prev.then(async () => {
      if (this.o.latencyMs) await new Promise((r) => setTimeout(r, this.o.latencyMs));
      try { result = await this.process(op, thing, name, payload, ctx); }
      catch (e) {
        this.o.log && this.o.log("shadow request failed: " + (e as Error).message);
        const body = rejected(ERR.internal, this.ts());
        result = { messages: [["rejected", body]], ok: false, body };
      }
    });
    const tail = run.then(() => undefined, () => undefined);
    this.chains.set(key, tail);
    tail.then(() => { if (this.chains.get(key) === tail) this.chains.delete(key); });
    return run.then(() => result);
  }

  private fail(f: ShadowFailure, clientToken?: string): { messages: Array<[string, JsonObject]>; ok: boolean; body: JsonObject } {
    const body = rejected(f, this.ts(), clientToken);
    return { messages: [["rejected", body]], ok: false, body };
  }

  private async process(op: Op, thing: string, name: string | undefined, payload: Buffer | string, ctx: RequestContext) {
    const parsed = parseRequest(payload, op !== "update");
    if (!parsed.ok) return this.fail(parsed);
    const ct = parsed.clientToken;
    if (ctx.expired) return this.fail(ERR.unauthorized, ct);
    if (ctx.forbidden) return this.fail(ERR.forbidden, ct);
    if (!isValidThingName(thing)) return this.fail({ code: 400, message: "Invalid thing name: '" + thing + "'" }, ct);
    if (name !== undefined && !isValidShadowName(name)) return this.fail({ code: 400, message: "Invalid shadow name: '" + name + "'" }, ct);
    const key = storeKey(thing, name);
    const cur = this.records.get(key);
    const ts = this.ts();
    if (op === "get") {
      if (!cur || !cur.exists) return this.fail(notFound(name || thing), ct);
      const body = getAccepted(cur, ts, ct);
      return { messages: [["accepted", body]] as Array<[string, JsonObject]>, ok: true, body };
    }
    if (op === "delete") {
      if (!cur || !cur.exists) return this.fail(notFound(name || thing), ct);
      if (parsed.body.version !== undefined && parsed.body.version !== cur.version) return this.fail(ERR.versionConflict, ct);
      const gone = deletedRecord(cur);
      await this.commit(key, gone, cur);
      const body = deleteAccepted(cur, ts, ct);
      return { messages: [["accepted", body]] as Array<[string, JsonObject]>, ok: true, body };
    }
    const out = applyUpdate(cur, parsed.body, ts, { deltaOnReportedOnly: this.o.deltaOnReportedOnly });
    if (isFailure(out)) return this.fail(out, ct);
    await this.commit(key, out.record, cur);
    const msgs: Array<[string, JsonObject]> = [["update/accepted", out.accepted]];
    if (out.delta) {
      if (this.o.shuffleResponses && Math.random() < 0.5) msgs.unshift(["update/delta", out.delta]);
      else msgs.push(["update/delta", out.delta]);
    }
    msgs.push(["update/documents", out.documents]);
    // suffixes are relative to "<prefix>/update": rewrite to the final suffix
    return { messages: msgs.map(([s, b]) => [s.slice("update/".length), b] as [string, JsonObject]), ok: true, body: out.accepted };
  }

  private async commit(key: string, next: ShadowRecord, prev: ShadowRecord | undefined): Promise<void> {
    this.records.set(key, next);
    try {
      await this.o.store.put("shadows", key, next);
    } catch (e) {
      if (prev) this.records.set(key, prev); else this.records.delete(key);
      throw e;
    }
  }
}
