// LED adapter: steady state follows the shadow's `on`; blink(n) identifies the board; error(n)
// repeats n short flashes every 2 s (configuration problem) until set() is called.
let pin = 2;
let low = true;
let on = false;
let tmr: any = 0;

function out(v: boolean): void {
  digitalWrite(pin, v !== low);
}

function stop(): void {
  if (tmr) clearInterval(tmr);
  tmr = 0;
}

export function ledInit(p: number, activeLow: boolean): void {
  pin = p;
  low = activeLow;
  out(on);
}

export function ledSet(v: boolean): void {
  stop();
  on = v;
  out(v);
}

// Blinks n times (200 ms on, 200 ms off), then restores the steady state and calls done.
export function ledBlink(n: number, done: () => void): void {
  stop();
  let i = 0;
  out(false);
  tmr = setInterval(() => {
    i++;
    if (i >= n * 2) {
      stop();
      out(on);
      done();
    } else out(!(i & 1) ? false : true);
  }, 200);
}

// Error pattern: n flashes of 150 ms, then a pause, repeated (2 s cycle).
export function ledError(n: number): void {
  stop();
  let i = 0;
  tmr = setInterval(() => {
    out(i < n * 2 && !(i & 1));
    i = (i + 1) % 14;
  }, 150);
}
