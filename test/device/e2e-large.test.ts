// End to end: shadow and job documents as large as AWS allows, written by other apps, do not make
// the device deaf. For each case the device keeps applying on/refresh changes made afterwards,
// reports, converges again after a forced reconnect (its get/accepted then carries the whole large
// document with its metadata), throws nothing, and the simulator's estimate of JS variables (with
// the app's module state) stays under 75 % of an ESP8266's 1600.
import * as path from "path";
import { Cloud } from "../../sim/cloud";
import { DeviceHandle } from "../../sim/board";
import { buildBundle } from "../../scripts/build";
import { boot, connections, count, delta, desired, deviceConfig, dir, ledLit, reported, sharedCloud, until } from "./harness";

jest.setTimeout(120000);
let cloud: Cloud;
sharedCloud((c) => (cloud = c));

const LIMIT = 0.75 * 1600;
const peaks: Record<string, number> = {};

// the firmware plus __iotSnap(), which puts the app's module state where the estimate sees it
let exposed: Promise<string> | null = null;
function exposedBundle(): Promise<string> {
  if (!exposed) {
    const outfile = path.join(dir("exposed"), "firmware.js");
    exposed = buildBundle({ entry: "test/fixtures/device/main-exposed.ts", outfile, sourcemap: false }).then(() => outfile);
  }
  return exposed;
}

// Samples the estimate until stop(); returns the peak.
function sampler(d: DeviceHandle): { stop(): number } {
  let peak = 0;
  let on = true;
  const tick = () => {
    if (!on) return;
    try {
      d.eval("__iotSnap()");
      peak = Math.max(peak, d.memory().usage);
    } catch {
      // (between boots)
    }
    setTimeout(tick, 15);
  };
  tick();
  return {
    stop: () => {
      on = false;
      return peak;
    },
  };
}

async function device(thing: string) {
  const d = await boot(await deviceConfig(cloud, thing), { bundlePath: await exposedBundle() });
  await connections(d, 1);
  await until(() => reported(cloud, thing).on === false && reported(cloud, thing).temperature !== undefined, "first report");
  return d;
}

// After the large document: on/refresh changes are applied and reported, the device's delta clears;
// then the same after a forced reconnect, with a change made while the link was down.
async function stillInSync(d: DeviceHandle, thing: string) {
  const ownDelta = () => {
    const x = delta(cloud, thing) || {};
    return x.on !== undefined || x.refresh !== undefined;
  };
  await cloud.shadows.update(thing, { state: { desired: { on: true, refresh: 3 } } });
  await until(() => ledLit(d) && reported(cloud, thing).on === true && reported(cloud, thing).refresh === 3 && !ownDelta(), "on/refresh applied and reported");
  const n = count(d, "connected to AWS IoT");
  d.faults.resetSockets();
  await cloud.shadows.update(thing, { state: { desired: { on: false } } });
  await connections(d, n + 1, 30000);
  await until(() => !ledLit(d) && reported(cloud, thing).on === false && !ownDelta(), "converged after the reconnect", 30000);
  const before = reported(cloud, thing).uptime;
  await until(() => reported(cloud, thing).uptime > before, "periodic reports go on");
  expect(d.errors).toEqual([]);
  expect(count(d, "[E]")).toBe(0);
}

function pad(n: number, width: number): string {
  return ("0000" + n).slice(-width);
}

test("150 desired keys of other apps: left alone, counted once in the log", async () => {
  const d = await device("lg-keys");
  const m = sampler(d);
  const mine: Record<string, string> = {};
  for (let i = 0; i < 150; i++) mine["app" + pad(i, 3)] = "value-" + i;
  await cloud.shadows.update("lg-keys", { state: { desired: mine } });
  await d.waitForLog("shadow: 150 desired keys are not this device's (left alone)", 15000);
  await stillInSync(d, "lg-keys");
  peaks.keys = m.stop();
  expect(Object.keys(desired(cloud, "lg-keys")).length).toBeGreaterThanOrEqual(150); // never cleared
  expect(reported(cloud, "lg-keys").errors).toBeUndefined();
  expect(peaks.keys).toBeLessThan(LIMIT);
});

test("one 1,500-character desired value", async () => {
  const d = await device("lg-long");
  const m = sampler(d);
  await cloud.shadows.update("lg-long", { state: { desired: { banner: "b".repeat(1500) } } });
  await d.waitForLog("shadow: 1 desired keys are not this device's (left alone)", 15000);
  await stillInSync(d, "lg-long");
  peaks.long = m.stop();
  expect(desired(cloud, "lg-long").banner.length).toBe(1500);
  expect(peaks.long).toBeLessThan(LIMIT);
});

test("6 KB of nested desired state", async () => {
  const d = await device("lg-nested");
  const m = sampler(d);
  const tree: any = {};
  for (let a = 0; a < 6; a++) {
    const l1: any = (tree["group" + a] = {});
    for (let b = 0; b < 6; b++) {
      const l2: any = (l1["set" + b] = {});
      for (let c = 0; c < 4; c++) l2["item" + c] = { name: "n" + a + b + c, level: c, tags: ["x", "y"] };
    }
  }
  expect(JSON.stringify(tree).length).toBeGreaterThan(6000);
  await cloud.shadows.update("lg-nested", { state: { desired: tree } });
  await d.waitForLog("shadow: 6 desired keys are not this device's (left alone)", 15000);
  await stillInSync(d, "lg-nested");
  peaks.nested = m.stop();
  expect(peaks.nested).toBeLessThan(LIMIT);
});

test("an 8 KB state written as desired + reported by another client", async () => {
  const d = await device("lg-full");
  const m = sampler(d);
  const half = (prefix: string) => {
    const o: Record<string, string> = {};
    for (let i = 0; i < 36; i++) o[prefix + pad(i, 2)] = "v".repeat(88);
    return o;
  };
  const state = { desired: half("d"), reported: half("r") };
  expect(JSON.stringify(state).length).toBeGreaterThan(7000);
  await cloud.shadows.update("lg-full", { state });
  await d.waitForLog("shadow: 36 desired keys are not this device's (left alone)", 15000);
  await stillInSync(d, "lg-full");
  peaks.full = m.stop();
  expect(Object.keys(reported(cloud, "lg-full")).filter((k) => /^r\d\d$/.test(k)).length).toBe(36); // the other client's reported keys stay
  expect(peaks.full).toBeLessThan(LIMIT);
});

test("a 30 KB job document: the operation and its parameters are read, the job runs, the queue moves on", async () => {
  const d = await device("lg-job");
  const m = sampler(d);
  const steps = Array.from({ length: 260 }, (_, i) => ({ step: i, action: "noop", note: "n".repeat(80) }));
  const document = { operation: "blink", count: 1, steps };
  expect(JSON.stringify(document).length).toBeGreaterThan(29000);
  await cloud.jobs.createJob({ jobId: "big-30k", targets: ["lg-job"], document });
  await cloud.jobs.createJob({ jobId: "after-30k", targets: ["lg-job"], document: { operation: "set-config", refresh: 4 } });
  const status = (j: string) => (cloud.jobs.describeExecution(j, "lg-job") || {}).status;
  await until(() => status("big-30k") === "SUCCEEDED", "the 30 KB job SUCCEEDED", 30000);
  await until(() => status("after-30k") === "SUCCEEDED" && reported(cloud, "lg-job").refresh === 4, "the next job SUCCEEDED", 30000);
  // one the device cannot use (too many parameters) is REJECTED in plain words, and nothing stalls
  const many: any = { operation: "blink" };
  for (let i = 0; i < 40; i++) many["p" + i] = "x".repeat(700);
  await cloud.jobs.createJob({ jobId: "many-30k", targets: ["lg-job"], document: many });
  await until(() => status("many-30k") === "REJECTED", "REJECTED", 30000);
  expect(cloud.jobs.describeExecution("many-30k", "lg-job").statusDetails).toEqual({ reason: "job document has 41 members; this device reads at most 8" });
  await stillInSync(d, "lg-job");
  peaks.job = m.stop();
  expect(peaks.job).toBeLessThan(LIMIT);
});

afterAll(() => {
  // the figures for the docs (npx jest test/device/e2e-large.test.ts prints them)
  console.log("peak JS variables (simulator estimate, of 1600): " + JSON.stringify(peaks));
});
