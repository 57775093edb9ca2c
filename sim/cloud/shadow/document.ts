/**
 * Device Shadow document rules (PURE: no I/O, no clock; the caller passes the timestamp in epoch seconds).
 * Merge, per-leaf metadata, delta, versions, validation and every response body, per the contract
 * (docs/aws-iot-behaviour.md, Device Shadow). Key order of every body is part of the contract.
 */
import { isUtf8 } from "node:buffer";
import { nestedDeeperThan } from "../json-depth";

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject { [k: string]: Json }

export interface ShadowState { desired?: JsonObject; reported?: JsonObject }
export interface ShadowRecord {
  /** version of the last accepted update (kept after delete so numbering continues) */
  version: number;
  /** false after delete: the shadow does not exist but its version is remembered */
  exists: boolean;
  state: ShadowState;
  metadata: ShadowState;
}

export const SHADOW_LIMITS = { maxStateBytes: 8192, maxDepth: 6, maxClientTokenBytes: 64, maxInFlight: 10 };

export interface ShadowFailure { code: number; message: string; clientToken?: string }

export const ERR = {
  invalidJson: { code: 400, message: "Invalid JSON" },
  unsupportedEncoding: { code: 415, message: "Unsupported documents encoding" },
  missingState: { code: 400, message: "Missing required node: state" },
  stateNotObject: { code: 400, message: "State node must be an object" },
  desiredNotObject: { code: 400, message: "Desired node must be an object" },
  reportedNotObject: { code: 400, message: "Reported node must be an object" },
  invalidVersion: { code: 400, message: "Invalid version" },
  invalidClientToken: { code: 400, message: "Invalid clientToken" },
  tooDeep: { code: 400, message: "JSON contains too many levels of nesting; maximum is 6" },
  unauthorized: { code: 401, message: "Unauthorized" },
  forbidden: { code: 403, message: "Forbidden" },
  versionConflict: { code: 409, message: "Version conflict" },
  tooLarge: { code: 413, message: "The payload exceeds the maximum size allowed" },
  throttled: { code: 429, message: "Too Many Requests" },
  internal: { code: 500, message: "Internal service failure" },
} as const;

export function invalidNode(name: string): ShadowFailure { return { code: 400, message: "State contains an invalid node: '" + name + "'" }; }
export function notFound(name: string): ShadowFailure { return { code: 404, message: "No shadow exists with name: '" + name + "'" }; }

const THING_RE = /^[a-zA-Z0-9:_-]{1,128}$/;
const SHADOW_RE = /^[a-zA-Z0-9:_-]{1,64}$/;
export function isValidThingName(s: string): boolean { return THING_RE.test(s); }
export function isValidShadowName(s: string): boolean { return SHADOW_RE.test(s); }

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T { return v === undefined ? v : JSON.parse(JSON.stringify(v)); }

/** Levels of nesting of a value: scalars 0, objects and arrays 1 + deepest child. */
export function depthOf(v: Json): number {
  if (Array.isArray(v)) { let d = 0; for (const x of v) d = Math.max(d, depthOf(x)); return d + 1; }
  if (isObject(v)) { let d = 0; for (const k in v) d = Math.max(d, depthOf(v[k])); return d + 1; }
  return 0;
}

function arraysHaveNull(v: Json, inArray: boolean): boolean {
  if (v === null) return inArray;
  if (Array.isArray(v)) return v.some((x) => arraysHaveNull(x, true));
  if (isObject(v)) { for (const k in v) if (arraysHaveNull(v[k], false)) return true; }
  return false;
}

export function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a), kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (const k of ka) if (!(k in b) || !deepEqual(a[k], b[k])) return false;
    return true;
  }
  return false;
}

/** Metadata mirroring a value: a leaf (scalar or null) gets {timestamp}, arrays one entry per element. */
export function metadataOf(v: Json, ts: number): Json {
  if (Array.isArray(v)) return v.map((x) => metadataOf(x, ts));
  if (isObject(v)) { const o: JsonObject = {}; for (const k in v) o[k] = metadataOf(v[k], ts); return o; }
  return { timestamp: ts };
}

/**
 * Merges `patch` into `target` (both objects) with their metadata: objects merge recursively, scalars and arrays
 * replace, null deletes. An object emptied by deletions disappears; an explicit {} stays.
 */
export function mergeSection(target: JsonObject | undefined, meta: JsonObject | undefined, patch: JsonObject, ts: number): { state: JsonObject; meta: JsonObject } {
  const state: JsonObject = clone(target) || {};
  const md: JsonObject = clone(meta) || {};
  for (const k of Object.keys(patch)) {
    const pv = patch[k];
    if (pv === null) { delete state[k]; delete md[k]; continue; }
    if (isObject(pv)) {
      const cur = isObject(state[k]) ? (state[k] as JsonObject) : undefined;
      const curMeta = cur && isObject(md[k]) ? (md[k] as JsonObject) : undefined;
      const r = mergeSection(cur, curMeta, pv, ts);
      if (Object.keys(r.state).length === 0 && Object.keys(pv).length > 0) { delete state[k]; delete md[k]; }
      else { state[k] = r.state; md[k] = r.meta; }
      continue;
    }
    state[k] = clone(pv);
    md[k] = metadataOf(pv, ts);
  }
  return { state, meta: md };
}

/** Keys of desired absent from reported or different; objects recurse, arrays and scalars compare whole. */
export function computeDelta(desired: JsonObject | undefined, reported: JsonObject | undefined): JsonObject | undefined {
  if (!desired) return undefined;
  const out: JsonObject = {};
  let any = false;
  for (const k of Object.keys(desired)) {
    const d = desired[k];
    const r = reported ? reported[k] : undefined;
    if (isObject(d) && isObject(r)) {
      const sub = computeDelta(d, r);
      if (sub) { out[k] = sub; any = true; }
    } else if (r === undefined || !deepEqual(d, r)) {
      out[k] = clone(d); any = true;
    }
  }
  return any ? out : undefined;
}

/** Desired metadata of the keys present in a delta. */
export function deltaMetadata(delta: JsonObject, desiredMeta: JsonObject | undefined): JsonObject {
  const out: JsonObject = {};
  for (const k of Object.keys(delta)) {
    const m = desiredMeta ? desiredMeta[k] : undefined;
    if (isObject(delta[k]) && isObject(m)) {
      out[k] = deltaMetadata(delta[k] as JsonObject, m);
    } else if (m !== undefined) {
      out[k] = m;
    }
  }
  return out;
}

export function stateBytes(state: ShadowState): number {
  const o: JsonObject = {};
  if (state.desired) o.desired = state.desired;
  if (state.reported) o.reported = state.reported;
  return Buffer.byteLength(JSON.stringify(o), "utf8");
}

/** Parses a request payload (empty allowed when `allowEmpty`); checks clientToken and version syntax. */
export function parseRequest(payload: Buffer | string, allowEmpty: boolean): { ok: true; body: JsonObject; clientToken?: string } | ({ ok: false } & ShadowFailure) {
  if (typeof payload !== "string" && !isUtf8(payload)) return { ok: false, ...ERR.unsupportedEncoding };
  const text = typeof payload === "string" ? payload : payload.toString("utf8");
  let body: unknown;
  if (text.trim() === "" && allowEmpty) body = {};
  else {
    // body > state > desired|reported > maxDepth levels
    if (nestedDeeperThan(text, SHADOW_LIMITS.maxDepth + 2)) return { ok: false, ...ERR.tooDeep };
    try { body = JSON.parse(text); } catch { return { ok: false, ...ERR.invalidJson }; }
  }
  if (!isObject(body)) return { ok: false, ...ERR.invalidJson };
  const ct = body.clientToken;
  if (ct !== undefined && (typeof ct !== "string" || Buffer.byteLength(ct, "utf8") > SHADOW_LIMITS.maxClientTokenBytes)) {
    return { ok: false, ...ERR.invalidClientToken };
  }
  const clientToken = ct as string | undefined;
  const v = body.version;
  if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < 0)) return { ok: false, ...ERR.invalidVersion, clientToken };
  return { ok: true, body, clientToken };
}

/** Validation of an update body's `state`, in the order AWS reports problems. */
export function validateUpdateState(body: JsonObject): ShadowFailure | null {
  if (!("state" in body)) return ERR.missingState;
  const st = body.state;
  if (!isObject(st)) return ERR.stateNotObject;
  for (const k of Object.keys(st)) if (k !== "desired" && k !== "reported") return invalidNode(k);
  if ("desired" in st && st.desired !== null && !isObject(st.desired)) return ERR.desiredNotObject;
  if ("reported" in st && st.reported !== null && !isObject(st.reported)) return ERR.reportedNotObject;
  for (const k of ["desired", "reported"]) {
    const sec = st[k];
    if (isObject(sec) && depthOf(sec) > SHADOW_LIMITS.maxDepth) return ERR.tooDeep;
  }
  if (arraysHaveNull(st, false)) return ERR.invalidJson;
  return null;
}

export function emptyRecord(): ShadowRecord { return { version: 0, exists: false, state: {}, metadata: {} }; }

/** The stored document as `update/documents` shows it. */
export function documentOf(rec: ShadowRecord): JsonObject {
  const state: JsonObject = {}, metadata: JsonObject = {};
  if (rec.state.desired) { state.desired = clone(rec.state.desired); metadata.desired = clone(rec.metadata.desired || {}); }
  if (rec.state.reported) { state.reported = clone(rec.state.reported); metadata.reported = clone(rec.metadata.reported || {}); }
  return { state, metadata, version: rec.version };
}

export interface UpdateOutcome {
  record: ShadowRecord;
  accepted: JsonObject;
  /** present when a delta message is due */
  delta?: JsonObject;
  documents: JsonObject;
}

/**
 * Applies a validated update body. `deltaOnReportedOnly` (default true): a delta is also published after an
 * update that only touched reported, whenever desired != reported afterwards.
 */
export function applyUpdate(current: ShadowRecord | undefined, body: JsonObject, ts: number, opts: { deltaOnReportedOnly?: boolean } = {}): UpdateOutcome | ShadowFailure {
  const bad = validateUpdateState(body);
  const clientToken = typeof body.clientToken === "string" ? body.clientToken : undefined;
  if (bad) return { ...bad, clientToken };
  const rec = current || emptyRecord();
  if (body.version !== undefined && body.version !== rec.version) return { ...ERR.versionConflict, clientToken };
  const st = body.state as JsonObject;
  const next: ShadowRecord = { version: rec.version + 1, exists: true, state: {}, metadata: {} };
  const prevState = rec.exists ? rec.state : {};
  const prevMeta = rec.exists ? rec.metadata : {};
  for (const sec of ["desired", "reported"] as const) {
    if (!(sec in st)) {
      if (prevState[sec]) { next.state[sec] = clone(prevState[sec]); next.metadata[sec] = clone(prevMeta[sec] || {}); }
      continue;
    }
    const patch = st[sec];
    if (patch === null) continue; // removes the section
    const r = mergeSection(prevState[sec], prevMeta[sec], patch as JsonObject, ts);
    next.state[sec] = r.state; next.metadata[sec] = r.meta;
  }
  if (stateBytes(next.state) > SHADOW_LIMITS.maxStateBytes) return { ...ERR.tooLarge, clientToken };

  const acceptedMeta: JsonObject = {};
  for (const k of Object.keys(st)) acceptedMeta[k] = metadataOf(st[k], ts);
  const accepted: JsonObject = { state: clone(st), metadata: acceptedMeta, version: next.version, timestamp: ts };
  if (clientToken !== undefined) accepted.clientToken = clientToken;

  let delta: JsonObject | undefined;
  const d = computeDelta(next.state.desired, next.state.reported);
  const touchedDesired = "desired" in st;
  if (d && (touchedDesired || opts.deltaOnReportedOnly !== false)) {
    delta = { version: next.version, timestamp: ts, state: d, metadata: deltaMetadata(d, next.metadata.desired) };
    if (clientToken !== undefined) delta.clientToken = clientToken;
  }
  const documents: JsonObject = { previous: rec.exists ? documentOf(rec) : null, current: documentOf(next), timestamp: ts };
  if (clientToken !== undefined) documents.clientToken = clientToken;
  return { record: next, accepted, delta, documents };
}

export function isFailure(x: unknown): x is ShadowFailure {
  return isObject(x) && typeof (x as JsonObject).code === "number" && typeof (x as JsonObject).message === "string";
}

/** `get/accepted` body: whole document plus state.delta when desired != reported. */
export function getAccepted(rec: ShadowRecord, ts: number, clientToken?: string): JsonObject {
  const doc = documentOf(rec);
  const d = computeDelta(rec.state.desired, rec.state.reported);
  if (d) (doc.state as JsonObject).delta = d;
  const out: JsonObject = { state: doc.state, metadata: doc.metadata, version: rec.version, timestamp: ts };
  if (clientToken !== undefined) out.clientToken = clientToken;
  return out;
}

/** `delete/accepted` body. */
export function deleteAccepted(rec: ShadowRecord, ts: number, clientToken?: string): JsonObject {
  const out: JsonObject = { version: rec.version, timestamp: ts };
  if (clientToken !== undefined) out.clientToken = clientToken;
  return out;
}

export function deletedRecord(rec: ShadowRecord): ShadowRecord {
  return { version: rec.version, exists: false, state: {}, metadata: {} };
}

/** Body of a rejected response (get, update or delete). */
export function rejected(f: ShadowFailure, ts: number, clientToken?: string): JsonObject {
  const out: JsonObject = { code: f.code, message: f.message, timestamp: ts };
  const ct = clientToken !== undefined ? clientToken : f.clientToken;
  if (ct !== undefined) out.clientToken = ct;
  return out;
}
