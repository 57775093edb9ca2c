import * as fs from "node:fs";
import * as path from "node:path";
import { newCloud, connect, recorder, stripTimes, end } from "./helpers";
import type { Cloud } from "../../sim/cloud";
import type { MqttClient } from "mqtt";

const J = "$aws/things/robot1/jobs";

describe("jobs over MQTT", () => {
  let cloud: Cloud, dir: string, dev: MqttClient, obs: MqttClient;
  let d: ReturnType<typeof recorder>, o: ReturnType<typeof recorder>;
  let clock = Date.UTC(2026, 10, 22, 0, 0, 0);
  beforeAll(async () => {
    ({ cloud, dir } = await newCloud({ now: () => clock, minuteMs: 200 }));
    const creds = await cloud.createThing("robot1");
    dev = await connect(cloud, "robot1", creds, { now: clock });
    obs = await connect(cloud, "observer", cloud.admin, { now: clock });
    d = recorder(dev); o = recorder(obs);
    await dev.subscribeAsync(J + "/#", { qos: 1 });
    await obs.subscribeAsync(J + "/#", { qos: 1 });
  });
  afterAll(async () => { await end(dev, obs); await cloud.stop(); });

  const req = (topic: string, body: any) => dev.publish(J + "/" + topic, typeof body === "string" ? body : JSON.stringify(body));

  test("notification example and the full lifecycle, byte for byte (timestamps aside)", async () => {
    await cloud.jobs.createJob({ jobId: "job1", targets: ["robot1"], document: { operation: "reboot" } });
    expect(stripTimes((await d.next(J + "/notify")).raw)).toBe(
      '{"timestamp":"T","jobs":{"QUEUED":[{"jobId":"job1","queuedAt":"T","lastUpdatedAt":"T","executionNumber":1,"versionNumber":1}]}}');
    expect(stripTimes((await d.next(J + "/notify-next")).raw)).toBe(
      '{"timestamp":"T","execution":{"jobId":"job1","status":"QUEUED","queuedAt":"T","lastUpdatedAt":"T","versionNumber":1,"executionNumber":1,"jobDocument":{"operation":"reboot"}}}');
    clock += 1000;
    await cloud.jobs.createJob({ jobId: "job2", targets: ["robot1"], document: { operation: "update", url: "http://x/fw.bin" } });
    expect((await d.next(J + "/notify")).body.jobs.QUEUED.map((s: any) => s.jobId)).toEqual(["job1", "job2"]);

    req("get", { clientToken: "c1" });
    expect(stripTimes((await d.next(J + "/get/accepted")).raw)).toBe(
      '{"inProgressJobs":[],"queuedJobs":[{"jobId":"job1","queuedAt":"T","lastUpdatedAt":"T","executionNumber":1,"versionNumber":1},' +
      '{"jobId":"job2","queuedAt":"T","lastUpdatedAt":"T","executionNumber":1,"versionNumber":1}],"timestamp":"T","clientToken":"c1"}');

    req("start-next", { statusDetails: { step: "download" } });
    expect(stripTimes((await d.next(J + "/start-next/accepted")).raw)).toBe(
      '{"execution":{"jobId":"job1","thingName":"robot1","jobDocument":{"operation":"reboot"},"status":"IN_PROGRESS","statusDetails":{"step":"download"},' +
      '"queuedAt":"T","startedAt":"T","lastUpdatedAt":"T","versionNumber":2,"executionNumber":1},"timestamp":"T"}');

    req("$next/get", {});
    expect((await d.next(J + "/$next/get/accepted")).body.execution).toMatchObject({ jobId: "job1", status: "IN_PROGRESS" });

    req("job1/update", { status: "SUCCEEDED", expectedVersion: "2", includeJobExecutionState: true, statusDetails: { step: "done" }, clientToken: "u1" });
    expect(stripTimes((await d.next(J + "/job1/update/accepted")).raw)).toBe(
      '{"executionState":{"status":"SUCCEEDED","statusDetails":{"step":"done"},"versionNumber":3},"timestamp":"T","clientToken":"u1"}');
    expect((await d.next(J + "/notify")).body.jobs).toEqual({ QUEUED: [expect.objectContaining({ jobId: "job2" })] });
    expect((await d.next(J + "/notify-next")).body.execution).toMatchObject({ jobId: "job2", status: "QUEUED", jobDocument: { operation: "update", url: "http://x/fw.bin" } });

    req("job2/update", { status: "IN_PROGRESS", includeJobDocument: true });
    expect((await d.next(J + "/job2/update/accepted")).body.jobDocument).toEqual({ operation: "update", url: "http://x/fw.bin" });
    req("job2/get", { includeJobDocument: false });
    const g = (await d.next(J + "/job2/get/accepted")).body;
    expect(g.execution.jobDocument).toBeUndefined();
    expect(g.execution).toMatchObject({ status: "IN_PROGRESS", versionNumber: 2 });
    req("job2/update", { status: "FAILED", statusDetails: { reason: "checksum" } });
    await d.next(J + "/job2/update/accepted");
    expect(stripTimes((await d.next(J + "/notify")).raw)).toBe('{"timestamp":"T","jobs":{}}');
    expect(stripTimes((await d.next(J + "/notify-next")).raw)).toBe('{"timestamp":"T"}');
    req("start-next", {});
    expect(stripTimes((await d.next(J + "/start-next/accepted")).raw)).toBe('{"timestamp":"T"}');
    expect(cloud.jobs.describeExecution("job2", "robot1")).toMatchObject({ status: "FAILED", statusDetails: { reason: "checksum" } });
    expect(cloud.jobs.listExecutionsForThing("robot1").map((e: any) => e.status)).toEqual(["SUCCEEDED", "FAILED"]);

    // responses went only to the requesting connection; notifications went through the broker.
    // The observer's own message, round-tripped through the broker, arrives after anything that
    // was sent to the observer before it (one ordered stream), so the check below is final.
    await obs.subscribeAsync("probe/observer", { qos: 1 });
    obs.publish("probe/observer", "after every response");
    await o.next("probe/observer");
    expect(o.msgs.some((m) => m.topic.endsWith("/accepted") || m.topic.endsWith("/rejected"))).toBe(false);
    expect(o.msgs.some((m) => m.topic === J + "/notify")).toBe(true);
  });

  test("error codes", async () => {
    await cloud.jobs.createJob({ jobId: "job3", targets: ["robot1"], document: { operation: "noop" } });
    const cases: Array<[string, any, string]> = [
      ["job3/update", "{oops", "InvalidJson"],
      ["job3/update", { status: "BOGUS" }, "InvalidRequest"],
      ["job3/update", { status: "IN_PROGRESS", statusDetails: { n: 1 } }, "InvalidRequest"],
      ["job3/update", { status: "IN_PROGRESS", stepTimeoutInMinutes: 0 }, "InvalidRequest"],
      ["job3/update", { status: "CANCELED" }, "InvalidStateTransition"],
      ["job3/update", { status: "IN_PROGRESS", expectedVersion: 9 }, "VersionMismatch"],
      ["job1/update", { status: "IN_PROGRESS" }, "InvalidStateTransition"],
      ["nojob/update", { status: "IN_PROGRESS" }, "ResourceNotFound"],
      ["nojob/get", {}, "ResourceNotFound"],
      ["job1/get", {}, "TerminalStateReached"],
      ["job3/frobnicate", {}, "InvalidTopic"],
    ];
    for (const [topic, body, code] of cases) {
      req(topic, body);
      const r = (await d.next(J + "/" + topic + "/rejected")).body;
      expect(r.code).toBe(code);
      expect(typeof r.message).toBe("string");
      if (code === "VersionMismatch") expect(r.executionState).toEqual({ status: "QUEUED", versionNumber: 1 });
    }
    // RequestThrottled: more than 50 requests in one second on one connection (the clock is frozen)
    clock += 1000;
    for (let i = 0; i < 55; i++) req("get", { clientToken: "t" + i });
    const thr = await d.next(J + "/get/rejected");
    expect(thr.body).toMatchObject({ code: "RequestThrottled" });
    clock += 1000;
    // InternalError: the store cannot write
    const jobsDir = path.join(dir, "jobs");
    fs.rmSync(jobsDir, { recursive: true, force: true });
    fs.writeFileSync(jobsDir, "x");
    req("job3/update", { status: "IN_PROGRESS" });
    expect((await d.next(J + "/job3/update/rejected")).body.code).toBe("InternalError");
    fs.rmSync(jobsDir);
    expect(cloud.jobs.describeExecution("job3", "robot1").status).toBe("QUEUED");
  });

  test("step timeout -> TIMED_OUT with notifications; -1 cancels the timer", async () => {
    await cloud.jobs.createJob({ jobId: "job4", targets: ["robot1"], document: { operation: "slow" }, stepTimeoutInMinutes: 1 });
    req("job3/update", { status: "SUCCEEDED" });
    await d.next(J + "/job3/update/accepted");
    req("start-next", {});
    expect((await d.next(J + "/start-next/accepted")).body.execution).toMatchObject({ jobId: "job4", status: "IN_PROGRESS" });
    d.skip();
    clock += 250; // one "minute" is 200 ms in this test
    await d.next(J + "/notify-next", 3000);
    expect(cloud.jobs.describeExecution("job4", "robot1").status).toBe("TIMED_OUT");
    await cloud.jobs.createJob({ jobId: "job5", targets: ["robot1"], document: {}, stepTimeoutInMinutes: 1 });
    req("job5/update", { status: "IN_PROGRESS", stepTimeoutInMinutes: -1 });
    await d.next(J + "/job5/update/accepted");
    clock += 1000;
    // run the sweep the service's interval runs (instead of hoping it ran): nothing times out now
    const jobsService = (cloud as any).jobsService as { sweepTimeouts(): void };
    jobsService.sweepTimeouts();
    expect(cloud.jobs.describeExecution("job5", "robot1").status).toBe("IN_PROGRESS");
  });

  test("cancel: queued executions CANCELED; in-progress ones only with force", async () => {
    await cloud.jobs.cancelJob("job5");
    expect(cloud.jobs.describeExecution("job5", "robot1").status).toBe("IN_PROGRESS");
    await cloud.jobs.cancelJob("job5", { force: true });
    expect(cloud.jobs.describeExecution("job5", "robot1").status).toBe("CANCELED");
    await cloud.jobs.createJob({ jobId: "job6", targets: ["robot1"], document: {} });
    await cloud.jobs.cancelJob("job6");
    expect(cloud.jobs.describeExecution("job6", "robot1").status).toBe("CANCELED");
    req("job6/update", { status: "SUCCEEDED" });
    expect((await d.next(J + "/job6/update/rejected")).body.code).toBe("InvalidStateTransition");
  });

  test("thing groups: snapshot jobs skip things added later, continuous jobs include them", async () => {
    await cloud.createThing("robot2");
    cloud.groups.create("fleet");
    cloud.groups.addThing("fleet", "robot1");
    await cloud.jobs.createJob({ jobId: "snap", targets: ["fleet"], document: { v: 1 } });
    await cloud.jobs.createJob({ jobId: "cont", targets: ["fleet"], document: { v: 2 }, targetSelection: "CONTINUOUS" });
    cloud.groups.addThing("fleet", "robot2");
    expect(cloud.jobs.describeExecution("snap", "robot1")).toBeDefined();
    expect(cloud.jobs.describeExecution("snap", "robot2")).toBeUndefined();
    expect(cloud.jobs.describeExecution("cont", "robot2")).toMatchObject({ status: "QUEUED" });
    await expect(cloud.jobs.createJob({ jobId: "snap", targets: ["fleet"], document: {} })).rejects.toThrow(/already exists/);
    await expect(cloud.jobs.createJob({ jobId: "x", targets: ["nobody"], document: {} })).rejects.toThrow(/neither/);
  });
});
