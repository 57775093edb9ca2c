// AWS SigV4 query presigning of the AWS IoT WebSocket URL (docs/aws-iot-behaviour.md, SigV4),
// generic in method, path and service so that the official test-suite vectors run through the code
// the device uses. Pure module: no Espruino globals; the board's native SHA-256 (ESP32), if any, is
// the cache itself (signCache). Everything a presign builds (the SHA-256 tables, the canonical
// request, the step closure) is garbage once its URL is returned: only the cache stays.
import { Sha, shaKit } from "../crypto/sha256";

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
// milliseconds), or for the TypeScript SHA-256 an Int32Array(43), laid out as Cache says. Each
// part carries an odd checksum of what it was made from, 0 while it is being rebuilt, so an
// abandoned presign leaves a consistent cache.
// Warm (same day) presign: 8 compression blocks; cold 28; first of a new day 26.
export type SignCache = Int32Array | NativeSha;

export const enum Cache {
  /** [0..15] chaining values after the inner and outer HMAC pad blocks of "AWS4"+secret (2 blocks a new day) */
  SecretPads = 0,
  SecretOuterPad = 8,
  /** [16..31] the same for the day's signing key (16 blocks a presign) */
  KeyPads = 16,
  KeyOuterPad = 24,
  /** [32..39] the chaining value after the canonical request's whole blocks up to
   * "X-Amz-Date=yyyymmddT", the same all day (2 blocks a presign) */
  Prefix = 32,
  /** checksums of "AWS4"+secret, of it + the scope, of the canonical prefix */
  SecretSum = 40,
  KeySum = 41,
  PrefixSum = 42,
  Length = 43,
}

export function signCache(nativeSha?: NativeSha): SignCache {
  return nativeSha || new Int32Array(Cache.Length);
}

// Seconds since 1970 -> "YYYYMMDDTHHMMSSZ" (UTC; Espruino's toISOString is always GMT).
export function amzDate(t: number): string {
  return new Date(t * 1000).toISOString().replace(/[-:]/g, "").substr(0, 15) + "Z";
}

// The presign's stages. After the canonical request, the HMAC chain runs in threes (Step): the
// pads of a key, the inner hash of a message, the outer hash (that MAC is the next key). Keys:
// "AWS4"+secret, then the MAC of each part of the scope (date, region, service, "aws4_request"),
// whose last is the day's signing key; its MAC of the string to sign is the signature.
const enum Stage {
  CanonicalRequest = 0, // build the canonical request, hash it
  CanonicalDone = 1, // its digest is in: are the secret's pads cached?
  SecretPads = 2, // the pads of "AWS4"+secret (one longer than a block is hashed first)
  DateInner = 3, // here the cache decides: with the day's signing key pads cached, on to SignatureInner
  DateOuter = 4,
  DateKeyPads = 5,
  RegionInner = 6,
  RegionOuter = 7,
  RegionKeyPads = 8,
  ServiceInner = 9,
  ServiceOuter = 10,
  ServiceKeyPads = 11,
  RequestInner = 12,
  RequestOuter = 13,
  SigningKeyPads = 14, // the day's signing key: its pads are cached
  SignatureInner = 15,
  SignatureOuter = 16,
}

const enum Step {
  Pads = 0,
  Inner = 1,
  Outer = 2,
}

const enum Hash {
  None = -2, // nothing to hash in this turn
  FromStart = -1, // hash from SHA-256's initial value (else from a cached pad's chaining value)
  BlocksPerCall = 2, // compression blocks per step call: the watchdog is fed between calls
}

// The payload hash of a GET: sha256("").
const enum Text {
  EmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
}

// encode(): the query up to the signature; encode(text): text RFC 3986-encoded (only A-Za-z0-9-_.~
// stay, uppercase hex; inputs are ASCII); encode(bytes, 1): the bytes as lowercase hex. One
// function rather than three: each costs variables while signing.
type Encode = { (): string; (text: string): string; (bytes: string, hex: 1): string };

// One presign at t ("YYYYMMDDTHHMMSSZ") as steps: returns a function that does at most 2 SHA-256
// compression blocks per call and returns undefined until the URL
// "wss://host[:port]/mqtt?X-Amz-...&X-Amz-Signature=...[&X-Amz-Security-Token=...]" is done
// (then the same URL on every call). Inputs are trusted: the host checks the device config at flash
// time (scripts/device-config.ts validateConfig), the presign CLI its arguments; the clock guard is signUrl's.
// Strings are rebuilt when needed rather than held between steps (each 8 characters cost a
// variable while signing), and every local lives in the one closure.
export function presignJob(cacheOrSha: SignCache, params: SignInput, t: string): () => string | undefined {
  const scope = t.substr(0, 8) + "/" + params.region + "/" + (params.service || "iotdevicegateway") + "/aws4_request";
  const hostHeader = params.port && params.port != 443 ? params.host + ":" + params.port : params.host;
  const path = params.path || "/mqtt";
  const encode: Encode = (text?: string, hex?: 1): string =>
    text == null
      ? "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + encode(params.akid + "/" + scope) + "&X-Amz-Date=" + t + (params.expires ? "&X-Amz-Expires=" + params.expires : "") + "&X-Amz-SignedHeaders=host"
      : text.replace(hex ? /[\s\S]/g : /[^\w.~-]/g, (c: string) => ((c = (256 + c.charCodeAt(0)).toString(16).substr(1)), hex ? c : "%" + c.toUpperCase()));
  // With a native SHA-256 nothing is kept: the cache is a scratch array whose pad strings stand in
  // for the pads' chaining values, and every checksum compare below misses.
  const nativeSha = typeof cacheOrSha == "function" && cacheOrSha;
  const cache: any = nativeSha ? [] : cacheOrSha; // Int32Array (Cache), or pad strings by the same index
  const sha = (!nativeSha && shaKit()) as Sha; // (false with a native SHA-256: never called)
  const chain = new Int32Array(8); // the hash under way's chaining value
  let digest = ""; // the last digest (binary string), or a key
  let requestHash = ""; // the canonical request's digest
  // The hash under way: message, its next block at and end, hashedBefore bytes hashed before it.
  // padsTo >= 0: the message is two HMAC pad blocks, each hashed from the start, their chaining
  // values go to cache[padsTo..padsTo+15]. prefixEnd: the block end after which the chaining value
  // is the cached canonical prefix (prefixLength bytes).
  let message = "";
  let at = 0;
  let end = 0;
  let hashedBefore = 0;
  let padsTo = 0;
  let prefixEnd = 0;
  let prefixLength = 0;
  let stage = Stage.CanonicalRequest;
  let counter; // a loop index, and the step within a three (Step)
  let part;
  let secretSum = 0; // odd checksums (Cache.SecretSum, KeySum, PrefixSum) of this presign's inputs
  let keySum = 0;
  let prefixSum = 0;

  return () => {
    let blocks = 0;
    let from: number; // where the next hash starts (Hash, or the Cache index of a pad's chaining value)
    let input: string; // what it hashes
    for (;;) {
      if (at < end) {
        if (++blocks > Hash.BlocksPerCall) return undefined;
        if (padsTo >= 0) sha(chain);
        sha(chain, message, at, hashedBefore);
        at += 64;
        if (padsTo >= 0) cache.set(chain, padsTo + at / 8 - 8);
        else if (at == prefixEnd) {
          cache.set(chain, Cache.Prefix);
          cache[Cache.PrefixSum] = prefixSum;
        }
        if (at == end) for (digest = "", counter = 0; counter < 32; counter++) digest += String.fromCharCode((chain[counter >> 2] >> (24 - 8 * (counter & 3))) & 255);
        continue;
      }
      from = Hash.None;
      input = "AWS4" + params.secret;
      if (!stage /* Stage.CanonicalRequest: `!` is shorter than == 0 */) {
        // the canonical request, hashed from the cached chaining value when its first prefixLength
        // bytes are the same
        message = (params.method || "GET") + "\n" + path + "\n" + encode() + "\nhost:" + hostHeader + "\n\nhost\n" + Text.EmptyHash;
        // whole blocks up to X-Amz-Date=yyyymmddT. (Espruino's indexOf also matches a needle that
        // runs off the end; t is in the middle of the message, so its first match is that one.)
        prefixLength = (message.indexOf(t) + 9) & -64;
        // checksums of the prefix, "AWS4"+secret + scope and "AWS4"+secret; after the loop
        // secretSum, keySum and prefixSum hold them
        for (part of [message.substr(0, prefixLength), input + scope, input]) {
          hashedBefore = 0; // (the sum's accumulator)
          for (counter = 0; counter < part.length; ) hashedBefore = (hashedBefore * 31 + part.charCodeAt(counter++)) | 0;
          prefixSum = keySum;
          keySum = secretSum;
          secretSum = hashedBefore | 1;
        }
        from = Hash.FromStart;
        input = message;
        stage = Stage.CanonicalDone;
      } else if (stage == Stage.CanonicalDone) {
        requestHash = digest;
        stage = Stage.DateInner;
        if (cache[Cache.SecretSum] != secretSum) {
          // the pads of "AWS4"+secret (a key longer than a block is hashed first)
          cache[Cache.SecretSum] = 0;
          digest = input;
          if (input.length > 64) from = Hash.FromStart;
          stage = Stage.SecretPads;
        }
      } else {
        counter = (stage - Stage.SecretPads) % 3;
        if (!counter /* Step.Pads */) {
          if (stage > Stage.SignatureOuter) return "wss://" + hostHeader + path + "?" + encode() + "&X-Amz-Signature=" + encode(digest, 1) + (params.token ? "&X-Amz-Security-Token=" + encode(params.token) : "");
          // past the key's length charCodeAt is NaN, which XORs as 0: the zero padding
          for (message = "", counter = 0; counter < 128; counter++) message += String.fromCharCode(digest.charCodeAt(counter & 63) ^ (counter < 64 ? 0x36 : 0x5c));
          padsTo = stage > Stage.SecretPads ? Cache.KeyPads : Cache.SecretPads;
          if (nativeSha) {
            cache[padsTo] = message.substr(0, 64);
            cache[padsTo + 8] = message.substr(64);
          } else {
            at = 0;
            end = 128;
          }
        } else if (counter == Step.Inner) {
          if (stage == Stage.DateInner) {
            cache[Cache.SecretSum] = secretSum;
            // the day's signing key pads are cached: straight to the signature
            cache[Cache.KeySum] == keySum ? (stage = Stage.SignatureInner) : (cache[Cache.KeySum] = 0);
          }
          if (stage == Stage.SignatureInner) cache[Cache.KeySum] = keySum;
          from = stage > Stage.DateInner ? Cache.KeyPads : Cache.SecretPads;
          input = stage > Stage.SigningKeyPads ? "AWS4-HMAC-SHA256\n" + t + "\n" + scope + "\n" + encode(requestHash, 1) : scope.split("/")[((stage - Stage.DateInner) / 3) | 0];
        } else {
          from = stage > Stage.DateOuter ? Cache.KeyOuterPad : Cache.SecretOuterPad;
          input = digest;
        }
        stage++;
      }
      if (from > Hash.None) {
        // hash input from the chaining value cache[from..from+7] (after an HMAC pad block), or from the start
        at = prefixEnd = 0;
        padsTo = -1;
        if (nativeSha) digest = nativeSha((from < 0 ? "" : cache[from]) + input);
        else {
          if (from < 0) sha(chain);
          else chain.set(cache.subarray(from, from + 8));
          message = input;
          hashedBefore = from < 0 ? 0 : 64;
          end = (input.length + 72) & -64;
          if (stage == Stage.CanonicalDone) {
            if (cache[Cache.PrefixSum] == prefixSum) {
              chain.set(cache.subarray(Cache.Prefix, Cache.Prefix + 8));
              at = prefixLength;
            } else prefixEnd = prefixLength;
          }
        }
      }
    }
  };
}

// All steps at once (tests, tools): the URL for params at `when` (seconds since 1970, or
// "YYYYMMDDTHHMMSSZ"), with the cache from signCache().
export function presign(cache: SignCache, params: SignInput, when: number | string): string {
  const job = presignJob(cache, params, typeof when == "number" ? amzDate(when) : when);
  let url;
  while (!(url = job()));
  return url;
}
