// WiFi station model, SNTP, and the clock.
import { boot, stopAll, until } from "./helpers";

afterEach(stopAll);

async function wifiDevice(ssid: string, password: string, opts: object = {}) {
  const d = await boot({ ...opts, source: "" });
  d.storage.write("w.json", JSON.stringify({ ssid, password }));
  const { fixture } = await import("./helpers");
  d.eval(require("fs").readFileSync(await fixture("wifi-sntp"), "utf8"));
  return d;
}

describe("Wifi", () => {
  test("connect succeeds with events associated then connected, getIP and getStatus follow", async () => {
    const d = await wifiDevice("lab", "labpass", { wifi: { ssid: "lab", password: "labpass", ip: "10.0.0.42" } });
    await d.waitForLog("cb null");
    const i = d.logs.indexOf("ev associated");
    expect(i).toBeGreaterThanOrEqual(0);
    expect(d.logs.indexOf("ev connected 10.0.0.42")).toBeGreaterThan(i);
    expect(d.eval(`require("Wifi").getIP().ip`)).toBe("10.0.0.42");
    expect(d.eval(`require("Wifi").getStatus().station`)).toBe("connected");
  });

  test("wrong password and unknown SSID fail with their reasons", async () => {
    const a = await wifiDevice("lab", "nope");
    await a.waitForLog("cb wrong_password");
    expect(a.logs).toContain("ev disconnected auth_fail");
    expect(a.eval(`require("Wifi").getStatus().station`)).toBe("wrong_password");
    const b = await wifiDevice("elsewhere", "labpass");
    await b.waitForLog("cb no_ap_found");
    expect(b.logs).toContain("ev disconnected no_ap_found");
    expect(b.eval(`require("Wifi").getIP().ip`)).toBe("0.0.0.0");
  });

  test("AP down: no_ap_found; after wifiUp the firmware must reconnect by itself", async () => {
    const d = await wifiDevice("lab", "labpass");
    await d.waitForLog("cb null");
    d.faults.wifiDown();
    await d.waitForLog("ev disconnected beacon_timeout");
    d.faults.wifiUp();
    // With auto-reconnect the station would be "connecting" at once (see the next test); without it
    // it stays where the AP loss left it, and the only later association is the explicit retry2.
    expect(d.eval(`require("Wifi").getStatus().station`)).toBe("no_ap_found");
    d.faults.wifiDown();
    d.eval(`require("Wifi").connect("lab", { password: "labpass" }, function (e) { console.log("retry " + e); });`);
    await d.waitForLog("retry no_ap_found");
    d.faults.wifiUp();
    d.eval(`require("Wifi").connect("lab", { password: "labpass" }, function (e) { console.log("retry2 " + e); });`);
    await d.waitForLog("retry2 null");
    const connected = d.logs.filter((l) => l.startsWith("ev connected"));
    expect(connected).toHaveLength(2); // the first connect and retry2: nothing in between
  });

  test("wifiAutoReconnect option re-associates when the AP returns", async () => {
    const d = await wifiDevice("lab", "labpass", { wifiAutoReconnect: true });
    await d.waitForLog("cb null");
    d.faults.wifiDown();
    d.faults.wifiUp();
    await until(() => d.logs.filter((l) => l.startsWith("ev connected")).length === 2, "second connected event", 8000);
  });

  test("the clock starts near 1970; SNTP sets real time plus the injected skew", async () => {
    const d = await wifiDevice("lab", "labpass", { clockSkewSeconds: -600, sntpDelayMs: 20 });
    const bootLine = await d.waitForLog(/^boot time /);
    expect(parseFloat(bootLine.split(" ")[2])).toBeLessThan(5);
    await d.waitForLog("cb null");
    await until(() => d.clock() > 1e9, "SNTP", 8000);
    expect(Math.abs(d.clock() - (Date.now() / 1000 - 600))).toBeLessThan(2);
    expect(Math.abs((d.eval("Date.now()") as number) / 1000 - (Date.now() / 1000 - 600))).toBeLessThan(2);
    d.faults.skewClock(3600);
    expect(Math.abs(d.clock() - (Date.now() / 1000 + 3000))).toBeLessThan(2);
  });

  test("Wifi.save makes the next boot connect by itself", async () => {
    const d = await wifiDevice("lab", "labpass");
    await d.waitForLog("cb null");
    d.eval(`require("Wifi").save(); require("Wifi").setHostname("dev1");`);
    await d.reboot();
    await until(() => d.wifiStatus.station === "connected", "auto connect after reboot", 8000);
  });
});
