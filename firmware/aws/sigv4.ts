// AWS SigV4 query presigning (../shared/aws-iot-contract.md §1), generic in method, path, service
// and host so the official test-suite vectors run through the code the device uses for /mqtt.
// Pure module: no Espruino globals; a native SHA-256 (ESP32) is passed in when there is one.
//
// Memory (an ESP8266 has 1600 JS variables): between connections only the top-level functions and
// the caller's SignCache stay in RAM. presignJob() creates the SHA-256/HMAC kit (round constants,
// work arrays) and the step closure for one URL; when the URL is done they are garbage. Nothing
// big is built while signing: the canonical request and the string to sign are hashed piece by
// piece as they are produced, and the URL is appended in place.
//
// Caching (SignCache, a flat object owned by the caller, {} at first; one presign at a time):
//  - b[0..15]: HMAC pads of "AWS4"+secret (2 blocks saved on a new day);
//  - b[16..31]: HMAC pads of the signing key for (day, region, service): each later signature
//    hashes only the string to sign (3 blocks) plus one outer block;
//  - b[32..57]: the SHA-256 state after the canonical request's constant prefix
//    "GET\n/mqtt\nX-Amz-Algorithm=...&X-Amz-Credential=...&X-Amz-Date=yyyymmddT".
// With the TypeScript SHA-256: warm (same day) 8 compression blocks for a typical AWS endpoint,
// first of a new day 26, cold 28 (the SigV4 lower bound: see README, issue 4). With a native
// SHA-256 nothing is cached (the whole presign costs a few milliseconds).
import { SHA_STATS, SHA_START, SHA_LOAD, SHA_SAVE, SHA_FEED, SHA_END, SHA_PENDING, HMAC_PADS, HMAC_END, Sha, shaKit } from "../crypto/sha256";

// What is signed. For the AWS IoT WebSocket upgrade (the device's DeviceConfig fits as is) only
// host, port, region and the credentials are needed; method, path and service default to
// GET, /mqtt and iotdevicegateway.
export interface SignInput {
  host: string; // endpoint (Host header without the port)
  port?: number; // added to the signed Host as host:port when set and not 443
  region: string;
  akid: string;
  secret: string;
  token?: string; // session token: appended after signing, never signed
  expires?: number; // X-Amz-Expires, seconds (signed when present)
  method?: string; // default GET
  path?: string; // canonical path, default /mqtt
  service?: string; // default iotdevicegateway
}
export type SignRequest = SignInput;
export type MqttSignConfig = SignInput;

// A whole-message native SHA-256: binary string -> 32-byte binary string.
export type NativeSha = (s: string) => string;

// The per-day cache: plain data owned by the caller ({} at first), filled in by the signer.
export interface SignCache {
  b?: Int32Array; // pads of "AWS4"+secret, pads of the signing key, state after the canonical prefix
  k?: string; // the secret of b[0..15]
  d?: string; // the scope (day/region/service/aws4_request) of b[16..31] and b[32..57]
  a?: string; // access key id of b[32..57]
  m?: string; // method + path of b[32..57]
  H?: NativeSha; // signCache(bootHash()) (the older API): the native SHA-256, if any
}

// RFC 3986: only A-Za-z0-9 - _ . ~ stay, uppercase hex. Inputs are ASCII (keys, tokens, hosts).
export function uriEncode(s: string): string {
  let r = encodeURIComponent(s);
  let c;
  for (c of "!'()*") r = r.replaceAll(c, "%" + c.charCodeAt(0).toString(16).toUpperCase());
  return r;
}

// Seconds since 1970 (getTime()) -> "YYYYMMDDTHHMMSSZ" (UTC; Espruino's toISOString is always GMT).
export function amzDate(t: number): string {
  return new Date(t * 1000).toISOString().replace(/[-:]/g, "").substr(0, 15) + "Z";
}

// One presign as steps: checks the input (throws an Error in plain words on bad input or an unset
// clock, year < 2024) and returns a function that does at most 2 SHA-256 compression blocks per
// call and returns undefined until the last call, which returns the signed "path?query" (with
// full: "wss://host[:port]path?query"). `when`: seconds since 1970, or "YYYYMMDDTHHMMSSZ".
export function presignJob(c: SignCache, r: SignInput, when: number | string, nat?: NativeSha, full?: boolean): () => string | undefined {
  let k;
  for (k of ["host", "region", "akid", "secret"]) {
    if (typeof (r as any)[k] != "string" || !(r as any)[k]) throw new Error("sigv4: " + k + " is missing");
  }
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
  // What the closures below can see is kept for the whole presign: derived strings are rebuilt by
  // P when needed rather than held (each held value costs JS variables).
  const b = c.b || (c.b = new Int32Array(58));
  let h: Sha | undefined = nat ? undefined : shaKit();
  let i = 0; // state
  let f = 0; // piece being fed (see P)
  let g = 0; // bytes of that piece already fed
  let x = ""; // hex of the canonical request's hash, then the signature

  // Piece n of what is hashed: 0-7 the canonical request's constant prefix (its state is cached),
  // 8-13 the rest of it, 14-19 the string to sign; 4-10 are also the URL's query, 12 the Host.
  function P(n: number): string {
    return n == 0 ? r.method || "GET"
      : n == 2 ? r.path || "/mqtt"
      : n == 4 ? "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
      : n == 5 ? uriEncode(r.akid + "/" + P(17))
      : n == 6 ? "&X-Amz-Date="
      : n == 7 ? t.substr(0, 9)
      : n == 8 ? t.substr(9)
      : n == 9 ? (e ? "&X-Amz-Expires=" + e : "") // e >= 1 when set
      : n == 10 ? "&X-Amz-SignedHeaders=host"
      : n == 11 ? "\nhost:"
      : n == 12 ? (r.port && r.port != 443 ? r.host + ":" + r.port : r.host)
      : n == 13 ? "\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // + sha256("")
      : n == 14 ? "AWS4-HMAC-SHA256\n"
      : n == 15 ? t
      : n == 17 ? t.substr(0, 8) + "/" + r.region + "/" + (r.service || "iotdevicegateway") + "/aws4_request" // credential scope
      : n == 19 ? x
      : "\n";
  }

  // Espruino does not hoist functions: this runs after P is defined
  const pm = c.d === P(17) && c.a === r.akid && c.m === P(0) + P(2); // canonical prefix cached
  if (!pm) c.a = undefined;

  return function (): string | undefined {
    let n;
    let l;
    let q = "";
    let j;
    if (nat) {
      // native whole-message SHA-256 (ESP32): everything at once, nothing cached
      const hm = function (key: string, d: string): string {
        let a = "";
        let o = "";
        let m;
        if (key.length > 64) key = nat(key);
        for (m = 0; m < 64; m++) {
          n = key.charCodeAt(m); // NaN past the end: 0 to the XOR
          a += String.fromCharCode(n ^ 0x36);
          o += String.fromCharCode(n ^ 0x5c);
        }
        return nat(o + nat(a + d));
      };
      const hex = function (d: string): string {
        let a = "";
        for (n = 0; n < 32; n++) a += (256 + d.charCodeAt(n)).toString(16).substr(1);
        return a;
      };
      for (j = 0; j < 14; j++) q += P(j);
      x = hex(nat(q));
      q = "";
      for (j = 14; j < 20; j++) q += P(j); // the string to sign
      l = "AWS4" + r.secret;
      for (j of P(17).split("/")) l = hm(l, j); // the signing key: day, region, service, aws4_request
      x = hex(hm(l, q));
      q = "";
    } else {
      if (!h) return undefined; // finished already
      const b0 = SHA_STATS.blocks;
      for (;;) {
        n = 2 - (SHA_STATS.blocks - b0); // compression blocks left for this call
        if (i < 9) {
          // 0: pads of "AWS4"+secret (cached); 1-8: kDate, its pads, kRegion, pads, kService, pads,
          // kSigning, pads (2 blocks each; skipped while the day's signing key is cached)
          if (n < 2) return undefined;
          if (i == 0) {
            if (c.k !== r.secret) {
              c.d = undefined;
              h(HMAC_PADS, b, 0, "AWS4" + r.secret);
              c.k = r.secret;
            }
            if (c.d !== P(17)) {
              i = 1;
              c.d = undefined; // being derived
            } else i = 9;
          } else {
            if (i & 1) {
              j = i == 1 ? 0 : 16;
              h(SHA_START, b, j);
              h(SHA_FEED, P(17).split("/")[i >> 1]); // day, region, service, aws4_request
              h(SHA_END);
              h(HMAC_END, b, j);
            } else h(HMAC_PADS, b, 16);
            if (i++ == 8) c.d = P(17);
          }
        } else if (i == 9) {
          // the canonical request: from the cached prefix state, or from the start
          if (pm) h(SHA_LOAD, b, 32);
          else h(SHA_START);
          f = pm ? 8 : 0;
          i = 10;
        } else if (i == 10 || i == 12) {
          // feed pieces, at most the bytes that fill the blocks left for this call
          l = n * 64 - h(SHA_PENDING);
          j = i == 10 ? 14 : 20; // end of the canonical request / of the string to sign
          while (l > 0 && f < j) {
            q = P(f);
            k = Math.min(l, q.length - g);
            h(SHA_FEED, q, g, k);
            l -= k;
            g += k;
            if (g >= q.length) {
              g = 0;
              if (++f == 8) {
                // end of the constant prefix: keep the state for the rest of the day
                h(SHA_SAVE, b, 32);
                c.a = r.akid;
                c.m = P(0) + P(2);
              }
            }
          }
          q = "";
          if (f < j) return undefined;
          i++;
        } else if (i == 11 || i == 13) {
          // finish a hash (1 or 2 blocks)
          if (n < (h(SHA_PENDING) > 55 ? 2 : 1)) return undefined;
          x = h(SHA_END, i == 11);
          if (i++ == 11) h(SHA_START, b, 16); // the string to sign, keyed with the signing key's pads
        } else {
          // outer block of the signature's HMAC
          if (n < 1) return undefined;
          x = h(HMAC_END, b, 16, 1);
          h = undefined; // the engine (about 80 variables) is garbage from here on
          break;
        }
      }
    }
    // the URL, appended in place (no copies of the growing string)
    if (full) q = "wss://" + P(12);
    q += P(2);
    q += "?";
    for (j = 4; j < 11; j++) q += P(j);
    q += "&X-Amz-Signature=";
    q += x;
    if (r.token) {
      q += "&X-Amz-Security-Token=";
      q += uriEncode(r.token);
    }
    return q;
  };
}

// Signed "path?query" (with full: "wss://host[:port]/mqtt?...") for r at `when`, all steps at once
// (tests, tools). Throws on bad input or an unset clock (year < 2024).
export function presign(c: SignCache, r: SignInput, when: number | string, nat?: NativeSha, full?: boolean): string {
  const j = presignJob(c, r, when, nat, full);
  let u;
  while (!(u = j()));
  return u;
}

// "wss://host[:port]/mqtt?X-Amz-...&X-Amz-Signature=...[&X-Amz-Security-Token=...]" (tests, tools).
export function presignMqttUrl(c: SignCache, cfg: MqttSignConfig, when: number | string, nat?: NativeSha): string {
  return presign(c, cfg, when, nat, true);
}

// ---- the older API (kept while firmware/app moves to signUrl in crypto/select.ts)

export function signCache(H?: NativeSha): SignCache {
  return { H: H };
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

// presign, one step (<= 2 blocks) per defer() callback; errors through cb, never thrown.
export function presignAsync(
  c: SignCache,
  r: SignRequest,
  when: number | string,
  defer: (fn: () => void) => void,
  cb: (err: Error | null, url?: string) => void
): void {
  let j: () => string | undefined;
  function go(): void {
    let u;
    try {
      u = j();
    } catch (e) {
      cb(e as Error);
      return;
    }
    if (u) cb(null, u);
    else defer(go);
  }
  try {
    j = presignJob(c, r, when, c.H);
  } catch (e) {
    defer(function () {
      cb(e as Error);
    });
    return;
  }
  defer(go);
}
