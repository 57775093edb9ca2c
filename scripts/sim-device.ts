// npm run sim:device -- [--board esp8266|esp32] [--storage DIR] [--config file.json] [--bundle FILE]
// Boots one simulated board running dist/firmware.js and streams its console until Ctrl-C.
// --bench: boots a throw-away device, prints boot / reboot / memory-estimate timings, and exits.
import * as fs from "fs";
import * as path from "path";
import { performance } from "perf_hooks";
import { startDevice, BoardName } from "../sim/board";

function usage(msg?: string): never {
  if (msg) console.error(msg);
  console.error("usage: npm run sim:device -- [--board esp8266|esp32] [--storage DIR] [--config file.json] [--bundle dist/firmware.js] [--name NAME]");
  process.exit(2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => a !== "--bench");
  const bench = args.length !== process.argv.length - 2;
  const opt: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--help" || a === "-h") usage();
    if (!a.startsWith("--")) usage(`unexpected argument: ${a}`);
    const v = args[i + 1];
    if (v === undefined || v.startsWith("--")) usage(`${a} needs a value`);
    opt[a.slice(2)] = v;
    i++;
  }
  for (const k of Object.keys(opt)) if (!["board", "storage", "config", "bundle", "name"].includes(k)) usage(`unknown option --${k}`);
  const board = (opt.board ?? "esp8266") as BoardName;
  if (board !== "esp8266" && board !== "esp32") usage(`--board must be esp8266 or esp32, not "${board}"`);
  const storageDir = path.resolve(opt.storage ?? path.join(".sim-data", board));
  let config: object | undefined;
  if (opt.config) {
    try {
      config = JSON.parse(fs.readFileSync(opt.config, "utf8"));
    } catch (e: any) {
      usage(`cannot read --config ${opt.config}: ${e.message}`);
    }
  }
  if (bench) return runBench(board, opt.bundle ? path.resolve(opt.bundle) : undefined);
  const dev = await startDevice({ board, storageDir, config, bundlePath: opt.bundle ? path.resolve(opt.bundle) : undefined, name: opt.name ?? board, console: true });
  console.error(`[sim] ${dev.name}: ${board} booted from ${opt.bundle ?? "dist/firmware.js"}, Storage in ${storageDir}; WiFi AP "lab". Ctrl-C to stop.`);
  const stop = async () => {
    await dev.stop();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

async function runBench(board: BoardName, bundlePath?: string): Promise<void> {
  const os = await import("os");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sim-bench-"));
  const config = { ssid: "lab", pass: "labpass", host: "127.0.0.1", port: 9, region: "eu-west-1", akid: "AKIDEXAMPLE", secret: "bench", thing: "bench" };
  const t0 = performance.now();
  const dev = await startDevice({ board, storageDir: dir, config, bundlePath });
  const first = performance.now() - t0;
  const reboots: number[] = [];
  for (let i = 0; i < 20; i++) {
    const a = performance.now();
    await dev.reboot();
    reboots.push(performance.now() - a);
  }
  reboots.sort((a, b) => a - b);
  const m0 = performance.now();
  for (let i = 0; i < 50; i++) dev.memory();
  const memMs = (performance.now() - m0) / 50;
  const mem = dev.memory();
  await dev.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`sim:device --bench (${board}): first boot ${first.toFixed(0)} ms (bundle syntax check included), reboot median ${reboots[10].toFixed(1)} ms, memory() ${memMs.toFixed(1)} ms, estimate after boot ${mem.usage}/${mem.total} variables`);
}

main().catch((e) => {
  console.error(`[sim] ${e.message}`);
  process.exit(1);
});
