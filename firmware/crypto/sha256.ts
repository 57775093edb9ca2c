// SHA-256 for Espruino's interpreter (an ESP8266 has no native SHA-256): a compression function
// made for one signing session and dropped afterwards (aws/sigv4.ts), so its tables exist only
// while a URL is being signed. 32-bit integer ops on Int32Arrays, nothing allocated per block:
// the message bytes, and the padding computed on the fly, are shifted straight into a rolling
// 16-word schedule. HMAC is built on it by the signer (key pads as saved chaining values).
// Pure module: no I/O, no Espruino globals.

// Compression-function calls since load (counted by the tests and the bench).
export let blocks = 0;

// sha(chain): the initial hash value into chain[0..7]. sha(chain, message, at, before): compress
// the 64-byte block at `at` of message, padded as SHA-256 pads a message of before +
// message.length bytes (before: bytes hashed ahead of it, 0, or 64 after an HMAC pad block), into
// the chaining value chain[0..7]. A message from the start: sha(chain), then
// sha(chain, message, at, 0) for at = 0, 64, ... while at < (message.length + 72) & -64; the
// digest is then chain[0..7] (big-endian words).
export type Sha = {
  (chain: Int32Array): void;
  (chain: Int32Array, message: string, at: number, before: number): void;
};

const enum Table {
  Schedule = 0, // [0..15] the message schedule, rolling
  Rounds = 16, // [16..79] the round constants
  Initial = 80, // [80..87] the initial hash value
  Length = 88,
}

export function shaKit(): Sha {
  // The constants are the first 32 bits of the fractional parts of the cube roots of the first 64
  // primes and of the square roots of the first 8, computed rather than written out (72 numbers
  // as text would be some 700 bytes of bundle). Each lies at least 0.005 of its last bit away from a rounding
  // step, so Espruino's exp(log(x) * y) pow is exact enough (tested with one 200 ulps off).
  const table = new Int32Array(Table.Length);
  let found = 0;
  let n = 2;
  let divisor;
  for (; found < 64; n += n > 2 ? 2 : 1) {
    for (divisor = 2; divisor * divisor <= n && n % divisor; divisor++);
    if (divisor * divisor > n) {
      // n is prime
      if (found < 8) table[Table.Initial + found] = (Math.sqrt(n) % 1) * 4294967296;
      table[Table.Rounds + found++] = (Math.pow(n, 1 / 3) % 1) * 4294967296;
    }
  }
  // a..h are the working variables of FIPS 180-4 (section 6.2.2)
  return function (chain: Int32Array, message?: string, at?: any, before?: any): void {
    if (message == null) return chain.set(table.subarray(Table.Initial));
    let a = chain[0], b = chain[1], c = chain[2], d = chain[3], e = chain[4], f = chain[5], g = chain[6], h = chain[7];
    const length = message.length;
    const padded = (length + 72) & -64;
    let i, t, u;
    blocks++;
    // bytes of the message, then 0x80, zeros and the length in bits (messages < 512 MB)
    for (i = 0; i < 64; i++, at++) table[i >> 2] = (table[i >> 2] << 8) | (at < length ? message.charCodeAt(at) : at - length ? (at < padded - 4 ? 0 : ((before + length) * 8) >>> ((padded - 1 - at) * 8)) & 255 : 128);
    for (i = 0; i < 64; i++) {
      if (i > 15) {
        // W[i] = sigma1(W[i-2]) + W[i-7] + sigma0(W[i-15]) + W[i-16], in place over W[i-16]
        t = table[(i + 1) & 15];
        u = table[(i + 14) & 15];
        table[i & 15] += (((t >>> 7) | (t << 25)) ^ ((t >>> 18) | (t << 14)) ^ (t >>> 3)) + (((u >>> 17) | (u << 15)) ^ ((u >>> 19) | (u << 13)) ^ (u >>> 10)) + table[(i + 9) & 15];
      }
      // T1 = h + Sigma1(e) + Ch(e, f, g) + K[i] + W[i]; then a = T1 + Sigma0(a) + Maj(a, b, c)
      t = (table[i & 15] + h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + table[Table.Rounds + i]) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t) | 0;
      d = c;
      c = b;
      b = a;
      a = (t + (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & c) | (d & (a | c)))) | 0;
    }
    chain[0] += a;
    chain[1] += b;
    chain[2] += c;
    chain[3] += d;
    chain[4] += e;
    chain[5] += f;
    chain[6] += g;
    chain[7] += h;
  };
}
