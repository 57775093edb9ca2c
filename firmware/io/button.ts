// Button adapter: a press (falling edge, 50 ms debounce, internal pull-up) calls fn.
export function buttonInit(pin: number, fn: () => void): void {
  pinMode(pin, "input_pullup");
  setWatch(fn, pin, { edge: "falling", repeat: true, debounce: 50 });
}
