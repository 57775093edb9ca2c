// DHT11 driver (thin adapter over the pure decoder), ONE function of one parameter (a retained
// function costs 5 JS variables + 1 per parameter):
//   dhtRead(pin)   set the data pin (a number; default 5)
//   dhtRead(cb)    start a reading: cb({t, h}) or cb("error in words") after up to 3 attempts;
//                  ignored while a reading is under way (its cb is still to come)
//   dhtRead(edge)  the setWatch callback; dhtRead() the setTimeout step
// Each attempt waits 1.05 s first, so start pulses are always more than a second apart (a DHT11
// must not be read more often), then drives the line low 20 ms (>= 18), watches falling edges
// (e.time - e.lastTime = the high pulse before each fall; Espruino's lastTime is the previous edge
// of any direction), releases it to the pull-up and decodes 25 ms later.
import { decodeDht, DhtReading } from "./dht11-decode";
export type { DhtReading };

let w: any; // Uint8ClampedArray(48) of pulse widths, only while a reading is under way
let n = 0;
let pin = 5;
let tries = 0;
let ph = 0; // 0 waiting, 1 start pulse, 2 listening
let wid: any;
let cb: any = 0;

export function dhtRead(pin: number): void;
export function dhtRead(done: (reading: DhtReading | string) => void): void;
export function dhtRead(edge: EspruinoWatchEvent): void; // the setWatch callback
export function dhtRead(): void; // the timer's step
export function dhtRead(p?: any): any {
  const t = typeof p;
  if (t == "object") {
    w[n++] = (p.time - p.lastTime) * 1e6; // clamped to 0..255; beyond 48 edges ignored (and n says so)
  } else if (t == "number") pin = p;
  else if (t == "function") {
    if (cb) return;
    cb = p;
    tries = 3;
    setTimeout(dhtRead, 1050);
  } else if (ph < 2) {
    if (ph) {
      wid = setWatch(dhtRead, pin, { edge: "falling", repeat: true });
      pinMode(pin, "input_pullup");
    } else {
      w = new Uint8ClampedArray(48);
      n = 0;
      pinMode(pin, "output");
      digitalWrite(pin, 0);
    }
    setTimeout(dhtRead, ph++ ? 25 : 20);
  } else {
    clearWatch(wid);
    ph = 0;
    p = decodeDht(w, n);
    w = 0;
    if (typeof p == "string" && --tries) return setTimeout(dhtRead, 1050);
    const f = cb;
    cb = 0;
    f(p);
  }
}
