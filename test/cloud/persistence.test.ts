import * as fs from "node:fs";
import * as path from "node:path";
import mqtt from "mqtt";
import { newCloud, connect, recorder, end, tempDir, presign } from "./helpers";
import { startCloud } from "../../sim/cloud";

describe("persistence and transports", () => {
  test("restart on the same ports loses nothing (things, credentials, shadows, jobs, groups)", async () => {
    const { cloud, dir } = await newCloud({ things: ["keep1"] });
    const creds = await cloud.createThing("keep1");
    await cloud.shadows.update("keep1", { state: { desired: { mode: "eco" }, reported: { mode: "off" } } });
    await cloud.shadows.update("keep1", { state: { reported: { fw: "1.0" } } }, "info");
    cloud.groups.create("g");
    cloud.groups.addThing("g", "keep1");
    await cloud.jobs.createJob({ jobId: "persist-job", targets: ["g"], document: { op: "x" }, stepTimeoutInMinutes: 5 });
    const port = cloud.port;
    const admin = cloud.admin;
    await cloud.restart();
    expect(cloud.port).toBe(port);
    expect(cloud.admin).toEqual(admin);
    expect(cloud.shadows.get("keep1")!.version).toBe(1);
    expect(cloud.shadows.get("keep1")!.state.delta).toEqual({ mode: "eco" });
    expect(cloud.shadows.list("keep1")).toEqual(["info"]);
    expect(cloud.jobs.describeExecution("persist-job", "keep1")).toMatchObject({ status: "QUEUED" });
    const c = await connect(cloud, "keep1", creds);
    const r = recorder(c);
    await c.subscribeAsync("$aws/things/keep1/shadow/update/accepted", { qos: 1 });
    c.publish("$aws/things/keep1/shadow/update", '{"state":{"reported":{"mode":"eco"}}}');
    expect((await r.next("$aws/things/keep1/shadow/update/accepted")).body.version).toBe(2);
    await end(c);
    await cloud.stop();
    // a brand-new process on the same directory
    const again = await startCloud({ dataDir: dir, port: 0 });
    expect(again.shadows.get("keep1")!.state.delta).toBeUndefined();
    expect(again.shadows.get("keep1")!.version).toBe(2);
    expect(again.jobs.listExecutionsForThing("keep1").map((e: any) => e.jobId)).toEqual(["persist-job"]);
    expect(await again.createThing("keep1")).toEqual({ accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey });
    const cfg = fs.statSync(path.join(dir, "config.json"));
    expect(cfg.mode & 0o077).toBe(0);
    expect(fs.readdirSync(path.join(dir, "shadows")).every((f) => f.endsWith(".json"))).toBe(true);
    await again.stop();
  });

  test("durable: false (no fsync) still stores shadow updates atomically; the last of rapid updates is what a restart reads", async () => {
    const dir = tempDir();
    const cloud = await startCloud({ dataDir: dir, port: 0, durable: false, things: ["fast1"] });
    const updates: Promise<unknown>[] = [];
    for (let i = 1; i <= 20; i++) updates.push(cloud.shadows.update("fast1", { state: { reported: { n: i } } }));
    await Promise.all(updates);
    expect(cloud.shadows.get("fast1")!.version).toBe(20);
    await cloud.stop();
    const shadowFiles = fs.readdirSync(path.join(dir, "shadows"));
    expect(shadowFiles.every((f) => f.endsWith(".json"))).toBe(true); // no temporary files left behind
    const again = await startCloud({ dataDir: dir, port: 0 });
    expect(again.shadows.get("fast1")!.version).toBe(20);
    expect(again.shadows.get("fast1")!.state.reported).toEqual({ n: 20 });
    await again.stop();
  });

  test("a damaged data directory gives a clear error and loses nothing", async () => {
    const { cloud, dir } = await newCloud({ things: ["d1"] });
    await cloud.shadows.update("d1", { state: { reported: { a: 1 } } });
    await cloud.stop();
    const cfgFile = path.join(dir, "config.json");
    const good = fs.readFileSync(cfgFile, "utf8");
    fs.writeFileSync(cfgFile, good.slice(0, 20));
    await expect(startCloud({ dataDir: dir, port: 0 })).rejects.toThrow(/config\.json is not valid JSON/);
    expect(fs.readFileSync(cfgFile, "utf8")).toBe(good.slice(0, 20));
    fs.writeFileSync(cfgFile, good);
    const shadowFile = path.join(dir, "shadows", "d1.json");
    fs.writeFileSync(shadowFile, "{broken");
    const logs: string[] = [];
    const again = await startCloud({ dataDir: dir, port: 0, log: (l) => logs.push(l) });
    expect(again.shadows.get("d1")).toBeUndefined();
    expect(logs.some((l) => /unreadable/.test(l))).toBe(true);
    expect(fs.readdirSync(path.join(dir, "shadows")).some((f) => f.startsWith("d1.json.unreadable-"))).toBe(true);
    await again.stop();
  });

  test("HTTPS/WSS listener with the generated certificate, and plain MQTT over TCP", async () => {
    const dir = tempDir();
    const cloud = await startCloud({ dataDir: dir, port: 0, httpsPort: 0, mqttPort: 0, things: ["tls1"] });
    expect(cloud.ca).toMatch(/BEGIN CERTIFICATE/);
    const creds = await cloud.createThing("tls1");
    const host = "127.0.0.1:" + cloud.httpsPort;
    const url = (await presign(cloud, creds, { host, port: cloud.httpsPort })).replace("ws://", "wss://");
    const c = mqtt.connect(url, { clientId: "tls1", protocolVersion: 4, reconnectPeriod: 0, ca: cloud.ca, wsOptions: { headers: { host }, ca: cloud.ca } as any, transformWsUrl: () => url } as any);
    await new Promise<void>((resolve, reject) => { c.once("connect", () => resolve()); c.once("error", reject); });
    await end(c);
    const t = await mqtt.connectAsync("mqtt://127.0.0.1:" + cloud.mqttPort, { clientId: "tls1", username: creds.accessKeyId, password: creds.secretAccessKey, reconnectPeriod: 0 });
    const r = recorder(t);
    await t.subscribeAsync("devices/tls1/#", { qos: 1 });
    await t.publishAsync("devices/tls1/hello", "hi", { qos: 1 });
    expect((await r.next("devices/tls1/hello")).raw).toBe("hi");
    await end(t);
    const bad = mqtt.connect("mqtt://127.0.0.1:" + cloud.mqttPort, { clientId: "tls1", username: creds.accessKeyId, password: "wrong", reconnectPeriod: 0 });
    await new Promise<void>((resolve) => { bad.once("close", () => resolve()); });
    expect(bad.connected).toBe(false);
    await end(bad);
    await cloud.stop();
  });
});
