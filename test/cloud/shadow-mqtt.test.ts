import * as fs from "node:fs";
import * as path from "node:path";
import { newCloud, connect, recorder, stripTimes, end, sleep } from "./helpers";
import type { Cloud } from "../../sim/cloud";
import type { MqttClient } from "mqtt";

const P = "$aws/things/lamp1/shadow";

describe("shadow over MQTT (presigned WebSocket)", () => {
  let cloud: Cloud, dir: string, dev: MqttClient, app: MqttClient, devCreds: any;
  let clock = Date.now();
  beforeAll(async () => {
    ({ cloud, dir } = await newCloud({ now: () => clock }));
    devCreds = await cloud.createThing("lamp1");
    dev = await connect(cloud, "lamp1", devCreds, { now: clock });
    app = await connect(cloud, "app-1", cloud.admin, { now: clock });
  });
  afterAll(async () => { await end(dev, app); await cloud.stop(); });

  test("worked sequence, byte for byte (timestamps aside)", async () => {
    const d = recorder(dev);
    await dev.subscribeAsync(P + "/update/#", { qos: 1 });
    const T = '"T"';
    dev.publish(P + "/update", '{"state":{"reported":{"color":"red"}}}');
    expect(stripTimes((await d.next(P + "/update/accepted")).raw)).toBe(
      `{"state":{"reported":{"color":"red"}},"metadata":{"reported":{"color":{"timestamp":${T}}}},"version":1,"timestamp":${T}}`);
    expect(stripTimes((await d.next(P + "/update/documents")).raw)).toBe(
      `{"previous":null,"current":{"state":{"reported":{"color":"red"}},"metadata":{"reported":{"color":{"timestamp":${T}}}},"version":1},"timestamp":${T}}`);
    app.publish(P + "/update", '{"state":{"desired":{"color":"green"}}}');
    expect(stripTimes((await d.next(P + "/update/accepted")).raw)).toBe(
      `{"state":{"desired":{"color":"green"}},"metadata":{"desired":{"color":{"timestamp":${T}}}},"version":2,"timestamp":${T}}`);
    expect(stripTimes((await d.next(P + "/update/delta")).raw)).toBe(
      `{"version":2,"timestamp":${T},"state":{"color":"green"},"metadata":{"color":{"timestamp":${T}}}}`);
    await d.next(P + "/update/documents");
    dev.publish(P + "/update", '{"state":{"reported":{"color":"green"},"desired":null}}');
    expect(stripTimes((await d.next(P + "/update/accepted")).raw)).toBe(
      `{"state":{"reported":{"color":"green"},"desired":null},"metadata":{"reported":{"color":{"timestamp":${T}}},"desired":{"timestamp":${T}}},"version":3,"timestamp":${T}}`);
    const docs = await d.next(P + "/update/documents");
    expect(docs.body.current).toEqual({ state: { reported: { color: "green" } }, metadata: { reported: { color: { timestamp: expect.any(Number) } } }, version: 3 });
    expect(d.msgs.filter((m) => m.topic.endsWith("/delta")).map((m) => m.body.version)).toEqual([2]);
    // the request topic itself is delivered to subscribers too
    expect(d.msgs.filter((m) => m.topic === P + "/update").length).toBe(3);
  });

  test("get, clientToken echo, delta in get/accepted, delete and version numbering", async () => {
    const a = recorder(app);
    await app.subscribeAsync(["$aws/things/lamp1/shadow/get/+", "$aws/things/lamp1/shadow/delete/+", "$aws/things/lamp1/shadow/update/+"], { qos: 1 });
    app.publish(P + "/update", JSON.stringify({ state: { desired: { color: "blue" } }, clientToken: "c1" }));
    expect((await a.next(P + "/update/accepted")).body).toMatchObject({ version: 4, clientToken: "c1" });
    app.publish(P + "/get", JSON.stringify({ clientToken: "g1" }));
    const g = (await a.next(P + "/get/accepted")).body;
    expect(g.state).toEqual({ desired: { color: "blue" }, reported: { color: "green" }, delta: { color: "blue" } });
    expect(g.clientToken).toBe("g1");
    app.publish(P + "/delete", "");
    expect(stripTimes((await a.next(P + "/delete/accepted")).raw)).toBe('{"version":4,"timestamp":"T"}');
    app.publish(P + "/get", "");
    expect(stripTimes((await a.next(P + "/get/rejected")).raw)).toBe('{"code":404,"message":"No shadow exists with name: \'lamp1\'","timestamp":"T"}');
    app.publish(P + "/update", JSON.stringify({ state: { reported: { on: true } } }));
    expect((await a.next(P + "/update/accepted")).body.version).toBe(5);
  });

  test("named shadows: own topics, 404 names the shadow, listed", async () => {
    const N = "$aws/things/lamp1/shadow/name/config";
    const d = recorder(dev);
    await dev.subscribeAsync(N + "/+/+", { qos: 1 });
    dev.publish(N + "/get", "{}");
    expect((await d.next(N + "/get/rejected")).body).toMatchObject({ code: 404, message: "No shadow exists with name: 'config'" });
    dev.publish(N + "/update", JSON.stringify({ state: { reported: { rate: 5 } }, version: 0 }));
    expect((await d.next(N + "/update/accepted")).body.version).toBe(1);
    expect(cloud.shadows.list("lamp1")).toEqual(["config"]);
    expect(cloud.shadows.get("lamp1", "config").state).toEqual({ reported: { rate: 5 } });
  });

  test("rejections over MQTT: 400s, 409, 413 with clientToken", async () => {
    const d = recorder(dev);
    await dev.subscribeAsync(P + "/update/rejected", { qos: 1 });
    const cases: Array<[string, number, string]> = [
      ["{bad", 400, "Invalid JSON"],
      ['{"clientToken":"k"}', 400, "Missing required node: state"],
      ['{"state":{"delta":{}},"clientToken":"k"}', 400, "State contains an invalid node: 'delta'"],
      ['{"state":{},"version":1,"clientToken":"k"}', 409, "Version conflict"],
      [JSON.stringify({ state: { reported: { big: "x".repeat(9000) } }, clientToken: "k" }), 413, "The payload exceeds the maximum size allowed"],
    ];
    for (const [payload, code, message] of cases) {
      dev.publish(P + "/update", payload);
      const r = (await d.next(P + "/update/rejected")).body;
      expect(r).toMatchObject({ code, message });
      if (payload.includes('"k"')) expect(r.clientToken).toBe("k");
    }
  });

  test("401 once session credentials have expired, 500 when the store fails", async () => {
    const s = cloud.issueSessionCredentials("lamp1", 60);
    await end(dev);
    const c = await connect(cloud, "lamp1", s, { now: clock });
    const d = recorder(c);
    await c.subscribeAsync(P + "/get/rejected", { qos: 1 });
    clock += 61000;
    c.publish(P + "/get", "{}");
    expect((await d.next(P + "/get/rejected")).body).toMatchObject({ code: 401, message: "Unauthorized" });
    clock -= 61000;
    await end(c);
    dev = await connect(cloud, "lamp1", devCreds, { now: clock });
    const d2 = recorder(dev);
    await dev.subscribeAsync(P + "/update/rejected", { qos: 1 });
    const shadowsDir = path.join(dir, "shadows");
    fs.rmSync(shadowsDir, { recursive: true, force: true });
    fs.writeFileSync(shadowsDir, "not a directory");
    dev.publish(P + "/update", '{"state":{"reported":{"x":1}}}');
    expect((await d2.next(P + "/update/rejected")).body).toMatchObject({ code: 500, message: "Internal service failure" });
    fs.rmSync(shadowsDir);
  });
});

describe("shadow throughput limits and ordering switch", () => {
  test("more than 10 requests in flight on one connection: 429", async () => {
    const { cloud } = await newCloud({ shadowLatencyMs: 250 });
    const creds = await cloud.createThing("t429");
    const c = await connect(cloud, "t429", creds);
    const d = recorder(c);
    await c.subscribeAsync(["$aws/things/t429/shadow/get/+", "$aws/things/t429/shadow/update/accepted"], { qos: 1 });
    c.publish("$aws/things/t429/shadow/update", '{"state":{"reported":{"a":1}}}');
    await d.next("$aws/things/t429/shadow/update/accepted");
    for (let i = 0; i < 14; i++) c.publish("$aws/things/t429/shadow/get", JSON.stringify({ clientToken: "n" + i }));
    for (let i = 0; i < 10; i++) await d.next("$aws/things/t429/shadow/get/accepted", 5000);
    for (let i = 0; i < 4; i++) await d.next("$aws/things/t429/shadow/get/rejected", 5000);
    const rej = d.msgs.filter((m) => m.topic.endsWith("get/rejected")).map((m) => m.body);
    expect(rej.length).toBe(4);
    for (const r of rej) expect(r).toMatchObject({ code: 429 });
    await end(c);
    await cloud.stop();
  });

  test("shuffleShadowResponses delivers update/delta before update/accepted when the dice say so", async () => {
    const { cloud } = await newCloud({ shuffleShadowResponses: true });
    const creds = await cloud.createThing("shuf");
    const c = await connect(cloud, "shuf", creds);
    const d = recorder(c);
    await c.subscribeAsync("$aws/things/shuf/shadow/update/+", { qos: 1 });
    const spy = jest.spyOn(Math, "random");
    spy.mockReturnValue(0.1);
    c.publish("$aws/things/shuf/shadow/update", '{"state":{"desired":{"a":1}}}');
    await d.next("$aws/things/shuf/shadow/update/documents");
    spy.mockReturnValue(0.9);
    c.publish("$aws/things/shuf/shadow/update", '{"state":{"desired":{"a":2}}}');
    await d.next("$aws/things/shuf/shadow/update/documents");
    spy.mockRestore();
    const order = d.msgs.map((m) => m.topic.split("/").pop() + ":" + (m.body.version ?? m.body.current.version));
    expect(order).toEqual(["delta:1", "accepted:1", "documents:1", "accepted:2", "delta:2", "documents:2"]);
    await end(c);
    await cloud.stop();
    await sleep(1);
  });
});
