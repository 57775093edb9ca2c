// LED adapter, ONE function (a retained function costs 5 JS variables + 1 per parameter).
// The interval calls it with no argument (a blink step).
export const enum LedOp {
  /** (pin, activeLow): set the pin up (shows the steady state) */
  Init = 1,
  /** (on): the steady state = the shadow's `on`. A running blink finishes first (then shows it);
   * the endless pattern stops. */
  Steady = 2,
  /** (n, done?): blink n times (200 ms on/off, the `blink` job), then show the steady state and
   * call done. Without done and with a huge n: the "no valid configuration" pattern, until Steady. */
  Blink = 3,
}

let pin = 2;
let activeLow: any = 1; // a boolean once set (Init); a small integer costs 1 variable, a boolean 2
let on: any = 0;
let timer: any = 0;
let edgesLeft = 0;
let done: any = 0;

export function led(op: LedOp.Init, pin: number, activeLow: boolean): void;
export function led(op: LedOp.Steady, on: boolean): void;
export function led(op: LedOp.Blink, times: number, done?: () => void): void;
export function led(): void; // the interval's step
export function led(op?: LedOp, a?: any, b?: any): void {
  if (op == LedOp.Init) {
    pin = a;
    activeLow = b;
  } else if (op == LedOp.Steady) {
    on = a;
    if (timer && !done) {
      clearInterval(timer);
      timer = 0;
    }
  } else if (op) {
    if (timer) clearInterval(timer);
    if (done) done(); // an interrupted blink still completes its job
    edgesLeft = a * 2;
    done = b;
    timer = setInterval(led, 200);
    return digitalWrite(pin, activeLow); // off: an active-low LED is off when high
  } else if (--edgesLeft > 0) return digitalWrite(pin, !!(edgesLeft & 1) != activeLow);
  else {
    clearInterval(timer);
    timer = 0;
    b = done;
    done = 0;
  }
  if (!timer) digitalWrite(pin, on != activeLow);
  if (b && !op) b();
}
