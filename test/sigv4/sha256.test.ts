import { createHash, createHmac } from "crypto";
import { sha256Hex, shaKit, SHA_STATS, SHA_START, SHA_LOAD, SHA_SAVE, SHA_FEED, SHA_END, HMAC_PADS, HMAC_END } from "../../firmware/crypto/sha256";
import { prng, randBin } from "./prng";

const bin = (s: string) => Buffer.from(s, "latin1");
const nodeSha = (s: string) => createHash("sha256").update(bin(s)).digest("hex");
const nodeHmac = (k: string | Buffer, m: string) => createHmac("sha256", typeof k === "string" ? bin(k) : k).update(bin(m)).digest("hex");

describe("SHA-256 (TypeScript, Espruino subset)", () => {
  test("matches node:crypto for every length 0..300 with random binary content", () => {
    const r = prng(1);
    for (let n = 0; n <= 300; n++) {
      const s = randBin(r, n);
      expect(sha256Hex(s)).toBe(nodeSha(s));
    }
  });

  test("block-boundary lengths, all-0xFF and all-0x80 bytes", () => {
    const r = prng(2);
    for (const n of [55, 56, 63, 64, 65, 119, 120, 127, 128, 1000]) {
      for (const s of [randBin(r, n), "\xff".repeat(n), "\x80".repeat(n), "\0".repeat(n)]) {
        expect(sha256Hex(s)).toBe(nodeSha(s));
      }
    }
  });

  test("known answers", () => {
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  test("one engine hashes many messages: SHA_START starts again from the IV", () => {
    const r = prng(6);
    const h = shaKit();
    for (let k = 0; k < 50; k++) {
      const s = randBin(r, Math.floor(r() * 200));
      h(SHA_START);
      h(SHA_FEED, s);
      expect(h(SHA_END, 1)).toBe(nodeSha(s));
    }
  });

  test("incremental feeds in any split (whole pieces or ranges) give the same digest", () => {
    const r = prng(3);
    const h = shaKit();
    for (let k = 0; k < 100; k++) {
      const s = randBin(r, Math.floor(r() * 400));
      const cut1 = Math.floor(r() * s.length);
      const cut2 = cut1 + Math.floor(r() * (s.length - cut1));
      h(SHA_START);
      h(SHA_FEED, s.substring(0, cut1));
      h(SHA_FEED, s, cut1, cut2 - cut1); // a range of s, no substring needed
      h(SHA_FEED, s.substring(cut2));
      expect(h(SHA_END, 1)).toBe(nodeSha(s));
    }
  });

  test("a saved state (midstate) is reusable, copyable and leaves the saved words untouched", () => {
    const r = prng(4);
    const h = shaKit();
    for (let k = 0; k < 100; k++) {
      const s = randBin(r, Math.floor(r() * 400));
      const cut = Math.floor(r() * s.length);
      const store = new Int32Array(40);
      const at = Math.floor(r() * 14);
      h(SHA_START);
      h(SHA_FEED, s.substring(0, cut));
      h(SHA_SAVE, store, at);
      // the state: 8 chaining words, bytes compressed, bytes pending, then the pending words
      expect(store[at + 8]).toBe(cut - (cut % 64));
      expect(store[at + 9]).toBe(cut % 64);
      const saved = store.slice();
      for (let rep = 0; rep < 2; rep++) {
        h(SHA_LOAD, store, at);
        h(SHA_FEED, s.substring(cut));
        expect(h(SHA_END, 1)).toBe(nodeSha(s));
      }
      expect(Array.from(store)).toEqual(Array.from(saved));
      // storable as plain data: a copy restores the same state
      const other = shaKit();
      other(SHA_LOAD, Int32Array.from(saved), at);
      other(SHA_FEED, s.substring(cut));
      expect(other(SHA_END, 1)).toBe(nodeSha(s));
    }
  });

  test("counts one compression per 64-byte block", () => {
    const h = shaKit();
    SHA_STATS.blocks = 0;
    h(SHA_START);
    h(SHA_FEED, "x".repeat(55));
    h(SHA_END);
    expect(SHA_STATS.blocks).toBe(1);
    SHA_STATS.blocks = 0;
    h(SHA_START);
    h(SHA_FEED, "x".repeat(56));
    h(SHA_END);
    expect(SHA_STATS.blocks).toBe(2);
    SHA_STATS.blocks = 0;
    h(SHA_START);
    h(SHA_FEED, "x".repeat(64));
    h(SHA_FEED, "y".repeat(10));
    h(SHA_END);
    expect(SHA_STATS.blocks).toBe(2);
  });
});

describe("HMAC-SHA256", () => {
  function mac(h: ReturnType<typeof shaKit>, pads: Int32Array, at: number, m: string): string {
    h(SHA_START, pads, at);
    h(SHA_FEED, m);
    h(SHA_END);
    return h(HMAC_END, pads, at, 1);
  }

  test("matches node:crypto for keys shorter than, equal to and longer than 64 bytes", () => {
    const r = prng(4);
    const h = shaKit();
    const pads = new Int32Array(16);
    for (const kl of [0, 1, 20, 32, 44, 63, 64, 65, 100, 200]) {
      for (const ml of [0, 8, 55, 56, 64, 150, 300]) {
        const k = randBin(r, kl);
        const m = randBin(r, ml);
        h(HMAC_PADS, pads, 0, k);
        expect(mac(h, pads, 0, m)).toBe(nodeHmac(k, m));
      }
    }
  });

  test("a MAC is the next key without leaving the words: the SigV4 key chain matches node:crypto", () => {
    const r = prng(8);
    const h = shaKit();
    const pads = new Int32Array(48);
    for (let k = 0; k < 20; k++) {
      const secret = randBin(r, 40);
      const msgs = [randBin(r, 8), randBin(r, 9), randBin(r, 16), randBin(r, 12), randBin(r, 150)];
      let want: Buffer = bin("AWS4" + secret);
      h(HMAC_PADS, pads, 32, "AWS4" + secret);
      let at = 32;
      for (const m of msgs) {
        want = createHmac("sha256", want).update(bin(m)).digest();
        expect(mac(h, pads, at, m)).toBe(want.toString("hex"));
        h(HMAC_PADS, pads, (at = 16 * Math.floor(r() * 2))); // key = the MAC the state now holds
      }
    }
  });

  test("keyed pads are reusable: each later MAC costs the message blocks + 1 outer block", () => {
    const h = shaKit();
    const pads = new Int32Array(16);
    h(HMAC_PADS, pads, 0, "key");
    SHA_STATS.blocks = 0;
    expect(mac(h, pads, 0, "a")).toBe(nodeHmac("key", "a"));
    expect(SHA_STATS.blocks).toBe(2);
    expect(mac(h, pads, 0, "b")).toBe(nodeHmac("key", "b"));
    expect(mac(h, pads, 0, "x".repeat(100))).toBe(nodeHmac("key", "x".repeat(100)));
  });
});
