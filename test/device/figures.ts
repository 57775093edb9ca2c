// Prints the device figures for docs/performance.md (not a test: no assertions).
//   npm run figures:device   (size of dist/firmware.js: run npm run build first)
// - bundle size of the complete firmware (raw bytes of dist/firmware.js, budget 24576)
// - the simulator's ESTIMATE of JS variables in use after boot (connected, first report sent) and
//   after a shadow change and a job, out of the ESP8266's 1600; measured on a build of
//   test/fixtures/device/main-exposed.ts that puts the app's module state on the global object
// - time from power-on to the first shadow report in the simulator against the local stand-in
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startCloud } from "../../sim/cloud";
import { startDevice } from "../../sim/board";
import { buildBundle } from "../../scripts/build";
import { sleep, until } from "../support/wait";

async function main(): Promise<void> {
  const bytes = fs.statSync(path.resolve(__dirname, "..", "..", "dist", "firmware.js")).size;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "device-figures-"));
  // the same firmware plus a hook exposing its module state to the estimate
  const bundlePath = path.join(tmp, "exposed.js");
  await buildBundle({ entry: "test/fixtures/device/main-exposed.ts", outfile: bundlePath, sourcemap: false });
  const cloud = await startCloud({ dataDir: path.join(tmp, "cloud"), port: 0 });
  const cr = await cloud.createThing("fig1");
  const i = cloud.endpoint.lastIndexOf(":");
  const t0 = Date.now();
  const d = await startDevice({
    board: "esp8266",
    storageDir: path.join(tmp, "dev"),
    bundlePath,
    config: {
      ssid: "lab", pass: "labpass", host: cloud.endpoint.substr(0, i), port: +cloud.endpoint.substr(i + 1), region: cloud.region,
      akid: cr.accessKeyId, secret: cr.secretAccessKey, thing: "fig1", refresh: 2,
    },
    wifi: { ssid: "lab", password: "labpass" },
  });
  const rep = () => ((cloud.shadows.get("fig1") || {}).state || {}).reported || {};
  await until(() => rep().temperature !== undefined, "the first temperature report", 20000);
  const firstMs = Date.now() - t0;
  d.eval("__iotSnap()");
  const mBoot = d.memory();
  await cloud.shadows.update("fig1", { state: { desired: { on: true } } });
  await until(() => rep().on === true, "on=true reported", 20000);
  await cloud.jobs.createJob({ jobId: "fig-job", targets: ["fig1"], document: { operation: "blink", count: 1 } });
  await until(() => (cloud.jobs.describeExecution("fig-job", "fig1") || {}).status === "SUCCEEDED", "fig-job SUCCEEDED", 20000);
  await sleep(2500); // a steady-state interval for the memory figure
  d.eval("__iotSnap()");
  const mRun = d.memory();
  console.log(`bundle: ${bytes} bytes raw (budget 24576)`);
  console.log(`power-on to first shadow report (simulator, local stand-in): ${firstMs} ms`);
  console.log(`estimated JS variables after boot: ${mBoot.usage} of ${mBoot.total} (${Math.round((100 * mBoot.usage) / mBoot.total)} %)`);
  console.log(`estimated JS variables after a shadow change and a job: ${mRun.usage} of ${mRun.total} (${Math.round((100 * mRun.usage) / mRun.total)} %)`);
  await d.stop();
  await cloud.stop();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
