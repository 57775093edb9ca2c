/** Hostile and malformed input against the stand-in: each case is a request that once crashed it, grew it or was
 * answered differently from AWS. */
import WebSocket from "ws";
import { IoTClient, CreateThingCommand } from "@aws-sdk/client-iot";
import { newCloud, presign, connect, recorder, end } from "./helpers";
import { RawPeer, connectPacket, publishPacket, remainingLength, signedRequest, plainGet } from "./raw";
import { safeEqualHex, verifyPresignedGet, presignIotUrl, canonicalRequest, canonicalQuery, sign, stringToSign, EMPTY_SHA256 } from "../../sim/cloud/sigv4";
import { BROKER_LIMITS } from "../../sim/cloud/broker-rules";
import type { Cloud } from "../../sim/cloud";

let cloud: Cloud;
let dev: { accessKeyId: string; secretAccessKey: string };
const logs: string[] = [];

beforeAll(async () => {
  ({ cloud } = await newCloud({ mqttPort: 0, log: (l) => logs.push(l) }));
  dev = await cloud.createThing("hostile-dev");
});
afterAll(async () => { await cloud.stop(); });

async function healthy(): Promise<void> {
  expect((await plainGet(cloud.port, "/health")).status).toBe(200);
}

describe("signature checks never throw", () => {
  test("a 64-character signature of 65 bytes is a 403, and the process goes on", async () => {
    const url = new URL(await presign(cloud, dev));
    url.searchParams.set("X-Amz-Signature", "\u00e9" + "a".repeat(63));
    const r = await plainGet(cloud.port, url.pathname + url.search, { host: cloud.endpoint, connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" });
    expect(r.status).toBe(403);
    await healthy();
  });

  test("safeEqualHex: odd lengths and non-ASCII give false", () => {
    expect(safeEqualHex("abc", "abcd")).toBe(false);
    expect(safeEqualHex("\u00e9" + "a".repeat(63), "a".repeat(64))).toBe(false);
    expect(safeEqualHex("a".repeat(64), "\u00e9" + "a".repeat(63))).toBe(false);
    expect(safeEqualHex("\ud800", "\ud800")).toBe(true);
    expect(safeEqualHex("ab", "ab")).toBe(true);
  });
});

describe("X-Amz-SignedHeaders: every named header is verified, host among them", () => {
  const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  const now = Date.UTC(2026, 0, 2, 3, 4, 5);
  const opts = (headers: Record<string, string>) => ({ secretFor: () => SECRET, host: "127.0.0.1:8080", headers, region: "us-east-1", service: "iotdevicegateway", now, clockSkewSeconds: 300 });

  test("connection;host (as aws-crt signs) verifies; a changed or missing signed header does not", () => {
    const amzDate = "20260102T030405Z";
    const scope = "20260102/us-east-1/iotdevicegateway/aws4_request";
    const pairs: Array<[string, string]> = [["X-Amz-Algorithm", "AWS4-HMAC-SHA256"], ["X-Amz-Credential", "AKIDLOCAL/" + scope], ["X-Amz-Date", amzDate], ["X-Amz-SignedHeaders", "connection;host"]];
    const canonical = canonicalRequest("GET", "/mqtt", canonicalQuery(pairs), [["connection", "Upgrade"], ["host", "127.0.0.1:8080"]], "connection;host", EMPTY_SHA256);
    const q = canonicalQuery(pairs) + "&X-Amz-Signature=" + sign(SECRET, "20260102", "us-east-1", "iotdevicegateway", stringToSign(amzDate, scope, canonical));
    expect(verifyPresignedGet("/mqtt", q, opts({ connection: "Upgrade" }))).toMatchObject({ ok: true });
    expect(verifyPresignedGet("/mqtt", q, opts({ connection: "keep-alive" }))).toMatchObject({ ok: false, status: 403, code: "InvalidSignatureException" });
    expect(verifyPresignedGet("/mqtt", q, opts({}))).toMatchObject({ ok: false, message: "Signed header connection is missing from the request" });
  });

  test("SignedHeaders without host is refused", () => {
    const u = new URL(presignIotUrl({ host: "127.0.0.1:8080", region: "us-east-1", accessKeyId: "AKIDLOCAL", secretAccessKey: SECRET, now }));
    u.searchParams.set("X-Amz-SignedHeaders", "connection");
    expect(verifyPresignedGet("/mqtt", u.search.slice(1), opts({ connection: "Upgrade" }))).toMatchObject({ ok: false, message: "X-Amz-SignedHeaders must include host" });
  });
});

describe("buffers are bounded before authentication and before a packet is complete", () => {
  test("plain MQTT: a CONNECT declaring 256 MB is closed at its fixed header", async () => {
    const peer = new RawPeer(cloud.mqttPort!);
    await peer.ready();
    await peer.write(Buffer.concat([Buffer.from([0x10]), remainingLength(256 * 1024 * 1024 - 1)]));
    const filler = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 64 && (await peer.write(filler)); i++);
    await peer.closed;
    expect(logs.some((l) => l.includes("declares at least") && l.includes("over the limit of " + BROKER_LIMITS.packetMaxBytes))).toBe(true);
    await healthy();
  });

  test("plain MQTT: a first packet that is not CONNECT is closed", async () => {
    const peer = new RawPeer(cloud.mqttPort!);
    await peer.ready();
    await peer.write(publishPacket("a/b", "x"));
    await peer.closed;
    expect(peer.received.length).toBe(0);
  });

  test("WebSocket: a logged-in device's PUBLISH declaring 250 MB, sent in small frames, is closed at its header", async () => {
    const ws = new WebSocket(await presign(cloud, dev), "mqtt", { headers: { host: cloud.endpoint } });
    const gone = new Promise<void>((r) => ws.on("close", () => r()));
    ws.on("error", () => undefined);
    await new Promise<void>((r) => ws.on("open", () => r()));
    ws.send(connectPacket({ clientId: "hostile-dev", keepalive: 60 }));
    await new Promise<void>((r) => ws.once("message", () => r())); // CONNACK
    ws.send(Buffer.concat([Buffer.from([0x30]), remainingLength(250 * 1024 * 1024), Buffer.from([0, 3]), Buffer.from("a/b")]));
    const filler = Buffer.alloc(16 * 1024, 0x62);
    for (let i = 0; i < 256 && ws.readyState === WebSocket.OPEN; i++) {
      ws.send(filler);
      await new Promise<void>((r) => setImmediate(r));
    }
    await gone;
    expect(logs.some((l) => l.includes("refused packet by hostile-dev") && l.includes("declares at least"))).toBe(true);
  });

  test("WebSocket: a message longer than one MQTT packet may be is refused from its frame header (1009)", async () => {
    const ws = new WebSocket(await presign(cloud, dev), "mqtt", { headers: { host: cloud.endpoint } });
    ws.on("error", () => undefined);
    const code = new Promise<number>((r) => ws.on("close", (c) => r(c)));
    await new Promise<void>((r) => ws.on("open", () => r()));
    ws.send(Buffer.alloc(BROKER_LIMITS.webSocketMessageMaxBytes + 1));
    expect(await code).toBe(1009);
  });
});

describe("MQTT details as AWS", () => {
  async function loggedIn(clientId: string): Promise<RawPeer> {
    const peer = new RawPeer(cloud.mqttPort!);
    await peer.ready();
    await peer.write(connectPacket({ clientId, username: dev.accessKeyId, password: dev.secretAccessKey }));
    expect([...(await peer.receivedAtLeast(4)).subarray(0, 4)]).toEqual([0x20, 2, 0, 0]);
    return peer;
  }

  test.each([
    ["invalid UTF-8", Buffer.from([0x61, 0x2f, 0xff, 0xfe])],
    ["a truncated 4-byte sequence", Buffer.from([0x61, 0x2f, 0xf0, 0x9f, 0x98, 0x62])],
    ["U+0000", Buffer.from("a/\u0000b")],
  ])("a PUBLISH topic with %s closes the connection without a PUBACK", async (_what, topicEnd) => {
    const peer = await loggedIn("hostile-dev");
    await peer.write(publishPacket(Buffer.concat([Buffer.from("devices/hostile-dev/"), topicEnd]), "x", 1, 7));
    await peer.closed;
    expect(peer.received.length).toBe(4); // the CONNACK only
  });

  test("a valid UTF-8 topic is still served (PUBACK)", async () => {
    const peer = await loggedIn("hostile-dev");
    await peer.write(publishPacket("devices/hostile-dev/caf\u00e9", "x", 1, 9));
    expect([...(await peer.receivedAtLeast(8)).subarray(4, 8)]).toEqual([0x40, 2, 0, 9]);
    peer.destroy();
  });

  test("MQTT 5 CONNECT: CONNACK 0x01 (unacceptable protocol version), then close", async () => {
    const peer = new RawPeer(cloud.mqttPort!);
    await peer.ready();
    await peer.write(connectPacket({ clientId: "hostile-dev", username: dev.accessKeyId, password: dev.secretAccessKey, level: 5 }));
    await peer.closed;
    expect([...peer.received]).toEqual([0x20, 2, 0, 1]);
  });
});

describe("HTTP API", () => {
  const update = (doc: object) => JSON.stringify({ state: { desired: doc } });

  test("a signed UpdateThingShadow replayed with another body is refused", async () => {
    const r = await signedRequest(cloud, dev, "POST", "/things/hostile-dev/shadow", update({ led: "off" }), { tamper: (req) => { req.body = update({ led: "on!" }); } });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(cloud.shadows.get("hostile-dev")).toBeUndefined();
  });

  test("UNSIGNED-PAYLOAD is refused; the signed body hash is accepted", async () => {
    const bad = await signedRequest(cloud, dev, "POST", "/things/hostile-dev/shadow", update({ led: "x" }), { headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } });
    expect(bad.status).toBe(403);
    expect(JSON.parse(bad.body).message).toMatch(/UNSIGNED-PAYLOAD/);
    const ok = await signedRequest(cloud, dev, "POST", "/things/hostile-dev/shadow", update({ led: "off" }));
    expect(ok.status).toBe(200);
  });

  test("a failed REST shadow call answers only over HTTP (no */rejected published)", async () => {
    const c = await connect(cloud, "hostile-dev", dev);
    const r = recorder(c);
    await c.subscribeAsync(["$aws/things/hostile-dev/shadow/update/rejected", "$aws/things/hostile-dev/shadow/update/accepted"], { qos: 1 });
    const conflict = await signedRequest(cloud, dev, "POST", "/things/hostile-dev/shadow", JSON.stringify({ state: { desired: { a: 1 } }, version: 999 }));
    expect(conflict.status).toBe(409);
    expect((await signedRequest(cloud, dev, "POST", "/things/hostile-dev/shadow", update({ a: 2 }))).status).toBe(200);
    await r.next("$aws/things/hostile-dev/shadow/update/accepted");
    expect(r.msgs.map((m) => m.topic)).toEqual(["$aws/things/hostile-dev/shadow/update/accepted"]);
    await end(c);
  });

  test("a shadow payload that is not UTF-8 gets 415 over HTTP and over MQTT", async () => {
    const bytes = Buffer.concat([Buffer.from('{"state":{"desired":{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}}}')]);
    const r = await signedRequest(cloud, dev, "POST", "/things/hostile-dev/shadow", bytes);
    expect(r.status).toBe(415);
    expect(r.headers["x-amzn-errortype"]).toBe("UnsupportedDocumentEncodingException");
    const c = await connect(cloud, "hostile-dev", dev);
    const rec = recorder(c);
    await c.subscribeAsync("$aws/things/hostile-dev/shadow/update/rejected", { qos: 1 });
    await c.publishAsync("$aws/things/hostile-dev/shadow/update", bytes, { qos: 1 });
    expect((await rec.next("$aws/things/hostile-dev/shadow/update/rejected")).body).toMatchObject({ code: 415 });
    await end(c);
  });

  test("a body nested 120,000 deep is a 400, not a 500", async () => {
    const nested = "[".repeat(120000) + "]".repeat(120000);
    const r = await signedRequest(cloud, dev, "POST", "/things/hostile-dev/shadow", '{"state":{"desired":{"a":' + nested + "}}}");
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).message).toMatch(/nesting/);
    const job = await signedRequest(cloud, cloud.admin, "PUT", "/jobs/deep-job", JSON.stringify({ targets: ["hostile-dev"], document: '{"a":' + nested + "}" }), { service: "iot" });
    expect(job.status).toBe(400);
  });

  test.each(["NaN", "-1", "0.5", "2", "1e0", ""])("Publish with qos=%s is a 400", async (qos) => {
    const r = await signedRequest(cloud, dev, "POST", "/topics/devices%2Fhostile-dev%2Ft", "x", { query: { qos } });
    expect(r.status).toBe(400);
    expect(r.headers["x-amzn-errortype"]).toBe("InvalidRequestException");
  });

  test("Publish with qos=1 and without qos is accepted", async () => {
    expect((await signedRequest(cloud, dev, "POST", "/topics/devices%2Fhostile-dev%2Ft", "x", { query: { qos: "1" } })).status).toBe(200);
    expect((await signedRequest(cloud, dev, "POST", "/topics/devices%2Fhostile-dev%2Ft", "x")).status).toBe(200);
  });

  test.each([["pageSize", "-1"], ["pageSize", "0"], ["pageSize", "abc"], ["nextToken", "-1"], ["nextToken", "x"]])("ListNamedShadowsForThing with %s=%s is a 400", async (name, value) => {
    const r = await signedRequest(cloud, dev, "GET", "/api/things/shadow/ListNamedShadowsForThing/hostile-dev", "", { query: { [name]: value } });
    expect(r.status).toBe(400);
  });

  test("CreateThing: same configuration again succeeds, another configuration is ResourceAlreadyExistsException", async () => {
    const iot = new IoTClient({ region: cloud.region, endpoint: "http://" + cloud.endpoint, credentials: cloud.admin, maxAttempts: 1 });
    await iot.send(new CreateThingCommand({ thingName: "conf-thing", attributePayload: { attributes: { model: "esp32" } } }));
    await iot.send(new CreateThingCommand({ thingName: "conf-thing", attributePayload: { attributes: { model: "esp32" } } }));
    await expect(iot.send(new CreateThingCommand({ thingName: "conf-thing", attributePayload: { attributes: { model: "esp8266" } } }))).rejects.toMatchObject({ name: "ResourceAlreadyExistsException", $metadata: { httpStatusCode: 409 } });
    await expect(iot.send(new CreateThingCommand({ thingName: "conf-thing" }))).rejects.toMatchObject({ name: "ResourceAlreadyExistsException" });
    iot.destroy();
  });
});

test("the stand-in is still serving after all of the above", async () => {
  await healthy();
  const c = await connect(cloud, "hostile-dev", dev);
  expect(c.connected).toBe(true);
  await end(c);
});
