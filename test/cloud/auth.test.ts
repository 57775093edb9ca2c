import WebSocket from "ws";
import { newCloud, connect, presign, recorder, closed, end, sleep } from "./helpers";
import type { Cloud } from "../../sim/cloud";

/** Opens a raw WebSocket upgrade and returns the HTTP refusal (status, headers, body) or "open". */
function upgrade(url: string, host: string, protocols: string[] = ["mqtt"]): Promise<{ status: number; headers: any; body: string } | { open: true; protocol: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers: { host } });
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    ws.on("open", () => { const protocol = ws.protocol; ws.close(); resolve({ open: true, protocol }); });
    ws.on("error", (e) => { if (!/Unexpected server response/.test(e.message)) reject(e); });
  });
}

describe("SigV4 WebSocket upgrade", () => {
  let cloud: Cloud;
  let clock = Date.now();
  let creds: any;
  beforeAll(async () => {
    ({ cloud } = await newCloud({ now: () => clock }));
    creds = await cloud.createThing("sensor-7");
  });
  afterAll(() => cloud.stop());

  async function refused(url: string, host = cloud.endpoint) {
    return refusedBy(cloud, url, host);
  }
  async function refusedBy(c: Cloud, url: string, host = c.endpoint) {
    const r: any = await upgrade(url, host);
    expect(r.status).toBe(403);
    expect(r.headers["date"]).toBeDefined();
    expect(r.headers["content-type"]).toMatch(/application\/json/);
    const body = JSON.parse(r.body);
    expect(typeof body.message).toBe("string");
    return body;
  }

  test("a good URL opens with subprotocol mqtt or mqttv3.1", async () => {
    const url = await presign(cloud, creds, { now: clock });
    expect(await upgrade(url, cloud.endpoint, ["mqtt"])).toEqual({ open: true, protocol: "mqtt" });
    expect(await upgrade(url, cloud.endpoint, ["mqttv3.1"])).toEqual({ open: true, protocol: "mqttv3.1" });
  });

  test("wrong signature: 403", async () => {
    const url = await presign(cloud, creds, { now: clock });
    const bad = url.replace(/X-Amz-Signature=([0-9a-f])/, (_m, c) => "X-Amz-Signature=" + (c === "0" ? "1" : "0"));
    expect((await refused(bad)).message).toMatch(/signature/i);
    expect((await refused(await presign(cloud, { ...creds, secretAccessKey: "nope" }, { now: clock }))).message).toMatch(/signature/i);
  });

  test("6-minute clock skew: 403 (either way); 4 minutes is fine", async () => {
    expect((await refused(await presign(cloud, creds, { now: clock - 360000 }))).message).toMatch(/300 seconds/);
    await refused(await presign(cloud, creds, { now: clock + 360000 }));
    expect(await upgrade(await presign(cloud, creds, { now: clock - 240000 }), cloud.endpoint)).toMatchObject({ open: true });
  });

  test("session token: appended after signing works, signed token is refused, expired credentials refused", async () => {
    const s = cloud.issueSessionCredentials("sensor-7", 900);
    expect(await upgrade(await presign(cloud, s, { now: clock }), cloud.endpoint)).toMatchObject({ open: true });
    await refused(await presign(cloud, s, { now: clock, signToken: true }));
    const noToken = (await presign(cloud, s, { now: clock })).replace(/&X-Amz-Security-Token=.*$/, "");
    await refused(noToken);
    clock += 901000;
    expect((await refused(await presign(cloud, s, { now: clock }))).message).toMatch(/expired/);
    clock -= 901000;
  });

  test("wrong host (signed for another host or port): 403", async () => {
    const url = await presign(cloud, creds, { now: clock, host: "example.com:" + cloud.port });
    await refused(url, cloud.endpoint);
    const wrongPort = await presign(cloud, creds, { now: clock, host: "127.0.0.1:1" });
    await refused(wrongPort, cloud.endpoint);
  });

  test("a host the endpoint does not serve (endpointHosts set): 403 even when correctly signed", async () => {
    const { cloud: strict } = await newCloud({ now: () => clock, endpointHosts: ["127.0.0.1"] });
    try {
      const c = await strict.createThing("sensor-8");
      const other = "localhost:" + strict.port;
      // connect to the bound address, send the other name in Host (what a device signs is what it sends)
      const url = (await presign(strict, c, { now: clock, host: other })).replace("//localhost:", "//127.0.0.1:");
      const body = await refusedBy(strict, url, other);
      expect(body.message).toMatch(/does not serve host 'localhost'/);
      expect(await upgrade(await presign(strict, c, { now: clock }), strict.endpoint, ["mqtt"])).toEqual({ open: true, protocol: "mqtt" });
    } finally {
      await strict.stop();
    }
  });

  test("expired URL (X-Amz-Expires passed): 403", async () => {
    const url = await presign(cloud, creds, { now: clock - 120000, expiresIn: 60 });
    expect((await refused(url)).message).toMatch(/expired/i);
  });

  test("wrong region or service in the credential scope: 403; unknown path: 404", async () => {
    await refused(await presign(cloud, creds, { now: clock, region: "eu-west-1" }));
    await refused(await presign(cloud, creds, { now: clock, service: "iotdata" }));
    const r: any = await upgrade((await presign(cloud, creds, { now: clock })).replace("/mqtt?", "/other?"), cloud.endpoint);
    expect(r.status).toBe(404);
  });
});

describe("policies", () => {
  let cloud: Cloud;
  beforeAll(async () => { ({ cloud } = await newCloud({ things: ["a1", "b1"] })); });
  afterAll(() => cloud.stop());

  test("device credentials connect only as their own thing", async () => {
    const a = await cloud.createThing("a1");
    await expect(connect(cloud, "b1", a)).rejects.toThrow();
    const c = await connect(cloud, "a1", a);
    await end(c);
  });

  test("publishing to another thing's topic disconnects the client", async () => {
    const a = await cloud.createThing("a1");
    const c = await connect(cloud, "a1", a);
    const denied: any[] = [];
    cloud.on("denied", (d) => denied.push(d));
    const gone = closed(c);
    c.publish("$aws/things/b1/shadow/update", '{"state":{"reported":{"x":1}}}', { qos: 1 });
    await gone;
    expect(denied.some((d) => d.action === "publish" && d.resource === "$aws/things/b1/shadow/update")).toBe(true);
  });

  test("subscribing to another thing's topics disconnects the client (wildcards too)", async () => {
    const a = await cloud.createThing("a1");
    for (const filter of ["$aws/things/b1/shadow/#", "$aws/things/+/shadow/update", "#"]) {
      const c = await connect(cloud, "a1", a);
      const gone = closed(c);
      c.subscribe(filter, { qos: 1 });
      await gone;
    }
  });

  test("own topics are fine; messages of other things are not received", async () => {
    const a = await cloud.createThing("a1");
    const c = await connect(cloud, "a1", a);
    const r = recorder(c);
    await c.subscribeAsync(["devices/a1/#", "$aws/things/a1/shadow/update/accepted"], { qos: 1 });
    const admin = await connect(cloud, "admin-x", cloud.admin);
    await admin.publishAsync("devices/a1/cmd", "hello", { qos: 1 });
    expect((await r.next("devices/a1/cmd")).raw).toBe("hello");
    await end(c, admin);
  });

  test("suback-failure mode answers 0x80 instead of disconnecting", async () => {
    const { cloud: c2 } = await newCloud({ things: ["a1"], deniedSubscribe: "suback-failure" });
    const a = await c2.createThing("a1");
    const c = await connect(c2, "a1", a);
    // MQTT.js reports a 0x80 return code as a subscribe error
    await expect(c.subscribeAsync("$aws/things/b1/shadow/#", { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await sleep(50);
    expect(c.connected).toBe(true);
    await end(c);
    await c2.stop();
    await sleep(1);
  });
});
