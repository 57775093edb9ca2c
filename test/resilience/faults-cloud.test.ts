// Fault matrix, cloud and input side: clock skew (403), expired STS credentials, malformed and
// wrongly typed deltas, responses out of order, a 409, rejected job updates, no DHT11, Storage full.
// Bundle in the simulator against the stand-in; the MQTT proxy injects what the stand-in would not send.
import { Cloud } from "../../sim/cloud";
import { MqttProxy, Pkt, publishPacket } from "./mqtt-proxy";
import {
  boot, cloudUp, CONNECTED, connections, converge, converged, count, crashes, delta, desired, deviceConfig, isPub,
  ledLit, reported, settingsSurviveReboot, sharedCloudWithProxy, sleep, stopDevices, until,
} from "./harness";

jest.setTimeout(60000);
let cloud: Cloud;
let proxy: MqttProxy;
sharedCloudWithProxy((c, p) => ((cloud = c), (proxy = p)));
// the MQTT client's line for each scheduled reconnection attempt
const RETRY = /^\[I\] mqtt: retry \d+ in \d+ ms$/;
const RETRY_4 = /^\[I\] mqtt: retry 4 in \d+ ms$/;

test("403 from clock skew while running: corrected from the server's Date, reconnected, converged", async () => {
  const T = "rc-skew";
  const d = await boot(await deviceConfig(cloud, T));
  await connections(d, 1);
  await converge(cloud, d, T, { on: true, refresh: 2 });
  d.faults.setSntpSkew(3600); // SNTP keeps giving a wrong time
  d.faults.skewClock(3600);
  const denied: any[] = [];
  const onDenied = (e: any) => e.action === "connect" && denied.push(e);
  cloud.on("denied", onDenied);
  try {
    d.faults.resetSockets();
    await d.waitForLog(/\[W\] clock is -3\d\d\d s off the server's; corrected to \d{8}T\d{6}Z/, 15000);
    await connections(d, 2);
    expect(denied.length).toBeGreaterThanOrEqual(1);
    expect(denied[0].code).toMatch(/Signature|Skew|Time|Expired|Request/i);
    await converge(cloud, d, T, { on: false, refresh: 3 });
    await settingsSurviveReboot(cloud, d, T, { on: false, refresh: 3 });
    expect(crashes(d)).toEqual([]);
  } finally {
    cloud.off("denied", onDenied);
  }
});

test("expired STS credentials the device knows about: a clear error, retried with backoff (no tight loop)", async () => {
  const T = "rc-sts";
  const base = await deviceConfig(cloud, T);
  const old = cloud.issueSessionCredentials(T, 1);
  await until(() => Date.now() > old.expiration + 50, "the session credentials to expire", 5000);
  const d = await boot({ ...base, akid: old.accessKeyId, secret: old.secretAccessKey, token: old.sessionToken, tokenExp: Math.floor(old.expiration / 1000) });
  await d.waitForLog(/\[E\] credentials expired at \d{8}T\d{6}Z/, 10000);
  // keeps trying, with backoff: every refused signing is followed by one scheduled retry
  await until(() => count(d, RETRY_4), "the fourth scheduled retry");
  expect(count(d, "credentials expired at")).toBe(count(d, RETRY));
  const fresh = cloud.issueSessionCredentials(T, 3600);
  d.storage.write("iot.json", JSON.stringify({ ...base, akid: fresh.accessKeyId, secret: fresh.secretAccessKey, token: fresh.sessionToken, tokenExp: Math.floor(fresh.expiration / 1000) }));
  await connections(d, 1, 20000);
  await converge(cloud, d, T, { on: true, refresh: 2 });
  expect(d.logs.join("\n")).not.toContain(fresh.secretAccessKey);
  expect(crashes(d)).toEqual([]);
});

test("expired STS token the device does not know about: the 403 says so, attempts are spaced out", async () => {
  const T = "rc-sts403";
  const base = await deviceConfig(cloud, T);
  const old = cloud.issueSessionCredentials(T, 1);
  await until(() => Date.now() > old.expiration + 50, "the session credentials to expire", 5000);
  const denied: number[] = [];
  const onDenied = (e: any) => e.action === "connect" && /expired/i.test(e.reason) && denied.push(Date.now());
  cloud.on("denied", onDenied);
  try {
    const d = await boot({ ...base, akid: old.accessKeyId, secret: old.secretAccessKey, token: old.sessionToken });
    const line = await d.waitForLog(/\[E\] .*HTTP 403/, 10000);
    expect(line).toMatch(/^\[E\] [\x20-\x7e]+$/);
    // attempts are spaced out: one refused connection per scheduled retry (the stand-in counts a
    // refusal before the device has read it, so it may be one ahead)
    await until(() => count(d, RETRY_4), "the fourth scheduled retry");
    const retries = count(d, RETRY);
    expect(denied.length).toBeGreaterThanOrEqual(retries);
    expect(denied.length).toBeLessThanOrEqual(retries + 1);
    const fresh = cloud.issueSessionCredentials(T, 3600);
    d.storage.write("iot.json", JSON.stringify({ ...base, akid: fresh.accessKeyId, secret: fresh.secretAccessKey, token: fresh.sessionToken }));
    await connections(d, 1, 20000);
    await converge(cloud, d, T, { on: true, refresh: 2 });
    expect(crashes(d)).toEqual([]);
  } finally {
    cloud.off("denied", onDenied);
  }
});

// The refusal must keep the word that matters: AWS's "The security token included in the request is
// expired" (an earlier version cut it to 50 characters: "... is expi").
test("expired STS token the device does not know about: the log line says the token expired", async () => {
  const T = "rc-sts403b";
  const base = await deviceConfig(cloud, T);
  const old = cloud.issueSessionCredentials(T, 1);
  await until(() => Date.now() > old.expiration + 50, "the session credentials to expire", 5000);
  const d = await boot({ ...base, akid: old.accessKeyId, secret: old.secretAccessKey, token: old.sessionToken });
  const line = await d.waitForLog(/\[E\] .*HTTP 403/, 10000);
  expect(line).toMatch(/expired/i);
});

test("malformed JSON and wrong types on the shadow and jobs topics: ignored or reported, never a crash", async () => {
  const T = "rc-badjson";
  const d = await boot(await deviceConfig(cloud, T), { proxy });
  await connections(d, 1);
  await converge(cloud, d, T, { on: false, refresh: 2 });
  const conn = proxy.current!;
  const P = "$aws/things/" + T + "/";
  const junk = ["{not json", "", "null", "[]", "42", '"str"', '{"state":5}', '{"state":null,"version":"x"}', '{"state":{"on":{"on":{"on":{"on":true}}}}}',
    '{"state":{"refresh":1e308}}', '{"state":{"on":"yes","refresh":-5},"version":-1}', "\xff\xfe\x00garbage"];
  const topics = ["shadow/update/delta", "shadow/get/accepted", "shadow/update/accepted", "shadow/update/rejected", "jobs/notify-next", "jobs/$next/get/accepted", "jobs/$next/get/rejected", "jobs/x1/update/accepted", "jobs/x1/update/rejected"];
  for (const t of topics) for (const j of junk) conn.toDevice(publishPacket(P + t, Buffer.from(j, "latin1")));
  await d.waitForLog("bad JSON on " + P + "shadow/update/delta", 5000);
  // still connected and still in sync: a real change goes through
  await converge(cloud, d, T, { on: true, refresh: 3 });
  expect(count(d, CONNECTED)).toBe(1);
  expect(crashes(d)).toEqual([]);
});

// A JSON `null` payload on jobs/$next/get/rejected once threw a TypeError (m.code on null) inside the
// message handler; now every payload that is not an object is refused in plain words.
test("a null payload on jobs/$next/get/rejected is handled without an exception", async () => {
  const T = "rc-nullrej";
  const d = await boot(await deviceConfig(cloud, T), { proxy });
  await connections(d, 1);
  proxy.current!.toDevice(publishPacket("$aws/things/" + T + "/jobs/$next/get/rejected", "null"));
  await converge(cloud, d, T, { on: true, refresh: 2 });
  expect(crashes(d)).toEqual([]);
});

// One delta with an absurd version (1e308, from anything allowed to publish on the thing's delta
// topic) must not make every later real delta "stale" until the next reconnect.
test("a delta with an absurd version does not block later desired changes", async () => {
  const T = "rc-bigver";
  const d = await boot(await deviceConfig(cloud, T), { proxy });
  await connections(d, 1);
  await converge(cloud, d, T, { on: false, refresh: 2 });
  proxy.current!.toDevice(publishPacket("$aws/things/" + T + "/shadow/update/delta", JSON.stringify({ state: {}, version: 1e308 })));
  await converge(cloud, d, T, { on: true, refresh: 3 }, 6000);
});

test("wrong types in desired: reported as errors, cleared, valid keys still applied; another app's key left alone", async () => {
  const T = "rc-types";
  const d = await boot(await deviceConfig(cloud, T));
  await connections(d, 1);
  await converge(cloud, d, T, { on: false, refresh: 2 });
  await cloud.shadows.update(T, { state: { desired: { on: "yes", refresh: 1e308, color: { deep: { deeper: [1, 2, 3] } } } } });
  await until(() => {
    const e = reported(cloud, T).errors;
    return e && e.on && e.refresh && !e.color;
  }, "errors reported for the device's own keys");
  await until(() => {
    const x = delta(cloud, T) || {};
    return x.on === undefined && x.refresh === undefined && x.color;
  }, "the bad desired keys cleared (only the other app's key left in the delta)");
  const des = desired(cloud, T);
  expect(des.on === undefined && des.refresh === undefined).toBe(true);
  expect(des.color).toEqual({ deep: { deeper: [1, 2, 3] } }); // not the device's: never cleared
  expect(reported(cloud, T).on).toBe(false); // the wrong value was not applied
  await converge(cloud, d, T, { on: true, refresh: 3 });
  await until(() => reported(cloud, T).errors === undefined, "errors cleared once desired is valid again");
  expect(crashes(d)).toEqual([]);
});

test("a delta overtaken by a newer one (swapped order): the stale one is ignored, the newest wins", async () => {
  const T = "rc-order";
  const d = await boot(await deviceConfig(cloud, T), { proxy });
  await connections(d, 1);
  await converge(cloud, d, T, { on: false, refresh: 2 });
  let held: Pkt | null = null;
  let passed = 0;
  proxy.onDown = (p, c) => {
    if (!isPub(p, "/shadow/update/delta")) return;
    if (!held) {
      held = p; // the older delta waits...
      return "drop";
    }
    passed++;
    c.toDevice(p.raw); // ...the newer one goes first,
    c.toDevice(held.raw); // then the older one
    proxy.onDown = null;
    return "drop";
  };
  await cloud.shadows.update(T, { state: { desired: { on: true, refresh: 5 } } });
  await cloud.shadows.update(T, { state: { desired: { on: false, refresh: 3 } } });
  await until(() => passed === 1, "both deltas delivered, newest first");
  await d.waitForLog(/stale/, 5000);
  await converged(cloud, d, T, { on: false, refresh: 3 });
  expect(crashes(d)).toEqual([]);
});

test("update/accepted and update/delta in random order (shuffleShadowResponses): converges every time", async () => {
  const c2 = await cloudUp({ shuffleShadowResponses: true });
  const T = "rc-shuffle";
  try {
    const d = await boot(await deviceConfig(c2, T));
    await connections(d, 1);
    let want = { on: false, refresh: 2 };
    for (let i = 0; i < 6; i++) {
      want = { on: i % 2 === 0, refresh: 2 + (i % 3) };
      await c2.shadows.update(T, { state: { desired: want } });
      if (i % 2) await converged(c2, d, T, want); // sometimes back to back, sometimes settled
    }
    await converged(c2, d, T, want);
    await settingsSurviveReboot(c2, d, T, want);
    expect(crashes(d)).toEqual([]);
  } finally {
    await stopDevices();
    await c2.stop();
  }
});

test("409 version conflict on the device's update: it re-reads the shadow and converges", async () => {
  const T = "rc-409";
  const d = await boot(await deviceConfig(cloud, T), { proxy });
  await connections(d, 1);
  await converge(cloud, d, T, { on: false, refresh: 2 });
  let rejected = 0;
  proxy.onUp = (p, c) => {
    if (!rejected && isPub(p, "/shadow/update") && p.json && p.json.state && p.json.state.reported && "on" in p.json.state.reported) {
      rejected++;
      c.toDevice(publishPacket("$aws/things/" + T + "/shadow/update/rejected", JSON.stringify({ code: 409, message: "Version conflict", timestamp: Math.floor(Date.now() / 1000), clientToken: p.json.clientToken })));
      return "drop";
    }
  };
  const gets = proxy.upLog.filter((p) => isPub(p, "/shadow/get")).length;
  await cloud.shadows.update(T, { state: { desired: { on: true, refresh: 4 } } });
  await until(() => rejected === 1, "the device's report answered with 409");
  await until(() => proxy.upLog.filter((p) => isPub(p, "/shadow/get")).length > gets, "shadow re-read after the 409");
  await converged(cloud, d, T, { on: true, refresh: 4 });
  expect(crashes(d)).toEqual([]);
});

describe("rejected job updates", () => {
  const status = (jobId: string, T: string) => (cloud.jobs.describeExecution(jobId, T) || {}).status;

  test("VersionMismatch once: retried with the service's version, the job runs once and succeeds", async () => {
    const T = "rc-jobrej";
    const d = await boot(await deviceConfig(cloud, T), { proxy });
    await connections(d, 1);
    let rejected = 0;
    proxy.onUp = (p, c) => {
      if (!rejected && isPub(p, "/jobs/jr-1/update") && p.json && p.json.status === "IN_PROGRESS") {
        rejected++;
        c.toDevice(publishPacket("$aws/things/" + T + "/jobs/jr-1/update/rejected", JSON.stringify({ code: "VersionMismatch", message: "expected version does not match", clientToken: p.json.clientToken, timestamp: 1, executionState: { status: "QUEUED", versionNumber: 1 } })));
        return "drop";
      }
    };
    const edges0 = d.led(2).history.length;
    await cloud.jobs.createJob({ jobId: "jr-1", targets: [T], document: { operation: "blink", count: 2 } });
    await until(() => status("jr-1", T) === "SUCCEEDED", "jr-1 SUCCEEDED");
    expect(rejected).toBe(1);
    expect(count(d, "job jr-1 blink starting")).toBeLessThanOrEqual(2); // logged per attempt at most
    const ups = proxy.upLog.filter((p) => isPub(p, "/jobs/jr-1/update")).map((p) => p.json.status);
    expect(ups.filter((s: string) => s === "SUCCEEDED").length).toBe(1);
    expect(d.led(2).history.length - edges0).toBe(4); // blinked twice: the handler ran once
    await settingsSurviveReboot(cloud, d, T, { on: reported(cloud, T).on, refresh: reported(cloud, T).refresh });
    expect(status("jr-1", T)).toBe("SUCCEEDED");
    expect(crashes(d)).toEqual([]);
  });

  test("rejected every time: the device gives up after a few tries (no loop) and keeps working", async () => {
    const T = "rc-jobrej2";
    const d = await boot(await deviceConfig(cloud, T), { proxy });
    await connections(d, 1);
    let rejected = 0;
    proxy.onUp = (p, c) => {
      if (isPub(p, "/jobs/jr-2/update") && p.json) {
        rejected++;
        c.toDevice(publishPacket("$aws/things/" + T + "/jobs/jr-2/update/rejected", JSON.stringify({ code: "InternalError", message: "internal failure", clientToken: p.json.clientToken, timestamp: 1 })));
        return "drop";
      }
    };
    await cloud.jobs.createJob({ jobId: "jr-2", targets: [T], document: { operation: "blink", count: 1 } });
    await d.waitForLog("job jr-2 abandoned", 10000);
    const n = rejected;
    await sleep(1500);
    expect(rejected).toBe(n); // stopped
    expect(n).toBeLessThanOrEqual(3);
    await converge(cloud, d, T, { on: true, refresh: 3 });
    expect(crashes(d)).toEqual([]);
  });
});

test("no DHT11: null readings with the error reported, the rest works; values return with the sensor", async () => {
  const T = "rc-nodht";
  const d = await boot(await deviceConfig(cloud, T), { dht: null });
  await connections(d, 1);
  await until(() => reported(cloud, T).sensorError, "sensorError reported");
  // null deletes a key in a shadow: the readings are gone from reported
  expect(reported(cloud, T).temperature == null).toBe(true);
  expect(reported(cloud, T).humidity == null).toBe(true);
  expect(String(reported(cloud, T).sensorError)).toMatch(/^[\x20-\x7e]+$/);
  await converge(cloud, d, T, { on: true, refresh: 2 });
  d.dht.set({ temperature: 24, humidity: 51 });
  await until(() => reported(cloud, T).temperature === 24 && reported(cloud, T).humidity === 51 && reported(cloud, T).sensorError == null, "readings back");
  d.dht.set(null);
  await until(() => reported(cloud, T).temperature == null && reported(cloud, T).sensorError, "sensor gone again");
  expect(crashes(d)).toEqual([]);
});

describe("Storage full", () => {
  async function fullDevice(T: string) {
    const d = await boot(await deviceConfig(cloud, T));
    await connections(d, 1);
    await until(() => reported(cloud, T).uptime !== undefined, "first report");
    // fill the flash: leave less than one small file's header free
    const free = d.storage.getFree();
    d.storage.write("filler", "x".repeat(Math.max(0, free - 32 - 8)));
    expect(d.storage.getFree()).toBeLessThan(48);
    return d;
  }

  test("the device keeps running and converging; settings come back from the shadow after a reboot", async () => {
    const T = "rc-full";
    const d = await fullDevice(T);
    await converge(cloud, d, T, { on: true, refresh: 3 });
    const n = count(d, CONNECTED);
    await d.reboot();
    await connections(d, n + 1);
    await converged(cloud, d, T, { on: true, refresh: 3 });
    expect(crashes(d)).toEqual([]);
    d.storage.erase("filler");
  });

  // A failed Storage write must be said in plain words (device.ts logs "[E] Storage full: <file> not saved").
  test("a setting that cannot be saved is reported in plain words", async () => {
    const T = "rc-full-log";
    const d = await fullDevice(T);
    await converge(cloud, d, T, { on: true, refresh: 3 });
    expect(d.logs.filter((l) => /storage|flash/i.test(l) && /full|not saved|could not|cannot/i.test(l)).length).toBeGreaterThan(0);
  });

  // The job record must be saved before a job starts, or a reboot mid-job would run it again: with the
  // Storage full the device refuses to start it and says why, and a reboot does not start it either.
  test("with Storage full a job is not started (it could run twice after a reboot): FAILED with the reason", async () => {
    const T = "rc-full-job";
    const d = await fullDevice(T);
    const ledChanges = () => d.led(2).history.length;
    const before = ledChanges();
    await cloud.jobs.createJob({ jobId: "full-1", targets: [T], document: { operation: "blink", count: 20 } });
    const status = () => (cloud.jobs.describeExecution("full-1", T) || {}).status;
    await until(() => status() === "FAILED", "full-1 FAILED", 20000);
    expect(JSON.stringify(cloud.jobs.describeExecution("full-1", T))).toMatch(/"reason":"Storage full"/);
    // the device took the job ("starting" is logged when it asks for IN_PROGRESS) but never ran the
    // handler: a 20-blink job would have toggled the LED 40 times
    const started = count(d, "job full-1 blink starting");
    expect(started).toBe(1);
    await sleep(500);
    expect(ledChanges() - before).toBeLessThan(4);
    const n = count(d, CONNECTED);
    await d.reboot();
    await connections(d, n + 1);
    await sleep(500);
    expect(status()).toBe("FAILED");
    expect(count(d, "job full-1 blink starting")).toBe(started);
    expect(crashes(d)).toEqual([]);
    d.storage.erase("filler");
  });
});

test("ledLit helper agrees with the reported state after all of the above", async () => {
  const T = "rc-final";
  const d = await boot(await deviceConfig(cloud, T));
  await connections(d, 1);
  await converge(cloud, d, T, { on: true, refresh: 2 });
  expect(ledLit(d)).toBe(true);
});
