// DHT11 model: the waveform the firmware sees through setWatch decodes with a reference decoder.
import { boot, stopAll, sleep, until } from "./helpers";
import { decodeDht } from "./dht-decoder";
import { dhtBytes } from "../../sim/board";

afterEach(stopAll);

const PIN = 14;

async function dhtDevice(opts: object = {}, mode = "write") {
  const d = await boot({ dhtPin: PIN, dhtWarmupMs: 0, ...opts, source: "" });
  d.storage.write("dht.json", JSON.stringify({ pin: PIN, mode }));
  const { fixture } = await import("./helpers");
  d.eval(require("fs").readFileSync(await fixture("dht-reader"), "utf8"));
  await d.waitForLog("dht reader ready");
  return d;
}
async function read(d: Awaited<ReturnType<typeof dhtDevice>>, tag: string): Promise<number[][]> {
  d.eval(`dhtRead("${tag}")`);
  const line = await d.waitForLog(new RegExp("^EDGES " + tag + " "));
  return JSON.parse(line.slice(("EDGES " + tag + " ").length));
}

describe("DHT11 model", () => {
  test("bytes: RH int, RH dec, T int, T dec, checksum", () => {
    expect(dhtBytes({ temperature: 23.4, humidity: 51 })).toEqual([51, 0, 23, 4, 78]);
  });

  test("a reading decodes to the configured values (start by digitalWrite + pinMode, and by digitalPulse)", async () => {
    const d = await dhtDevice({ dht: { temperature: 23, humidity: 41 } });
    const edges = await read(d, "a");
    // the host's own falling and release edges, then the sensor: 80 us low / 80 us high preamble,
    // 40 bits (low + high each), final low and release
    expect(edges.slice(0, 2).map((e) => e[0])).toEqual([0, 1]);
    expect(edges.length).toBe(2 + 84);
    expect(edges[1][1] - edges[0][1]).toBeGreaterThanOrEqual(0.018);
    expect(decodeDht(edges)).toMatchObject({ ok: true, temperature: 23, humidity: 41 });
    // timestamps are ordered, and lastTime chains them (every edge, as Espruino's watch does)
    for (let i = 1; i < edges.length; i++) {
      expect(edges[i][1]).toBeGreaterThan(edges[i - 1][1]);
      expect(edges[i][2]).toBeCloseTo(edges[i - 1][1], 6);
    }
    const p = await dhtDevice({ dht: { temperature: 5.5, humidity: 90 } }, "pulse");
    expect(decodeDht(await read(p, "p"))).toMatchObject({ ok: true, temperature: 5.5, humidity: 90 });
  });

  test("set() changes the reading; jitter keeps it decodable", async () => {
    const d = await dhtDevice({ dht: { temperature: 20, humidity: 30 } });
    d.dht.set({ temperature: 31, humidity: 77 });
    d.dht.faults({ jitterUs: 8 });
    expect(decodeDht(await read(d, "j"))).toMatchObject({ ok: true, temperature: 31, humidity: 77 });
  });

  test("no sensor: no edges at all beyond the host's own start pulse", async () => {
    const d = await dhtDevice({ dht: null });
    const edges = await read(d, "n");
    expect(edges.map((e) => e[0])).toEqual([0, 1]);
    expect(decodeDht(edges.slice(2))).toEqual({ ok: false, error: "no response" });
    expect(d.pins.read(PIN)).toBe(1); // the line just stays high
  });

  test("checksum and bit errors are detected by the checksum", async () => {
    const d = await dhtDevice({ dht: { temperature: 22, humidity: 50 } });
    d.dht.faults({ checksumError: true });
    expect(decodeDht(await read(d, "c"))).toMatchObject({ ok: false, error: "checksum" });
    await sleep(1000);
    d.dht.faults({ bitErrors: 1 });
    expect(decodeDht(await read(d, "b"))).toMatchObject({ ok: false, error: "checksum" });
  });

  test("a start pulse shorter than 18 ms, or a second read within 1 s, gets no answer", async () => {
    const d = await dhtDevice({ dht: { temperature: 22, humidity: 50 } });
    d.eval(`var short = []; var w = setWatch(function (e) { short.push(e.state); }, ${PIN}, { edge: "both", repeat: true });
      pinMode(${PIN}, "opendrain"); digitalWrite(${PIN}, 0); digitalWrite(${PIN}, 1);`); // released at once: far below 18 ms
    await until(() => (d.eval("short") as boolean[]).length >= 2, "the host's own pulse edges");
    // the model decides on the release edge itself (synchronously), so these counters are final
    expect(d.dht.stats()).toMatchObject({ answers: 0, refused: 0 });
    expect(d.eval("short")).toEqual([false, true]); // only the host's own pulse
    d.eval(`clearWatch(w)`);
    expect(decodeDht(await read(d, "first")).ok).toBe(true);
    expect(decodeDht((await read(d, "second")).slice(2))).toEqual({ ok: false, error: "no response" });
    expect(d.dht.stats().refused).toBe(1);
  });

  test("the sensor ignores start signals within its warm-up after power-on", async () => {
    const d = await dhtDevice({ dht: { temperature: 22, humidity: 50 }, dhtWarmupMs: 5000 });
    expect(await read(d, "early")).toHaveLength(2);
  });
});
