// LED adapter. Steady state = the shadow's `on`; ledPattern(n, false, cb) blinks n times (200 ms
// on/off, the `blink` job) then restores the steady state and calls cb; ledPattern(n, true) repeats
// n short flashes and a pause (no valid configuration) until ledSet(). Few functions: each one costs
// variables on an ESP8266.
let pin = 2;
let low = true;
let on = false;
let tmr: any = 0;
let i = 0;
let cnt = 0;
let rep = false;
let done: any = null;

function step(): void {
  i++;
  if (rep) {
    i %= 14;
    digitalWrite(pin, (i < cnt * 2 && !!(i & 1)) !== low);
  } else if (i < cnt * 2) digitalWrite(pin, !!(i & 1) !== low);
  else {
    clearInterval(tmr);
    tmr = 0;
    digitalWrite(pin, on !== low);
    const d = done;
    done = null;
    if (d) d();
  }
}

export function ledInit(p: number, activeLow: boolean): void {
  pin = p;
  low = activeLow;
  digitalWrite(pin, on !== low);
}

// Steady state. A running blink finishes first (then shows it); an error pattern stops.
export function ledSet(v: boolean): void {
  on = v;
  if (tmr && rep) {
    clearInterval(tmr);
    tmr = 0;
  }
  if (!tmr) digitalWrite(pin, v !== low);
}

export function ledPattern(n: number, repeat: boolean, cb: (() => void) | null): void {
  if (tmr) clearInterval(tmr);
  if (done) done(); // an interrupted blink still completes its job
  i = 0;
  cnt = n;
  rep = repeat;
  done = cb;
  digitalWrite(pin, low); // off: an active-low LED is off when high
  tmr = setInterval(step, repeat ? 150 : 200);
}
