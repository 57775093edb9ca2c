// Prints the interpreter figures for the docs' performance page (not a test: no assertions).
//   npm run figures:interp   (runs npm's build output dist/firmware.js: npm run build first)
// On the ESP8266 build (qemu-i386, 12-byte variables), the Wifi stub's variables subtracted:
// usage at boot (first reading after the boot line), once connected and reporting, the peak from
// power-on to connected; boot-to-connected cold (empty flash) and warm (power cycle, signing cache
// in Storage), in host milliseconds; presign cold and warm in interpreter milliseconds.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { buildBundle } from "../../scripts/build";
import { cloudUp, deviceConfig, reported, until } from "../support/e2e";
import { Board, disposeAll, interpreterDir, stubCost } from "./harness";

const CONNECTED = "connected to AWS IoT";

async function presignTimes(): Promise<{ cold: number; warm: number }> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "interp-presign-"));
  const outfile = path.join(tmp, "bench.js");
  await buildBundle({ entry: "test/fixtures/interp/presign-bench.ts", outfile, sourcemap: false });
  const r = spawnSync("qemu-i386", [path.join(interpreterDir()!, "espruino-esp8266"), outfile], { cwd: tmp, encoding: "latin1", timeout: 120000, killSignal: "SIGKILL" });
  fs.rmSync(tmp, { recursive: true, force: true });
  const cold = /@C(\d+)/.exec(r.stdout || "");
  const warm = /@W(\d+)/.exec(r.stdout || "");
  if (!cold || !warm) throw new Error("the presign benchmark printed no times:\n" + (r.stdout || "").slice(-500));
  return { cold: +cold[1], warm: +warm[1] };
}

async function main(): Promise<void> {
  if (!interpreterDir()) throw new Error("no Espruino interpreter: see docs/testing.md");
  const stub = await stubCost("esp8266");
  const cloud = await cloudUp();
  const thing = "figures-interp";
  const min3 = async (b: Board) => Math.min(await b.usage(), await b.usage(), await b.usage()) - stub;
  try {
    const cfg = await deviceConfig(cloud, thing);
    const b = new Board("esp8266");
    const { WIFI_STUB } = await import("./harness");
    const { configFileText } = await import("../../scripts/device-config");
    await b.writeStorage([[".boot0", WIFI_STUB], ["iot.json", configFileText(cfg as any)], [".bootcde", fs.readFileSync(path.resolve(__dirname, "../../dist/firmware.js"), "latin1")]]);
    b.logs = [];
    let t0 = Date.now();
    b.start();
    await b.waitLog("[I] boot " + thing, 1, 120000);
    const atBoot = (await b.usage()) - stub;
    await b.waitLog(CONNECTED, 1, 120000);
    const cold = Date.now() - t0;
    const peak = (await b.peak()) - stub;
    await until(() => reported(cloud, thing).uptime !== undefined, "a report", 60000);
    const connected = await min3(b);
    t0 = Date.now();
    await b.powerCycle();
    await b.waitLog(CONNECTED, 1, 120000);
    const warm = Date.now() - t0;
    const p = await presignTimes();
    console.log("| figure (ESP8266 build, 12-byte variables, Wifi stub of " + stub + " variables subtracted) | value |");
    console.log("| --- | --- |");
    console.log(`| usage at boot (variables of 1600) | ${atBoot} |`);
    console.log(`| usage connected and reporting | ${connected} |`);
    console.log(`| peak from power-on to connected (cold presign included) | ${peak} |`);
    console.log(`| presign cold / warm (interpreter ms) | ${p.cold} / ${p.warm} |`);
    console.log(`| power-on to connected, cold / warm (host ms, qemu-i386) | ${cold} / ${warm} |`);
  } finally {
    await disposeAll();
    await cloud.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
