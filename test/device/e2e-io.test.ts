// End to end: DHT11 readings and errors, the button, and a missing configuration.
import { Cloud } from "../../sim/cloud";
import { boot, BTN, deviceConfig, LED, reported, sharedCloud, until, watchPublishes } from "./harness";

jest.setTimeout(60000);
let cloud: Cloud;
sharedCloud((c) => (cloud = c));

test("DHT11 values are reported; a checksum error gives null values and an error, then recovers", async () => {
  const d = await boot(await deviceConfig(cloud, "io-dht", { refresh: 1 }), { dht: { temperature: 24.5, humidity: 61 } });
  await until(() => reported(cloud, "io-dht").temperature === 24.5 && reported(cloud, "io-dht").humidity === 61, "values");
  d.dht.set({ temperature: -3.2, humidity: 20 });
  await until(() => reported(cloud, "io-dht").temperature === -3.2, "new values");
  const w = watchPublishes(cloud, "io-dht", "/shadow/update");
  d.dht.faults({ checksumError: true });
  await until(() => reported(cloud, "io-dht").sensorError === "checksum error", "checksum error reported", 15000);
  const r = reported(cloud, "io-dht");
  expect(r.temperature).toBeUndefined();
  expect(r.humidity).toBeUndefined();
  const withErr = w.list.find((p) => p.msg.state.reported && p.msg.state.reported.sensorError);
  expect(withErr.msg.state.reported).toMatchObject({ temperature: null, humidity: null, sensorError: "checksum error" });
  expect(d.logs.some((l) => l === "[W] dht11: checksum error")).toBe(true);
  d.dht.faults({});
  await until(() => reported(cloud, "io-dht").temperature === -3.2 && reported(cloud, "io-dht").sensorError === undefined, "recovered", 15000);
  w.stop();
  // never a garbage number: every temperature sent was a real reading or null
  for (const p of w.list) {
    const t = p.msg.state.reported && p.msg.state.reported.temperature;
    if (t !== undefined) expect([null, -3.2]).toContain(t);
  }
});

test("a missing sensor is reported as an error with null values, never numbers", async () => {
  const w = watchPublishes(cloud, "io-nodht", "/shadow/update");
  const d = await boot(await deviceConfig(cloud, "io-nodht"), { dht: null });
  await until(() => reported(cloud, "io-nodht").sensorError === "no response", "no response reported", 15000);
  expect(reported(cloud, "io-nodht").temperature).toBeUndefined();
  expect(d.dht.stats().answers).toBe(0);
  w.stop();
  for (const p of w.list) {
    const r = p.msg.state.reported || {};
    expect(typeof r.temperature).not.toBe("number");
    expect(typeof r.humidity).not.toBe("number");
  }
});

test("a button press before the first connection does not crash and is counted", async () => {
  const d = await boot(await deviceConfig(cloud, "io-btn-early"), { sntpDelayMs: 1500 });
  await d.waitForLog("waiting for the clock", 3000);
  await d.button.press(BTN);
  await d.waitForLog("[I] button 1", 2000);
  await until(() => reported(cloud, "io-btn-early").btnCount === 1, "btnCount 1 after connecting");
  expect(d.errors).toEqual([]);
});

test("button: btnCount in the shadow and an event on devices/{thing}/events", async () => {
  const d = await boot(await deviceConfig(cloud, "io-btn"));
  await d.waitForLog("connected to AWS IoT", 10000);
  await until(() => reported(cloud, "io-btn").temperature === 22, "first report");
  const w = watchPublishes(cloud, "io-btn", "devices/io-btn/events");
  await d.button.press(BTN, { bounce: true }); // contact bounce: still one press (50 ms debounce)
  await d.waitForLog("[I] button 1", 2000);
  await new Promise((r) => setTimeout(r, 150)); // a finger needs longer than the 50 ms debounce
  await d.button.press(BTN);
  await d.waitForLog("[I] button 2", 2000);
  await until(() => reported(cloud, "io-btn").btnCount === 2, "btnCount 2");
  await until(() => w.list.length === 2, "two events");
  expect(w.list[1].msg).toMatchObject({ btnCount: 2, temperature: 22, humidity: 45 });
  expect(typeof w.list[1].msg.uptime).toBe("number");
  w.stop();
});

test("missing or invalid configuration: plain-words log, LED error pattern, no crash; a valid one is picked up", async () => {
  const good = await deviceConfig(cloud, "io-cfg");
  const d = await boot({ ssid: "lab", thing: "bad name!" } as any);
  await d.waitForLog("config iot.json:", 3000);
  const line = d.logs.find((l) => l.startsWith("[E] config iot.json:"))!;
  expect(line).toContain("host is required");
  expect(line).toContain("thing may contain only");
  await until(() => d.led(LED).history.length >= 6, "LED error pattern", 3000);
  expect(d.errors).toEqual([]);
  d.storage.write("iot.json", JSON.stringify(good));
  await d.waitForLog("connected to AWS IoT", 45000);
});

test("the same bundle runs on the ESP32 profile (native SHA-256) to a first report", async () => {
  const d = await boot(await deviceConfig(cloud, "io-esp32"), { board: "esp32" });
  await until(() => reported(cloud, "io-esp32").temperature === 22, "first report on esp32");
  expect(d.errors).toEqual([]);
});
