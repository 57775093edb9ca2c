import { IoTDataPlaneClient, GetThingShadowCommand, UpdateThingShadowCommand, DeleteThingShadowCommand, ListNamedShadowsForThingCommand, PublishCommand } from "@aws-sdk/client-iot-data-plane";
import { IoTClient, CreateThingCommand, CreateThingGroupCommand, AddThingToThingGroupCommand, CreateJobCommand, DescribeJobExecutionCommand, CancelJobCommand, ListJobExecutionsForThingCommand } from "@aws-sdk/client-iot";
import { newCloud, connect, recorder, end } from "./helpers";
import type { Cloud } from "../../sim/cloud";

describe("official AWS SDK v3 clients against the HTTP API (only endpoint changed)", () => {
  let cloud: Cloud, data: IoTDataPlaneClient, iot: IoTClient;
  beforeAll(async () => {
    ({ cloud } = await newCloud());
    const cfg = { region: cloud.region, endpoint: "http://" + cloud.endpoint, credentials: cloud.admin, maxAttempts: 1 };
    data = new IoTDataPlaneClient(cfg);
    iot = new IoTClient(cfg);
  });
  afterAll(async () => { data.destroy(); iot.destroy(); await cloud.stop(); });

  test("control plane: things, groups, jobs", async () => {
    const t = await iot.send(new CreateThingCommand({ thingName: "sdk-thing", attributePayload: { attributes: { model: "esp32" } } }));
    expect(t.thingName).toBe("sdk-thing");
    expect(t.thingArn).toMatch(/:thing\/sdk-thing$/);
    await iot.send(new CreateThingGroupCommand({ thingGroupName: "sdk-group" }));
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: "sdk-group", thingName: "sdk-thing" }));
    const j = await iot.send(new CreateJobCommand({ jobId: "sdk-job", targets: [t.thingArn!.replace(":thing/sdk-thing", ":thinggroup/sdk-group")], document: JSON.stringify({ op: "blink" }) }));
    expect(j.jobId).toBe("sdk-job");
    const d = await iot.send(new DescribeJobExecutionCommand({ jobId: "sdk-job", thingName: "sdk-thing" }));
    expect(d.execution).toMatchObject({ jobId: "sdk-job", status: "QUEUED", executionNumber: 1, versionNumber: 1 });
    expect(d.execution!.queuedAt).toBeInstanceOf(Date);
    const l = await iot.send(new ListJobExecutionsForThingCommand({ thingName: "sdk-thing" }));
    expect(l.executionSummaries).toEqual([expect.objectContaining({ jobId: "sdk-job", jobExecutionSummary: expect.objectContaining({ status: "QUEUED" }) })]);
    await iot.send(new CancelJobCommand({ jobId: "sdk-job", comment: "not needed" }));
    expect((await iot.send(new DescribeJobExecutionCommand({ jobId: "sdk-job", thingName: "sdk-thing" }))).execution!.status).toBe("CANCELED");
    await expect(iot.send(new DescribeJobExecutionCommand({ jobId: "nope", thingName: "sdk-thing" }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await expect(iot.send(new CreateJobCommand({ jobId: "sdk-job", targets: [t.thingArn!], document: "{}" }))).rejects.toMatchObject({ name: "ResourceAlreadyExistsException" });
  });

  test("data plane: shadows (classic and named), publish, errors", async () => {
    const dev = await cloud.createThing("sdk-dev");
    const c = await connect(cloud, "sdk-dev", dev);
    const r = recorder(c);
    await c.subscribeAsync(["$aws/things/sdk-dev/shadow/update/delta", "devices/sdk-dev/cmd"], { qos: 1 });
    const u = await data.send(new UpdateThingShadowCommand({ thingName: "sdk-dev", payload: Buffer.from(JSON.stringify({ state: { desired: { led: "on" } } })) }));
    expect(JSON.parse(Buffer.from(u.payload!).toString())).toMatchObject({ state: { desired: { led: "on" } }, version: 1 });
    expect((await r.next("$aws/things/sdk-dev/shadow/update/delta")).body.state).toEqual({ led: "on" });
    const g = await data.send(new GetThingShadowCommand({ thingName: "sdk-dev" }));
    expect(JSON.parse(Buffer.from(g.payload!).toString()).state.delta).toEqual({ led: "on" });
    await data.send(new UpdateThingShadowCommand({ thingName: "sdk-dev", shadowName: "cfg", payload: Buffer.from('{"state":{"reported":{"a":1}}}') }));
    expect((await data.send(new ListNamedShadowsForThingCommand({ thingName: "sdk-dev" }))).results).toEqual(["cfg"]);
    await data.send(new PublishCommand({ topic: "devices/sdk-dev/cmd", qos: 1, payload: Buffer.from("blink") }));
    expect((await r.next("devices/sdk-dev/cmd")).raw).toBe("blink");
    await expect(data.send(new UpdateThingShadowCommand({ thingName: "sdk-dev", payload: Buffer.from('{"state":{},"version":99}') }))).rejects.toMatchObject({ name: "ConflictException", message: "Version conflict" });
    await expect(data.send(new UpdateThingShadowCommand({ thingName: "sdk-dev", payload: Buffer.from("{x") }))).rejects.toMatchObject({ name: "InvalidRequestException", message: "Invalid JSON" });
    const del = await data.send(new DeleteThingShadowCommand({ thingName: "sdk-dev" }));
    expect(JSON.parse(Buffer.from(del.payload!).toString()).version).toBe(1);
    await expect(data.send(new GetThingShadowCommand({ thingName: "sdk-dev" }))).rejects.toMatchObject({ name: "ResourceNotFoundException", message: "No shadow exists with name: 'sdk-dev'" });
    await end(c);
  });

  test("signature checks apply; device credentials are limited to their thing", async () => {
    const bad = new IoTDataPlaneClient({ region: cloud.region, endpoint: "http://" + cloud.endpoint, credentials: { ...cloud.admin, secretAccessKey: "wrong" }, maxAttempts: 1 });
    await expect(bad.send(new GetThingShadowCommand({ thingName: "sdk-dev" }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    bad.destroy();
    const dev = await cloud.createThing("sdk-dev");
    const devData = new IoTDataPlaneClient({ region: cloud.region, endpoint: "http://" + cloud.endpoint, credentials: dev, maxAttempts: 1 });
    await devData.send(new UpdateThingShadowCommand({ thingName: "sdk-dev", payload: Buffer.from('{"state":{"reported":{"x":1}}}') }));
    await expect(devData.send(new GetThingShadowCommand({ thingName: "sdk-thing" }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    devData.destroy();
    const devIot = new IoTClient({ region: cloud.region, endpoint: "http://" + cloud.endpoint, credentials: dev, maxAttempts: 1 });
    await expect(devIot.send(new CreateThingCommand({ thingName: "evil" }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    devIot.destroy();
  });
});
