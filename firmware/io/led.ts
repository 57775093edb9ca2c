// LED adapter, ONE function (a retained function costs 5 JS variables + 1 per parameter, so the
// ops share it and the blink interval calls it too, with no argument, for each step).
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

const enum Blink {
  HalfPeriodMs = 200, // on 200 ms, off 200 ms
}

type Done = () => void;

let pin = 2;
// Initial values are small integers, not booleans or null: on Espruino an integer costs 1
// variable, a boolean 2 (the tests and Init set real booleans and functions later).
let activeLow: boolean | number = 1;
let on: boolean | number = 0;
let timer = 0; // the blink interval, 0 when none
let edgesLeft = 0; // level changes still to show in the running blink
let blinkDone: Done | 0 = 0; // the running blink's done (0: none, or the endless pattern)

export function led(op: LedOp.Init, pin: number, activeLow: boolean): void;
export function led(op: LedOp.Steady, on: boolean): void;
export function led(op: LedOp.Blink, times: number, done?: Done): void;
export function led(): void; // the interval's step
export function led(op?: LedOp, a?: any, b?: boolean | Done | 0): void {
  if (op == LedOp.Init) {
    pin = a;
    activeLow = b as boolean;
  } else if (op == LedOp.Steady) {
    on = a;
    if (timer && !blinkDone) {
      clearInterval(timer);
      timer = 0;
    }
  } else if (op) {
    if (timer) clearInterval(timer);
    if (blinkDone) blinkDone(); // an interrupted blink still completes its job
    edgesLeft = a * 2;
    blinkDone = b as Done;
    timer = setInterval(led, Blink.HalfPeriodMs);
    return digitalWrite(pin, activeLow); // off: an active-low LED is off when high
  } else if (--edgesLeft > 0) return digitalWrite(pin, !!(edgesLeft & 1) != activeLow);
  else {
    // the blink is over: b (unused by the step) carries its done past the steady-state write
    clearInterval(timer);
    timer = 0;
    b = blinkDone;
    blinkDone = 0;
  }
  if (!timer) digitalWrite(pin, on != activeLow);
  if (b && !op) (b as Done)();
}
