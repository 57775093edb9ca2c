/**
 * aws-iot-device-sdk-v2 (aws-crt) as a peer: MQTT 3.1.1 over a WebSocket signed with the SDK's default SigV4
 * signing (it signs `connection;host`), and its typed shadow and jobs clients parsing the stand-in's responses.
 * aws-crt ships prebuilt binaries in its npm tarball, so this runs wherever `npm ci` does (CI included).
 */
import { mqtt, iot, auth, iotshadow, iotjobs } from "aws-iot-device-sdk-v2";
import { newCloud } from "../cloud/helpers";
import type { Cloud } from "../../sim/cloud";

const THING = "crt-dev";
let cloud: Cloud;
let connection: mqtt.MqttClientConnection;
const clients: mqtt.MqttClient[] = [];

/** A one-shot callback as a promise, for the SDK's (error, response) handlers. */
function once<T>(): { handler: (error?: unknown, response?: T) => void; result: Promise<T> } {
  let resolve!: (v: T) => void, reject!: (e: unknown) => void;
  const result = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { handler: (error, response) => (error ? reject(error) : resolve(response as T)), result };
}

beforeAll(async () => {
  ({ cloud } = await newCloud({ httpsPort: 0, things: [THING] }));
  const creds = await cloud.createThing(THING);
  const builder = iot.AwsIotMqttConnectionConfigBuilder.new_with_websockets({
    region: cloud.region,
    credentials_provider: auth.AwsCredentialsProvider.newStatic(creds.accessKeyId, creds.secretAccessKey),
  });
  builder.with_certificate_authority(cloud.ca!).with_endpoint("localhost").with_port(cloud.httpsPort!)
    .with_client_id(THING).with_clean_session(true).with_keep_alive_seconds(60);
  const client = new mqtt.MqttClient();
  clients.push(client);
  connection = client.new_connection(builder.build());
  await connection.connect();
}, 30000);

afterAll(async () => {
  if (connection) await connection.disconnect().catch(() => undefined);
  await cloud.stop();
});

test("classic shadow: update and get, parsed by IotShadowClient", async () => {
  const shadow = new iotshadow.IotShadowClient(connection);
  const accepted = once<iotshadow.model.UpdateShadowResponse>();
  await shadow.subscribeToUpdateShadowAccepted({ thingName: THING }, mqtt.QoS.AtLeastOnce, accepted.handler);
  await shadow.publishUpdateShadow({ thingName: THING, state: { reported: { led: "on" } }, clientToken: "t1" }, mqtt.QoS.AtLeastOnce);
  const update = await accepted.result;
  expect(update.state!.reported).toEqual({ led: "on" });
  expect(update.version).toBe(1);
  expect(update.clientToken).toBe("t1");
  const got = once<iotshadow.model.GetShadowResponse>();
  await shadow.subscribeToGetShadowAccepted({ thingName: THING }, mqtt.QoS.AtLeastOnce, got.handler);
  await shadow.publishGetShadow({ thingName: THING }, mqtt.QoS.AtLeastOnce);
  const doc = await got.result;
  expect(doc.state!.reported).toEqual({ led: "on" });
  expect(doc.version).toBe(1);
});

test("named shadow: update accepted and delta, parsed by IotShadowClient", async () => {
  const shadow = new iotshadow.IotShadowClient(connection);
  const accepted = once<iotshadow.model.UpdateShadowResponse>();
  const delta = once<iotshadow.model.ShadowDeltaUpdatedEvent>();
  await shadow.subscribeToUpdateNamedShadowAccepted({ thingName: THING, shadowName: "cfg" }, mqtt.QoS.AtLeastOnce, accepted.handler);
  await shadow.subscribeToNamedShadowDeltaUpdatedEvents({ thingName: THING, shadowName: "cfg" }, mqtt.QoS.AtLeastOnce, delta.handler);
  await shadow.publishUpdateNamedShadow({ thingName: THING, shadowName: "cfg", state: { desired: { rate: 5 } } }, mqtt.QoS.AtLeastOnce);
  expect((await accepted.result).state!.desired).toEqual({ rate: 5 });
  expect((await delta.result).state).toEqual({ rate: 5 });
});

test("jobs: start-next and update, parsed by IotJobsClient", async () => {
  await cloud.jobs.createJob({ jobId: "crt-job", targets: [THING], document: { op: "blink" } });
  const jobs = new iotjobs.IotJobsClient(connection);
  const started = once<iotjobs.model.StartNextJobExecutionResponse>();
  await jobs.subscribeToStartNextPendingJobExecutionAccepted({ thingName: THING }, mqtt.QoS.AtLeastOnce, started.handler);
  await jobs.publishStartNextPendingJobExecution({ thingName: THING, clientToken: "s1" }, mqtt.QoS.AtLeastOnce);
  const exec = (await started.result).execution!;
  expect(exec.jobId).toBe("crt-job");
  expect(exec.status).toBe(iotjobs.model.JobStatus.IN_PROGRESS);
  expect(exec.jobDocument).toEqual({ op: "blink" });
  const updated = once<iotjobs.model.UpdateJobExecutionResponse>();
  await jobs.subscribeToUpdateJobExecutionAccepted({ thingName: THING, jobId: "crt-job" }, mqtt.QoS.AtLeastOnce, updated.handler);
  await jobs.publishUpdateJobExecution({ thingName: THING, jobId: "crt-job", status: iotjobs.model.JobStatus.SUCCEEDED, expectedVersion: exec.versionNumber }, mqtt.QoS.AtLeastOnce);
  await updated.result;
  expect(cloud.jobs.describeExecution("crt-job", THING).status).toBe("SUCCEEDED");
});
