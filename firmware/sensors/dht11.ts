// DHT11 driver (thin adapter over the pure decoder), a 3-function state machine (functions cost
// variables on an ESP8266). Start pulse: drive low 20 ms (>= 18), watch falling edges (e.time -
// e.lastTime = the high pulse before each fall; Espruino's lastTime is the previous edge of any
// direction), release with the pull-up, decode 25 ms later. At most one start pulse per 1.05 s,
// `tries` attempts per reading.
import { decodeDht, DhtReading } from "./dht11-decode";

const w = new Uint8Array(48);
let n = 0;
let last = -9; // getTime() of the last start pulse
let pin = 5;
let tries = 0;
let ph = 0;
let wid: any;
let cb: (r: DhtReading | string) => void;

function edge(e: { time: number; lastTime: number }): void {
  if (n < 48) w[n++] = Math.min(255, Math.round((e.time - e.lastTime) * 1e6));
}

function step(): void {
  if (ph === 0) {
    n = 0;
    last = getTime();
    pinMode(pin, "output");
    digitalWrite(pin, 0);
    ph = 1;
    setTimeout(step, 20);
  } else if (ph === 1) {
    wid = setWatch(edge, pin, { edge: "falling", repeat: true });
    pinMode(pin, "input_pullup");
    ph = 2;
    setTimeout(step, 25);
  } else {
    clearWatch(wid);
    ph = 0;
    const r = decodeDht(w, n);
    if (typeof r === "string" && --tries > 0) setTimeout(step, 1050);
    else cb(r);
  }
}

// Reads the sensor: c({t, h}) or c("error in words") after up to `t` attempts. One read at a time.
export function dhtRead(p: number, t: number, c: (r: DhtReading | string) => void): void {
  pin = p;
  tries = t;
  cb = c;
  const ago = getTime() - last;
  setTimeout(step, ago >= 0 && ago < 1.05 ? (1.05 - ago) * 1000 : 0);
}
