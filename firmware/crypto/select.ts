// Device adapter for signing (the only crypto/aws file that touches Espruino globals): picks the
// SHA-256 once at boot (the board's native one on ESP32, the TypeScript one on ESP8266), guards the
// clock and runs the signing steps on timer callbacks so the watchdog is fed between them.
//
//   const sc = bootCache();                           // once at boot
//   signUrl(sc, cfg, getTime() + corr, (err, url) => { ... });   // each connection attempt
import { MqttSignConfig, NativeSha, SignCache, amzDate, presignJob, signCache } from "../aws/sigv4";

// The one Espruino global used here, declared for this module so that the Node-side tests (which
// run signUrl with Node's setTimeout and require) type-check it as well.
declare const E: { toString(d: ArrayBuffer): string };

// The board's native SHA-256 (ESP32) as binary string -> 32-byte binary string, else undefined
// (ESP8266: the TypeScript SHA-256 is used). Give it to signCache() once at boot.
export function bootHash(): NativeSha | undefined {
  let f: ((d: string) => ArrayBuffer) | undefined;
  try {
    f = require("crypto").SHA256;
  } catch (e) {
    // no crypto module at all
  }
  return f && ((s: string) => E.toString(f!(s)));
}

// The signing cache for this board, warm when Storage holds one ("iot.sc", 172 bytes): a reboot on
// the same UTC day then signs with 8 SHA-256 blocks instead of 28. It is derived from the secret
// that iot.json already holds (no new exposure); its checksums (see SignCache) make a cache of other
// credentials, region or day miss, and the next presign overwrites it.
export function bootCache(): SignCache {
  const c: any = signCache(bootHash());
  try {
    c.set(new Int32Array(require("Storage").readArrayBuffer("iot.sc") as any)); // (no file: nothing; ESP32: no set)
  } catch (e) {}
  return c;
}

// Signs the AWS IoT WebSocket URL for cfg (the device config: host, port, region, akid, secret,
// token) at t (seconds since 1970) and calls cb(null, "wss://host[:port]/mqtt?...") or cb("error
// in plain words") from later timer callbacks, never synchronously; each does at most 2 SHA-256
// blocks. c: the cache from signCache(bootHash()), kept between calls. Refuses a clock before
// 2024 (SNTP has not set it yet).
export function signUrl(c: SignCache, cfg: MqttSignConfig, t: number, cb: (err: string | null, url?: string) => void): void {
  let j: any;
  let k: any;
  const go = () => {
    if (!(t >= 1704067200)) return cb("clock not set (before 2024)");
    if (!j) k = (c as any)[41] ^ (c as any)[42]; // day key and canonical prefix (0 with a native SHA-256)
    const u = (j = j || presignJob(c, cfg, amzDate(t)))();
    if (!u) return setTimeout(go, 0);
    j = 0; // the signing state is garbage before cb runs
    if (k != ((c as any)[41] ^ (c as any)[42]))
      try {
        require("Storage").write("iot.sc", (c as Int32Array).buffer); // only when a part was rebuilt
      } catch (e) {}
    cb(null, u);
  };
  setTimeout(go, 0);
}
