// npm run sim:device -- [--board esp8266|esp32] [--storage DIR] [--config file.json] [--bundle FILE]
// Boots one simulated board running dist/firmware.js and streams its console until Ctrl-C.
import * as fs from "fs";
import * as path from "path";
import { startDevice, BoardName } from "../sim/board";

function usage(msg?: string): never {
  if (msg) console.error(msg);
  console.error("usage: npm run sim:device -- [--board esp8266|esp32] [--storage DIR] [--config file.json] [--bundle dist/firmware.js] [--name NAME]");
  process.exit(2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
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
  const dev = await startDevice({ board, storageDir, config, bundlePath: opt.bundle ? path.resolve(opt.bundle) : undefined, name: opt.name ?? board, console: true });
  console.error(`[sim] ${dev.name}: ${board} booted from ${opt.bundle ?? "dist/firmware.js"}, Storage in ${storageDir}; WiFi AP "lab". Ctrl-C to stop.`);
  const stop = async () => {
    await dev.stop();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e) => {
  console.error(`[sim] ${e.message}`);
  process.exit(1);
});
