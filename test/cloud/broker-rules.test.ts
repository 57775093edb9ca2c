import WebSocket from "ws";
import { newCloud, connect, presign, recorder, closed, end, sleep, until } from "./helpers";
import type { Cloud } from "../../sim/cloud";
import type { MqttClient } from "mqtt";
const mqttPacket = require("mqtt-packet");

describe("AWS broker rules", () => {
  let cloud: Cloud;
  const disconnects: Array<[string, string]> = [];
  beforeAll(async () => {
    ({ cloud } = await newCloud({ keepAliveMinSeconds: 1 }));
    cloud.on("disconnect", (id: string, reason: string) => disconnects.push([id, reason]));
  });
  afterAll(() => cloud.stop());

  const admin = (id: string, o: any = {}) => connect(cloud, id, cloud.admin, o);
  async function expectDisconnect(c: MqttClient, act: () => void) {
    const gone = closed(c);
    act();
    await gone;
  }

  test("QoS 2 publish or subscribe disconnects (AWS supports QoS 0 and 1 only)", async () => {
    const c = await admin("q2a");
    await expectDisconnect(c, () => c.publish("devices/x/y", "z", { qos: 2 }));
    const d = await admin("q2b");
    await expectDisconnect(d, () => d.subscribe("devices/x/y", { qos: 2 }));
  });

  test("keep-alive is clamped to 30..1200 (0 means 1200); 1.5 x keep-alive of silence disconnects", async () => {
    const { cloud: c2 } = await newCloud();
    for (const [asked, applied] of [[5, 30], [0, 1200], [5000, 1200], [60, 60]]) {
      const c = await connect(c2, "ka" + asked, c2.admin, { mqtt: { keepalive: asked } });
      expect((c2.broker as any).clients["ka" + asked]._keepaliveInterval).toBe(applied * 1500 + 1);
      await end(c);
    }
    await c2.stop();
    // a raw client that never pings (keep-alive 1 s allowed in this test instance)
    const url = await presign(cloud, cloud.admin);
    const ws = new WebSocket(url, ["mqtt"], { headers: { host: cloud.endpoint } });
    await new Promise((r) => ws.once("open", r));
    const got: string[] = [];
    const parser = mqttPacket.parser();
    parser.on("packet", (p: any) => got.push(p.cmd));
    ws.on("message", (d: Buffer) => parser.parse(d));
    ws.send(mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId: "silent", keepalive: 1 }));
    await new Promise((r) => ws.once("close", r));
    expect(got).toEqual(["connack"]);
    await until(() => disconnects.some(([id]) => id === "silent"), "the broker's disconnect event for silent", 3000);
    expect(disconnects).toContainEqual(["silent", "MQTT_KEEP_ALIVE_TIMEOUT"]);
  });

  test("a second connection with the same client id takes over", async () => {
    const a = await admin("dup");
    const gone = closed(a);
    const b = await admin("dup");
    await gone;
    expect(b.connected).toBe(true);
    await until(() => disconnects.some(([id]) => id === "dup"), "the broker's disconnect event for dup", 3000);
    expect(disconnects).toContainEqual(["dup", "DUPLICATE_CLIENTID"]);
    await end(b);
  });

  test("payload up to 128 KB; larger disconnects", async () => {
    const c = await admin("big");
    const r = recorder(c);
    await c.subscribeAsync("devices/big/x", { qos: 1 });
    await c.publishAsync("devices/big/x", Buffer.alloc(128 * 1024, 65), { qos: 1 });
    expect((await r.next("devices/big/x")).raw.length).toBe(128 * 1024);
    await expectDisconnect(c, () => c.publish("devices/big/x", Buffer.alloc(128 * 1024 + 1, 65), { qos: 1 }));
  });

  test("at most 8 filters per SUBSCRIBE", async () => {
    const c = await admin("f8");
    await c.subscribeAsync(Array.from({ length: 8 }, (_, i) => "devices/f/" + i), { qos: 0 });
    await expectDisconnect(c, () => c.subscribe(Array.from({ length: 9 }, (_, i) => "devices/g/" + i), { qos: 0 }));
  });

  test("at most 50 subscriptions per connection (the 51st gets 0x80)", async () => {
    const c = await admin("s50");
    for (let i = 0; i < 50; i += 5) await c.subscribeAsync(Array.from({ length: 5 }, (_, k) => "devices/s/" + (i + k)), { qos: 0 });
    await expect(c.subscribeAsync("devices/s/50", { qos: 0 })).rejects.toThrow(/Subscribe error/);
    expect(c.connected).toBe(true);
    await end(c);
  });

  test("topic length 256 bytes and 7 slashes", async () => {
    const c = await admin("topic");
    await c.publishAsync("a/b/c/d/e/f/g/h", "ok", { qos: 1 });
    await c.publishAsync("t".repeat(256), "ok", { qos: 1 });
    await expectDisconnect(c, () => c.publish("a/b/c/d/e/f/g/h/i", "x", { qos: 1 }));
    const d = await admin("topic2");
    await expectDisconnect(d, () => d.publish("t".repeat(257), "x", { qos: 1 }));
    const e = await admin("topic3");
    await expectDisconnect(e, () => e.subscribe("a/b/c/d/e/f/g/h/#", { qos: 1 }));
  });

  test("retained messages: not on $aws topics; not delivered to wildcard subscriptions", async () => {
    const c = await admin("ret");
    await c.publishAsync("devices/ret/state", "kept", { qos: 1, retain: true });
    const w = await admin("ret-wild");
    const rw = recorder(w);
    await w.subscribeAsync("devices/ret/+", { qos: 1 });
    const x = await admin("ret-exact");
    const rx = recorder(x);
    await x.subscribeAsync("devices/ret/state", { qos: 1 });
    expect((await rx.next("devices/ret/state")).raw).toBe("kept");
    // a live message published after both subscriptions reaches the wildcard subscriber after any
    // retained one would have: it is the first and only message there
    await c.publishAsync("devices/ret/marker", "live", { qos: 1 });
    await rw.next("devices/ret/marker");
    expect(rw.msgs.map((m) => m.topic)).toEqual(["devices/ret/marker"]);
    await expectDisconnect(c, () => c.publish("$aws/things/ret/shadow/update", "{}", { qos: 1, retain: true }));
    await end(w, x);
  });

  test("lifecycle events on $aws/events/presence/connected|disconnected/{clientId}", async () => {
    const watcher = await admin("watcher");
    const r = recorder(watcher);
    await watcher.subscribeAsync("$aws/events/presence/+/+", { qos: 1 });
    const c = await admin("life-1");
    const conn = (await r.next("$aws/events/presence/connected/life-1")).body;
    expect(Object.keys(conn)).toEqual(["clientId", "timestamp", "eventType", "sessionIdentifier", "principalIdentifier", "ipAddress", "versionNumber"]);
    expect(conn).toMatchObject({ clientId: "life-1", eventType: "connected", principalIdentifier: cloud.admin.accessKeyId });
    await c.endAsync(); // sends DISCONNECT
    const disc = (await r.next("$aws/events/presence/disconnected/life-1")).body;
    expect(disc).toMatchObject({ clientId: "life-1", eventType: "disconnected", clientInitiatedDisconnect: true, disconnectReason: "CLIENT_INITIATED_DISCONNECT", sessionIdentifier: conn.sessionIdentifier });
    const c2 = await admin("life-1");
    expect((await r.next("$aws/events/presence/connected/life-1")).body.versionNumber).toBe(conn.versionNumber + 1);
    await end(c2); // socket dropped without DISCONNECT
    expect((await r.next("$aws/events/presence/disconnected/life-1")).body).toMatchObject({ clientInitiatedDisconnect: false, disconnectReason: "CONNECTION_LOST" });
    await end(watcher);
  });

  test("persistent sessions keep subscriptions and queued messages until they expire", async () => {
    const { cloud: c4 } = await newCloud({ sessionExpirySeconds: 1 });
    const app = await connect(c4, "app", c4.admin);
    const opts = { mqtt: { clean: false } };
    let dev = await connect(c4, "sess", c4.admin, opts);
    await dev.subscribeAsync("devices/sess/cmd", { qos: 1 });
    await end(dev);
    await app.publishAsync("devices/sess/cmd", "while-away", { qos: 1 });
    const got: string[] = [];
    dev = await connect(c4, "sess", c4.admin, { mqtt: { clean: false }, onMessage: (_t, p) => got.push(p.toString()) });
    await until(() => got.length > 0, "the queued message", 3000);
    expect(got).toEqual(["while-away"]);
    await end(dev);
    await sleep(1300); // session expires
    await app.publishAsync("devices/sess/cmd", "too-late", { qos: 1 });
    const got2: string[] = [];
    const again = await connect(c4, "sess", c4.admin, { mqtt: { clean: false }, onMessage: (_t, p) => got2.push(p.toString()) });
    // a queued message would be delivered on connect, before anything sent later: subscribe afresh
    // and send a marker; it must be the first message
    await again.subscribeAsync("devices/sess/cmd", { qos: 1 });
    await app.publishAsync("devices/sess/cmd", "marker", { qos: 1 });
    await until(() => got2.length > 0, "the marker", 3000);
    expect(got2).toEqual(["marker"]);
    await end(again, app);
    await c4.stop();
  });

  test("client id over 128 bytes is refused", async () => {
    await expect(admin("x".repeat(129))).rejects.toThrow();
    const ok = await admin("y".repeat(128));
    await end(ok);
  });

  test("a SigV4 connection lasts at most maxConnectionSeconds", async () => {
    const { cloud: c3 } = await newCloud({ maxConnectionSeconds: 1 });
    const reasons: string[] = [];
    c3.on("disconnect", (_id: string, why: string) => reasons.push(why));
    const c = await connect(c3, "ttl", c3.admin);
    await closed(c, 4000);
    await sleep(20);
    expect(reasons).toEqual(["WEBSOCKET_TTL_EXPIRATION"]);
    await c3.stop();
  });
});
