// DHT11 driver (thin adapter over the pure decoder), ONE function (a retained function costs 5 JS
// variables + 1 per parameter): dhtRead(pin, tries, cb) starts a reading, and the same function is
// the setWatch callback (an edge event) and the setTimeout step (no argument).
// Start pulse: drive low 20 ms (>= 18), watch falling edges (e.time - e.lastTime = the high pulse
// before each fall; Espruino's lastTime is the previous edge of any direction), release with the
// pull-up, decode 25 ms later. At most one start pulse per 1.05 s, `tries` attempts per reading.
import { decodeDht, DhtReading } from "./dht11-decode";

let w: any; // Uint8Array(48) of pulse widths, allocated by the first reading
let n = 0;
let last = -9; // getTime() of the last start pulse
let pin = 5;
let tries = 0;
let ph = 0;
let wid: any;
let cb: (r: DhtReading | string) => void;

// Reads the sensor: c({t, h}) or c("error in words") after up to `t` attempts. One read at a time.
export function dhtRead(p?: any, t?: number, c?: (r: DhtReading | string) => void): void {
  if (typeof p === "object") {
    // an edge
    if (n < 48) w[n++] = Math.min(255, Math.round((p.time - p.lastTime) * 1e6));
    return;
  }
  if (p !== undefined) {
    pin = p;
    tries = t!;
    cb = c!;
    const ago = getTime() - last;
    setTimeout(dhtRead, ago >= 0 && ago < 1.05 ? (1.05 - ago) * 1000 : 0);
    return;
  }
  if (ph === 0) {
    if (!w) w = new Uint8Array(48);
    n = 0;
    last = getTime();
    pinMode(pin, "output");
    digitalWrite(pin, 0);
    ph = 1;
    setTimeout(dhtRead, 20);
  } else if (ph === 1) {
    wid = setWatch(dhtRead, pin, { edge: "falling", repeat: true });
    pinMode(pin, "input_pullup");
    ph = 2;
    setTimeout(dhtRead, 25);
  } else {
    clearWatch(wid);
    ph = 0;
    const r = decodeDht(w, n);
    if (typeof r === "string" && --tries > 0) setTimeout(dhtRead, 1050);
    else cb(r);
  }
}
