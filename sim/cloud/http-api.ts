/**
 * HTTP API compatible with the AWS SDK v3 clients (REST-JSON, SigV4 Authorization header):
 * - @aws-sdk/client-iot-data-plane (signing name "iotdata"): GetThingShadow, UpdateThingShadow, DeleteThingShadow,
 *   ListNamedShadowsForThing, Publish.
 * - @aws-sdk/client-iot (signing name "iot"): CreateThing, CreateThingGroup, AddThingToThingGroup, CreateJob,
 *   DescribeJobExecution, CancelJob, ListJobExecutionsForThing.
 * Device credentials may use the data plane for their own thing; the control plane needs the admin credential.
 */
import type * as http from "node:http";
import { verifyAuthorizationHeader } from "./sigv4";
import { isAllowed } from "./policy";
import { checkPublish } from "./broker-rules";
import { RegistryError } from "./registry";
import { JobsError } from "./jobs/service";
import type { CredentialRecord } from "./credentials";
import { nestedDeeperThan } from "./json-depth";

const ACCOUNT = "000000000000";
const MAX_BODY = 256 * 1024;
/** nesting refused in control-plane JSON bodies (the code that handles documents recurses) */
const MAX_JSON_DEPTH = 32;

const SHADOW_EXCEPTIONS: Record<number, string> = {
  400: "InvalidRequestException", 401: "UnauthorizedException", 403: "ForbiddenException", 404: "ResourceNotFoundException",
  409: "ConflictException", 413: "RequestEntityTooLargeException", 415: "UnsupportedDocumentEncodingException", 429: "ThrottlingException",
  500: "InternalFailureException",
};

class HttpError extends Error {
  constructor(readonly status: number, readonly type: string, message: string, readonly body?: object) { super(message); }
}

export interface HttpApiOptions { region: string; now: () => number; clockSkewSeconds: number }

export function createHttpApi(cloud: any, o: HttpApiOptions): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const arn = (kind: string, name: string) => "arn:aws:iot:" + o.region + ":" + ACCOUNT + ":" + kind + "/" + name;

  function send(res: http.ServerResponse, status: number, body: object | Buffer | null, headers: Record<string, string> = {}) {
    if (res.headersSent) { res.destroy(); return; }
    const data = body === null ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": String(data.length), Date: new Date(o.now()).toUTCString(), "x-amzn-RequestId": Math.random().toString(16).slice(2), ...headers });
    res.end(data);
  }

  function fail(res: http.ServerResponse, e: unknown) {
    if (e instanceof HttpError) return send(res, e.status, e.body || { message: e.message }, { "x-amzn-ErrorType": e.type });
    if (e instanceof RegistryError || e instanceof JobsError) return send(res, e.status, { message: e.message }, { "x-amzn-ErrorType": e.code });
    const err = e as Error & { code?: number; body?: object };
    if (typeof err.code === "number" && err.body) return send(res, err.code, err.body, { "x-amzn-ErrorType": SHADOW_EXCEPTIONS[err.code] || "InternalFailureException" });
    cloud.log("HTTP API internal error: " + (err && err.stack || err));
    send(res, 500, { message: "Internal failure" }, { "x-amzn-ErrorType": "InternalFailureException" });
  }

  function json(body: Buffer): any {
    if (!body.length) return {};
    if (nestedDeeperThan(body.toString("utf8"), MAX_JSON_DEPTH)) throw new HttpError(400, "InvalidRequestException", "Request body is nested deeper than " + MAX_JSON_DEPTH + " levels");
    try { return JSON.parse(body.toString("utf8")); } catch { throw new HttpError(400, "InvalidRequestException", "Request body is not valid JSON"); }
  }

  function requireAdmin(cred: CredentialRecord) {
    if (cred.thing !== null) throw new HttpError(403, "AccessDeniedException", "Device credentials of thing '" + cred.thing + "' may not call the control plane");
  }

  function requireThing(cred: CredentialRecord, thing: string) {
    if (cred.thing !== null && cred.thing !== thing) throw new HttpError(403, "ForbiddenException", "Forbidden", { code: 403, message: "Forbidden" });
  }

  /** A whole-number query parameter in [min, max]; absent gives `fallback`; anything else is a 400. */
  function wholeNumberParam(query: URLSearchParams, name: string, min: number, max: number, fallback: number): number {
    const raw = query.get(name);
    if (raw === null) return fallback;
    if (!/^\d{1,9}$/.test(raw) || +raw < min || +raw > max) throw new HttpError(400, "InvalidRequestException", name + " must be a whole number from " + min + " to " + max + " (got '" + raw.slice(0, 20) + "')");
    return +raw;
  }

  /** The stand-in's page tokens are the index of the next item, as it issued them. */
  function pageToken(raw: string | null): number {
    if (raw === null) return 0;
    if (!/^\d{1,9}$/.test(raw)) throw new HttpError(400, "InvalidRequestException", "nextToken is not a token this API issued");
    return +raw;
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, cred: CredentialRecord, path: string, query: URLSearchParams) {
    const m = req.method || "GET";
    let seg: string[];
    try { seg = path.split("/").slice(1).map((s) => decodeURIComponent(s)); }
    catch { throw new HttpError(400, "InvalidRequestException", "Malformed percent-encoding in the path " + path); }
    const shadowName = query.get("name") || undefined;
    // ---- data plane
    if (seg[0] === "things" && seg.length === 3 && seg[2] === "shadow") {
      const thing = seg[1];
      requireThing(cred, thing);
      if (m === "GET") {
        const r = await cloud.shadowService.request("get", thing, shadowName, "", {});
        if (!r.ok) throw Object.assign(new Error(r.body.message), { code: r.body.code, body: r.body });
        return send(res, 200, r.body);
      }
      if (m === "POST") return send(res, 200, await cloud.shadows.update(thing, body, shadowName));
      if (m === "DELETE") return send(res, 200, await cloud.shadows.delete(thing, shadowName));
    }
    if (m === "GET" && seg[0] === "api" && seg[1] === "things" && seg[2] === "shadow" && seg[3] === "ListNamedShadowsForThing" && seg.length === 5) {
      requireThing(cred, seg[4]);
      const all: string[] = cloud.shadows.list(seg[4]);
      const start = pageToken(query.get("nextToken"));
      const size = wholeNumberParam(query, "pageSize", 1, 100, 25);
      const out: any = { results: all.slice(start, start + size), timestamp: Math.floor(o.now() / 1000) };
      if (start + size < all.length) out.nextToken = String(start + size);
      return send(res, 200, out);
    }
    if (m === "POST" && seg[0] === "topics" && seg.length === 2) {
      const topic = seg[1];
      const qos = wholeNumberParam(query, "qos", 0, 1, 0) as 0 | 1;
      const retain = query.get("retain") === "true";
      const v = checkPublish({ topic, qos, retain, payload: body });
      if (v) throw new HttpError(400, "InvalidRequestException", v.reason);
      if (!isAllowed("publish", cred.thing, topic)) throw new HttpError(403, "ForbiddenException", "Not authorized to publish to " + topic);
      await new Promise<void>((resolve, reject) => cloud.broker.publish({ cmd: "publish", topic, payload: body, qos, retain, dup: false }, (e?: Error) => (e ? reject(e) : resolve())));
      cloud.shadowService.handleMqtt(topic, body, { expired: false });
      return send(res, 200, null);
    }
    // ---- control plane
    if (seg[0] === "things" && seg.length === 2 && m === "POST") {
      requireAdmin(cred);
      const b = json(body);
      // the same name with another configuration is a conflict; the same configuration again is not
      await cloud.createThing(seg[1], { attributes: (b.attributePayload && b.attributePayload.attributes) || {} });
      const t = cloud.registry.things.get(seg[1]);
      return send(res, 200, { thingName: t.thingName, thingArn: arn("thing", t.thingName), thingId: t.thingId });
    }
    if (seg[0] === "thing-groups" && seg.length === 2 && seg[1] === "addThingToThingGroup" && m === "PUT") {
      requireAdmin(cred);
      const b = json(body);
      const g = b.thingGroupName || (typeof b.thingGroupArn === "string" ? b.thingGroupArn.split("/").pop() : undefined);
      const t = b.thingName || (typeof b.thingArn === "string" ? b.thingArn.split("/").pop() : undefined);
      if (!g || !t) throw new HttpError(400, "InvalidRequestException", "thingGroupName (or thingGroupArn) and thingName (or thingArn) are required");
      cloud.groups.addThing(g, t);
      return send(res, 200, {});
    }
    if (seg[0] === "thing-groups" && seg.length === 2 && m === "POST") {
      requireAdmin(cred);
      const g = cloud.registry.createGroup(seg[1]);
      return send(res, 200, { thingGroupName: g.groupName, thingGroupArn: arn("thinggroup", g.groupName), thingGroupId: g.groupId });
    }
    if (seg[0] === "jobs" && seg.length === 2 && m === "PUT") {
      requireAdmin(cred);
      const b = json(body);
      let document: any;
      if (typeof b.document !== "string") throw new HttpError(400, "InvalidRequestException", "document (a JSON string) is required; documentSource is not supported by the stand-in");
      if (nestedDeeperThan(b.document, MAX_JSON_DEPTH)) throw new HttpError(400, "InvalidRequestException", "document is nested deeper than " + MAX_JSON_DEPTH + " levels");
      try { document = JSON.parse(b.document); } catch { throw new HttpError(400, "InvalidRequestException", "document is not valid JSON"); }
      const timeout = b.timeoutConfig && b.timeoutConfig.inProgressTimeoutInMinutes;
      const r = await cloud.jobs.createJob({ jobId: seg[1], targets: b.targets || [], document, description: b.description,
        targetSelection: b.targetSelection, stepTimeoutInMinutes: typeof timeout === "number" ? timeout : undefined });
      return send(res, 200, { jobArn: arn("job", seg[1]), jobId: seg[1], description: r.description });
    }
    if (seg[0] === "jobs" && seg.length === 3 && seg[2] === "cancel" && m === "PUT") {
      requireAdmin(cred);
      const b = json(body);
      await cloud.jobs.cancelJob(seg[1], { force: query.get("force") === "true", reasonCode: b.reasonCode, comment: b.comment });
      const j = cloud.jobs.describeJob(seg[1]);
      return send(res, 200, { jobArn: arn("job", seg[1]), jobId: seg[1], description: j && j.description });
    }
    if (seg[0] === "things" && seg[2] === "jobs" && m === "GET") {
      requireAdmin(cred);
      const thing = seg[1];
      if (seg.length === 4) {
        const e = cloud.jobsService.execution(seg[3], thing);
        const en = query.get("executionNumber");
        if (!e || (en && Number(en) !== e.executionNumber)) throw new HttpError(404, "ResourceNotFoundException", "No job execution " + seg[3] + " for thing " + thing);
        const job = cloud.jobs.describeJob(seg[3]);
        const ex: any = { jobId: e.jobId, status: e.status };
        if (e.status === "CANCELED") ex.forceCanceled = !!job.forceCanceled;
        ex.statusDetails = { detailsMap: e.statusDetails || {} };
        ex.thingArn = arn("thing", thing);
        ex.queuedAt = e.queuedAt;
        if (e.startedAt !== undefined) ex.startedAt = e.startedAt;
        ex.lastUpdatedAt = e.lastUpdatedAt;
        ex.executionNumber = e.executionNumber;
        ex.versionNumber = e.versionNumber;
        if (e.stepTimeoutAt !== undefined && e.status === "IN_PROGRESS") ex.approximateSecondsBeforeTimedOut = Math.max(0, Math.round((e.stepTimeoutAt - o.now()) / 1000));
        return send(res, 200, { execution: ex });
      }
      if (seg.length === 3) {
        const status = query.get("status");
        const list = cloud.jobs.listExecutionsForThing(thing).filter((e: any) => !status || e.status === status);
        const start = pageToken(query.get("nextToken"));
        const max = wholeNumberParam(query, "maxResults", 1, 250, 250);
        const page = list.slice(start, start + max).map((e: any) => {
          const s: any = { status: e.status, queuedAt: e.queuedAt };
          if (e.startedAt !== undefined) s.startedAt = e.startedAt;
          s.lastUpdatedAt = e.lastUpdatedAt;
          s.executionNumber = e.executionNumber;
          return { jobId: e.jobId, jobExecutionSummary: s };
        });
        const out: any = { executionSummaries: page };
        if (start + max < list.length) out.nextToken = String(start + max);
        return send(res, 200, out);
      }
    }
    throw new HttpError(404, "ResourceNotFoundException", "No stand-in API for " + m + " " + path);
  }

  return (req, res) => {
    try { handle(req, res); } catch (e) { fail(res, e); }
  };

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on("data", (c: Buffer) => { size += c.length; if (size > MAX_BODY) tooBig = true; else chunks.push(c); });
    req.on("error", () => undefined);
    req.on("end", () => { try { answer(); } catch (e) { fail(res, e); } });
    const answer = () => {
      const url = req.url || "/";
      const q = url.indexOf("?");
      const rawPath = q < 0 ? url : url.slice(0, q);
      const rawQuery = q < 0 ? "" : url.slice(q + 1);
      if (rawPath === "/" || rawPath === "/health") return send(res, 200, { service: "espruino-aws-iot local AWS IoT Core stand-in", endpoint: cloud.endpoint, region: o.region });
      if (tooBig) return send(res, 413, { message: "Request body exceeds " + MAX_BODY + " bytes" }, { "x-amzn-ErrorType": "RequestEntityTooLargeException" });
      const body = Buffer.concat(chunks);
      const v = verifyAuthorizationHeader(req.method || "GET", rawPath, rawQuery, req.headers as any, body, {
        secretFor: (id) => cloud.registry.creds.get(id)?.secretAccessKey,
        host: req.headers.host || "", region: o.region, service: "iotdata", acceptedServices: ["iotdata", "iot", "iot-data", "execute-api"],
        now: o.now(), clockSkewSeconds: o.clockSkewSeconds,
      });
      if (!v.ok) return send(res, v.status, { message: v.message }, { "x-amzn-ErrorType": v.code });
      const cred: CredentialRecord = cloud.registry.creds.get(v.accessKeyId);
      if (cred.sessionToken !== undefined && (v.sessionToken !== cred.sessionToken || (cred.expiration ?? 0) <= o.now())) {
        return send(res, 403, { message: "The security token included in the request is invalid or expired" }, { "x-amzn-ErrorType": "UnrecognizedClientException" });
      }
      route(req, res, body, cred, rawPath, new URLSearchParams(rawQuery)).catch((e) => fail(res, e));
    };
  }
}
