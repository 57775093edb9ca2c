// LED history, button bounce with and without debounce, setWatch edges, digitalPulse.
import { boot, stopAll, until } from "./helpers";

afterEach(stopAll);

describe("pins", () => {
  test("LED model records every level change with its time", async () => {
    const d = await boot({ source: `var on = false; var n = 0; var iv = setInterval(function () { on = !on; digitalWrite(D2, on); if (++n === 4) clearInterval(iv); }, 10);` });
    await until(() => d.led(2).history.length === 4, "4 LED changes", 8000);
    const h = d.led(2).history;
    expect(h.map((x) => x.level)).toEqual([1, 0, 1, 0]);
    for (let i = 1; i < h.length; i++) expect(h[i].t).toBeGreaterThanOrEqual(h[i - 1].t);
    expect(d.led(2).level).toBe(0);
  });

  test("a bouncing button gives several raw edges; debounce gives one clean press and release", async () => {
    const d = await boot({ fixture: "button" });
    await d.waitForLog("button ready");
    await d.button.press(0, { bounce: true, holdMs: 60 });
    await d.waitForLog("debounced up 2");
    const raw = d.logs.filter((l) => l.startsWith("raw press")).length;
    expect(raw).toBeGreaterThan(1); // bounce shows up without debounce
    expect(d.logs.filter((l) => l.startsWith("debounced"))).toEqual(["debounced down 1", "debounced up 2"]);
    await d.button.press(0, { holdMs: 40 });
    await d.waitForLog("debounced up 4");
  });

  test("setWatch edge filters, repeat false, state/time/lastTime fields", async () => {
    const d = await boot();
    d.eval(`var ev = [];
      pinMode(D13, "input");
      setWatch(function (e) { ev.push(["r", e.state, typeof e.time, e.time >= e.lastTime]); }, D13, { edge: "rising", repeat: true });
      setWatch(function (e) { ev.push(["once", e.state]); }, D13, { edge: "falling" });`);
    d.pins.set(13, 1);
    d.pins.set(13, 0);
    d.pins.set(13, 1);
    d.pins.set(13, 0);
    // one more rising edge: its event proves the second falling edge (after "once" was removed) made none
    d.pins.set(13, 1);
    await until(() => (d.eval("ev") as any[]).length === 4, "four watch events");
    expect(d.eval("ev")).toEqual([["r", true, "number", false], ["once", false], ["r", true, "number", true], ["r", true, "number", true]]);
    expect(d.stats().watches).toBe(1);
  });

  test("pinMode modes: opendrain releases to the pull-up, input_pullup reads 1, output drives", async () => {
    const d = await boot();
    expect(d.eval(`pinMode(D12, "input_pullup"); digitalRead(D12)`)).toBe(1);
    d.pins.set(12, 0);
    expect(d.eval(`digitalRead(D12)`)).toBe(0);
    d.pins.release(12);
    expect(d.eval(`pinMode(D15, "opendrain"); digitalWrite(D15, 0); digitalRead(D15)`)).toBe(0);
    expect(d.eval(`digitalWrite(D15, 1); digitalRead(D15)`)).toBe(1);
    expect(d.eval(`getPinMode(D15)`)).toBe("opendrain");
    expect(d.eval(`(function(){ try { pinMode(D15, "sideways"); } catch (e) { return e.message; } })()`)).toMatch(/Unknown pin mode/);
  });

  test("edges beyond the IO queue are lost and E.getErrorFlags() reports FIFO_FULL", async () => {
    const d = await boot();
    d.eval(`var n = 0; setWatch(function () { n++; }, D13, { repeat: true });`);
    for (let i = 0; i < 300; i++) d.pins.set(13, i % 2 ? 0 : 1);
    await until(() => d.eval("n") >= 128, "the queued edges to be handled");
    // a later edge is handled after the burst, so the count before it is final
    d.pins.set(13, 1);
    await until(() => d.eval("n") > 128, "the edge after the burst");
    expect(d.eval("n")).toBe(129);
    expect(d.eval("E.getErrorFlags()")).toEqual(["FIFO_FULL"]);
    expect(d.eval("E.getErrorFlags()")).toEqual([]);
  });

  test("digitalPulse drives the level for the given time and returns", async () => {
    const d = await boot();
    d.eval(`digitalPulse(D5, 1, [10, 10, 10]);`);
    await until(() => d.led(5).history.length === 4, "pulse edges", 8000);
    expect(d.led(5).history.map((h) => h.level)).toEqual([1, 0, 1, 0]);
  });
});
