// The device clock: milliseconds since 1970 as the firmware sees them (getTime, Date). After
// power-on or reboot it starts near 1970 (as the ESP8266 does) until setTime or SNTP moves it.
import { performance } from "perf_hooks";

function hostMs(): number {
  return performance.timeOrigin + performance.now();
}

export class DeviceClock {
  private offsetMs = 0;
  constructor() {
    this.reset();
  }
  /** Power-on value: a few ms after 1970-01-01. */
  reset(): void {
    this.offsetMs = -hostMs();
  }
  nowMs(): number {
    return hostMs() + this.offsetMs;
  }
  setSeconds(s: number): void {
    this.offsetMs = s * 1000 - hostMs();
  }
  shift(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
  /** Host wall-clock ms (used for LED history timestamps). */
  static hostMs(): number {
    return hostMs();
  }
}
