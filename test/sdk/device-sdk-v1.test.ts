/**
 * aws-iot-device-sdk (v1) as a peer: device, thingShadow and jobs over wss with the stand-in's CA, its own URL
 * signing (X-Amz-SignedHeaders=host, the port in the signed host) and the mqttv3.1 WebSocket sub-protocol.
 */
import { newCloud } from "../cloud/helpers";
import { until } from "../support/wait";
import type { Cloud } from "../../sim/cloud";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const awsIot = require("aws-iot-device-sdk");

const THING = "v1-dev";
let cloud: Cloud;
let creds: { accessKeyId: string; secretAccessKey: string };
const open: Array<{ end: (force: boolean, cb: () => void) => void }> = [];

function options(clientId: string): object {
  return {
    protocol: "wss", host: "localhost", port: cloud.httpsPort, region: cloud.region, clientId,
    accessKeyId: creds.accessKeyId, secretKey: creds.secretAccessKey,
    websocketOptions: { ca: cloud.ca }, keepalive: 60, autoResubscribe: false, offlineQueueing: false,
    baseReconnectTimeMs: 60000, maximumReconnectTimeMs: 60000, minimumConnectionTimeMs: 60000,
  };
}

function connected(client: { once: (ev: string, cb: (...a: unknown[]) => void) => void }): Promise<void> {
  return new Promise((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", (e) => reject(e));
    client.once("close", () => reject(new Error("closed before CONNACK")));
  });
}

beforeAll(async () => {
  ({ cloud } = await newCloud({ httpsPort: 0, things: [THING] }));
  creds = await cloud.createThing(THING);
});
afterAll(async () => {
  await Promise.all(open.map((c) => new Promise<void>((r) => c.end(true, () => r()))));
  await cloud.stop();
});

test("device: publish and receive on its own topics", async () => {
  const device = awsIot.device(options(THING));
  open.push(device);
  await connected(device);
  const got = new Promise<string>((r) => device.on("message", (_t: string, p: Buffer) => r(p.toString())));
  await new Promise<void>((r, j) => device.subscribe("devices/" + THING + "/echo", { qos: 1 }, (e: Error | null) => (e ? j(e) : r())));
  device.publish("devices/" + THING + "/echo", "hello", { qos: 1 });
  expect(await got).toBe("hello");
  await new Promise<void>((r) => device.end(true, () => r()));
});

test("thingShadow: register, update and get", async () => {
  const shadows = awsIot.thingShadow(options(THING));
  open.push(shadows);
  await connected(shadows);
  await new Promise<void>((r) => shadows.register(THING, { ignoreDeltas: false }, () => r()));
  const statuses: Array<{ stat: string; doc: any }> = [];
  const next = () => new Promise<{ stat: string; doc: any }>((r) => shadows.once("status", (_n: string, stat: string, _t: string, doc: any) => { statuses.push({ stat, doc }); r({ stat, doc }); }));
  let answer = next();
  expect(shadows.update(THING, { state: { reported: { led: "on" } } })).not.toBeNull();
  expect(await answer).toMatchObject({ stat: "accepted", doc: { state: { reported: { led: "on" } }, version: 1 } });
  answer = next();
  expect(shadows.get(THING)).not.toBeNull();
  expect(await answer).toMatchObject({ stat: "accepted", doc: { state: { reported: { led: "on" } }, version: 1 } });
  await new Promise<void>((r) => shadows.end(true, () => r()));
});

test("jobs: subscribeToJobs, startJobNotifications, then succeeded", async () => {
  const jobs = awsIot.jobs(options(THING));
  open.push(jobs);
  await connected(jobs);
  const job = new Promise<any>((resolve, reject) => jobs.subscribeToJobs(THING, (err: Error | null, j: any) => (err ? reject(err) : resolve(j))));
  await new Promise<void>((r, j) => jobs.startJobNotifications(THING, (e: Error | null) => (e ? j(e) : r())));
  await cloud.jobs.createJob({ jobId: "v1-job", targets: [THING], document: { op: "blink" } });
  const j = await job;
  expect(j.id).toBe("v1-job");
  expect(j.document).toEqual({ op: "blink" });
  await new Promise<void>((resolve, reject) => j.succeeded({ step: "done" }, (e: Error | null) => (e ? reject(e) : resolve())));
  await until(() => cloud.jobs.describeExecution("v1-job", THING).status === "SUCCEEDED", "the execution to be SUCCEEDED");
  expect(cloud.jobs.describeExecution("v1-job", THING).statusDetails).toEqual({ step: "done" });
  await new Promise<void>((r) => jobs.end(true, () => r()));
});
