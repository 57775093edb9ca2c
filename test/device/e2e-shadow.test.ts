// End to end: Device Shadow behaviour of the firmware in the simulator against the stand-in.
import { Cloud } from "../../sim/cloud";
import { boot, count, delta, desired, deviceConfig, doc, ledLit, reported, sharedCloud, until, watchPublishes } from "./harness";

jest.setTimeout(60000);
let cloud: Cloud;
sharedCloud((c) => (cloud = c), { shuffleShadowResponses: true }); // update/accepted and update/delta in either order

test("boots to a first shadow report with sensor values; telnet is off", async () => {
  const d = await boot(await deviceConfig(cloud, "sh-boot"));
  const r = await until(() => {
    const r = reported(cloud, "sh-boot");
    return r.temperature !== undefined && r.uptime !== undefined && r;
  }, "first report");
  expect(r).toMatchObject({ on: false, btnCount: 0, refresh: 2, temperature: 22, humidity: 45 });
  expect(typeof r.ram_free).toBe("number");
  expect(d.telnet.mode).toBe("off");
  expect(d.errors).toEqual([]);
  // logs: one short line per event, with a level, no secrets or signed URL
  const cfg = d.storage.readJSON("iot.json");
  for (const l of d.logs) {
    expect(l).toMatch(/^\[[IWE]\] /);
    expect(l).not.toContain(cfg.secret);
    expect(l).not.toContain("X-Amz-Signature");
  }
});

test("LED follows desired.on within one round trip; the delta is empty after each change", async () => {
  const d = await boot(await deviceConfig(cloud, "sh-led"));
  await d.waitForLog("connected to AWS IoT", 10000);
  await until(() => reported(cloud, "sh-led").on === false, "first report");
  for (const on of [true, false, true]) {
    await cloud.shadows.update("sh-led", { state: { desired: { on } } });
    await until(() => ledLit(d) === on, "LED " + on, 3000);
    await until(() => reported(cloud, "sh-led").on === on && !delta(cloud, "sh-led"), "reported.on " + on + " and no delta");
  }
  expect(d.errors).toEqual([]);
});

test("refresh changes the report interval live and survives a reboot", async () => {
  const d = await boot(await deviceConfig(cloud, "sh-refresh", { refresh: 60 }));
  await until(() => reported(cloud, "sh-refresh").refresh === 60, "first report");
  const w = watchPublishes(cloud, "sh-refresh", "/shadow/update");
  await cloud.shadows.update("sh-refresh", { state: { desired: { refresh: 1 } } });
  await until(() => reported(cloud, "sh-refresh").refresh === 1 && !delta(cloud, "sh-refresh"), "refresh 1 reported");
  // at 60 s there would be no periodic report for a minute: several uptime reports prove the change
  await until(() => w.list.filter((p) => p.msg.state.reported && p.msg.state.reported.uptime !== undefined).length >= 3, "reports every second", 8000);
  expect(d.storage.readJSON("iot.set").r).toBe(1);
  w.stop();
  await d.reboot();
  await d.waitForLog("connected to AWS IoT", 10000);
  const w2 = watchPublishes(cloud, "sh-refresh", "/shadow/update");
  await until(() => w2.list.filter((p) => p.msg.state.reported && p.msg.state.reported.uptime !== undefined).length >= 3, "reports every second after reboot", 8000);
  w2.stop();
  expect(reported(cloud, "sh-refresh").refresh).toBe(1);
  expect(d.bootCount).toBe(2);
});

test("desired.reboot reboots once (no reboot loop) and is cleared", async () => {
  const d = await boot(await deviceConfig(cloud, "sh-reboot"));
  await d.waitForLog("connected to AWS IoT", 10000);
  await until(() => reported(cloud, "sh-reboot").on === false, "first report");
  await cloud.shadows.update("sh-reboot", { state: { desired: { reboot: true } } });
  await until(() => d.bootCount === 2, "reboot");
  await until(() => count(d, "connected to AWS IoT") >= 1 && reported(cloud, "sh-reboot").uptime !== undefined, "reconnected");
  // two more report cycles after the reboot, still one reboot
  const w = watchPublishes(cloud, "sh-reboot", "/shadow/update");
  await until(() => w.list.length >= 2, "reports after reboot", 8000);
  w.stop();
  expect(d.bootCount).toBe(2);
  expect(desired(cloud, "sh-reboot").reboot).toBeUndefined();
  expect(delta(cloud, "sh-reboot")).toBeUndefined();
});

test("a desired change made while the device is offline is applied after reconnect", async () => {
  const d = await boot(await deviceConfig(cloud, "sh-offline"));
  await d.waitForLog("connected to AWS IoT", 10000);
  await until(() => reported(cloud, "sh-offline").on === false, "first report");
  d.faults.wifiDown();
  await d.waitForLog("wifi lost", 5000);
  await cloud.shadows.update("sh-offline", { state: { desired: { on: true, refresh: 3 } } });
  d.faults.wifiUp();
  await until(() => ledLit(d), "LED on after reconnect", 15000);
  await until(() => {
    const r = reported(cloud, "sh-offline");
    return r.on === true && r.refresh === 3 && !delta(cloud, "sh-offline");
  }, "offline change reported, no delta");
});

test("other apps' desired keys are left alone; the device's own keys with wrong values are errors, cleared", async () => {
  const d = await boot(await deviceConfig(cloud, "sh-bad"));
  await d.waitForLog("connected to AWS IoT", 10000);
  await until(() => reported(cloud, "sh-bad").on === false, "first report");
  await cloud.shadows.update("sh-bad", { state: { desired: { color: "red", on: "yes", refresh: 0.5, nested: { a: 1 } } } });
  await until(() => {
    const e = reported(cloud, "sh-bad").errors;
    return e && e.on === "must be true or false" && /1\.\.86400/.test(e.refresh) && !("color" in e) && !("nested" in e);
  }, "errors reported for the device's own keys only: " + JSON.stringify(doc(cloud, "sh-bad")));
  // the device's keys are cleared; the others stay as their owner wrote them (their delta is theirs)
  await until(() => {
    const des = desired(cloud, "sh-bad");
    const del = delta(cloud, "sh-bad") || {};
    return des.on === undefined && des.refresh === undefined && des.color === "red" && des.nested && des.nested.a === 1 && del.on === undefined && del.refresh === undefined;
  }, "own keys cleared, others left");
  await d.waitForLog("shadow: 2 desired keys are not this device's (left alone)", 5000);
  // a valid change afterwards clears the errors
  await cloud.shadows.update("sh-bad", { state: { desired: { on: true } } });
  await until(() => reported(cloud, "sh-bad").on === true && reported(cloud, "sh-bad").errors === undefined, "errors cleared");
  expect(desired(cloud, "sh-bad").color).toBe("red");
  expect(d.errors).toEqual([]);
  expect(ledLit(d)).toBe(true);
});
