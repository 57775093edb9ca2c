// LED adapter, ONE function (a retained function costs 5 JS variables + 1 per parameter):
//   led("i", pin, activeLow)  set the pin up (shows the steady state)
//   led("s", v)               steady state = the shadow's `on`. A running blink finishes first (then
//                             shows it); the endless pattern stops.
//   led("b", n, cb)           blink n times (200 ms on/off, the `blink` job), then show the steady
//                             state and call cb. Without cb and with a huge n: the "no valid
//                             configuration" pattern, until led("s").
//   led()                     (the interval's tick)
let pin = 2;
let low: any = 1; // a boolean once set (led("i")); a small integer costs 1 variable, a boolean 2
let on: any = 0;
let tmr: any = 0;
let i = 0;
let done: any = 0;

export function led(op?: any, a?: any, b?: any): void {
  if (op == "i") {
    pin = a;
    low = b;
  } else if (op == "s") {
    on = a;
    if (tmr && !done) {
      clearInterval(tmr);
      tmr = 0;
    }
  } else if (op) {
    if (tmr) clearInterval(tmr);
    if (done) done(); // an interrupted blink still completes its job
    i = a * 2;
    done = b;
    tmr = setInterval(led, 200);
    return digitalWrite(pin, low); // off: an active-low LED is off when high
  } else if (--i > 0) return digitalWrite(pin, !!(i & 1) != low);
  else {
    clearInterval(tmr);
    tmr = 0;
    b = done;
    done = 0;
  }
  if (!tmr) digitalWrite(pin, on != low);
  if (b && !op) b();
}
