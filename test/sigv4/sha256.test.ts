import { createHash, createHmac } from "crypto";
import { sha256, shaNext, shaEnd, toHex, SHA_STATS } from "../../firmware/crypto/sha256";
import { JS_SHA256, hmac, hmacKey, nativeHash } from "../../firmware/crypto/hmac";
import { prng, randBin } from "./prng";

const bin = (s: string) => Buffer.from(s, "latin1");
const nodeSha = (s: string) => createHash("sha256").update(bin(s)).digest("hex");
const nodeHmac = (k: string, m: string) => createHmac("sha256", bin(k)).update(bin(m)).digest("hex");
const NATIVE = nativeHash((s) => createHash("sha256").update(bin(s)).digest().toString("latin1"));

describe("SHA-256 (TypeScript, Espruino subset)", () => {
  test("matches node:crypto for every length 0..300 with random binary content", () => {
    const r = prng(1);
    for (let n = 0; n <= 300; n++) {
      const s = randBin(r, n);
      expect(toHex(sha256(s))).toBe(nodeSha(s));
    }
  });

  test("block-boundary lengths, all-0xFF and all-0x80 bytes", () => {
    const r = prng(2);
    for (const n of [55, 56, 63, 64, 65, 119, 120, 127, 128, 1000]) {
      for (const s of [randBin(r, n), "\xff".repeat(n), "\x80".repeat(n), "\0".repeat(n)]) {
        expect(toHex(sha256(s))).toBe(nodeSha(s));
      }
    }
  });

  test("known answers", () => {
    expect(toHex(sha256(""))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(toHex(sha256("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  test("incremental updates in any split give the same digest and leave midstates untouched", () => {
    const r = prng(3);
    for (let k = 0; k < 100; k++) {
      const s = randBin(r, Math.floor(r() * 400));
      const cut1 = Math.floor(r() * s.length);
      const cut2 = cut1 + Math.floor(r() * (s.length - cut1));
      const a = shaNext(undefined, s.substring(0, cut1));
      const b = shaNext(a, s.substring(cut1, cut2));
      // a midstate is a binary string: 4-byte count of compressed bytes, 32-byte chaining value, pending bytes
      expect(b.length).toBe(36 + (cut2 % 64));
      expect(b.charCodeAt(3) + 256 * b.charCodeAt(2)).toBe(cut2 - (cut2 % 64));
      expect(toHex(shaEnd(b, s.substring(cut2)))).toBe(nodeSha(s));
      expect(toHex(shaEnd(b, s.substring(cut2)))).toBe(nodeSha(s)); // reusable
      expect(toHex(shaEnd(Buffer.from(b, "latin1").toString("latin1"), s.substring(cut2)))).toBe(nodeSha(s)); // storable
    }
  });

  test("counts one compression per 64-byte block", () => {
    SHA_STATS.blocks = 0;
    sha256("x".repeat(55));
    expect(SHA_STATS.blocks).toBe(1);
    SHA_STATS.blocks = 0;
    sha256("x".repeat(56));
    expect(SHA_STATS.blocks).toBe(2);
    SHA_STATS.blocks = 0;
    shaEnd(shaNext(undefined, "x".repeat(64)), "y".repeat(10));
    expect(SHA_STATS.blocks).toBe(2);
  });
});

describe("HMAC-SHA256", () => {
  test("matches node:crypto for keys shorter than, equal to and longer than 64 bytes", () => {
    const r = prng(4);
    for (const kl of [0, 1, 20, 32, 63, 64, 65, 100, 200]) {
      for (const ml of [0, 8, 55, 56, 64, 150, 300]) {
        const k = randBin(r, kl);
        const m = randBin(r, ml);
        expect(toHex(hmac(JS_SHA256, hmacKey(JS_SHA256, k), m))).toBe(nodeHmac(k, m));
        expect(toHex(hmac(NATIVE, hmacKey(NATIVE, k), m))).toBe(nodeHmac(k, m));
      }
    }
  });

  test("a keyed state is reusable: each later MAC costs message blocks + 1 outer block", () => {
    const k = hmacKey(JS_SHA256, "key");
    SHA_STATS.blocks = 0;
    expect(toHex(hmac(JS_SHA256, k, "a"))).toBe(nodeHmac("key", "a"));
    expect(SHA_STATS.blocks).toBe(2);
    expect(toHex(hmac(JS_SHA256, k, "b"))).toBe(nodeHmac("key", "b"));
  });
});
