// GPIO model: modes, driven output level, external drivers (button, DHT11, pull-up resistors),
// the resulting line level, LED history, and the IO event queue that feeds setWatch.
// Edges reach the firmware asynchronously, in batches, with their own timestamps, as Espruino
// queues pin interrupts and runs the watch callbacks later from its idle loop.

export type Edge = { pin: number; level: number; t: number }; // t: device seconds

const OUTPUT_MODES = ["output", "af_output"];
const OPENDRAIN_MODES = ["opendrain", "af_opendrain", "opendrain_pullup"];
export const IO_QUEUE_EVENTS = 128; // events the IO queue holds before FIFO_FULL

interface PinState {
  mode: string; // Espruino mode name; "auto" pins report input/output as used
  forced: boolean; // set by pinMode(pin, mode) without automatic
  out: number; // level the host drives when in an output mode
  ext: number | null; // level an external device drives, null = not driven
  pull: number | null; // board pull resistor (e.g. DHT data line pull-up)
  level: number; // resulting line level
  history: { t: number; level: number }[];
  watched: boolean;
}

export interface PinListener {
  (pin: number, info: { hostLow: boolean; level: number; t: number }): void;
}

export class PinBank {
  private pins = new Map<number, PinState>();
  private queue: Edge[] = [];
  private flushScheduled = false;
  errorFlags = new Set<string>();
  listeners: PinListener[] = [];
  deliver: ((edges: Edge[]) => void) | null = null;
  private flushTimer: NodeJS.Immediate | null = null;

  constructor(
    readonly valid: (pin: number) => boolean,
    private hostMs: () => number,
    private deviceSec: () => number,
  ) {}

  state(pin: number): PinState {
    let p = this.pins.get(pin);
    if (!p) {
      p = { mode: "input", forced: false, out: 0, ext: null, pull: null, level: 0, history: [], watched: false };
      p.level = this.compute(p);
      this.pins.set(pin, p);
    }
    return p;
  }
  private compute(p: PinState): number {
    if (OUTPUT_MODES.includes(p.mode)) return p.out;
    if (OPENDRAIN_MODES.includes(p.mode)) {
      if (p.out === 0) return 0;
      return p.ext ?? p.pull ?? 1;
    }
    if (p.ext !== null) return p.ext;
    if (p.pull !== null) return p.pull;
    if (p.mode === "input_pullup") return 1;
    return 0;
  }
  hostLow(p: PinState): boolean {
    return (OUTPUT_MODES.includes(p.mode) || OPENDRAIN_MODES.includes(p.mode)) && p.out === 0;
  }
  private update(pin: number, t?: number): void {
    const p = this.state(pin);
    const lvl = this.compute(p);
    const time = t ?? this.deviceSec();
    if (lvl !== p.level) {
      p.level = lvl;
      p.history.push({ t: this.hostMs(), level: lvl });
      if (p.history.length > 10000) p.history.splice(0, p.history.length - 10000);
      if (p.watched) this.pushEdge({ pin, level: lvl, t: time });
    }
    for (const l of this.listeners) l(pin, { hostLow: this.hostLow(p), level: lvl, t: time });
  }
  write(pin: number, v: number): void {
    const p = this.state(pin);
    p.out = v ? 1 : 0;
    if (!p.forced && !OUTPUT_MODES.includes(p.mode) && !OPENDRAIN_MODES.includes(p.mode)) p.mode = "output";
    this.update(pin);
  }
  read(pin: number, changeMode: boolean): number {
    const p = this.state(pin);
    if (changeMode && !p.forced && (OUTPUT_MODES.includes(p.mode) || OPENDRAIN_MODES.includes(p.mode))) {
      p.mode = "input";
      this.update(pin);
    }
    return p.level;
  }
  setMode(pin: number, mode: string, forced: boolean): void {
    const p = this.state(pin);
    if (mode === "auto") {
      p.forced = false;
      p.mode = "input";
    } else {
      p.mode = mode;
      p.forced = forced;
    }
    this.update(pin);
  }
  getMode(pin: number): string {
    return this.state(pin).mode;
  }
  /** An external device drives the line (level) or releases it (null), at device time t. */
  setExternal(pin: number, level: number | null, t?: number): void {
    this.state(pin).ext = level;
    this.update(pin, t);
  }
  setPull(pin: number, level: number | null): void {
    this.state(pin).pull = level;
    this.update(pin);
  }
  setWatched(pin: number, on: boolean): void {
    this.state(pin).watched = on;
  }
  /** Queue an edge seen on the line (also used by models that synthesize timestamps). */
  pushEdge(e: Edge): void {
    if (this.queue.length >= IO_QUEUE_EVENTS) {
      this.errorFlags.add("FIFO_FULL");
      return;
    }
    this.queue.push(e);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.flushTimer = setImmediate(() => this.flush());
    }
  }
  /** Queue edges for a watched pin only (synthetic waveforms). */
  pushWaveform(pin: number, edges: { level: number; t: number }[]): void {
    const p = this.state(pin);
    for (const e of edges) {
      if (p.watched) this.pushEdge({ pin, level: e.level, t: e.t });
    }
  }
  flush(): void {
    this.flushScheduled = false;
    this.flushTimer = null;
    const q = this.queue;
    this.queue = [];
    if (q.length && this.deliver) this.deliver(q);
  }
  /** Reboot: pins return to their power-on state; history is kept (it is the host's record). */
  resetForBoot(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushScheduled = false;
    this.flushTimer = null;
    this.queue = [];
    for (const [pin, p] of this.pins) {
      p.mode = "input";
      p.forced = false;
      p.out = 0;
      p.watched = false;
      this.update(pin);
    }
  }
  dispose(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = null;
    this.queue = [];
    this.deliver = null;
  }
}
