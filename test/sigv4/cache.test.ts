import { blocks as blocksNow } from "../../firmware/crypto/sha256";
import { amzDate, presign, presignJob, signCache, MqttSignConfig, SignCache } from "../../firmware/aws/sigv4";
import { signUrl } from "../../firmware/crypto/select";
import { NATIVE, refUrl, rfc3986 } from "./ref";
import { prng } from "./prng";

// A typical AWS IoT endpoint and IAM user key.
const CFG: MqttSignConfig = {
  host: "a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com",
  region: "eu-west-1",
  akid: "AKIAIOSFODNN7EXAMPLE",
  secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const T0 = 1767225600 + 3600; // 2026-01-01T01:00:00Z

function blocks(fn: () => unknown): number {
  const b0 = blocksNow;
  fn();
  return blocksNow - b0;
}

describe("compression blocks per presign (TypeScript SHA-256)", () => {
  test("cold 28, warm (same day) 8 for a typical endpoint", () => {
    const c = signCache();
    expect(blocks(() => presign(c, CFG, T0))).toBe(28);
    expect(blocks(() => presign(c, CFG, T0 + 60))).toBe(8);
    expect(blocks(() => presign(c, CFG, T0 + 22 * 3600))).toBe(8);
    // with a session token and an expiry the warm cost is the same (the token is not hashed)
    const withToken = { ...CFG, token: "FQoGZXIvYXdzE".repeat(60), expires: 86400 };
    expect(blocks(() => presign(c, withToken, T0 + 120))).toBe(8);
  });

  test("a new UTC day re-derives the signing key (26: the secret pads stay cached)", () => {
    const c = signCache();
    presign(c, CFG, T0);
    expect(blocks(() => presign(c, CFG, T0 + 23 * 3600 - 1))).toBe(8); // 23:59:59 same day
    expect(blocks(() => presign(c, CFG, T0 + 23 * 3600))).toBe(26); // 00:00:00 next day
    expect(blocks(() => presign(c, CFG, T0 + 23 * 3600 + 5))).toBe(8);
  });

  test("a different region or secret invalidates the day cache; the URL stays right", () => {
    const c = signCache();
    presign(c, CFG, T0);
    const other = { ...CFG, region: "us-east-1", host: "a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com" };
    expect(blocks(() => presign(c, other, T0))).toBe(26);
    expect(presign(c, other, T0)).toBe(presign(signCache(), other, T0));
    const rotated = { ...other, secret: "AnotherSecretKey/+=0123456789abcdefghijk" };
    // new secret: pads + key derivation again (18), the canonical prefix (same AKID) stays cached
    expect(blocks(() => presign(c, rotated, T0))).toBe(26);
    expect(presign(c, rotated, T0)).toBe(presign(signCache(), rotated, T0));
    // back to the first credentials: everything recomputed, and correct
    expect(presign(c, CFG, T0)).toBe(presign(signCache(), CFG, T0));
    // a new access key id changes only the canonical prefix
    const newAkid = { ...CFG, akid: "AKIAI44QH8DHBEXAMPLE" };
    expect(blocks(() => presign(c, newAkid, T0))).toBe(10);
    expect(presign(c, newAkid, T0)).toBe(refUrl(newAkid, amzDate(T0)));
  });

  test("what stays between presigns: an Int32Array(43), or with a native SHA-256 the function alone", () => {
    const c = signCache();
    expect(c).toBeInstanceOf(Int32Array);
    expect((c as Int32Array).length).toBe(43);
    presign(c, CFG, T0);
    expect(signCache(NATIVE)).toBe(NATIVE);
    expect(presign(NATIVE, CFG, T0)).toBe(presign(c, CFG, T0));
    expect(Object.keys(NATIVE)).toEqual([]); // nothing stored on it
  });
});

describe("the URL", () => {
  test("amzDate matches Date for random instants 1970..2100", () => {
    const r = prng(11);
    for (let i = 0; i < 2000; i++) {
      const t = Math.floor(r() * 4102444800);
      const iso = new Date(t * 1000).toISOString();
      expect(amzDate(t)).toBe(iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 13) + iso.slice(14, 16) + iso.slice(17, 19) + "Z");
    }
    expect(amzDate(951782400)).toBe("20000229T000000Z");
    expect(amzDate(1767225599.9)).toBe("20251231T235959Z");
  });

  test("RFC 3986 with uppercase hex: only A-Za-z0-9-_.~ stay (token and credential)", () => {
    let ascii = "";
    for (let i = 32; i < 127; i++) ascii += String.fromCharCode(i);
    const cfg = { ...CFG, token: ascii, akid: "AK+/=!*'()~_-.@:" };
    const url = presign(signCache(), cfg, T0);
    expect(url.endsWith("&X-Amz-Security-Token=" + rfc3986(ascii))).toBe(true);
    expect(rfc3986("a/b+c=d e!*'()@:")).toBe("a%2Fb%2Bc%3Dd%20e%21%2A%27%28%29%40%3A");
    expect(url).toContain("X-Amz-Credential=AK%2B%2F%3D%21%2A%27%28%29~_-.%40%3A%2F20260101%2F");
    expect(url).toBe(refUrl(cfg, amzDate(T0)));
  });

  test("Host carries the port only when it is not 443", () => {
    expect(presign(signCache(), { ...CFG, port: 443 }, T0).startsWith("wss://" + CFG.host + "/mqtt?")).toBe(true);
    const u = presign(signCache(), { ...CFG, port: 8443 }, T0);
    expect(u.startsWith("wss://" + CFG.host + ":8443/mqtt?")).toBe(true);
    expect(u).toBe(refUrl({ ...CFG, port: 8443 }, amzDate(T0)));
  });
});

describe("stepped presign (watchdog friendly) and the clock guard", () => {
  // Runs every queued callback, counting the compression blocks each one does.
  function drain(queue: (() => void)[]) {
    let steps = 0;
    let maxBlocks = 0;
    let total = 0;
    while (queue.length) {
      const b0 = blocksNow;
      queue.shift()!();
      steps++;
      total += blocksNow - b0;
      maxBlocks = Math.max(maxBlocks, blocksNow - b0);
    }
    return { steps, maxBlocks, blocks: total };
  }

  // The device's API: signUrl(cache, cfg, t, cb) on setTimeout(..., 0) callbacks.
  function runSignUrl(c: SignCache, cfg: MqttSignConfig, t: number) {
    const queue: (() => void)[] = [];
    const spy = jest.spyOn(global, "setTimeout").mockImplementation(((fn: () => void) => queue.push(fn)) as never);
    let result: { err: string | null; url?: string } | undefined;
    try {
      signUrl(c, cfg, t, (err, url) => {
        result = { err, url };
      });
      expect(result).toBeUndefined(); // never synchronously
      return { ...drain(queue), r: result! };
    } finally {
      spy.mockRestore();
    }
  }

  test("signUrl gives the sync presign's URL, cold and warm, at most 2 blocks per timer callback", () => {
    const r = prng(5);
    const ca = signCache();
    const cs = signCache();
    for (let i = 0; i < 30; i++) {
      const cfg = { ...CFG, port: i % 4 ? 443 : 8443, token: i % 2 ? "tok/+=" + i : undefined, expires: i % 3 ? 3600 : undefined };
      const t = T0 + Math.floor(r() * 5 * 86400);
      const a = runSignUrl(ca, cfg, t);
      expect(a.r.err).toBeNull();
      expect(a.r.url).toBe(presign(cs, cfg, t));
      expect(a.maxBlocks).toBeLessThanOrEqual(2);
    }
    const c = signCache();
    const cold = runSignUrl(c, CFG, T0);
    expect([cold.steps, cold.blocks, cold.maxBlocks]).toEqual([14, 28, 2]);
    const warm = runSignUrl(c, CFG, T0 + 5);
    expect([warm.steps, warm.blocks, warm.maxBlocks]).toEqual([4, 8, 2]);
    const nextDay = runSignUrl(c, CFG, T0 + 86400);
    expect([nextDay.blocks, nextDay.maxBlocks]).toEqual([26, 2]);
    // a native SHA-256: one callback, no JS blocks
    const nat = runSignUrl(NATIVE, CFG, T0);
    expect([nat.steps, nat.blocks, nat.r.url]).toEqual([1, 0, presign(c, CFG, T0)]);
  });

  test("refuses to sign before 2024 with a plain error through the callback, never synchronously; the cache survives", () => {
    const c = signCache();
    for (const t of [0, 12, 1704067199, NaN]) {
      const g = runSignUrl(c, CFG, t);
      expect([g.r.err, g.r.url, g.blocks]).toEqual(["clock not set (before 2024)", undefined, 0]);
    }
    expect(runSignUrl(c, CFG, 1704067200).r.url).toContain("X-Amz-Date=20240101T000000Z");
    expect(runSignUrl(c, CFG, T0).r.url).toBe(presign(signCache(), CFG, T0));
    const warm = runSignUrl(c, CFG, T0 + 1);
    expect(warm.r.url).toBe(presign(signCache(), CFG, T0 + 1));
    expect(warm.blocks).toBe(8);
  });

  test("presignJob: each call does at most 2 blocks; a finished job returns its URL again", () => {
    const c = signCache();
    for (const t of [T0, T0 + 7, T0 + 86400 * 3]) {
      const j = presignJob(c, CFG, amzDate(t));
      let u: string | undefined;
      let calls = 0;
      while (!u) {
        const b0 = blocksNow;
        u = j();
        calls++;
        expect(blocksNow - b0).toBeLessThanOrEqual(2);
        expect(calls).toBeLessThan(20);
      }
      expect(u).toBe(refUrl(CFG, amzDate(t)));
      const b0 = blocksNow;
      expect(j()).toBe(u);
      expect(blocksNow).toBe(b0);
    }
  });

  test("an abandoned presign leaves a cache that still signs right", () => {
    const r = prng(12);
    for (let k = 0; k < 60; k++) {
      const c = signCache();
      const cfgs = [CFG, { ...CFG, akid: "AKIAI44QH8DHBEXAMPLE" }, { ...CFG, secret: "Other/Secret+Key=0123456789abcdefghijklm" }, { ...CFG, region: "us-east-1" }];
      // a few presigns stopped after a random number of steps, with random inputs and days
      for (let n = 0; n < 3; n++) {
        const j = presignJob(c, cfgs[Math.floor(r() * 4)], amzDate(T0 + Math.floor(r() * 3) * 86400));
        const stop = Math.floor(r() * 16);
        for (let s = 0; s < stop && !j(); s++);
      }
      const cfg = cfgs[Math.floor(r() * 4)];
      const t = T0 + Math.floor(r() * 3) * 86400 + 99;
      expect(presign(c, cfg, t)).toBe(refUrl(cfg, amzDate(t)));
    }
  });
});
