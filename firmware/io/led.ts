// LED adapter, ONE function (a retained function costs 5 JS variables + 1 per parameter):
//   led("i", pin, activeLow)  set the pin up (shows the steady state)
//   led("s", v)               steady state = the shadow's `on`. A running blink finishes first (then
//                             shows it); an error pattern stops.
//   led("b", n, cb)           blink n times (200 ms on/off, the `blink` job), then restore the steady
//                             state and call cb
//   led("e", n)               repeat n short flashes and a pause (no valid configuration) until led("s")
//   led()                     (the interval's tick)
let pin = 2;
let low: any = 1; // booleans once set (led("i"), led("s")); a small integer costs 1 variable, a boolean 2
let on: any = 0;
let tmr: any = 0;
let i = 0;
let cnt = 0;
let rep = 0;
let done: any;

export function led(op?: string, a?: any, b?: any): void {
  if (op === "i") {
    pin = a;
    low = b;
  } else if (op === "s") {
    on = a;
    if (tmr && rep) {
      clearInterval(tmr);
      tmr = 0;
    }
  } else if (op) {
    if (tmr) clearInterval(tmr);
    if (done) done(); // an interrupted blink still completes its job
    i = 0;
    cnt = a;
    rep = op === "e" ? 1 : 0;
    done = b;
    digitalWrite(pin, low); // off: an active-low LED is off when high
    tmr = setInterval(led, rep ? 150 : 200);
    return;
  } else {
    i++;
    if (rep) {
      i %= 14;
      return digitalWrite(pin, (i < cnt * 2 && !!(i & 1)) !== low);
    }
    if (i < cnt * 2) return digitalWrite(pin, !!(i & 1) !== low);
    clearInterval(tmr);
    tmr = 0;
    digitalWrite(pin, on !== low);
    const d = done;
    done = undefined;
    if (d) d();
    return;
  }
  if (!tmr) digitalWrite(pin, on !== low);
}
