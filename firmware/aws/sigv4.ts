// AWS SigV4 query presigning of the AWS IoT WebSocket URL (docs/aws-iot-behaviour.md, SigV4),
// generic in method, path and service so that the official test-suite vectors run through the code
// the device uses. Pure module: no Espruino globals; the board's native SHA-256 (ESP32), if any, is
// the cache itself (signCache). Everything a presign builds (the SHA-256 tables, the canonical
// request, the step closure) is garbage once its URL is returned: only the cache stays.
import { shaKit } from "../crypto/sha256";

// What is signed: the device config fits as is; method, path and service default to GET, /mqtt
// and iotdevicegateway.
export interface SignInput {
  host: string; // endpoint (the Host header without the port)
  port?: number; // the signed Host is host:port when set and not 443
  region: string;
  akid: string;
  secret: string;
  token?: string; // session token: appended after signing, never signed
  expires?: number; // X-Amz-Expires, whole seconds 1..604800 (signed when set)
  method?: string;
  path?: string;
  service?: string;
}
export type MqttSignConfig = SignInput;

// A whole-message native SHA-256: binary string -> 32-byte binary string.
export type NativeSha = (s: string) => string;

// What stays between presigns: the native SHA-256 (nothing is cached: a presign takes
// milliseconds), or for the TypeScript SHA-256 an Int32Array(43):
//   [0..15]  chaining values after the two HMAC pad blocks of "AWS4"+secret (2 blocks a new day)
//   [16..31] the same for the day's signing key (16 blocks a presign)
//   [32..39] the chaining value after the canonical request's whole blocks up to
//            "X-Amz-Date=yyyymmddT", the same all day (2 blocks a presign)
//   [40..42] odd checksums of what each part was made from (secret; secret + scope; those blocks),
//            0 while it is being rebuilt, so an abandoned presign leaves a consistent cache.
// Warm (same day) presign: 8 compression blocks; cold 28; first of a new day 26.
export type SignCache = Int32Array | NativeSha;

export function signCache(H?: NativeSha): SignCache {
  return H || new Int32Array(43);
}

// Seconds since 1970 -> "YYYYMMDDTHHMMSSZ" (UTC; Espruino's toISOString is always GMT).
export function amzDate(t: number): string {
  return new Date(t * 1000).toISOString().replace(/[-:]/g, "").substr(0, 15) + "Z";
}

// One presign at t ("YYYYMMDDTHHMMSSZ") as steps: returns a function that does at most 2 SHA-256
// compression blocks per call and returns undefined until the URL
// "wss://host[:port]/mqtt?X-Amz-...&X-Amz-Signature=...[&X-Amz-Security-Token=...]" is done
// (then the same URL on every call). Inputs are trusted: the host checks the device config at flash
// time (scripts/device-config.ts validateConfig), the presign CLI its arguments; the clock guard is signUrl's.
export function presignJob(C: SignCache, r: SignInput, t: string): () => string | undefined {
  const sc = t.substr(0, 8) + "/" + r.region + "/" + (r.service || "iotdevicegateway") + "/aws4_request";
  const H = r.port && r.port != 443 ? r.host + ":" + r.port : r.host;
  const P = r.path || "/mqtt";
  // F(y): y RFC 3986-encoded (only A-Za-z0-9-_.~ stay, uppercase hex; inputs are ASCII);
  // F(y, 1): the bytes of y as lowercase hex; F(): the query up to the signature. Strings are
  // rebuilt when needed rather than held between steps (each 8 characters cost a variable).
  const F = (y?: any, h?: any): string =>
    y == null
      ? "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + F(r.akid + "/" + sc) + "&X-Amz-Date=" + t + (r.expires ? "&X-Amz-Expires=" + r.expires : "") + "&X-Amz-SignedHeaders=host"
      : y.replace(h ? /[\s\S]/g : /[^\w.~-]/g, (c: string) => ((c = (256 + c.charCodeAt(0)).toString(16).substr(1)), h ? c : "%" + c.toUpperCase()));
  // with a native SHA-256 nothing is kept: A is a scratch array whose pad strings stand in for the
  // pads' chaining values, and every cache check below misses
  const N = typeof C == "function" && C;
  const A: any = N ? [] : C;
  const z: any = !N && shaKit();
  const s = new Int32Array(8);
  let d = ""; // the last digest (binary string), or a key
  let x = ""; // the canonical request's digest
  // the hash under way: message M, its next block p and end n, e bytes hashed before it; o >= 0:
  // M is two HMAC pad blocks, each hashed from the start, their chaining values go to A[o..o+15];
  // sv: the block end after which the chaining value is the cached canonical prefix (v bytes)
  let M = "";
  let p = 0;
  let n = 0;
  let e = 0;
  let o = 0;
  let sv = 0;
  let v = 0;
  let i = 0; // stage
  let j;
  let c;
  let iS = 0; // odd checksums of "AWS4"+secret, of it + scope, of the canonical prefix
  let iD = 0;
  let iP = 0;

  return () => {
    let b = 0;
    let f;
    let y: any;
    for (;;) {
      if (p < n) {
        if (b++ > 1) return undefined; // 2 blocks per call: the watchdog is fed between calls
        if (o >= 0) z(s);
        z(s, M, p, e);
        p += 64;
        if (o >= 0) A.set(s, o + p / 8 - 8);
        else if (p == sv) {
          A.set(s, 32);
          A[42] = iP;
        }
        if (p == n) for (d = "", j = 0; j < 32; j++) d += String.fromCharCode((s[j >> 2] >> (24 - 8 * (j & 3))) & 255);
        continue;
      }
      f = -2; // no hash to start
      y = "AWS4" + r.secret;
      if (!i) {
        // the canonical request (its payload hash is sha256("")), from the cached chaining value
        // when its first v bytes are the same (see below)
        M = (r.method || "GET") + "\n" + P + "\n" + F() + "\nhost:" + H + "\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        v = (M.indexOf(t) + 9) & -64; // whole blocks up to X-Amz-Date=yyyymmddT (t's first place)
        for (c of [M.substr(0, v), y + sc, y]) {
          e = 0;
          for (j = 0; j < c.length; ) e = (e * 31 + c.charCodeAt(j++)) | 0;
          iP = iD;
          iD = iS;
          iS = e | 1;
        }
        f = -1;
        y = M;
        i = 1;
      } else if (i < 2) {
        x = d;
        i = 3;
        if (A[40] != iS) {
          // the pads of "AWS4"+secret (a key longer than a block is hashed first)
          A[40] = 0;
          d = y;
          if (y.length > 64) f = -1;
          i = 2;
        }
      } else {
        // from i = 2, in threes: [pads of the key d], HMAC inner hash, outer hash. Keys: the
        // secret's, then the MAC of each part of the scope (the day's signing key at the end, its
        // pads cached with the checksum of secret + scope), then the MAC of the string to sign
        j = (i - 2) % 3;
        if (!j) {
          if (i > 16) return "wss://" + H + P + "?" + F() + "&X-Amz-Signature=" + F(d, 1) + (r.token ? "&X-Amz-Security-Token=" + F(r.token) : "");
          for (M = "", j = 0; j < 128; j++) M += String.fromCharCode(d.charCodeAt(j & 63) ^ (j < 64 ? 54 : 92)); // NaN past the key: 0
          o = i > 2 ? 16 : 0;
          if (N) {
            A[o] = M.substr(0, 64);
            A[o + 8] = M.substr(64);
          } else {
            p = 0;
            n = 128;
          }
        } else if (j < 2) {
          if (i == 3) {
            A[40] = iS;
            A[41] == iD ? (i = 15) : (A[41] = 0);
          }
          if (i == 15) A[41] = iD;
          f = i > 3 ? 16 : 0;
          y = i > 14 ? "AWS4-HMAC-SHA256\n" + t + "\n" + sc + "\n" + F(x, 1) : sc.split("/")[((i - 3) / 3) | 0];
        } else {
          f = i > 4 ? 24 : 8;
          y = d;
        }
        i++;
      }
      if (f > -2) {
        // hash y from the chaining value A[f..f+7] (after an HMAC pad block), or from the start
        p = sv = 0;
        o = -1;
        if (N) d = N((f < 0 ? "" : A[f]) + y);
        else {
          if (f < 0) z(s);
          else s.set(A.subarray(f, f + 8));
          M = y;
          e = f < 0 ? 0 : 64;
          n = (y.length + 72) & -64;
          if (i == 1) {
            if (A[42] == iP) {
              s.set(A.subarray(32, 40));
              p = v;
            } else sv = v;
          }
        }
      }
    }
  };
}

// All steps at once (tests, tools): the URL for r at `when` (seconds since 1970, or
// "YYYYMMDDTHHMMSSZ"), with the cache c from signCache().
export function presign(c: SignCache, r: SignInput, when: number | string): string {
  const j = presignJob(c, r, typeof when == "number" ? amzDate(when) : when);
  let u;
  while (!(u = j()));
  return u;
}
