// HMAC-SHA256 over a hash provider that can keep midstates. The provider is chosen once at boot
// (select.ts): the TypeScript SHA-256 (real midstates: a keyed HMAC costs only the message blocks
// plus one outer block) or a native whole-message SHA256 (the "midstate" is then just the bytes
// hashed so far, so only the key pads are cached). Pure module.
import { shaNext, shaEnd } from "./sha256";

// n(m, d): midstate of m (undefined = empty) followed by d; e(m, d): 32-byte digest of m + d.
// Neither modifies m.
export interface HashProvider {
  n(m: any, d: string): any;
  e(m: any, d: string): string;
}

export const JS_SHA256: HashProvider = { n: shaNext, e: shaEnd };

// A keyed HMAC: the inner (key ^ ipad) and outer (key ^ opad) midstates.
export interface HmacKey {
  i: any;
  o: any;
}

export function hmacKey(H: HashProvider, key: string): HmacKey {
  let i = "";
  let o = "";
  let c;
  if (key.length > 64) key = H.e(undefined, key);
  for (let j = 0; j < 64; j++) {
    c = key.charCodeAt(j) | 0; // NaN past the end -> 0
    i += String.fromCharCode(c ^ 0x36);
    o += String.fromCharCode(c ^ 0x5c);
  }
  return { i: H.n(undefined, i), o: H.n(undefined, o) };
}

// HMAC(key, msg) as a 32-byte binary string.
export function hmac(H: HashProvider, k: HmacKey, msg: string): string {
  return H.e(k.o, H.e(k.i, msg));
}

// A provider over a native whole-message SHA-256 (f: binary string -> 32-byte binary string).
// No real midstates: a "midstate" is the bytes hashed so far, so caching saves only key derivation.
export function nativeHash(f: (s: string) => string): HashProvider {
  return {
    n: function (m: string | undefined, d: string): string {
      return (m || "") + d;
    },
    e: function (m: string | undefined, d: string): string {
      return f((m || "") + d);
    },
  };
}
