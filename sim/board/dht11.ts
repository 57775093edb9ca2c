// DHT11 model on one GPIO. The host starts a reading by driving the line low for >= 18 ms and
// releasing it; 20-40 us later the sensor answers: 80 us low, 80 us high, then 40 bits (50 us
// low + ~27 us high for 0 or ~70 us high for 1), a final 50 us low and release (high).
// Data bytes: RH int, RH dec, T int, T dec, checksum = low byte of their sum.
// The waveform is not played in real time: its edges are queued with timestamps consistent with
// it and delivered to setWatch a few ms later, as Espruino's IO queue would deliver them.
// Choices: a sensor polled again less than 1 s after its last answer, or within 1 s of power-on,
// does not answer at all (real DHT11s answer unreliably or not at all); with no sensor the line
// just stays high (board pull-up), no edges.
import { PinBank } from "./pins";

export interface DhtReading {
  temperature: number;
  humidity: number;
}
export interface DhtFaults {
  jitterUs?: number;
  bitErrors?: number;
  checksumError?: boolean;
}

export function dhtBytes(v: DhtReading): number[] {
  const h = Math.max(0, Math.min(255, v.humidity));
  const hi = Math.floor(h);
  const hd = Math.round((h - hi) * 10) % 10;
  const neg = v.temperature < 0;
  const ta = Math.min(255, Math.abs(v.temperature));
  const ti = Math.floor(ta);
  const td = (Math.round((ta - ti) * 10) % 10) | (neg ? 0x80 : 0);
  return [hi, hd, ti, td, (hi + hd + ti + td) & 255];
}

export class Dht11Model {
  reading: DhtReading | null;
  faults: DhtFaults = {};
  private lowStartMs: number | null = null;
  private lastAnswerMs = -Infinity;
  readonly powerOnMs: number;
  answers = 0;
  refused = 0;
  private timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly pin: number,
    private bank: PinBank,
    reading: DhtReading | null,
    private hostMs: () => number,
    readonly warmupMs = 1000,
    readonly minIntervalMs = 1000,
  ) {
    this.reading = reading;
    this.powerOnMs = hostMs();
    bank.setPull(pin, 1); // the module's pull-up resistor
    bank.listeners.push((p, info) => {
      if (p !== this.pin) return;
      this.onLine(info.hostLow, info.t);
    });
  }
  private onLine(hostLow: boolean, tSec: number): void {
    const now = this.hostMs();
    if (hostLow) {
      if (this.lowStartMs === null) this.lowStartMs = now;
      return;
    }
    if (this.lowStartMs === null) return;
    const lowMs = now - this.lowStartMs;
    this.lowStartMs = null;
    if (lowMs < 18) return;
    if (!this.reading) return; // no sensor: nothing answers
    if (now - this.powerOnMs < this.warmupMs || now - this.lastAnswerMs < this.minIntervalMs) {
      this.refused++;
      return;
    }
    this.lastAnswerMs = now;
    this.answers++;
    this.answer(tSec);
  }
  /** Edge list of one answer, starting at device time t0 (seconds). */
  waveform(t0: number): { level: number; t: number }[] {
    const f = this.faults;
    const j = f.jitterUs || 0;
    const jit = () => (j ? (Math.random() * 2 - 1) * j : 0);
    const bytes = dhtBytes(this.reading!);
    if (f.checksumError) bytes[4] = (bytes[4] + 1) & 255;
    const bits: number[] = [];
    for (const b of bytes) for (let i = 7; i >= 0; i--) bits.push((b >> i) & 1);
    for (let n = 0; n < (f.bitErrors || 0); n++) {
      const k = Math.floor(Math.random() * 32); // corrupt a data bit (not the checksum)
      bits[k] ^= 1;
    }
    const edges: { level: number; t: number }[] = [];
    let t = t0 + (20 + Math.random() * 20) * 1e-6;
    const at = (level: number, durUs: number) => {
      edges.push({ level, t });
      t += Math.max(5, durUs + jit()) * 1e-6;
    };
    at(0, 80);
    at(1, 80);
    for (const b of bits) {
      at(0, 50);
      at(1, b ? 70 : 26 + Math.random() * 2);
    }
    at(0, 50);
    edges.push({ level: 1, t });
    return edges;
  }
  private answer(tSec: number): void {
    const edges = this.waveform(tSec);
    // Deliver once the waveform is over in real time (~4-5 ms), so timestamps lie in the past.
    const tm = setTimeout(() => {
      this.timers.delete(tm);
      this.bank.pushWaveform(this.pin, edges);
      // Deliver now, not on a later turn: a firmware timer due just after the waveform (decode
      // 25 ms after release, say) must see the edges even when the event loop runs late.
      this.bank.flush();
    }, 5);
    this.timers.add(tm);
  }
  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
  resetForBoot(): void {
    this.lowStartMs = null;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
