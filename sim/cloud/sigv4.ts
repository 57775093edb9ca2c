/**
 * SigV4 verification (pure, node:crypto only): presigned WebSocket query (AWS IoT rule: the security token is
 * NOT part of the canonical query) and Authorization headers for the HTTP API. Checked in the tests against the
 * official AWS signing test-suite vectors and against @smithy/signature-v4.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export const ALGORITHM = "AWS4-HMAC-SHA256";
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** RFC 3986 encoding: only A-Za-z0-9-_.~ stay as they are, hex in upper case. */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

const keyCache = new Map<string, Buffer>();
/** Signing key: depends only on secret, date, region and service (cached). */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = secret + "\n" + date + "\n" + region + "\n" + service;
  let k = keyCache.get(id);
  if (!k) {
    k = hmac(hmac(hmac(hmac("AWS4" + secret, date), region), service), "aws4_request");
    if (keyCache.size > 1000) keyCache.clear();
    keyCache.set(id, k);
  }
  return k;
}

/** Canonical query from decoded [key, value] pairs: encoded, sorted by key then value. */
export function canonicalQuery(pairs: Array<[string, string]>): string {
  return pairs
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as [string, string])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => k + "=" + v)
    .join("&");
}

/** Parses a raw query string into decoded pairs (keeps duplicates and order). Throws on bad %-escapes. */
export function parseQuery(raw: string): Array<[string, string]> {
  if (!raw) return [];
  return raw.split("&").filter((p) => p.length > 0).map((p) => {
    const i = p.indexOf("=");
    const k = i < 0 ? p : p.slice(0, i);
    const v = i < 0 ? "" : p.slice(i + 1);
    return [decodeURIComponent(k.replace(/\+/g, "%20")), decodeURIComponent(v.replace(/\+/g, "%20"))];
  });
}

/** Canonical URI as the AWS SDKs build it for non-S3 services: every segment of the (already encoded) path encoded again. */
export function canonicalUri(rawPath: string): string {
  return uriEncode(rawPath || "/").replace(/%2F/g, "/");
}

export function canonicalRequest(method: string, uri: string, query: string, headers: Array<[string, string]>, signedHeaders: string, payloadHash: string): string {
  const h = headers.map(([k, v]) => k.toLowerCase() + ":" + v.trim().replace(/\s+/g, " ") + "\n").join("");
  return method + "\n" + uri + "\n" + query + "\n" + h + "\n" + signedHeaders + "\n" + payloadHash;
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return ALGORITHM + "\n" + amzDate + "\n" + scope + "\n" + sha256Hex(canonical);
}

export function sign(secret: string, date: string, region: string, service: string, sts: string): string {
  return createHmac("sha256", signingKey(secret, date, region, service)).update(sts, "utf8").digest("hex");
}

/** Constant-time string compare; false (never a throw) when the byte lengths differ, whatever the characters. */
export function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  if (x.length !== y.length) return false;
  return timingSafeEqual(x, y);
}

/** "20150830T123600Z" -> epoch ms, or NaN. */
export function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

export function toAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

export interface SigV4Failure { ok: false; status: number; code: string; message: string }
export interface SigV4Success { ok: true; accessKeyId: string; sessionToken?: string; signedAt: number; expiresAt?: number }
export type SigV4Result = SigV4Failure | SigV4Success;

export interface VerifyOptions {
  /** secret for an access key id, or undefined when unknown */
  secretFor: (accessKeyId: string) => string | undefined;
  host: string;               // Host header as received (port included when not the default)
  /** incoming headers (lower-case names): every header named in SignedHeaders is read from here */
  headers?: Record<string, string | string[] | undefined>;
  region: string;
  service: string;            // "iotdevicegateway" for the WebSocket, "iotdata"/"iot"/"execute-api" for HTTP
  acceptedServices?: string[];
  now: number;                // ms
  clockSkewSeconds: number;
}

function fail(status: number, code: string, message: string): SigV4Failure {
  return { ok: false, status, code, message };
}

/**
 * Canonical headers for the names the client signed: `host` must be among them and every one must be present in
 * the request (a signature over a header the request does not carry proves nothing).
 */
function signedHeaderValues(signedHeaders: string, opts: VerifyOptions, label: string): Array<[string, string]> | SigV4Failure {
  const names = signedHeaders.split(";");
  if (names.indexOf("host") < 0) return fail(403, "InvalidSignatureException", label + " must include host");
  const out: Array<[string, string]> = [];
  for (const name of names) {
    if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) return fail(403, "InvalidSignatureException", label + " must be lower-case header names separated by ';'");
    const value = name === "host" ? opts.host : opts.headers ? opts.headers[name] : undefined;
    if (value === undefined) return fail(403, "InvalidSignatureException", "Signed header " + name + " is missing from the request");
    out.push([name, Array.isArray(value) ? value.join(",") : String(value)]);
  }
  return out;
}

function checkScope(scope: string[], amzDate: string, opts: VerifyOptions): SigV4Failure | null {
  // scope = [akid, date, region, service, "aws4_request"]
  if (scope.length !== 5 || scope[4] !== "aws4_request") return fail(403, "InvalidSignatureException", "Credential should be scoped to a valid terminal: aws4_request");
  if (scope[1] !== amzDate.slice(0, 8)) return fail(403, "InvalidSignatureException", "Credential should be scoped to a valid date: " + amzDate.slice(0, 8));
  if (scope[2] !== opts.region) return fail(403, "InvalidSignatureException", "Credential should be scoped to a valid region: " + opts.region);
  const services = opts.acceptedServices || [opts.service];
  if (services.indexOf(scope[3]) < 0) return fail(403, "InvalidSignatureException", "Credential should be scoped to correct service: " + opts.service);
  return null;
}

function checkTime(signedAt: number, opts: VerifyOptions): SigV4Failure | null {
  if (isNaN(signedAt)) return fail(403, "InvalidSignatureException", "X-Amz-Date must be in the form yyyyMMddTHHmmssZ");
  if (Math.abs(opts.now - signedAt) > opts.clockSkewSeconds * 1000) {
    return fail(403, "InvalidSignatureException", "Signature not yet current or expired: request time " + toAmzDate(signedAt) + " is more than " + opts.clockSkewSeconds + " seconds from server time " + toAmzDate(opts.now));
  }
  return null;
}

/**
 * Verifies a presigned GET (the AWS IoT WebSocket URL). `rawQuery` is the query string as received.
 * The security token must be appended after signing: a canonical query that includes it does not verify.
 */
export function verifyPresignedGet(path: string, rawQuery: string, opts: VerifyOptions): SigV4Result {
  let pairs: Array<[string, string]>;
  try { pairs = parseQuery(rawQuery); } catch { return fail(403, "InvalidSignatureException", "Malformed query string"); }
  const get = (k: string) => { const p = pairs.find((x) => x[0] === k); return p ? p[1] : undefined; };
  const algorithm = get("X-Amz-Algorithm");
  const credential = get("X-Amz-Credential");
  const amzDate = get("X-Amz-Date");
  const signedHeaders = get("X-Amz-SignedHeaders");
  const signature = get("X-Amz-Signature");
  const token = get("X-Amz-Security-Token");
  const expires = get("X-Amz-Expires");
  if (!algorithm || !credential || !amzDate || !signedHeaders || !signature) {
    return fail(403, "MissingAuthenticationToken", "Missing Authentication Token: the URL must carry X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders and X-Amz-Signature");
  }
  if (algorithm !== ALGORITHM) return fail(403, "InvalidSignatureException", "Unsupported X-Amz-Algorithm: " + algorithm);
  const scope = credential.split("/");
  const bad = checkScope(scope, amzDate, opts);
  if (bad) return bad;
  const signedAt = parseAmzDate(amzDate);
  const badTime = checkTime(signedAt, opts);
  if (badTime) return badTime;
  let expiresAt: number | undefined;
  if (expires !== undefined) {
    if (!/^\d+$/.test(expires) || +expires < 1 || +expires > 604800) return fail(403, "InvalidSignatureException", "X-Amz-Expires must be a whole number of seconds between 1 and 604800");
    expiresAt = signedAt + +expires * 1000;
    if (opts.now > expiresAt) return fail(403, "InvalidSignatureException", "Signature expired: " + amzDate + " + " + expires + " s is now earlier than " + toAmzDate(opts.now));
  }
  const headerValues = signedHeaderValues(signedHeaders, opts, "X-Amz-SignedHeaders");
  if (!Array.isArray(headerValues)) return headerValues;
  const secret = opts.secretFor(scope[0]);
  if (secret === undefined) return fail(403, "UnrecognizedClientException", "The security token included in the request is invalid (unknown access key id)");
  const canonical = canonicalRequest(
    "GET", canonicalUri(path),
    canonicalQuery(pairs.filter(([k]) => k !== "X-Amz-Signature" && k !== "X-Amz-Security-Token")),
    headerValues, signedHeaders, EMPTY_SHA256);
  const expected = sign(secret, scope[1], scope[2], scope[3], stringToSign(amzDate, scope.slice(1).join("/"), canonical));
  if (!safeEqualHex(expected, signature.toLowerCase())) {
    return fail(403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method." + (token !== undefined ? " (the X-Amz-Security-Token must be appended after signing, not signed)" : ""));
  }
  return { ok: true, accessKeyId: scope[0], sessionToken: token, signedAt, expiresAt };
}

/**
 * Verifies an `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` request.
 * `headers` are the incoming headers (lower-case names), `rawPath` and `rawQuery` as received.
 */
export function verifyAuthorizationHeader(method: string, rawPath: string, rawQuery: string, headers: Record<string, string | string[] | undefined>, body: Buffer, opts: VerifyOptions): SigV4Result {
  const auth = String(headers["authorization"] || "");
  if (!auth) return fail(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
  const m = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]+)\s*$/.exec(auth);
  if (!m) return fail(403, "IncompleteSignatureException", "Authorization header requires Credential, SignedHeaders and Signature with AWS4-HMAC-SHA256");
  const scope = m[1].split("/");
  const amzDate = String(headers["x-amz-date"] || "");
  const bad = checkScope(scope, amzDate, opts);
  if (bad) return bad;
  const signedAt = parseAmzDate(amzDate);
  const badTime = checkTime(signedAt, opts);
  if (badTime) return badTime;
  const hdrs = signedHeaderValues(m[2], { ...opts, headers }, "SignedHeaders");
  if (!Array.isArray(hdrs)) return hdrs;
  const secret = opts.secretFor(scope[0]);
  if (secret === undefined) return fail(403, "UnrecognizedClientException", "The security token included in the request is invalid");
  let pairs: Array<[string, string]>;
  try { pairs = parseQuery(rawQuery); } catch { return fail(403, "InvalidSignatureException", "Malformed query string"); }
  // The data plane signs the body itself: the canonical request always carries the SHA-256 of the bytes received.
  // x-amz-content-sha256 (an S3 header) is optional; when present it must be that same hash, and UNSIGNED-PAYLOAD
  // (an S3-only option) is refused, so a signature can never be replayed with another body.
  const payloadHash = sha256Hex(body);
  const declared = headers["x-amz-content-sha256"];
  if (declared !== undefined) {
    if (declared === "UNSIGNED-PAYLOAD") return fail(403, "InvalidSignatureException", "UNSIGNED-PAYLOAD is not accepted here: sign the SHA-256 of the request body");
    if (typeof declared !== "string" || declared.toLowerCase() !== payloadHash) return fail(400, "InvalidRequestException", "x-amz-content-sha256 does not match the SHA-256 of the request body");
  }
  const canonical = canonicalRequest(method, canonicalUri(rawPath), canonicalQuery(pairs), hdrs, m[2], payloadHash);
  const expected = sign(secret, scope[1], scope[2], scope[3], stringToSign(amzDate, scope.slice(1).join("/"), canonical));
  if (!safeEqualHex(expected, m[3].toLowerCase())) {
    return fail(403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.");
  }
  const token = headers["x-amz-security-token"];
  return { ok: true, accessKeyId: scope[0], sessionToken: typeof token === "string" ? token : undefined, signedAt };
}

/** Builds a presigned AWS IoT WebSocket URL (token appended after signing). Used by the CLI and tools. */
export function presignIotUrl(o: { host: string; region: string; accessKeyId: string; secretAccessKey: string; sessionToken?: string; now?: number; expiresSeconds?: number; protocol?: "ws" | "wss"; path?: string }): string {
  const amzDate = toAmzDate(o.now ?? Date.now());
  const date = amzDate.slice(0, 8);
  const scope = date + "/" + o.region + "/iotdevicegateway/aws4_request";
  const pairs: Array<[string, string]> = [
    ["X-Amz-Algorithm", ALGORITHM],
    ["X-Amz-Credential", o.accessKeyId + "/" + scope],
    ["X-Amz-Date", amzDate],
    ["X-Amz-SignedHeaders", "host"],
  ];
  if (o.expiresSeconds) pairs.push(["X-Amz-Expires", String(o.expiresSeconds)]);
  const path = o.path || "/mqtt";
  const q = canonicalQuery(pairs);
  const canonical = canonicalRequest("GET", canonicalUri(path), q, [["host", o.host]], "host", EMPTY_SHA256);
  const sig = sign(o.secretAccessKey, date, o.region, "iotdevicegateway", stringToSign(amzDate, scope, canonical));
  let url = (o.protocol || "ws") + "://" + o.host + path + "?" + q + "&X-Amz-Signature=" + sig;
  if (o.sessionToken) url += "&X-Amz-Security-Token=" + uriEncode(o.sessionToken);
  return url;
}
