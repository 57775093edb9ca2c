import { shaKit, blocks } from "../../firmware/crypto/sha256";
import { presign, signCache, SignInput } from "../../firmware/aws/sigv4";
import { nodeSha, NATIVE, refUrl } from "./ref";
import { prng, randBin, randStr } from "./prng";

const hexOf = (s: Int32Array) => Array.from(s, (w) => (w >>> 0).toString(16).padStart(8, "0")).join("");

// A whole message through the compression function, as its contract says: z(s), then each block.
function sha(m: string, z = shaKit(), s = new Int32Array(8)): string {
  z(s);
  for (let p = 0; p < ((m.length + 72) & -64); p += 64) z(s, m, p, 0);
  return hexOf(s);
}

describe("SHA-256 (TypeScript, Espruino subset)", () => {
  test("matches node:crypto for every length 0..300 with random binary content", () => {
    const r = prng(1);
    const z = shaKit();
    for (let n = 0; n <= 300; n++) {
      const s = randBin(r, n);
      expect(sha(s, z)).toBe(nodeSha(s));
    }
  });

  test("block-boundary lengths, all-0xFF, all-0x80 and all-zero bytes", () => {
    const r = prng(2);
    for (const n of [55, 56, 63, 64, 65, 119, 120, 127, 128, 1000]) {
      for (const s of [randBin(r, n), "\xff".repeat(n), "\x80".repeat(n), "\0".repeat(n)]) expect(sha(s)).toBe(nodeSha(s));
    }
  });

  test("known answers (FIPS 180-4 examples)", () => {
    expect(sha("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toBe("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  });

  test("a hash continues from a chaining value saved at a block boundary, in any engine; e counts bytes hashed before", () => {
    const r = prng(4);
    for (let k = 0; k < 100; k++) {
      const m = randBin(r, Math.floor(r() * 400));
      const cut = 64 * Math.floor((r() * m.length) / 64);
      const z = shaKit();
      const s = new Int32Array(8);
      z(s);
      for (let p = 0; p < cut; p += 64) z(s, m, p, 0);
      const saved = s.slice();
      // continue in another engine from a copy, at the block after the cut
      const z2 = shaKit();
      const s2 = Int32Array.from(saved);
      for (let p = cut; p < ((m.length + 72) & -64); p += 64) z2(s2, m, p, 0);
      expect(hexOf(s2)).toBe(nodeSha(m));
      // or hash only the rest as its own message with e = bytes already hashed (an HMAC pad block: 64)
      if (cut === 64) {
        const rest = m.slice(64);
        const s3 = Int32Array.from(saved);
        for (let p = 0; p < ((rest.length + 72) & -64); p += 64) z(s3, rest, p, 64);
        expect(hexOf(s3)).toBe(nodeSha(m));
      }
    }
  });

  test("counts one compression per 64-byte block (padding included)", () => {
    for (const [n, want] of [[0, 1], [55, 1], [56, 2], [64, 2], [119, 2], [120, 3]]) {
      const b0 = blocks;
      sha("x".repeat(n));
      expect([n, blocks - b0]).toEqual([n, want]);
    }
  });

  test("the computed constants are exact also with Espruino's pow and sqrt (exp(log(x) * y)), even 200 ulps off", () => {
    const { pow, sqrt } = Math;
    const m = "The quick brown fox jumps over the lazy dog".repeat(5);
    try {
      for (const f of [1, 1 + 2e-14 * 2, 1 - 2e-14 * 2]) {
        Math.pow = (x: number, y: number) => Math.exp(Math.log(x) * y) * f;
        Math.sqrt = (x: number) => Math.exp(Math.log(x) * 0.5) * f;
        const z = shaKit();
        Math.pow = pow;
        Math.sqrt = sqrt;
        expect(sha(m, z)).toBe(nodeSha(m));
      }
    } finally {
      Math.pow = pow;
      Math.sqrt = sqrt;
    }
  });
});

// The signer's HMAC (key pads as chaining values, a MAC as the next key) through SigV4: every
// presign is 5 chained HMACs, so a URL equal to node:crypto's is an HMAC equal to node:crypto's.
describe("HMAC-SHA256 (the signer's, through SigV4)", () => {
  const BASE: SignInput = { host: "h.example", region: "eu-west-1", akid: "AKIAEXAMPLE", secret: "" };
  const T = "20260101T010000Z";

  test("keys shorter than, equal to and longer than 64 bytes (\"AWS4\" + secret of 0..140 bytes), TypeScript and native SHA-256", () => {
    const r = prng(8);
    for (let n = 0; n <= 140; n++) {
      const cfg = { ...BASE, secret: randBin(r, n) };
      expect(presign(signCache(), cfg, T)).toBe(refUrl(cfg, T));
      if (n % 7 === 0 || n === 60) expect(presign(signCache(NATIVE), cfg, T)).toBe(refUrl(cfg, T));
    }
  });

  test("messages of every length around the block boundaries (region and service of 1..150 bytes)", () => {
    const r = prng(9);
    const c = signCache();
    for (let n = 1; n <= 150; n++) {
      const cfg = { ...BASE, secret: randStr(r, 40, "abcXYZ/+=0189"), region: randStr(r, n, "abcdefghij-0123"), service: randStr(r, 151 - n, "abcdefghij") };
      expect(presign(c, cfg, T)).toBe(refUrl(cfg, T));
    }
  });
});
