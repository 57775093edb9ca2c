// SHA-256 and HMAC-SHA256 for Espruino's interpreter (an ESP8266 has no native SHA-256), as an
// engine created for one signing session and dropped afterwards. Between sessions only `shaKit`
// itself (one function) stays in RAM; the round constants, the work arrays and the engine's two
// closures (about 80 JS variables) exist only while a URL is being signed. Each closure costs about
// 8 variables, so the engine is one function with operations (below) plus the compression function.
//
// Nothing is allocated per byte or per block: the state lives in Int32Arrays and bytes are shifted
// straight into the message words, so hashing builds no intermediate strings. A state can be saved
// into and restored from any Int32Array: the caller keeps HMAC pads and a constant prefix that way
// (sigv4.ts). An HMAC key is kept as its pads, the chaining values after the key ^ ipad and
// key ^ opad blocks (8 words each), so each later MAC costs only the message blocks plus one outer
// block; a derived key (the previous MAC) goes into the pad block as words, the inner digest into
// the outer hash as words. Pure module: no I/O, no Espruino globals.

// Operations of the engine h = shaKit() (plain numbers: the bundler inlines them, so they cost
// nothing at run time):
export const SHA_START = 0; // h(SHA_START): start a hash; h(SHA_START, c, o): continue after one
//                             64-byte block whose chaining value is c[o..o+7] (an HMAC pad)
export const SHA_LOAD = 1; // h(SHA_LOAD, c, o): continue from a state saved with SHA_SAVE
export const SHA_SAVE = 2; // h(SHA_SAVE, c, o): save the whole state into c[o..o+25]: chaining value,
//                            bytes compressed, bytes pending, the 16 pending words
export const SHA_FEED = 3; // h(SHA_FEED, d): feed the bytes (char codes 0..255) of the string d;
//                            h(SHA_FEED, d, o, n): only n of them from offset o
export const SHA_END = 4; // h(SHA_END): finish (padding, length); the digest is then the state's
//                           chaining value; h(SHA_END, 1) also returns it as lowercase hex
export const HMAC_PADS = 5; // h(HMAC_PADS, c, o, key): HMAC pads of key (a binary string) into
//                             c[o..o+15] (inner chaining value, then outer); without key: pads of
//                             the 32-byte digest that the state holds (a derived key)
export const HMAC_END = 6; // h(HMAC_END, c, o, hex): the outer hash of an HMAC whose inner hash
//                            (SHA_START with c, o; SHA_FEED; SHA_END) is done; returns hex if hex.
//                            A whole MAC of d, as hex: h(SHA_START, c, o); h(SHA_FEED, d);
//                            h(SHA_END); h(HMAC_END, c, o, 1)
export const SHA_PENDING = 7; // h(SHA_PENDING): the number of bytes pending (0..63)

// Compression-function calls since load: the figure the bench and tests count.
// (declared after the operations: esbuild inlines constants only up to the first non-constant)
export const SHA_STATS = { blocks: 0 };

export type Sha = (op: number, c?: any, o?: number, x?: any) => any;

export function shaKit(): Sha {
  // 64 round constants then the 8 initial hash words, big-endian, decoded 48 bytes at a time from
  // base64 so that at most one small piece of the table exists as a string at any moment
  const K = new Int32Array(72);
  const s = new Int32Array(10); // chaining value [0..7], bytes compressed [8], bytes pending [9]
  const w = new Int32Array(64); // message schedule; w[0..15] hold the pending bytes, filled from the left
  let i, j = 0, n, t;
  for (i = 0; i < 6; i++) {
    t = atob(
      i < 1 ? "QoovmHE3RJG1wPvP6bXbpTlWwltZ8RHxkj+CpKscXtXYB6qYEoNbASQxhb5VDH3D"
      : i < 2 ? "cr5ddIDesf6b3AanwZvxdOSbacHvvkeGD8GdxiQMocwt6SxvSnSEqlywqdx2+Yja"
      : i < 3 ? "mD5RUqgxxm2wAyfIv1l/x8bgC/PVp5FHBspjURQpKWcntwqFLhshOE0sbfxTOA0T"
      : i < 4 ? "ZQpzVHZqCruBwskuknIshaK/6KGoGmZLwkuLcMdsUaPRkugZ1pkGJPQONYUQaqBw"
      : i < 5 ? "GaTBFh43bAgnSHdMNLC8tTkcDLNO2KpKW5zKT2gub/N0j4LueKVjb4TIeBSMxwII"
      : "kL7/+qRQbOu++aP3xnF48moJ5me7Z66FPG7zcqVP9TpRDlJ/mwVojB+D2atb4M0Z"
    );
    for (n = 0; n < 48; n++, j++) K[j >> 2] = (K[j >> 2] << 8) | t.charCodeAt(n);
  }
  t = 0; // the closures below keep this scope: drop the last piece

  // One compression of w[0..15] into s: its own small function, because Espruino looks local
  // names up one by one. Shaped for Espruino, which re-reads the source as it runs: separate while
  // loops, two rounds per iteration with the registers renamed instead of shifted.
  function z(): void {
    const k = K;
    const x = w;
    let t, u, i = 16, a, b, c, d, e, f, g, m;
    SHA_STATS.blocks++;
    while (i < 64) {
      t = x[i - 15];
      u = x[i - 2];
      x[i] = (((t >>> 7) | (t << 25)) ^ ((t >>> 18) | (t << 14)) ^ (t >>> 3)) +
        (((u >>> 17) | (u << 15)) ^ ((u >>> 19) | (u << 13)) ^ (u >>> 10)) + x[i - 7] + x[i - 16] | 0;
      i++;
    }
    a = s[0];
    b = s[1];
    c = s[2];
    d = s[3];
    e = s[4];
    f = s[5];
    g = s[6];
    m = s[7];
    i = 0;
    while (i < 64) {
      t = x[i] + m + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + k[i++] | 0;
      m = (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b))) + t | 0;
      d = d + t | 0;
      t = x[i] + g + (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) + (f ^ (d & (e ^ f))) + k[i++] | 0;
      g = (((m >>> 2) | (m << 30)) ^ ((m >>> 13) | (m << 19)) ^ ((m >>> 22) | (m << 10))) + ((m & a) | (b & (m | a))) + t | 0;
      c = c + t | 0;
      // after two rounds: (a..h) = (g, m, a, b, c, d, e, f)
      u = m;
      m = f;
      f = d;
      d = b;
      b = u;
      u = g;
      g = e;
      e = c;
      c = a;
      a = u;
    }
    s[0] += a;
    s[1] += b;
    s[2] += c;
    s[3] += d;
    s[4] += e;
    s[5] += f;
    s[6] += g;
    s[7] += m;
    s[8] += 64;
  }

  // One call frame per operation (Espruino allocates every call's parameters and locals, so the
  // frequent paths do not call h again): HMAC_END continues into SHA_END, which feeds its padding
  // through the SHA_FEED loop.
  const h: Sha = function (op: number, c?: any, o?: number, x?: any): any {
    let p, i, l, q, r: any = "";
    if (op == HMAC_END) {
      // the inner digest becomes the 32 pending bytes of the outer hash
      for (i = 0; i < 8; i++) w[i] = s[i];
      s.set(c.subarray(o! + 8, o! + 16));
      s[8] = 64;
      s[9] = 32;
      c = x;
      op = SHA_END;
    }
    if (op == SHA_END) {
      // padding: 0x80, zeros up to 56 bytes mod 64, the bit length as 8 bytes (messages < 256 MB)
      l = (s[8] + s[9]) * 8;
      r = c; // hex wanted
      c = "\x80" + "\0".repeat(((55 - s[9]) & 63) + 4) + String.fromCharCode((l >>> 24) & 255, (l >> 16) & 255, (l >> 8) & 255, l & 255);
      o = 0;
      x = undefined;
      op = SHA_FEED;
    }
    if (op == SHA_FEED) {
      p = s[9];
      i = o || 0;
      l = x === undefined ? c.length : i + x;
      for (;;) {
        if (p == 64) {
          z();
          p = 0;
        }
        if (i >= l) break;
        // a word receives 4 bytes before it is compressed, so its old content is shifted out
        q = p >> 2;
        w[q] = (w[q] << 8) | c.charCodeAt(i++);
        p++;
      }
      s[9] = p;
      if (r) {
        r = "";
        for (i = 0; i < 8; i++) r += (s[i] >>> 0).toString(16).padStart(8, "0");
      }
    } else if (op == SHA_PENDING) {
      r = s[9];
    } else if (op == SHA_START) {
      s.set(c ? c.subarray(o, o! + 8) : K.subarray(64));
      s[8] = c ? 64 : 0;
      s[9] = 0;
    } else if (op == SHA_LOAD) {
      s.set(c.subarray(o, o! + 10));
      w.set(c.subarray(o! + 10, o! + 26));
    } else if (op == SHA_SAVE) {
      c.set(s, o);
      c.set(w.subarray(0, 16), o! + 10);
    } else {
      // HMAC_PADS
      if (x !== undefined && x.length > 64) {
        // a key longer than a block is replaced by its digest (rare: recursion is fine here)
        h(SHA_START);
        h(SHA_FEED, x);
        h(SHA_END);
        x = undefined;
      }
      for (i = 0; i < 16; i++) {
        // past the end of the key, charCodeAt gives NaN, which the shifts turn into 0
        w[i] = (x === undefined
          ? i < 8 ? s[i] : 0
          : (x.charCodeAt(4 * i) << 24) | (x.charCodeAt(4 * i + 1) << 16) | (x.charCodeAt(4 * i + 2) << 8) | x.charCodeAt(4 * i + 3)) ^ 0x36363636;
      }
      for (i = 0; i < 2; i++) {
        if (i) for (l = 0; l < 16; l++) w[l] ^= 0x6a6a6a6a; // key ^ ipad -> key ^ opad
        s.set(K.subarray(64));
        z(); // compressing fills w[16..63] only: w[0..15] still hold the pad block
        c.set(s.subarray(0, 8), o! + 8 * i);
      }
    }
    return r;
  };
  return h;
}

// Lowercase hex SHA-256 of a binary string (tests, tools).
export function sha256Hex(d: string): string {
  const h = shaKit();
  h(SHA_START);
  h(SHA_FEED, d);
  return h(SHA_END, 1);
}
