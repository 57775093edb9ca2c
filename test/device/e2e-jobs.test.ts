// End to end: AWS IoT Jobs executed by the firmware in the simulator against the stand-in.
import { Cloud } from "../../sim/cloud";
import { boot, count, deviceConfig, LED, reported, sharedCloud, until, watchPublishes } from "./harness";

jest.setTimeout(60000);
let cloud: Cloud;
sharedCloud((c) => (cloud = c));

const status = (jobId: string, thing: string) => (cloud.jobs.describeExecution(jobId, thing) || {}).status;
const statuses = (w: { list: any[] }) => w.list.map((p) => p.msg.status);

async function ready(thing: string, extra: Record<string, any> = {}) {
  const d = await boot(await deviceConfig(cloud, thing, extra));
  await d.waitForLog("connected to AWS IoT", 10000);
  return d;
}

test("a job sent to the thing group runs once with IN_PROGRESS -> SUCCEEDED", async () => {
  const d = await ready("jb-group");
  cloud.groups.create("lab-boards");
  cloud.groups.addThing("lab-boards", "jb-group");
  const w = watchPublishes(cloud, "jb-group", "/update");
  const blinks0 = d.led(LED).history.length;
  await cloud.jobs.createJob({ jobId: "identify-1", targets: ["lab-boards"], document: { operation: "blink", count: 2 } });
  await until(() => status("identify-1", "jb-group") === "SUCCEEDED", "SUCCEEDED");
  const ups = w.list.filter((p) => p.topic.includes("/jobs/identify-1/update"));
  expect(statuses({ list: ups })).toEqual(["IN_PROGRESS", "SUCCEEDED"]);
  expect(ups[0].msg.expectedVersion).toBe(1);
  expect(d.led(LED).history.length - blinks0).toBeGreaterThanOrEqual(4); // 2 blinks = 4 edges
  expect(d.led(LED).level).toBe(1); // back to the steady state: on=false, active low = high
  // a second job queued behind it also runs (one at a time), then nothing runs twice
  await cloud.jobs.createJob({ jobId: "cfg-1", targets: ["jb-group"], document: { operation: "set-config", refresh: 5 } });
  await until(() => status("cfg-1", "jb-group") === "SUCCEEDED", "set-config SUCCEEDED");
  await until(() => reported(cloud, "jb-group").refresh === 5, "refresh 5 reported");
  expect(d.storage.readJSON("iot.set").r).toBe(5);
  w.stop();
  expect(w.list.filter((p) => p.topic.includes("identify-1")).length).toBe(2);
  expect(d.errors).toEqual([]);
});

test("unknown operation -> REJECTED; bad set-config -> FAILED with statusDetails", async () => {
  const d = await ready("jb-unknown");
  await cloud.jobs.createJob({ jobId: "fmt-1", targets: ["jb-unknown"], document: { operation: "format-disk" } });
  await until(() => status("fmt-1", "jb-unknown") === "REJECTED", "REJECTED");
  expect(cloud.jobs.describeExecution("fmt-1", "jb-unknown").statusDetails).toEqual({ reason: "unknown operation: format-disk" });
  await cloud.jobs.createJob({ jobId: "cfg-bad", targets: ["jb-unknown"], document: { operation: "set-config", refresh: -3, color: "red" } });
  await until(() => status("cfg-bad", "jb-unknown") === "FAILED", "FAILED");
  expect(cloud.jobs.describeExecution("cfg-bad", "jb-unknown").statusDetails.reason).toMatch(/refresh .*; color unknown key/);
  expect(d.errors).toEqual([]);
});

test("reboot job: reboots once and reports SUCCEEDED after the boot", async () => {
  const d = await ready("jb-reboot");
  await cloud.jobs.createJob({ jobId: "rb-1", targets: ["jb-reboot"], document: { operation: "reboot" } });
  await until(() => status("rb-1", "jb-reboot") === "SUCCEEDED", "SUCCEEDED after reboot", 15000);
  expect(d.bootCount).toBe(2);
  expect(d.storage.readJSON("iot.job")).toMatchObject({ j: "rb-1", st: "SUCCEEDED" });
  // settle: still one reboot
  await until(() => count(d, "connected to AWS IoT") >= 2, "connected");
  expect(d.bootCount).toBe(2);
});

test("a job interrupted by a reboot is not run twice", async () => {
  const d = await ready("jb-interrupt");
  await cloud.jobs.createJob({ jobId: "long-1", targets: ["jb-interrupt"], document: { operation: "blink", count: 20 } });
  await d.waitForLog("job long-1 blink starting", 5000);
  await until(() => status("long-1", "jb-interrupt") === "IN_PROGRESS", "IN_PROGRESS");
  await until(() => (d.storage.readJSON("iot.job") || {}).st === "RUN", "handler running");
  await d.reboot();
  await until(() => status("long-1", "jb-interrupt") === "FAILED", "FAILED after the reboot");
  expect(cloud.jobs.describeExecution("long-1", "jb-interrupt").statusDetails).toEqual({ reason: "interrupted by a restart" });
  expect(count(d, "job long-1 blink starting")).toBe(1);
});

test("Storage full: a job that cannot be tracked is FAILED without running, and not run after a reboot", async () => {
  const d = await ready("jb-full");
  await until(() => reported(cloud, "jb-full").uptime !== undefined, "first report");
  d.storage.write("filler", "x".repeat(Math.max(0, d.storage.getFree() - 40)));
  const blinks0 = d.led(LED).history.length;
  await cloud.jobs.createJob({ jobId: "full-1", targets: ["jb-full"], document: { operation: "blink", count: 5 } });
  await until(() => status("full-1", "jb-full") === "FAILED", "FAILED");
  expect(cloud.jobs.describeExecution("full-1", "jb-full").statusDetails).toEqual({ reason: "Storage full" });
  expect(d.led(LED).history.length).toBe(blinks0); // the handler (blink) never started
  await d.reboot();
  await until(() => count(d, "connected to AWS IoT") >= 2, "connected after the reboot");
  expect(status("full-1", "jb-full")).toBe("FAILED");
  expect(count(d, "job full-1 blink starting")).toBe(1);
  d.storage.erase("filler");
});

test("a job document larger than maxPkt streams in: the operation is read, the rest skipped, the job runs", async () => {
  const d = await ready("jb-big", { maxPkt: 1024 });
  const blinks0 = d.led(LED).history.length;
  await cloud.jobs.createJob({ jobId: "big-1", targets: ["jb-big"], document: { pad: "x".repeat(3000), operation: "blink", count: 1 } });
  await until(() => status("big-1", "jb-big") === "SUCCEEDED", "SUCCEEDED");
  expect(d.led(LED).history.length - blinks0).toBeGreaterThanOrEqual(2);
  // the device is still fine and runs the next (small) job
  await cloud.jobs.createJob({ jobId: "small-1", targets: ["jb-big"], document: { operation: "blink", count: 1 } });
  await until(() => status("small-1", "jb-big") === "SUCCEEDED", "next job SUCCEEDED");
  expect(d.errors).toEqual([]);
});

test("a job canceled while running is abandoned without a loop", async () => {
  const d = await ready("jb-cancel");
  const w = watchPublishes(cloud, "jb-cancel", "/update");
  await cloud.jobs.createJob({ jobId: "cx-1", targets: ["jb-cancel"], document: { operation: "blink", count: 6 } });
  await d.waitForLog("job cx-1 blink starting", 5000);
  await until(() => status("cx-1", "jb-cancel") === "IN_PROGRESS", "IN_PROGRESS");
  await cloud.jobs.cancelJob("cx-1", { force: true });
  await d.waitForLog("job cx-1 abandoned", 8000);
  w.stop();
  expect(w.list.filter((p) => p.topic.includes("cx-1")).length).toBeLessThanOrEqual(3);
  expect(d.storage.readJSON("iot.job")).toMatchObject({ j: "cx-1", st: "X" });
});
