// Device adapter for signing (the only crypto/aws file that touches Espruino globals): picks the
// SHA-256 once at boot (the board's native one on ESP32, the TypeScript one on ESP8266) and runs
// the signing steps on timer callbacks so the watchdog is fed between them.
//
//   const sc = signCache(bootHash());                 // once at boot: {} on an ESP8266
//   signUrl(sc, cfg, getTime() + corr, (err, url) => { ... });   // each connection attempt
import { MqttSignConfig, NativeSha, SignCache, presignJob } from "../aws/sigv4";

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
  return (
    f &&
    function (s: string): string {
      return E.toString(f!(s));
    }
  );
}

// Signs the AWS IoT WebSocket URL for cfg (the device config as is: host, port, region, akid,
// secret, token) at `when` (getTime() + any correction, or "YYYYMMDDTHHMMSSZ") and calls
// cb(null, "wss://host[:port]/mqtt?...") or cb("error in plain words") from later timer callbacks,
// never synchronously: the first one checks the input, each later one does at most 2 SHA-256
// blocks. c is the caller's cache from signCache(bootHash()), kept between calls. While a URL is
// being signed the signer holds its working set (the SHA-256 kit, the step closure); once cb has
// run only c is left.
export function signUrl(c: SignCache, cfg: MqttSignConfig, when: number | string, cb: (err: string | null, url?: string) => void): void {
  let j: (() => string | undefined) | undefined;
  function go(): void {
    let u;
    try {
      if (j) u = j();
      else j = presignJob(c, cfg, when, c.H, true);
    } catch (e) {
      cb((e as Error).message);
      return;
    }
    if (u) cb(null, u);
    else setTimeout(go, 0);
  }
  setTimeout(go, 0);
}

// ---- the older API (kept while firmware/app moves to signUrl)

// Runs fn on a later timer callback, so the watchdog is fed between signing steps.
export function defer(fn: () => void): void {
  setTimeout(fn, 0);
}
