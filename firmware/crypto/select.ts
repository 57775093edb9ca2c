// Boot-time adapter (the only crypto file that touches Espruino globals): picks the SHA-256
// provider once (native require("crypto").SHA256 on ESP32, the TypeScript one elsewhere) and
// gives the stepped signer its scheduler.
import { HashProvider, JS_SHA256, nativeHash } from "./hmac";

export function bootHash(): HashProvider {
  let c: CryptoModule | undefined;
  try {
    c = require("crypto");
  } catch (e) {
    c = undefined;
  }
  const f = c && c.SHA256;
  return f
    ? nativeHash(function (s: string): string {
        return E.toString(f(s));
      })
    : JS_SHA256;
}

// Runs fn on a later timer callback, so the watchdog is fed between signing steps.
export function defer(fn: () => void): void {
  setTimeout(fn, 0);
}
