// Fault matrix, network and broker side: dist bundle in the simulator against the stand-in (some
// cases through the MQTT proxy). For every case: the device recovers by itself, its reported state
// converges to the desired one, and (where it applies) its settings survive a reboot.
import mqtt from "mqtt";
import { startCloud, Cloud } from "../../sim/cloud";
import { presignIotUrl } from "../../sim/cloud/sigv4";
import { MqttProxy, publishPacket } from "./mqtt-proxy";
import {
  boot, CONNECTED, connections, converge, converged, count, crashes, deviceConfig, dir, hostPort, isPub, ledLit,
  reported, settingsSurviveReboot, sharedCloudWithProxy, stopDevices, until,
} from "./harness";

jest.setTimeout(90000);
let cloud: Cloud;
let proxy: MqttProxy;
sharedCloudWithProxy((c, p) => ((cloud = c), (proxy = p)));

test("WiFi drops and returns: reconnects, changes made meanwhile are applied, settings survive a reboot", async () => {
  const T = "rs-wifi";
  const d = await boot(await deviceConfig(cloud, T));
  await connections(d, 1);
  await converge(cloud, d, T, { on: true, refresh: 2 });
  d.faults.wifiDown();
  await d.waitForLog(/\[W\] mqtt: offline/, 5000);
  await cloud.shadows.update(T, { state: { desired: { on: false, refresh: 3 } } }); // while the device is away
  d.faults.wifiUp();
  await connections(d, 2);
  await converged(cloud, d, T, { on: false, refresh: 3 });
  await settingsSurviveReboot(cloud, d, T, { on: false, refresh: 3 });
  expect(crashes(d)).toEqual([]);
  expect(d.stats().sockets).toBe(1);
});

test("TCP reset in the middle of an incoming packet: the partial packet is dropped, state converges", async () => {
  const T = "rs-rst";
  const d = await boot(await deviceConfig(cloud, T), { proxy });
  await connections(d, 1);
  await converge(cloud, d, T, { on: false, refresh: 2 });
  // the next delta to the device is cut in half by a reset
  proxy.cutMidPacket((p) => isPub(p, "/shadow/update/delta"));
  await cloud.shadows.update(T, { state: { desired: { on: true, refresh: 4 } } });
  await d.waitForLog(/\[W\] mqtt: offline: socket (error|closed)/, 10000);
  await connections(d, 2);
  await converged(cloud, d, T, { on: true, refresh: 4 });
  expect(crashes(d)).toEqual([]);
});

test("TCP reset in the middle of a job's update/accepted: after the reconnect the job runs exactly once", async () => {
  const T = "rs-rstjob";
  const d = await boot(await deviceConfig(cloud, T), { proxy });
  await connections(d, 1);
  proxy.cutMidPacket((p) => isPub(p, "/jobs/rj-1/update/accepted"));
  const edges0 = d.led(2).history.length;
  await cloud.jobs.createJob({ jobId: "rj-1", targets: [T], document: { operation: "blink", count: 2 } });
  await d.waitForLog(/\[W\] mqtt: offline: socket (error|closed)/, 10000);
  await connections(d, 2);
  await until(() => (cloud.jobs.describeExecution("rj-1", T) || {}).status === "SUCCEEDED", "rj-1 SUCCEEDED");
  await until(() => d.led(2).history.length - edges0 >= 4, "the blinks");
  expect(d.led(2).history.length - edges0).toBe(4); // the handler ran once
  const done = proxy.upLog.filter((p) => isPub(p, "/jobs/rj-1/update") && p.json && p.json.status === "SUCCEEDED");
  expect(done.length).toBe(1);
  expect(crashes(d)).toEqual([]);
});

test("WiFi drops while a job runs: it finishes once, its result is delivered after the reconnect", async () => {
  const T = "rs-wifijob";
  const d = await boot(await deviceConfig(cloud, T));
  await connections(d, 1);
  const edges0 = d.led(2).history.length;
  await cloud.jobs.createJob({ jobId: "wj-1", targets: [T], document: { operation: "blink", count: 4 } });
  await d.waitForLog("job wj-1 blink starting", 10000);
  await until(() => (cloud.jobs.describeExecution("wj-1", T) || {}).status === "IN_PROGRESS", "wj-1 IN_PROGRESS");
  await until(() => d.led(2).history.length > edges0, "the handler started (first blink)");
  d.faults.wifiDown();
  await until(() => d.led(2).history.length - edges0 >= 8, "the blinks to finish while offline", 20000);
  d.faults.wifiUp();
  await connections(d, 2);
  await until(() => (cloud.jobs.describeExecution("wj-1", T) || {}).status === "SUCCEEDED", "wj-1 SUCCEEDED after the reconnect");
  expect(d.led(2).history.length - edges0).toBe(8);
  expect(count(d, "job wj-1 blink starting")).toBe(1);
  await converge(cloud, d, T, { on: true, refresh: 2 });
  await settingsSurviveReboot(cloud, d, T, { on: true, refresh: 2 });
  expect(count(d, "job wj-1 blink starting")).toBe(1);
  expect(crashes(d)).toEqual([]);
});

test("half-open link (nothing comes back, no PINGRESP): detected, reconnected, state converges", async () => {
  const T = "rs-halfopen";
  // short keep-alive through the test-only knobs kaMin/pingTo (defaults: AWS's 30 s minimum, 10 s)
  const d = await boot(await deviceConfig(cloud, T, { keepAlive: 2, kaMin: 1, pingTo: 2, refresh: 5 }));
  await connections(d, 1);
  await converge(cloud, d, T, { on: false, refresh: 5 });
  d.faults.stallSockets(true);
  await cloud.shadows.update(T, { state: { desired: { on: true } } }); // lost in the stalled link
  // keep-alive 2 s + the 2 s PINGRESP deadline
  await d.waitForLog("no PINGRESP in time", 15000);
  d.faults.stallSockets(false);
  await connections(d, 2);
  await converged(cloud, d, T, { on: true, refresh: 5 });
  expect(d.stats().sockets).toBe(1);
  expect(crashes(d)).toEqual([]);
});

test("broker restart: the device reconnects by itself and resumes shadow sync", async () => {
  const T = "rs-broker";
  const d = await boot(await deviceConfig(cloud, T));
  await connections(d, 1);
  await converge(cloud, d, T, { on: true, refresh: 2 });
  const before = count(d, CONNECTED);
  await cloud.restart();
  await d.waitForLog(/\[W\] mqtt: offline/, 10000);
  await connections(d, before + 1, 20000);
  await converge(cloud, d, T, { on: false, refresh: 3 });
  expect(crashes(d)).toEqual([]);
});

test("stand-in restart: shadow and queued job persisted, applied after reconnect, the job runs once", async () => {
  const dataDir = dir("cloud-persist");
  let c = await startCloud({ dataDir, port: 0, keepAliveMinSeconds: 1 } as any);
  const port = c.port;
  const T = "rs-persist";
  try {
    const d = await boot(await deviceConfig(c, T));
    await connections(d, 1);
    await converge(c, d, T, { on: true, refresh: 2 });
    const version = c.shadows.get(T).version;
    await c.stop();
    await d.waitForLog(/\[W\] mqtt: offline/, 10000);
    c = await startCloud({ dataDir, port, keepAliveMinSeconds: 1 } as any);
    expect(c.shadows.get(T).version).toBeGreaterThanOrEqual(version);
    expect(c.shadows.get(T).state.reported.on).toBe(true);
    await c.jobs.createJob({ jobId: "persist-job", targets: [T], document: { operation: "blink", count: 2 } });
    await c.shadows.update(T, { state: { desired: { on: false, refresh: 3 } } });
    // stop again before the device is back: the job and the desired change must survive this too
    await c.stop();
    c = await startCloud({ dataDir, port, keepAliveMinSeconds: 1 } as any);
    await connections(d, 2, 20000);
    await until(() => (c.jobs.describeExecution("persist-job", T) || {}).status === "SUCCEEDED", "job SUCCEEDED");
    await converged(c, d, T, { on: false, refresh: 3 });
    // The handler ran once: one completion. ("starting" may be logged twice: when the stand-in goes
    // down between the device's IN_PROGRESS request and its answer, the device decides again on
    // reconnect from its Storage record, which says the job never started.)
    const ran = /job persist-job SUCCEEDED/;
    expect(count(d, ran)).toBe(1);
    expect(count(d, /job persist-job blink starting/)).toBeGreaterThanOrEqual(1);
    await settingsSurviveReboot(c, d, T, { on: false, refresh: 3 });
    expect(count(d, ran)).toBe(1);
    expect(crashes(d)).toEqual([]);
  } finally {
    await stopDevices();
    await c.stop();
  }
});

test("duplicate client id: a second connection takes the id over; the device gets it back and converges", async () => {
  const T = "rs-dup";
  const cfg = await deviceConfig(cloud, T);
  const d = await boot(cfg);
  await connections(d, 1);
  await converge(cloud, d, T, { on: false, refresh: 2 });
  const reasons: string[] = [];
  const onDisc = (id: string, reason: string) => id === T && reasons.push(reason);
  cloud.on("disconnect", onDisc);
  const hp = hostPort(cloud);
  const url = presignIotUrl({ host: cloud.endpoint, region: cloud.region, accessKeyId: cfg.akid, secretAccessKey: cfg.secret });
  const intruder = mqtt.connect(url, { clientId: T, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, wsOptions: { headers: { host: cloud.endpoint } } as any });
  intruder.on("error", () => undefined);
  try {
    await until(() => reasons.includes("DUPLICATE_CLIENTID"), "the device's connection taken over", 10000);
    expect(hp.port).toBeGreaterThan(0);
    await d.waitForLog(/\[W\] mqtt: offline/, 10000);
    await connections(d, 2);
    await converge(cloud, d, T, { on: true, refresh: 3 });
    expect(crashes(d)).toEqual([]);
  } finally {
    cloud.off("disconnect", onDisc);
    intruder.end(true);
  }
});

test("oversized incoming message: handed to the app in parts and acknowledged, the connection stays up, state converges", async () => {
  const T = "rs-big";
  const d = await boot(await deviceConfig(cloud, T, { maxPkt: 1024 }), { proxy });
  await connections(d, 1);
  await converge(cloud, d, T, { on: false, refresh: 2 });
  const conn = proxy.current!;
  const acks: number[] = [];
  proxy.onUp = (p) => {
    if (p.type === 4) acks.push(p.raw.readUInt16BE(2));
  };
  const big = JSON.stringify({ state: { pad: "x".repeat(6000) }, version: 999 });
  conn.toDevice(publishPacket("$aws/things/" + T + "/shadow/update/delta", big, 1, 4242));
  await until(() => acks.includes(4242), "PUBACK for the oversized QoS 1 message (sent after its last byte)");
  await converge(cloud, d, T, { on: true, refresh: 3 });
  expect(count(d, CONNECTED)).toBe(1); // never dropped the connection
  expect(crashes(d)).toEqual([]);
});

describe("malformed MQTT from the broker side: that connection is dropped, the device reconnects", () => {
  const cases: [string, Buffer, RegExp][] = [
    ["reserved packet type", Buffer.from([0xf0, 0x00]), /protocol error: bad packet header 240/],
    ["PUBLISH with QoS 3", Buffer.from([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]), /protocol error: bad packet header 54/],
    ["remaining length over 4 bytes", Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]), /protocol error: bad remaining length/],
    ["truncated PUBLISH topic", Buffer.from([0x30, 0x02, 0x00, 0x09]), /protocol error: bad PUBLISH \(2 bytes\)/],
    ["CONNACK after CONNACK", Buffer.from([0x20, 0x02, 0x00, 0x00]), /unexpected CONNACK/],
    ["a packet only clients send", Buffer.from([0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00]), /unexpected SUBSCRIBE/],
  ];
  test.each(cases)("%s", async (name, raw, why) => {
    const T = "rs-bad-" + name.replace(/[^a-z0-9]+/gi, "-").toLowerCase().slice(0, 30);
    const d = await boot(await deviceConfig(cloud, T), { proxy });
    await connections(d, 1);
    await converge(cloud, d, T, { on: false, refresh: 2 });
    proxy.current!.toDevice(raw);
    const line = await d.waitForLog(/protocol error|unexpected/, 5000);
    expect(line).toMatch(why);
    expect(line).toMatch(/^[\x20-\x7e]+$/);
    await connections(d, 2);
    await converge(cloud, d, T, { on: true, refresh: 3 });
    expect(crashes(d)).toEqual([]);
  });
});

test("raw garbage bytes instead of a WebSocket frame: dropped, reconnected, nothing leaks", async () => {
  const T = "rs-garbage";
  const d = await boot(await deviceConfig(cloud, T), { proxy });
  await connections(d, 1);
  await converge(cloud, d, T, { on: true, refresh: 2 });
  const s0 = d.stats();
  proxy.current!.rawToDevice(Buffer.from([0x71, 0x7f, 0xff, 0x00, 0x13, 0x37]));
  await d.waitForLog(/ws: bad frame|protocol error/, 5000);
  await connections(d, 2);
  await converge(cloud, d, T, { on: false, refresh: 3 });
  await until(() => {
    const s = d.stats();
    return s.sockets === s0.sockets && s.timers <= s0.timers + 1 && s.listeners === s0.listeners;
  }, "no leaked sockets/timers/listeners");
  expect(ledLit(d)).toBe(false);
  expect(reported(cloud, T).on).toBe(false);
  expect(crashes(d)).toEqual([]);
});
