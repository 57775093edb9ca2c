/**
 * MQTT 5: aedes (0.51, and the newest stable 1.x) speaks MQTT 3.1/3.1.1 only, so the stand-in refuses an MQTT 5
 * CONNECT as a broker refuses a protocol level it does not support: CONNACK return code 0x01 (unacceptable protocol
 * version), then close. Clients written for AWS IoT Core's MQTT 5 see a refused connection, never a half-working one.
 */
import mqtt from "mqtt";
import { mqtt5, auth, iot } from "aws-iot-device-sdk-v2";
import WebSocket from "ws";
import { newCloud, presign } from "./helpers";
import { connectPacket } from "./raw";
import type { Cloud } from "../../sim/cloud";

let cloud: Cloud;
let creds: { accessKeyId: string; secretAccessKey: string };
const refusals: string[] = [];

beforeAll(async () => {
  ({ cloud } = await newCloud({ httpsPort: 0, log: (l) => { if (l.includes("protocol level")) refusals.push(l); } }));
  creds = await cloud.createThing("v5-dev");
});
afterAll(async () => { await cloud.stop(); });

test("an MQTT 5 CONNECT over the signed WebSocket gets CONNACK 0x01 and the connection closes", async () => {
  const ws = new WebSocket(await presign(cloud, creds), "mqtt", { headers: { host: cloud.endpoint } });
  ws.on("error", () => undefined);
  const bytes: number[] = [];
  ws.on("message", (d: Buffer) => bytes.push(...d));
  const gone = new Promise<void>((r) => ws.on("close", () => r()));
  await new Promise<void>((r) => ws.on("open", () => r()));
  ws.send(connectPacket({ clientId: "v5-dev", level: 5 }));
  await gone;
  expect(bytes).toEqual([0x20, 2, 0, 1]);
});

test("MQTT.js with protocolVersion 5 is refused, and with 4 connects", async () => {
  const url = await presign(cloud, creds);
  const v5 = mqtt.connect(url, { clientId: "v5-dev", protocolVersion: 5, reconnectPeriod: 0, wsOptions: { headers: { host: cloud.endpoint } } as any });
  const outcome = await new Promise<string>((resolve) => {
    v5.once("connect", () => resolve("connected"));
    v5.once("error", (e) => resolve("error: " + e.message));
    v5.once("close", () => resolve("closed"));
  });
  v5.end(true);
  expect(outcome).not.toBe("connected");
  expect(refusals.some((l) => l.includes("MQTT protocol level 5 is not supported"))).toBe(true);
  const v4 = mqtt.connect(await presign(cloud, creds), { clientId: "v5-dev", protocolVersion: 4, reconnectPeriod: 0, wsOptions: { headers: { host: cloud.endpoint } } as any });
  await new Promise<void>((resolve, reject) => { v4.once("connect", () => resolve()); v4.once("error", reject); });
  await new Promise<void>((r) => v4.end(true, {}, () => r()));
});

test("aws-crt's Mqtt5Client (SigV4 WebSocket) is refused: connection failure, never success", async () => {
  const builder = iot.AwsIotMqtt5ClientConfigBuilder.newWebsocketMqttBuilderWithSigv4Auth("localhost", {
    region: cloud.region, credentialsProvider: auth.AwsCredentialsProvider.newStatic(creds.accessKeyId, creds.secretAccessKey),
  });
  builder.withCertificateAuthority(cloud.ca!).withPort(cloud.httpsPort!).withConnectProperties({ clientId: "v5-dev", keepAliveIntervalSeconds: 60 });
  const client = new mqtt5.Mqtt5Client(builder.build());
  const outcome = new Promise<string>((resolve) => {
    client.once("connectionSuccess", () => resolve("connected"));
    client.once("connectionFailure", (e) => resolve("failure: " + e.error.toString()));
  });
  const refusedBefore = refusals.length;
  client.start();
  const result = await outcome;
  // the failure is the protocol refusal: the signed upgrade was accepted and the CONNECT reached the broker
  expect(refusals.length).toBeGreaterThan(refusedBefore);
  client.stop();
  client.close();
  expect(result).toMatch(/^failure/);
});
