// SHA-256 for Espruino's interpreter (an ESP8266 has no native SHA-256): a compression function
// made for one signing session and dropped afterwards (aws/sigv4.ts), so its tables exist only
// while a URL is being signed. 32-bit integer ops on Int32Arrays, nothing allocated per block:
// the message bytes, and the padding computed on the fly, are shifted straight into a rolling
// 16-word schedule. HMAC is built on it by the signer (key pads as saved chaining values).
// Pure module: no I/O, no Espruino globals.

// Compression-function calls since load (counted by the tests and the bench).
export let blocks = 0;

// z(s): the initial hash value into s[0..7]. z(s, m, p, e): compress the 64-byte block at p of m,
// padded as SHA-256 pads a message of e + m.length bytes (e: bytes hashed before m, 0 or 64 after
// an HMAC pad), into the chaining value s[0..7]. A message m from the start: z(s), then z(s, m, p, 0)
// for p = 0, 64, ... while p < (m.length + 72) & -64; the digest is then s[0..7] (big-endian).
export type Sha = (s: Int32Array, m?: string, p?: number, e?: number) => void;

export function shaKit(): Sha {
  // K[0..15] the message schedule (rolling), K[16..79] the round constants, K[80..87] the initial
  // hash value: the first 32 bits of the fractional parts of the cube roots of the first 64 primes
  // and of the square roots of the first 8. Each lies at least 0.005 of its last bit away from a
  // rounding step, so Espruino's exp(log(x) * y) pow is exact enough (tested with one 200 ulps off).
  const K = new Int32Array(88);
  let i = 0;
  let n = 2;
  let d;
  for (; i < 64; n += n > 2 ? 2 : 1) {
    for (d = 2; d * d <= n && n % d; d++);
    if (d * d > n) {
      if (i < 8) K[80 + i] = (Math.sqrt(n) % 1) * 4294967296;
      K[16 + i++] = (Math.pow(n, 1 / 3) % 1) * 4294967296;
    }
  }
  return function (s: Int32Array, m?: string, p?: any, e?: any): void {
    if (m == null) return s.set(K.subarray(80));
    let a = s[0], b = s[1], c = s[2], d = s[3], f = s[4], g = s[5], h = s[6], k = s[7];
    const l = m.length;
    const x = (l + 72) & -64; // padded length
    let i, t, u;
    blocks++;
    // bytes of m, then 0x80, zeros and the length in bits (messages < 512 MB)
    for (i = 0; i < 64; i++, p++) K[i >> 2] = (K[i >> 2] << 8) | (p < l ? m.charCodeAt(p) : p - l ? (p < x - 4 ? 0 : ((e + l) * 8) >>> ((x - 1 - p) * 8)) & 255 : 128);
    for (i = 0; i < 64; i++) {
      if (i > 15) {
        t = K[(i + 1) & 15];
        u = K[(i + 14) & 15];
        K[i & 15] += (((t >>> 7) | (t << 25)) ^ ((t >>> 18) | (t << 14)) ^ (t >>> 3)) + (((u >>> 17) | (u << 15)) ^ ((u >>> 19) | (u << 13)) ^ (u >>> 10)) + K[(i + 9) & 15];
      }
      t = (K[i & 15] + k + (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7))) + (h ^ (f & (g ^ h))) + K[16 + i]) | 0;
      k = h;
      h = g;
      g = f;
      f = (d + t) | 0;
      d = c;
      c = b;
      b = a;
      a = (t + (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & c) | (d & (a | c)))) | 0;
    }
    s[0] += a;
    s[1] += b;
    s[2] += c;
    s[3] += d;
    s[4] += f;
    s[5] += g;
    s[6] += h;
    s[7] += k;
  };
}
