// Device adapter for signing (the only crypto/aws file that touches Espruino globals): picks the
// SHA-256 once at boot (the board's native one on ESP32, the TypeScript one on ESP8266), guards the
// clock and runs the signing steps on timer callbacks so the watchdog is fed between them.
//
//   const sc = bootCache();                           // once at boot
//   signUrl(sc, cfg, getTime() + corr, (err, url) => { ... });   // each connection attempt
import { Cache, MqttSignConfig, NativeSha, SignCache, amzDate, presignJob, signCache } from "../aws/sigv4";

// The one Espruino global used here, declared for this module so that the Node-side tests (which
// run signUrl with Node's setTimeout and require) type-check it as well.
declare const E: { toString(d: ArrayBuffer): string };

const enum Clock {
  Earliest = 1704067200, // 2024-01-01T00:00:00Z: an earlier clock has not been set by SNTP
}

// The board's native SHA-256 (ESP32) as binary string -> 32-byte binary string, else undefined
// (ESP8266: the TypeScript SHA-256 is used). Give it to signCache() once at boot.
export function bootHash(): NativeSha | undefined {
  let nativeSha256: ((data: string) => ArrayBuffer) | undefined;
  try {
    nativeSha256 = require("crypto").SHA256;
  } catch (e) {
    // no crypto module at all
  }
  return nativeSha256 && ((s: string) => E.toString(nativeSha256!(s)));
}

// The signing cache for this board, warm when Storage holds one ("iot.sc", 172 bytes): a reboot on
// the same UTC day then signs with 8 SHA-256 blocks instead of 28. It is derived from the secret
// that iot.json already holds (no new exposure); its checksums (see Cache) make a cache of other
// credentials, region or day miss, and the next presign overwrites it.
export function bootCache(): SignCache {
  const cache: any = signCache(bootHash());
  try {
    cache.set(new Int32Array(require("Storage").readArrayBuffer("iot.sc") as any)); // (no file: nothing; ESP32: no set)
  } catch (e) {}
  return cache;
}

// Signs the AWS IoT WebSocket URL for cfg (the device config: host, port, region, akid, secret,
// token) at t (seconds since 1970) and calls done(null, "wss://host[:port]/mqtt?...") or done("error
// in plain words") from later timer callbacks, never synchronously; each does at most 2 SHA-256
// blocks. cache: from bootCache(), kept between calls; written back to Storage when a presign
// rebuilt a part of it. Refuses a clock before 2024 (SNTP has not set it yet).
export function signUrl(cache: SignCache, cfg: MqttSignConfig, t: number, done: (err: string | null, url?: string) => void): void {
  let job: (() => string | undefined) | 0 | undefined;
  let sumsBefore: number;
  const step = () => {
    if (!(t >= Clock.Earliest)) return done("clock not set (before 2024)");
    if (!job) sumsBefore = (cache as any)[Cache.KeySum] ^ (cache as any)[Cache.PrefixSum]; // the day's key and the canonical prefix (0 with a native SHA-256: never written)
    const url = (job = job || presignJob(cache, cfg, amzDate(t)))();
    if (!url) return setTimeout(step, 0);
    job = 0; // the signing state is garbage before done runs
    if (sumsBefore != ((cache as any)[Cache.KeySum] ^ (cache as any)[Cache.PrefixSum]))
      try {
        require("Storage").write("iot.sc", (cache as Int32Array).buffer); // only when a part was rebuilt
      } catch (e) {}
    done(null, url);
  };
  setTimeout(step, 0);
}
