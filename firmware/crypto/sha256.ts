// SHA-256 over binary strings (char codes 0..255), written for Espruino's interpreter: 32-bit
// integer ops, typed arrays allocated once per hash call, no allocation or closure per round or block.
// A hash state (midstate) is itself a binary string, the cheapest form to keep in RAM on an
// ESP8266 (about 4 JS variables, against about 11 for an object holding a typed array) and
// directly storable: 4 bytes big-endian count of bytes compressed, 32 bytes chaining value, then
// the pending bytes (< 64). shaNext/shaEnd never modify the state they are given, so a midstate
// (HMAC pads, a constant prefix) can be kept and reused. Pure module: no I/O, no Espruino globals.

export type ShaState = string;

// 64 round constants followed by the 8 initial hash words, big-endian, base64 (smaller than
// literals); decoded in a function so the decoded string is freed after boot.
function table(): Int32Array {
  const t = atob(
    "QoovmHE3RJG1wPvP6bXbpTlWwltZ8RHxkj+CpKscXtXYB6qYEoNbASQxhb5VDH3Dcr5ddIDesf6b3AanwZvxdOSbacHvvkeGD8GdxiQMocwt6SxvSnSEqlywqdx2+YjamD5RUqgxxm2wAyfIv1l/x8bgC/PVp5FHBspjURQpKWcntwqFLhshOE0sbfxTOA0TZQpzVHZqCruBwskuknIshaK/6KGoGmZLwkuLcMdsUaPRkugZ1pkGJPQONYUQaqBwGaTBFh43bAgnSHdMNLC8tTkcDLNO2KpKW5zKT2gub/N0j4LueKVjb4TIeBSMxwIIkL7/+qRQbOu++aP3xnF48moJ5me7Z66FPG7zcqVP9TpRDlJ/mwVojB+D2atb4M0Z"
  );
  const k = new Int32Array(72);
  for (let i = 0; i < 288; i++) k[i >> 2] = (k[i >> 2] << 8) | t.charCodeAt(i);
  return k;
}
const K = table();

// Compression-function calls since load (JS path only): the figure the bench and tests count.
export const SHA_STATS = { blocks: 0 };

// One compression of the 64 bytes of s at offset o into the chaining value x[1..8], with w as
// the message schedule. (x and w are allocated per shaNext call, not kept: on an ESP8266 a resident
// 64-word array would cost about 30 of the 1600 JS variables.) Shaped for Espruino, which re-reads the
// source as it runs (measured on its Linux build): separate while loops (a skipped if/else branch and
// a for header both cost), two rounds per iteration with the registers renamed instead of shifted.
function compress(x: Int32Array, w: Int32Array, s: string, o: number): void {
  const k = K;
  let t, u, i = 0, a, b, c, d, e, f, g, m;
  SHA_STATS.blocks++;
  while (i < 16) w[i++] = (s.charCodeAt(o++) << 24) | (s.charCodeAt(o++) << 16) | (s.charCodeAt(o++) << 8) | s.charCodeAt(o++);
  while (i < 64) {
    t = w[i - 15];
    u = w[i - 2];
    w[i] = (((t >>> 7) | (t << 25)) ^ ((t >>> 18) | (t << 14)) ^ (t >>> 3)) +
      (((u >>> 17) | (u << 15)) ^ ((u >>> 19) | (u << 13)) ^ (u >>> 10)) + w[i - 7] + w[i - 16] | 0;
    i++;
  }
  a = x[1];
  b = x[2];
  c = x[3];
  d = x[4];
  e = x[5];
  f = x[6];
  g = x[7];
  m = x[8];
  i = 0;
  while (i < 64) {
    t = w[i] + m + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + k[i++] | 0;
    m = (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b))) + t | 0;
    d = d + t | 0;
    t = w[i] + g + (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) + (f ^ (d & (e ^ f))) + k[i++] | 0;
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
  x[1] += a;
  x[2] += b;
  x[3] += c;
  x[4] += d;
  x[5] += e;
  x[6] += f;
  x[7] += g;
  x[8] += m;
}

// A new state: s (or the empty message when s is undefined) followed by the bytes d.
export function shaNext(s: ShaState | undefined, d: string): ShaState {
  const x = new Int32Array(9);
  const w = new Int32Array(64);
  let i;
  let o = 0;
  // x[0] = bytes compressed so far, x[1..8] = chaining value
  for (i = 0; i < 9; i++) {
    x[i] = s
      ? (s.charCodeAt(4 * i) << 24) | (s.charCodeAt(4 * i + 1) << 16) | (s.charCodeAt(4 * i + 2) << 8) | s.charCodeAt(4 * i + 3)
      : i ? K[63 + i] : 0;
  }
  const p = (s ? s.substr(36) : "") + d;
  for (; o + 64 <= p.length; o += 64) compress(x, w, p, o);
  x[0] += o;
  let r = "";
  for (i = 0; i < 9; i++) r += bytes(x[i]);
  return r + p.substr(o);
}

// The 32-byte digest (binary string) of s followed by d; s is left as it was.
export function shaEnd(s: ShaState | undefined, d: string): string {
  const l = (s ? (s.charCodeAt(1) << 16) + (s.charCodeAt(2) << 8) + s.charCodeAt(3) + s.length - 36 : 0) + d.length;
  // padding: 0x80, zeros, 64-bit big-endian bit length (messages < 16 MB: high words 0)
  return shaNext(s, d + "\x80" + "\0".repeat(((55 - l) & 63) + 4) + bytes(l * 8)).substr(4, 32);
}

// The 4 big-endian bytes of a 32-bit word, as a binary string.
export function bytes(x: number): string {
  return String.fromCharCode((x >>> 24) & 255, (x >> 16) & 255, (x >> 8) & 255, x & 255);
}

export function sha256(d: string): string {
  return shaEnd(undefined, d);
}

// Lowercase hex of a binary string.
export function toHex(s: string): string {
  let r = "";
  for (let i = 0; i < s.length; i++) r += (256 + s.charCodeAt(i)).toString(16).substr(1);
  return r;
}
