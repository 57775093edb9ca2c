// End to end: network and credential faults, each logged in plain words and recovered from alone.
import { startCloud, Cloud } from "../../sim/cloud";
import { boot, count, deviceConfig, dir, reported, sharedCloud, stopAll, until } from "./harness";

jest.setTimeout(60000);
let cloud: Cloud;
sharedCloud((c) => (cloud = c));

test("wrong WiFi password: logged, retried with backoff, a corrected iot.json is picked up", async () => {
  const good = await deviceConfig(cloud, "ft-wifi");
  const d = await boot({ ...good, pass: "not-the-password" });
  const line = await d.waitForLog("wifi lab:", 3000);
  expect(line).toMatch(/^\[W\] wifi lab: wrong password; retry in \d+ s$/);
  expect(line).not.toContain("not-the-password");
  d.storage.write("iot.json", JSON.stringify(good));
  await d.waitForLog("connected to AWS IoT", 15000);
});

test("WiFi network not found, then the access point comes back", async () => {
  const d = await boot(await deviceConfig(cloud, "ft-ap"));
  await d.waitForLog("connected to AWS IoT", 10000);
  d.faults.wifiDown();
  await d.waitForLog("[W] wifi lost: beacon timeout; retry in 1 s", 3000);
  await d.waitForLog("wifi lab: no ap found", 5000);
  d.faults.wifiUp();
  await until(() => count(d, "connected to AWS IoT") >= 2, "reconnected", 15000);
});

test("unreachable endpoint: logged, retried, connects once the endpoint is up", async () => {
  const dataDir = dir("cloud-late");
  const c1 = await startCloud({ dataDir, port: 0 });
  const cfg = await deviceConfig(c1, "ft-unreach");
  const port = c1.port;
  await c1.stop();
  const d = await boot(cfg);
  await d.waitForLog(/\[W\] mqtt: socket error/, 10000);
  const c2 = await startCloud({ dataDir, port });
  try {
    await d.waitForLog("connected to AWS IoT", 15000);
    await until(() => reported(c2, "ft-unreach").uptime !== undefined, "report");
  } finally {
    await stopAll(c2);
  }
});

test("bad credentials (HTTP 403): logged plainly, backoff, new credentials in iot.json are used", async () => {
  const good = await deviceConfig(cloud, "ft-403");
  const d = await boot({ ...good, secret: "x".repeat(40) });
  // the AWS message's first sentence, and where the rest is (never cut in the middle of a word)
  await d.waitForLog("[E] refused (HTTP 403): The request signature we calculated does not match the signature you provided. [cut; the whole text is in the server's log]", 10000);
  // backoff, no tight loop: each refusal (the app's own line; the MQTT client's lines also say
  // "refused (HTTP 403)") is followed by one scheduled retry before the next attempt
  await until(() => count(d, /^\[I\] mqtt: retry 4 in \d+ ms$/), "the fourth scheduled retry");
  expect(count(d, "[E] refused (HTTP 403")).toBe(count(d, /^\[I\] mqtt: retry \d+ in \d+ ms$/));
  d.storage.write("iot.json", JSON.stringify(good));
  await d.waitForLog("connected to AWS IoT", 15000);
  expect(d.logs.join("\n")).not.toContain("x".repeat(40));
});

test("skewed clock: corrected from the 403's Date before the next attempt", async () => {
  const d = await boot(await deviceConfig(cloud, "ft-skew"), { clockSkewSeconds: -7200 });
  await d.waitForLog(/\[W\] clock is 7\d\d\d s off the server's; corrected to \d{8}T\d{6}Z/, 10000);
  await d.waitForLog("connected to AWS IoT", 10000);
  await until(() => reported(cloud, "ft-skew").uptime !== undefined, "report");
});

test("broker restart: connection lost, reconnected, shadow sync resumes", async () => {
  const d = await boot(await deviceConfig(cloud, "ft-restart"));
  await d.waitForLog("connected to AWS IoT", 10000);
  await until(() => reported(cloud, "ft-restart").uptime !== undefined, "report");
  await cloud.restart();
  await d.waitForLog("[W] mqtt: offline: socket closed", 10000);
  await until(() => count(d, "connected to AWS IoT") >= 2, "reconnected", 15000);
  await cloud.shadows.update("ft-restart", { state: { desired: { on: true } } });
  await until(() => reported(cloud, "ft-restart").on === true, "shadow sync after restart");
});

test("expired STS credentials: logged, retried with backoff, fresh ones are picked up", async () => {
  const base = await deviceConfig(cloud, "ft-sts");
  const old = cloud.issueSessionCredentials("ft-sts", 1);
  await until(() => Date.now() > old.expiration, "the session credentials to expire", 5000);
  const expired = { ...base, akid: old.accessKeyId, secret: old.secretAccessKey, token: old.sessionToken, tokenExp: Math.floor(old.expiration / 1000) };
  const d = await boot(expired);
  await d.waitForLog(/^\[E\] credentials expired at \d{8}T\d{6}Z$/, 10000);
  // backoff, no tight loop: one refused signing per scheduled retry
  await until(() => count(d, /^\[I\] mqtt: retry 4 in \d+ ms$/), "the fourth scheduled retry");
  expect(count(d, "credentials expired at")).toBe(count(d, /^\[I\] mqtt: retry \d+ in \d+ ms$/));
  const fresh = cloud.issueSessionCredentials("ft-sts", 3600);
  d.storage.write("iot.json", JSON.stringify({ ...base, akid: fresh.accessKeyId, secret: fresh.secretAccessKey, token: fresh.sessionToken, tokenExp: Math.floor(fresh.expiration / 1000) }));
  await d.waitForLog("connected to AWS IoT", 15000);
  expect(d.logs.join("\n")).not.toContain(fresh.sessionToken);
});

test("long-lived connection: re-signed and renewed before its lifetime ends", async () => {
  const d = await boot(await deviceConfig(cloud, "ft-life", { life: 10 }));
  await d.waitForLog("connected to AWS IoT", 10000);
  await d.waitForLog("[W] mqtt: offline: renewing the connection", 14000);
  await until(() => count(d, "connected to AWS IoT") >= 2, "reconnected", 10000);
});

test("no growth over repeated connection losses: timers, sockets, watches, listeners, memory", async () => {
  const d = await boot(await deviceConfig(cloud, "ft-soak", { refresh: 1 }));
  await d.waitForLog("connected to AWS IoT", 10000);
  await until(() => reported(cloud, "ft-soak").temperature !== undefined, "report");
  const s0 = d.stats();
  const m0 = d.memory().usage;
  for (let i = 2; i <= 6; i++) {
    d.faults.resetSockets();
    await until(() => count(d, "connected to AWS IoT") >= i, "reconnect " + i, 10000);
    await cloud.shadows.update("ft-soak", { state: { desired: { on: i % 2 === 0 } } });
    await until(() => reported(cloud, "ft-soak").on === (i % 2 === 0), "shadow round trip " + i);
  }
  const s1 = d.stats();
  expect(s1.sockets).toBe(s0.sockets);
  expect(s1.watches).toBe(s0.watches);
  expect(s1.listeners).toBe(s0.listeners);
  expect(s1.timers).toBeLessThanOrEqual(s0.timers + 2); // a report or sensor timer may be pending
  expect(d.memory().usage - m0).toBeLessThan(60);
  expect(d.errors).toEqual([]);
});

test("an expired session token the device was not told about: the 403 line says it expired", async () => {
  const base = await deviceConfig(cloud, "ft-sts403");
  const old = cloud.issueSessionCredentials("ft-sts403", 1);
  await until(() => Date.now() > old.expiration + 50, "the session credentials to expire", 5000);
  const d = await boot({ ...base, akid: old.accessKeyId, secret: old.secretAccessKey, token: old.sessionToken });
  const line = await d.waitForLog(/^\[E\] refused \(HTTP 403/, 10000);
  expect(line).toMatch(/expired/i);
});

test("Storage full: the device keeps running and says the setting was not saved", async () => {
  const d = await boot(await deviceConfig(cloud, "ft-full"));
  await d.waitForLog("connected to AWS IoT", 10000);
  await until(() => reported(cloud, "ft-full").uptime !== undefined, "first report");
  d.storage.write("filler", "x".repeat(Math.max(0, d.storage.getFree() - 40)));
  await cloud.shadows.update("ft-full", { state: { desired: { refresh: 3 } } });
  await d.waitForLog("[E] Storage full: iot.set not saved", 5000);
  await until(() => reported(cloud, "ft-full").refresh === 3, "applied and reported anyway");
  expect(d.errors).toEqual([]);
});

test("configuration values that bypassed the host tools: clamped with one plain warning, no reconnect storm", async () => {
  const cfg = await deviceConfig(cloud, "ft-clamp", { boMin: -1000, boMax: 1000, life: "abc", keepAlive: "abc", getTo: -5, pingTo: "x" });
  const d = await boot(cfg);
  await d.waitForLog("connected to AWS IoT", 15000);
  await until(() => reported(cloud, "ft-clamp").uptime !== undefined, "first report");
  const warning = "[W] config iot.json: keepAlive must be a number 1..1200: using 60; boMin must be a number 100..60000: using 100; life must be a number 10..86400: using 82800; getTo must be a number 1..3600: using 1; pingTo must be a number 1..600: using 10";
  expect(d.logs).toContain(warning);
  // a lost link comes back after the (clamped) backoff, and the connection is not renewed in a loop
  d.faults.resetSockets();
  await until(() => count(d, "connected to AWS IoT") >= 2, "the reconnection");
  const before = reported(cloud, "ft-clamp").uptime;
  await until(() => reported(cloud, "ft-clamp").uptime >= before + 2, "two more seconds of reports");
  expect(count(d, "connected to AWS IoT")).toBe(2);
  expect(count(d, /^\[I\] mqtt: retry \d+ in \d+ ms$/)).toBeLessThan(4);
  expect(count(d, "[W] config iot.json")).toBe(1); // said once, though the file is read at every step
  expect(d.errors).toEqual([]);
});
