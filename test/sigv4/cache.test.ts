import { SHA_STATS } from "../../firmware/crypto/sha256";
import { amzDate, mqttRequest, presignAsync, presignJob, presignMqttUrl, signCache, uriEncode, MqttSignConfig, SignCache } from "../../firmware/aws/sigv4";
import { signUrl } from "../../firmware/crypto/select";
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
  SHA_STATS.blocks = 0;
  fn();
  return SHA_STATS.blocks;
}

describe("compression blocks per presign (TypeScript SHA-256)", () => {
  test("cold 28, warm (same day) 8 for a typical endpoint", () => {
    const c: SignCache = {};
    expect(blocks(() => presignMqttUrl(c, CFG, T0))).toBe(28);
    expect(blocks(() => presignMqttUrl(c, CFG, T0 + 60))).toBe(8);
    expect(blocks(() => presignMqttUrl(c, CFG, T0 + 22 * 3600))).toBe(8);
    // with a session token and an expiry the warm cost is the same (the token is not hashed)
    const withToken = { ...CFG, token: "FQoGZXIvYXdzE".repeat(60), expires: 86400 };
    expect(blocks(() => presignMqttUrl(c, withToken, T0 + 120))).toBe(8);
  });

  test("a new UTC day re-derives the signing key (26: the secret pads stay cached)", () => {
    const c: SignCache = {};
    presignMqttUrl(c, CFG, T0);
    expect(blocks(() => presignMqttUrl(c, CFG, T0 + 23 * 3600 - 1))).toBe(8); // 23:59:59 same day
    expect(blocks(() => presignMqttUrl(c, CFG, T0 + 23 * 3600))).toBe(26); // 00:00:00 next day
    expect(blocks(() => presignMqttUrl(c, CFG, T0 + 23 * 3600 + 5))).toBe(8);
  });

  test("a different region or secret invalidates the day cache; the URL stays right", () => {
    const c: SignCache = {};
    presignMqttUrl(c, CFG, T0);
    const other = { ...CFG, region: "us-east-1", host: "a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com" };
    expect(blocks(() => presignMqttUrl(c, other, T0))).toBe(26);
    expect(presignMqttUrl(c, other, T0)).toBe(presignMqttUrl({}, other, T0));
    const rotated = { ...other, secret: "AnotherSecretKey/+=0123456789abcdefghijk" };
    // new secret: pads + key derivation again (18), the canonical prefix (same AKID) stays cached
    expect(blocks(() => presignMqttUrl(c, rotated, T0))).toBe(26);
    expect(presignMqttUrl(c, rotated, T0)).toBe(presignMqttUrl({}, rotated, T0));
    // back to the first credentials: everything recomputed, and correct
    expect(presignMqttUrl(c, CFG, T0)).toBe(presignMqttUrl({}, CFG, T0));
    // a new access key id changes only the canonical prefix
    const newAkid = { ...CFG, akid: "AKIAI44QH8DHBEXAMPLE" };
    expect(blocks(() => presignMqttUrl(c, newAkid, T0))).toBe(10);
    expect(presignMqttUrl(c, newAkid, T0)).toBe(presignMqttUrl({}, newAkid, T0));
  });
});

describe("clock guard and input checks", () => {
  test("refuses to sign before 2024 with a clear error", () => {
    const c: SignCache = {};
    expect(() => presignMqttUrl(c, CFG, 12)).toThrow("clock not set (year 1970): waiting for SNTP");
    expect(() => presignMqttUrl(c, CFG, 1704067199)).toThrow("clock not set (year 2023): waiting for SNTP");
    expect(() => presignMqttUrl(c, CFG, NaN)).toThrow(/clock not set/);
    expect(presignMqttUrl(c, CFG, 1704067200)).toContain("X-Amz-Date=20240101T000000Z");
  });

  test("bad input gets a plain-words error", () => {
    const c: SignCache = {};
    expect(() => presignMqttUrl(c, { ...CFG, secret: "" }, T0)).toThrow("sigv4: secret is missing");
    expect(() => presignMqttUrl(c, { ...CFG, host: undefined as never }, T0)).toThrow("sigv4: host is missing");
    expect(() => presignMqttUrl(c, { ...CFG, expires: 0 }, T0)).toThrow(/expires must be a whole number/);
    expect(() => presignMqttUrl(c, { ...CFG, expires: 1.5 }, T0)).toThrow(/expires must be a whole number/);
    expect(() => presignMqttUrl(c, CFG, "2025-01-01T00:00:00Z")).toThrow("sigv4: date must be YYYYMMDDTHHMMSSZ");
    // and the cache still works afterwards
    expect(presignMqttUrl(c, CFG, T0)).toBe(presignMqttUrl({}, CFG, T0));
  });
});

describe("helpers", () => {
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

  test("uriEncode is RFC 3986 with uppercase hex", () => {
    expect(uriEncode("AZaz09-_.~")).toBe("AZaz09-_.~");
    expect(uriEncode("a/b+c=d e!*'()@:")).toBe("a%2Fb%2Bc%3Dd%20e%21%2A%27%28%29%40%3A");
  });

  test("Host carries the port only when it is not 443", () => {
    expect(mqttRequest({ ...CFG, port: 443 }).host).toBe(CFG.host);
    expect(mqttRequest({ ...CFG, port: 8443 }).host).toBe(CFG.host + ":8443");
    expect(presignMqttUrl({}, { ...CFG, port: 8443 }, T0).startsWith("wss://" + CFG.host + ":8443/mqtt?")).toBe(true);
  });
});

describe("stepped presign (watchdog friendly)", () => {
  // Runs every queued callback, counting the compression blocks each one does.
  function drain(queue: (() => void)[]) {
    let steps = 0;
    let maxBlocks = 0;
    let blocks = 0;
    while (queue.length) {
      SHA_STATS.blocks = 0;
      queue.shift()!();
      steps++;
      blocks += SHA_STATS.blocks;
      maxBlocks = Math.max(maxBlocks, SHA_STATS.blocks);
    }
    return { steps, maxBlocks, blocks };
  }

  // The device's API: signUrl(cache, cfg, when, cb) on setTimeout(..., 0) callbacks.
  function runSignUrl(c: SignCache, cfg: MqttSignConfig, t: number) {
    const queue: (() => void)[] = [];
    const spy = jest.spyOn(global, "setTimeout").mockImplementation(((fn: () => void) => queue.push(fn)) as never);
    let result: { err: string | null; url?: string } | undefined;
    try {
      signUrl(c, cfg, t, (err, url) => {
        result = { err, url };
      });
      expect(result).toBeUndefined(); // never synchronously
      return { result: result as { err: string | null; url?: string } | undefined, ...drain(queue), get r() { return result!; } };
    } finally {
      spy.mockRestore();
    }
  }

  test("signUrl gives the sync presign's URL, cold and warm, at most 2 blocks per timer callback", () => {
    const r = prng(5);
    const ca: SignCache = {};
    const cs: SignCache = {};
    for (let i = 0; i < 30; i++) {
      const cfg = { ...CFG, port: i % 4 ? 443 : 8443, token: i % 2 ? "tok/+=" + i : undefined, expires: i % 3 ? 3600 : undefined };
      const t = T0 + Math.floor(r() * 5 * 86400);
      const a = runSignUrl(ca, cfg, t);
      expect(a.r.err).toBeNull();
      expect(a.r.url).toBe(presignMqttUrl(cs, cfg, t));
      expect(a.maxBlocks).toBeLessThanOrEqual(2);
    }
    const c: SignCache = {};
    const cold = runSignUrl(c, CFG, T0);
    expect([cold.steps, cold.blocks, cold.maxBlocks]).toEqual([15, 28, 2]);
    const warm = runSignUrl(c, CFG, T0 + 5);
    expect([warm.steps, warm.blocks, warm.maxBlocks]).toEqual([5, 8, 2]);
    const nextDay = runSignUrl(c, CFG, T0 + 86400);
    expect([nextDay.blocks, nextDay.maxBlocks]).toEqual([26, 2]);
  });

  test("signUrl: errors arrive through the callback in plain words, never synchronously; the cache survives", () => {
    const c: SignCache = {};
    expect(runSignUrl(c, CFG, 0).r.err).toBe("clock not set (year 1970): waiting for SNTP");
    expect(runSignUrl(c, { ...CFG, secret: "" }, T0).r.err).toBe("sigv4: secret is missing");
    expect(runSignUrl(c, CFG, T0).r.url).toBe(presignMqttUrl({}, CFG, T0));
    expect(runSignUrl(c, { ...CFG, expires: -1 }, T0).r.err).toMatch(/expires must be a whole number/);
    const warm = runSignUrl(c, CFG, T0 + 1);
    expect(warm.r.url).toBe(presignMqttUrl({}, CFG, T0 + 1));
    expect(warm.blocks).toBe(8);
  });

  test("presignJob: each call does at most 2 blocks; a finished job returns its URL once", () => {
    const c: SignCache = {};
    for (const t of [T0, T0 + 7, T0 + 86400 * 3]) {
      const j = presignJob(c, CFG, t);
      let u: string | undefined;
      let calls = 0;
      while (!u) {
        SHA_STATS.blocks = 0;
        u = j();
        calls++;
        expect(SHA_STATS.blocks).toBeLessThanOrEqual(2);
        expect(calls).toBeLessThan(20);
      }
      expect(u).toBe("/mqtt" + presignMqttUrl({}, CFG, t).split("/mqtt")[1]);
      expect(j()).toBeUndefined();
    }
  });

  test("an abandoned presign leaves a cache that still signs right", () => {
    const r = prng(12);
    for (let k = 0; k < 40; k++) {
      const c: SignCache = {};
      const cfgs = [CFG, { ...CFG, akid: "AKIAI44QH8DHBEXAMPLE" }, { ...CFG, secret: "Other/Secret+Key=0123456789abcdefghijklm" }, { ...CFG, region: "us-east-1" }];
      // a few presigns stopped after a random number of steps, with random inputs and days
      for (let n = 0; n < 3; n++) {
        const j = presignJob(c, cfgs[Math.floor(r() * 4)], T0 + Math.floor(r() * 3) * 86400);
        const stop = Math.floor(r() * 16);
        for (let s = 0; s < stop && !j(); s++);
      }
      const cfg = cfgs[Math.floor(r() * 4)];
      const t = T0 + Math.floor(r() * 3) * 86400 + 99;
      expect(presignMqttUrl(c, cfg, t)).toBe(presignMqttUrl({}, cfg, t));
    }
  });

  test("the older presignAsync(signCache(...), mqttRequest(cfg), ...) still works (shim)", () => {
    const queue: (() => void)[] = [];
    const c = signCache(undefined);
    let res: { err: Error | null; url?: string } | undefined;
    presignAsync(c, mqttRequest(CFG), T0, (fn) => queue.push(fn), (err, url) => {
      res = { err, url };
    });
    expect(res).toBeUndefined();
    const d = drain(queue);
    expect(res!.err).toBeNull();
    expect("wss://" + CFG.host + res!.url).toBe(presignMqttUrl({}, CFG, T0));
    expect([d.steps, d.blocks, d.maxBlocks]).toEqual([14, 28, 2]);
    let err: Error | null = null;
    presignAsync(signCache(), mqttRequest(CFG), 0, (fn) => queue.push(fn), (e) => {
      err = e;
    });
    expect(err).toBeNull();
    queue.shift()!();
    expect(String(err)).toContain("clock not set (year 1970)");
  });
});
