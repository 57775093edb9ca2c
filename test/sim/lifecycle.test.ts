// Reboot tears the context down and boots again; stats and the memory estimate for leak tests.
import * as net from "net";
import { boot, stopAll, until, sleep } from "./helpers";

afterEach(stopAll);

describe("lifecycle", () => {
  test("reboot (handle and E.reboot) tears down timers, sockets and watches, keeps Storage", async () => {
    const srv = net.createServer((s) => s.on("error", () => {}));
    const conns: net.Socket[] = [];
    srv.on("connection", (c) => conns.push(c));
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      const d = await boot({
        source: `E.on("init", function () { console.log("init " + require("Storage").read("count")); });
          E.on("kill", function () { console.log("kill"); });
          var c = +(require("Storage").read("count") || 0) + 1;
          require("Storage").write("count", String(c));
          setInterval(function () { console.log("tick"); }, 20);
          setWatch(function () {}, D4, { repeat: true });
          require("Wifi").connect("lab", { password: "labpass" }, function () {
            require("net").connect({ host: "127.0.0.1", port: ${port} }, function () { console.log("sock up"); });
          });`,
      });
      await d.waitForLog("sock up");
      expect(d.stats()).toMatchObject({ timers: 1, sockets: 1, watches: 1 });
      await d.reboot();
      expect(d.bootCount).toBe(2);
      expect(d.logs).toContain("kill");
      expect(d.logs).toContain("init 2");
      await until(() => conns.length >= 1 && conns[0].destroyed, "old socket closed", 8000);
      d.eval(`E.reboot(); console.log("after E.reboot must not print");`);
      await until(() => d.bootCount === 3, "E.reboot", 8000);
      expect(d.logs).not.toContain("after E.reboot must not print");
      expect(d.storage.read("count")).toBe("3");
      const ticks = d.logs.filter((l) => l === "tick").length;
      await d.stop();
      // host timers fire in due order: a live 20 ms interval would tick before this 60 ms timer
      await sleep(60);
      expect(d.logs.filter((l) => l === "tick").length).toBe(ticks);
      expect(() => d.eval(`1`)).toThrow(/not running/);
    } finally {
      for (const c of conns) c.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  test("memory(): an estimate in variables that grows with state kept on globals; process.memory() agrees", async () => {
    const d = await boot({ fixture: "leaky" });
    await d.waitForLog("leaky ready");
    const m0 = d.memory();
    expect(m0.total).toBe(1600);
    expect(m0.usage).toBeGreaterThan(0);
    expect(m0.free).toBe(m0.total - m0.usage);
    d.eval(`grow(50)`);
    const m1 = d.memory();
    expect(m1.usage - m0.usage).toBeGreaterThan(50 * 5);
    const pm = d.eval(`process.memory()`);
    expect(Math.abs(pm.usage - m1.usage)).toBeLessThan(20);
    d.eval(`keep = []`);
    expect(d.memory().usage).toBeLessThan(m1.usage);
    expect(d.stats()).toMatchObject({ timers: 1, watches: 1, sockets: 0 });
    const b = await boot({ board: "esp32", fixture: "leaky" });
    expect(b.memory().total).toBe(8000);
  });

  test("process.memory() inside the firmware reuses a recent estimate; handle.memory() is always fresh and refreshes it", async () => {
    const d = await boot({ fixture: "leaky" });
    await d.waitForLog("leaky ready");
    const before = d.eval(`process.memory()`).usage;
    d.eval(`grow(50)`);
    // within the cache span the firmware sees the estimate from before the growth
    expect(d.eval(`process.memory()`).usage).toBe(before);
    const fresh = d.memory();
    expect(fresh.usage - before).toBeGreaterThan(50 * 5);
    // handle.memory() refreshed the cached value
    expect(d.eval(`process.memory()`).usage).toBe(fresh.usage);
    // a reboot starts without a cached value
    await d.reboot();
    await d.waitForLog("leaky ready");
    expect(Math.abs(d.eval(`process.memory()`).usage - d.memory().usage)).toBeLessThan(20);
  });

  test("E.getSizeOf prices a value like Espruino roughly would", async () => {
    const d = await boot();
    const r = d.eval(`[E.getSizeOf({ a: 1, b: "x" }), E.getSizeOf([1, 2, 3, 4]), E.getSizeOf(new Uint8Array(120))]`);
    expect(r[0]).toBeGreaterThanOrEqual(4);
    expect(r[0]).toBeLessThan(10);
    expect(r[1]).toBeGreaterThanOrEqual(8);
    expect(r[1]).toBeLessThan(15);
    expect(r[2]).toBeGreaterThanOrEqual(10);
    expect(r[2]).toBeLessThan(20);
  });

  test("listeners are counted for leak tests", async () => {
    const d = await boot();
    const l0 = d.stats().listeners;
    d.eval(`for (var i = 0; i < 3; i++) require("Wifi").on("connected", function () {});`);
    expect(d.stats().listeners).toBe(l0 + 3);
  });
});
