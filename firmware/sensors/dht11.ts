// DHT11 driver (thin adapter over the pure decoder). Start pulse: drive low >= 18 ms, watch falling
// edges (e.time - e.lastTime = the high pulse before each fall), release with the pull-up, and
// decode ~20 ms later. At most one read per second; up to 3 attempts per reading.
import { decodeDht, DhtReading } from "./dht11-decode";

const w = new Uint8Array(48);
let n = 0;
let last = 0; // getTime() of the last start pulse

function once(pin: number, cb: (r: DhtReading | string) => void): void {
  n = 0;
  last = getTime();
  pinMode(pin, "output");
  digitalWrite(pin, 0);
  setTimeout(() => {
    const id = setWatch(
      (e) => {
        if (n < 48) w[n++] = Math.min(255, Math.round((e.time - e.lastTime) * 1e6));
      },
      pin,
      { edge: "falling", repeat: true }
    );
    pinMode(pin, "input_pullup");
    setTimeout(() => {
      clearWatch(id);
      cb(decodeDht(w, n));
    }, 25);
  }, 20);
}

// Reads the sensor: cb({t, h}) or cb("error in words") after up to `tries` attempts.
export function dhtRead(pin: number, tries: number, cb: (r: DhtReading | string) => void): void {
  const wait = Math.max(0, 1.05 - (getTime() - last));
  setTimeout(() => {
    once(pin, (r) => {
      if (typeof r === "string" && tries > 1) dhtRead(pin, tries - 1, cb);
      else cb(r);
    });
  }, wait * 1000);
}
