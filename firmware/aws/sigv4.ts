// AWS SigV4 query presigning (../shared/aws-iot-contract.md §1), generic in method, path, service
// and host so the official test-suite vectors run through the code the device uses for /mqtt.
// Pure module: binary strings, no Espruino globals; the hash provider and the scheduler are injected.
//
// Caching (SignCache, one per device, one presign at a time):
//  - secret level: HMAC pads of "AWS4"+secret (2 blocks saved);
//  - day level: the pads (midstates) of the signing key for (day, region, service): each later
//    signature hashes only the string to sign (3 blocks) plus one outer block;
//  - canonical prefix: the midstate of everything before the time of day in X-Amz-Date
//    ("GET\n/mqtt\nX-Amz-Algorithm=...&X-Amz-Credential=...&X-Amz-Date=yyyymmddT"), constant for a day.
// With the TypeScript SHA-256: warm (same day) 8 compression blocks for a typical AWS endpoint, first of a
// new day 26, cold 28 (the SigV4 lower bound: see README, issue 4).
import { HashProvider, HmacKey, hmacKey, hmac } from "../crypto/hmac";
import { toHex } from "../crypto/sha256";

export interface SignRequest {
  method: string; // GET
  host: string; // exactly as sent in the Host header (with :port when not 443)
  path: string; // canonical path, e.g. /mqtt
  service: string; // iotdevicegateway
  region: string;
  akid: string;
  secret: string;
  token?: string; // session token: appended after signing, never signed
  expires?: number; // X-Amz-Expires, seconds (signed when present)
}

export interface SignCache {
  H: HashProvider;
  s?: string; // secret the pads below belong to
  sk?: HmacKey; // pads of "AWS4"+secret
  d?: string; // scope (day/region/service/aws4_request) of dk
  dk?: HmacKey; // pads of the signing key
  p?: string; // method, path, AKID and scope of the canonical-request prefix hashed into pm
  pm?: any;
}

export function signCache(H: HashProvider): SignCache {
  return { H: H };
}

// RFC 3986: only A-Za-z0-9 - _ . ~ stay, uppercase hex. Inputs are ASCII (keys, tokens, hosts).
export function uriEncode(s: string): string {
  let r = encodeURIComponent(s);
  let c;
  for (let i = 0; i < 5; i++) {
    c = "!'()*"[i];
    r = r.replaceAll(c, "%" + c.charCodeAt(0).toString(16).toUpperCase());
  }
  return r;
}

// Seconds since 1970 (getTime()) -> "YYYYMMDDTHHMMSSZ" (UTC; Espruino's toISOString is always GMT).
export function amzDate(t: number): string {
  const s = new Date(t * 1000).toISOString();
  return s.substr(0, 4) + s.substr(5, 2) + s.substr(8, 5) + s.substr(14, 2) + s.substr(17, 2) + "Z";
}

interface Job {
  c: SignCache;
  r: SignRequest;
  t: string; // X-Amz-Date
  sc: string; // credential scope
  q: string; // canonical query up to and including "X-Amz-Date=yyyymmddT"
  x: string; // the rest of the canonical query
  i: number; // next step
  k: string;
  h?: HmacKey;
  m?: any; // midstate being fed
  z: string; // bytes still to feed into m
}

function begin(c: SignCache, r: SignRequest, when: number | string): Job {
  ["method", "host", "path", "service", "region", "akid", "secret"].forEach(function (k) {
    const v = (r as any)[k];
    if (typeof v != "string" || !v) throw new Error("sigv4: " + k + " is missing");
  });
  const e = r.expires;
  if (e !== undefined && !(e >= 1 && e <= 604800 && e % 1 == 0)) {
    throw new Error("sigv4: expires must be a whole number of seconds from 1 to 604800");
  }
  // Clock guard: a device time before 2024-01-01 means SNTP has not set the clock yet. An explicit
  // date string (tests, the presign CLI) is taken as given.
  if (typeof when == "number" && !(when >= 1704067200)) {
    throw new Error("clock not set (year " + (1970 + Math.floor(when / 31557600)) + "): waiting for SNTP");
  }
  const t = typeof when == "number" ? amzDate(when) : when;
  if (!/^\d\d\d\d\d\d\d\dT\d\d\d\d\d\dZ$/.test(t)) throw new Error("sigv4: date must be YYYYMMDDTHHMMSSZ, got " + t);
  const day = t.substr(0, 8);
  const sc = day + "/" + r.region + "/" + r.service + "/aws4_request";
  return {
    c: c,
    r: r,
    t: t,
    sc: sc,
    q: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + uriEncode(r.akid + "/" + sc) + "&X-Amz-Date=" + day + "T",
    x: t.substr(9) + (e !== undefined ? "&X-Amz-Expires=" + e : "") + "&X-Amz-SignedHeaders=host",
    i: 0,
    k: "",
    z: "",
  };
}

// One step of at most 2 compression blocks (JS SHA-256); returns the signed path?query when done.
//  0: pads of "AWS4"+secret (cached)   1-8: kDate, pads, kRegion, pads, kService, pads, kSigning,
//  pads (skipped while the day's signing key is cached)   9: canonical prefix (cached)
//  10: rest of the canonical request   11: inner hash of the string to sign (10 and 11 repeat
//  while more than 55 bytes are left to feed)   12: outer hash, URL.
function step(j: Job): string | undefined {
  const c = j.c;
  const H = c.H;
  const r = j.r;
  const s = j.i++;
  let m;
  if (s == 0) {
    if (c.s !== r.secret) {
      c.sk = hmacKey(H, "AWS4" + r.secret);
      c.s = r.secret;
      c.d = undefined;
    }
    if (c.d === j.sc) {
      j.h = c.dk;
      j.i = 9;
    } else j.h = c.sk;
  } else if (s < 9) {
    if (s & 1) j.k = hmac(H, j.h!, s == 1 ? j.t.substr(0, 8) : s == 3 ? r.region : s == 5 ? r.service : "aws4_request");
    else {
      j.h = hmacKey(H, j.k);
      if (s == 8) {
        c.dk = j.h;
        c.d = j.sc;
      }
    }
  } else if (s == 9) {
    m = r.method + "\n" + r.path + "\n" + r.akid + "/" + j.sc; // short key of the prefix
    if (c.p !== m) {
      c.pm = H.n(undefined, r.method + "\n" + r.path + "\n" + j.q);
      c.p = m;
    }
    j.m = c.pm;
    j.z = j.x + "\nhost:" + r.host + "\n\nhost\n" +
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; // sha256(""), inline: a top-level string costs RAM
  } else if (s < 12) {
    if (j.z.length > 55) {
      // absorb 128 bytes (2 blocks) and come back: the final digest then stays within 2 blocks
      j.m = H.n(j.m, j.z.substr(0, 128));
      j.z = j.z.substr(128);
      j.i--;
    } else if (s == 10) {
      j.z = "AWS4-HMAC-SHA256\n" + j.t + "\n" + j.sc + "\n" + toHex(H.e(j.m, j.z));
      j.m = j.h!.i;
    } else j.k = H.e(j.m, j.z);
  } else {
    return (
      r.path + "?" + j.q + j.x + "&X-Amz-Signature=" + toHex(H.e(j.h!.o, j.k)) +
      (r.token ? "&X-Amz-Security-Token=" + uriEncode(r.token) : "")
    );
  }
  return undefined;
}

// Signed "path?query" for r at `when` (seconds since 1970, or "YYYYMMDDTHHMMSSZ"). Throws on bad
// input or an unset clock (year < 2024).
export function presign(c: SignCache, r: SignRequest, when: number | string): string {
  const j = begin(c, r, when);
  let u;
  while (!(u = step(j)));
  return u;
}

// The same, one step (<= 2 blocks) per defer() callback so a slow board feeds its watchdog.
export function presignAsync(
  c: SignCache,
  r: SignRequest,
  when: number | string,
  defer: (fn: () => void) => void,
  cb: (err: Error | null, url?: string) => void
): void {
  let j: Job;
  function go(): void {
    let u;
    try {
      u = step(j);
    } catch (e) {
      cb(e as Error);
      return;
    }
    if (u) cb(null, u);
    else defer(go);
  }
  try {
    j = begin(c, r, when);
  } catch (e) {
    defer(function () {
      cb(e as Error);
    });
    return;
  }
  defer(go);
}

export interface MqttSignConfig {
  host: string;
  port?: number;
  region: string;
  akid: string;
  secret: string;
  token?: string;
  expires?: number;
}

// The SignRequest of the AWS IoT WebSocket upgrade: GET /mqtt, service iotdevicegateway.
export function mqttRequest(cfg: MqttSignConfig): SignRequest {
  return {
    method: "GET",
    host: cfg.port && cfg.port != 443 ? cfg.host + ":" + cfg.port : cfg.host,
    path: "/mqtt",
    service: "iotdevicegateway",
    region: cfg.region,
    akid: cfg.akid,
    secret: cfg.secret,
    token: cfg.token,
    expires: cfg.expires,
  };
}

// "wss://host[:port]/mqtt?X-Amz-...&X-Amz-Signature=...[&X-Amz-Security-Token=...]".
export function presignMqttUrl(c: SignCache, cfg: MqttSignConfig, when: number | string): string {
  const r = mqttRequest(cfg);
  return "wss://" + r.host + presign(c, r, when);
}
