// The LED and DHT11 adapters' ops, each module fresh per test, on fake Espruino pin functions and
// jest's fake timers: what each op writes to the pins and when its callback runs.
import { encodeDhtWidths } from "../../firmware/sensors/dht11-decode";
// The adapters call Espruino globals, so the Node-side type check does not read them: their ops
// are declared here by hand (the firmware's own overloads are checked by its typecheck).
interface LedModule {
  led(op?: number, a?: number | boolean, b?: boolean | (() => void)): void;
}
interface DhtModule {
  dhtRead(arg?: number | ((reading: { t: number; h: number } | string) => void) | EspruinoWatchEventLike): void;
}

type Level = [pin: number, level: boolean | number];
let writes: Level[];
let modes: [number, string][];
let watches: { cb: (e: EspruinoWatchEventLike) => void; pin: number; edge: string; id: number; cleared: boolean }[];
interface EspruinoWatchEventLike {
  state: boolean;
  time: number;
  lastTime: number;
}

const g = global as any;
beforeEach(() => {
  jest.useFakeTimers();
  writes = [];
  modes = [];
  watches = [];
  g.digitalWrite = (pin: number, level: boolean | number) => writes.push([pin, level]);
  g.pinMode = (pin: number, mode: string) => modes.push([pin, mode]);
  g.setWatch = (cb: any, pin: number, o: { edge: string }) => watches.push({ cb, pin, edge: o.edge, id: watches.length + 1, cleared: false });
  g.clearWatch = (id: number) => (watches[id - 1].cleared = true);
});
afterEach(() => {
  jest.useRealTimers();
  for (const k of ["digitalWrite", "pinMode", "setWatch", "clearWatch"]) delete g[k];
});

function fresh<T>(path: string): T {
  let m: T | undefined;
  jest.isolateModules(() => (m = require(path)));
  return m!;
}
// LedOp's values (a const enum in led.ts: the build inlines them)
const Init = 1;
const Steady = 2;
const Blink = 3;

describe("led(op, ...)", () => {
  test("Init and Steady show the steady state at once: an active-low LED is lit by a low level", () => {
    const { led } = fresh<LedModule>("../../firmware/io/led");
    led(Init, 4, true);
    led(Steady, true);
    led(Steady, false);
    expect(writes).toEqual([[4, true], [4, false], [4, true]]); // off (not yet on), lit, off
  });

  test("Blink n: off, then 2n - 1 level changes 200 ms apart, then the steady state, then done once", () => {
    const { led } = fresh<LedModule>("../../firmware/io/led");
    const done = jest.fn();
    led(Init, 2, false); // active high
    led(Steady, true);
    writes = [];
    led(Blink, 2, done);
    expect(writes).toEqual([[2, false]]);
    jest.advanceTimersByTime(600);
    expect(writes.map((w) => w[1])).toEqual([false, true, false, true]);
    expect(done).not.toHaveBeenCalled();
    jest.advanceTimersByTime(200);
    expect(writes[writes.length - 1]).toEqual([2, true]); // steady: on
    expect(writes.length).toBe(5);
    expect(done).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(2000);
    expect(writes.length).toBe(5); // the interval is gone
    expect(done).toHaveBeenCalledTimes(1);
  });

  test("a blink interrupted by another still completes its job; Steady during a blink waits for its end", () => {
    const { led } = fresh<LedModule>("../../firmware/io/led");
    const first = jest.fn();
    const second = jest.fn();
    led(Init, 2, false);
    led(Blink, 5, first);
    jest.advanceTimersByTime(200);
    led(Blink, 1, second);
    expect(first).toHaveBeenCalledTimes(1);
    const before = writes.length;
    led(Steady, true); // not shown yet: the blink runs on
    expect(writes.length).toBe(before);
    jest.advanceTimersByTime(200);
    expect(writes.length).toBe(before + 1);
    expect(second).not.toHaveBeenCalled();
    jest.advanceTimersByTime(200);
    expect(second).toHaveBeenCalledTimes(1);
    expect(writes.length).toBe(before + 2);
    expect(writes[writes.length - 1]).toEqual([2, true]);
  });

  test("the endless pattern (Blink without done) stops at Steady, which shows at once", () => {
    const { led } = fresh<LedModule>("../../firmware/io/led");
    led(Init, 2, true);
    led(Blink, 1e9);
    jest.advanceTimersByTime(2000);
    expect(writes.length).toBe(12); // Init, the blink's first write, 10 steps
    led(Steady, true);
    expect(writes[writes.length - 1]).toEqual([2, false]); // active low, on: low
    jest.advanceTimersByTime(2000);
    expect(writes.length).toBe(13); // no more steps
  });
});

describe("dhtRead(pin | done | edge)", () => {
  // Plays a sensor's answer into the watch: falling edges whose high pulses have the given widths.
  function answer(widthsUs: number[]): void {
    const w = watches[watches.length - 1];
    let t = 1000;
    for (const us of widthsUs) {
      w.cb({ state: false, time: t + us / 1e6, lastTime: t });
      t += us / 1e6 + 50e-6;
    }
  }

  test("a reading: 1.05 s gap, 20 ms start pulse, listen on falling edges, decode 25 ms later", () => {
    const { dhtRead } = fresh<DhtModule>("../../firmware/sensors/dht11");
    const done = jest.fn();
    dhtRead(12);
    dhtRead(done);
    jest.advanceTimersByTime(1049);
    expect(writes).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(modes).toEqual([[12, "output"]]);
    expect(writes).toEqual([[12, 0]]);
    jest.advanceTimersByTime(20);
    expect(watches).toMatchObject([{ pin: 12, edge: "falling", cleared: false }]);
    expect(modes[1]).toEqual([12, "input_pullup"]);
    answer(encodeDhtWidths([55, 0, 23, 4, 82], 27, 70));
    expect(done).not.toHaveBeenCalled();
    jest.advanceTimersByTime(25);
    expect(watches[0].cleared).toBe(true);
    expect(done).toHaveBeenCalledTimes(1);
    expect(done).toHaveBeenCalledWith({ t: 23.4, h: 55 });
  });

  test("no answer: three attempts more than a second apart, then the error in words; a start meanwhile is ignored", () => {
    const { dhtRead } = fresh<DhtModule>("../../firmware/sensors/dht11");
    const done = jest.fn();
    const other = jest.fn();
    dhtRead(done);
    dhtRead(other);
    for (let attempt = 1; attempt <= 3; attempt++) {
      jest.advanceTimersByTime(1050 + 20 + 25);
      expect(watches.length).toBe(attempt);
      expect(watches[attempt - 1]).toMatchObject({ pin: 5, cleared: true }); // the default pin
    }
    expect(done).toHaveBeenCalledWith("no response");
    expect(done).toHaveBeenCalledTimes(1);
    expect(other).not.toHaveBeenCalled();
    jest.advanceTimersByTime(10000);
    expect(watches.length).toBe(3);
    // done: a new reading may start
    dhtRead(other);
    jest.advanceTimersByTime(1050 + 20);
    answer(encodeDhtWidths([40, 0, 21, 0, 61], 26, 72));
    jest.advanceTimersByTime(25);
    expect(other).toHaveBeenCalledWith({ t: 21, h: 40 });
  });

  test("too many edges or a checksum error fail an attempt, which is retried; the good one is reported", () => {
    const { dhtRead } = fresh<DhtModule>("../../firmware/sensors/dht11");
    const done = jest.fn();
    dhtRead(done);
    jest.advanceTimersByTime(1050 + 20);
    answer(new Array(60).fill(30)); // beyond the 48 the buffer holds the edges are dropped (and counted)
    jest.advanceTimersByTime(25);
    jest.advanceTimersByTime(1050 + 20);
    answer(encodeDhtWidths([55, 0, 23, 4, 83], 27, 70)); // checksum error
    jest.advanceTimersByTime(25);
    expect(done).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1050 + 20);
    answer(encodeDhtWidths([55, 0, 23, 4, 82], 27, 70));
    jest.advanceTimersByTime(25);
    expect(done).toHaveBeenCalledTimes(1);
    expect(done).toHaveBeenCalledWith({ t: 23.4, h: 55 });
    expect(watches.map((w) => w.cleared)).toEqual([true, true, true]);
  });

  test("three bad attempts: the last one's error in words", () => {
    const { dhtRead } = fresh<DhtModule>("../../firmware/sensors/dht11");
    const done = jest.fn();
    dhtRead(done);
    for (let attempt = 0; attempt < 3; attempt++) {
      jest.advanceTimersByTime(1050 + 20);
      answer(encodeDhtWidths([55, 0, 23, 4, 82], 27, 70).slice(0, 22)); // the release and preamble pulses and 20 bits
      jest.advanceTimersByTime(25);
    }
    expect(done).toHaveBeenCalledWith("incomplete (22 of 40 bits)");
  });
});
