// DHT11 driver (thin adapter over the pure decoder), ONE function of one parameter (a retained
// function costs 5 JS variables + 1 per parameter), its ops told apart by the argument's type:
//   dhtRead(pin)   set the data pin (a number; default 5)
//   dhtRead(done)  start a reading: done({t, h}) or done("error in words") after up to 3 attempts;
//                  ignored while a reading is under way (its done is still to come)
//   dhtRead(edge)  the setWatch callback; dhtRead() the setTimeout step
// Each attempt waits 1.05 s first, so start pulses are always more than a second apart (a DHT11
// must not be read more often), then drives the line low 20 ms (>= 18), watches falling edges
// (e.time - e.lastTime = the high pulse before each fall; Espruino's lastTime is the previous edge
// of any direction), releases it to the pull-up and decodes 25 ms later.
import { decodeDht, DhtReading } from "./dht11-decode";
export type { DhtReading };

export type DhtDone = (reading: DhtReading | string) => void;

// Where an attempt is when the timer step runs.
const enum Phase {
  Waiting = 0, // the 1.05 s gap is over: drive the start pulse
  StartPulse = 1, // the line has been low 20 ms: release it and watch the answer
  Listening = 2, // the answer is over: decode it
}

const enum Dht {
  GapMs = 1050,
  StartLowMs = 20,
  ListenMs = 25, // the answer takes ~4.5 ms; the margin covers a late timer
  MaxEdges = 48, // the 40 bits and what precedes them, with room for a few extra edges
  Attempts = 3,
  DefaultPin = 5,
}

let widths: Uint8ClampedArray | 0; // pulse widths in us, only while a reading is under way
let edgeCount = 0;
let pin: number = Dht.DefaultPin;
let attemptsLeft = 0;
let phase = Phase.Waiting;
let watchId: number;
let done: DhtDone | 0 = 0;

export function dhtRead(pin: number): void;
export function dhtRead(done: DhtDone): void;
export function dhtRead(edge: EspruinoWatchEvent): void; // the setWatch callback
export function dhtRead(): void; // the timer's step
export function dhtRead(arg?: number | DhtDone | EspruinoWatchEvent | DhtReading | string): any {
  const kind = typeof arg;
  if (kind == "object") {
    // clamped to 0..255; edges beyond MaxEdges are dropped (and edgeCount says so)
    (widths as Uint8ClampedArray)[edgeCount++] = ((arg as EspruinoWatchEvent).time - (arg as EspruinoWatchEvent).lastTime) * 1e6;
  } else if (kind == "number") pin = arg as number;
  else if (kind == "function") {
    if (done) return;
    done = arg as DhtDone;
    attemptsLeft = Dht.Attempts;
    setTimeout(dhtRead, Dht.GapMs);
  } else if (phase < Phase.Listening) {
    if (phase) {
      watchId = setWatch(dhtRead, pin, { edge: "falling", repeat: true });
      pinMode(pin, "input_pullup");
    } else {
      widths = new Uint8ClampedArray(Dht.MaxEdges);
      edgeCount = 0;
      pinMode(pin, "output");
      digitalWrite(pin, 0);
    }
    setTimeout(dhtRead, phase++ ? Dht.ListenMs : Dht.StartLowMs);
  } else {
    clearWatch(watchId);
    phase = Phase.Waiting;
    // the parameter holds the result (no extra local)
    arg = decodeDht(widths as Uint8ClampedArray, edgeCount);
    widths = 0;
    if (typeof arg == "string" && --attemptsLeft) return setTimeout(dhtRead, Dht.GapMs);
    const finish = done as DhtDone;
    done = 0;
    finish(arg);
  }
}
