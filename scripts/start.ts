// npm start [-- --devices N --board esp8266|esp32 --group NAME --port P --refresh S --fresh --quiet]
// npm start -- --aws [--env FILE]
// The local IoT lab: the AWS IoT Core stand-in (or a real AWS IoT endpoint with --aws), N simulated boards
// running dist/firmware.js (rebuilt first when older than firmware/), a live web view and a control API
// (npm run lab -- ...). Ctrl-C stops everything.
import * as fs from "fs";
import * as path from "path";
import { ArgError, parseArgs } from "../sim/lab/args";
import { bundleIsStale, readLabFile, removeLabFile, writeLabFile } from "../sim/lab/files";
import { DEFAULT_DATA_DIR, Lab, LabError, ROOT, startLab } from "../sim/lab/lab";
import { startLabServer, LabServer } from "../sim/lab/server";
import type { DeviceConfig } from "../firmware/config/config";

const HELP = `npm start [-- options]
  Starts the local IoT lab: the AWS IoT Core stand-in, simulated boards running dist/firmware.js,
  a web view and a control API for npm run lab -- ...
  --devices N       number of simulated boards, things dev-1..dev-N (default 3)
  --board B         esp8266 (default) or esp32
  --group NAME      thing group of all the devices (default sensors)
  --port P          web view / control API port on 127.0.0.1 (default 8080; another free one if taken)
  --refresh S       report interval written to each board's iot.json, seconds (default 5)
  --fresh           forget the previous lab state (.lab-data/) first
  --quiet           do not echo the boards' console lines
  --aws             real AWS IoT instead of the stand-in: one simulated board with the endpoint, thing and
                    keys from .env (see .env.example); shadow and job controls use your own AWS credentials
  --env FILE        the .env file for --aws (default .env, then env/.env)
  --data DIR        the lab's state directory (default .lab-data)
  --bundle FILE     run this bundle as it is instead of dist/firmware.js (no rebuild)`;

function fail(msg: string): never {
  console.error("npm start: " + msg);
  process.exit(2);
}

async function ensureBundle(bundle: string): Promise<void> {
  if (!bundleIsStale(bundle, path.join(ROOT, "firmware"))) return;
  console.log(fs.existsSync(bundle) ? "dist/firmware.js is older than the firmware sources: building it..." : "dist/firmware.js is missing: building it...");
  const { buildBundle, BuildError } = await import("./build");
  try {
    const r = await buildBundle({ entry: "firmware/main.ts", outfile: path.relative(ROOT, bundle) });
    console.log(`built dist/firmware.js (${r.bytes} bytes in ${Math.round(r.ms)} ms)`);
  } catch (e) {
    if (e instanceof BuildError) {
      console.error("the firmware does not build:");
      for (const p of e.problems) console.error("  " + p);
    } else console.error("the firmware does not build: " + (e as Error).message);
    process.exit(1);
  }
}

async function awsConfig(envFile: string | undefined): Promise<DeviceConfig> {
  const { parseEnvFile, mergeEnv, configFromEnv } = await import("./device-config");
  const candidates = envFile ? [envFile] : [".env", path.join("env", ".env")];
  const file = candidates.map((f) => path.resolve(ROOT, f)).find((f) => fs.existsSync(f));
  if (envFile && !file) fail(`--env ${envFile}: file not found`);
  let vars: Record<string, string> = {};
  if (file) {
    const parsed = parseEnvFile(fs.readFileSync(file, "utf8"));
    if (parsed.errors.length) fail(`${path.relative(ROOT, file)}:\n  ` + parsed.errors.join("\n  "));
    vars = parsed.vars;
  }
  const r = configFromEnv(mergeEnv(vars, process.env));
  if (!r.config) {
    fail(
      `--aws needs the device settings of one thing (copy .env.example to .env and fill it in)${file ? "; in " + path.relative(ROOT, file) : ""}:\n  ` +
        r.errors.join("\n  "),
    );
  }
  return r.config;
}

async function listenWeb(lab: Lab, port: number | undefined): Promise<LabServer> {
  try {
    return await startLabServer(lab, { port: port ?? 8080 });
  } catch (e: any) {
    if (e && e.code === "EADDRINUSE" && port === undefined) return startLabServer(lab, { port: 0 });
    if (e && e.code === "EADDRINUSE") throw new LabError(`port ${port} is taken: choose another with --port`);
    throw e;
  }
}

async function main(): Promise<void> {
  let opts: Record<string, any>;
  try {
    ({ opts } = parseArgs(process.argv.slice(2), {
      devices: "number",
      board: "string",
      group: "string",
      port: "number",
      refresh: "number",
      fresh: "boolean",
      quiet: "boolean",
      aws: "boolean",
      env: "string",
      data: "string",
      bundle: "string",
      help: "boolean",
    }));
  } catch (e) {
    if (e instanceof ArgError) fail(e.message + " (npm start -- --help)");
    throw e;
  }
  if (opts.help) {
    console.log(HELP);
    return;
  }
  if (opts.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)) fail("--port must be 0..65535");
  if (opts.refresh !== undefined && (!Number.isInteger(opts.refresh) || opts.refresh < 1 || opts.refresh > 86400)) fail("--refresh must be a whole number of seconds, 1..86400");
  if (opts.board !== undefined && opts.board !== "esp8266" && opts.board !== "esp32") fail(`--board must be esp8266 or esp32, not "${opts.board}"`);
  if (opts.devices !== undefined && (!Number.isInteger(opts.devices) || opts.devices < 1 || opts.devices > 2000)) fail("--devices must be a whole number from 1 to 2000");
  const dataDir = path.resolve(opts.data ?? DEFAULT_DATA_DIR);
  const running = readLabFile(dataDir).lab;
  if (running && running.pid !== process.pid) {
    fail(`a lab is already running (pid ${running.pid}, ${running.url}) and uses ${path.relative(process.cwd(), dataDir) || dataDir}/: use it, or stop it (Ctrl-C in its terminal) first`);
  }
  let bundle: string;
  if (opts.bundle !== undefined) {
    bundle = path.resolve(opts.bundle);
    if (!fs.existsSync(bundle)) fail(`--bundle ${opts.bundle}: file not found`);
  } else {
    bundle = path.join(ROOT, "dist", "firmware.js");
    await ensureBundle(bundle);
  }
  const aws = opts.aws ? await awsConfig(opts.env) : undefined;
  const quiet = !!opts.quiet;
  let lab: Lab;
  try {
    lab = await startLab({
      devices: opts.devices,
      board: opts.board,
      group: opts.group,
      refresh: opts.refresh,
      fresh: opts.fresh,
      aws,
      dataDir,
      bundlePath: bundle,
      log: (l) => console.log("[lab] " + l),
      deviceLog: quiet ? undefined : (name, line) => console.log(`[${name}] ${line}`),
    });
  } catch (e: any) {
    fail(e && e.message ? e.message : String(e));
  }
  let web: LabServer;
  try {
    web = await listenWeb(lab, opts.port);
  } catch (e: any) {
    await lab.stop();
    fail(e && e.message ? e.message : String(e));
  }
  const info = lab.info;
  writeLabFile(dataDir, {
    pid: process.pid,
    port: web.port,
    url: web.url,
    mode: info.mode,
    endpoint: info.endpoint,
    group: info.group,
    devices: info.devices,
    startedAt: new Date().toISOString(),
  });
  const rel = path.relative(process.cwd(), dataDir) || ".";
  const dataOpt = opts.data !== undefined ? ` --data ${rel}` : "";
  const first = info.devices[0];
  const other = info.devices[1] ?? first;
  const lines = [
    "",
    info.mode === "local"
      ? `espruino-aws-iot lab: ${info.devices.length} simulated ${info.board} board(s) running dist/firmware.js against the local AWS IoT Core stand-in`
      : `espruino-aws-iot lab: 1 simulated ${info.board} board running dist/firmware.js against REAL AWS IoT (through an in-process TLS relay)`,
    "",
    `  web view      ${web.url}`,
    `  endpoint      ${info.mode === "local" ? "ws://" + info.endpoint + "/mqtt" : "wss://" + info.endpoint + "/mqtt"} (region ${info.region}, SigV4-signed WebSocket + MQTT 3.1.1)`,
    `  things        ${info.devices.length > 12 ? info.devices.slice(0, 3).join(", ") + ", ... " + info.devices[info.devices.length - 1] : info.devices.join(", ")}${info.mode === "local" ? ` in thing group "${info.group}"` : ""}`,
    info.mode === "local"
      ? `  credentials   local stand-in keys (not AWS keys) in ${rel}/cloud/config.json; each board's Storage (iot.json) in ${rel}/devices/<thing>/`
      : `  credentials   the device keys from .env (never printed); shadow/jobs calls use your own AWS credentials (AWS_PROFILE, ~/.aws)`,
    `  try           npm run lab -- status${dataOpt}`,
    `                npm run lab -- desired ${first} on=true refresh=10`,
    `                npm run lab -- press ${first}`,
    `                npm run lab -- sensor ${other} off        (and on)`,
    `                npm run lab -- wifi ${other} off          (and on)`,
    `                npm run lab -- reboot ${first}`,
    `                npm run lab -- job ${first} blink`,
    `                npm run lab -- job --group ${info.group} reboot${info.mode === "aws" ? "   (an existing thing group in your account)" : ""}`,
    "",
    "  Ctrl-C stops the lab." + (quiet ? "" : " Board console lines follow, prefixed with the thing name."),
    "",
  ].filter((l, i, a) => l !== "" || i === 0 || a[i - 1] !== "");
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[lab] ${sig}: stopping the boards, the web view and the stand-in...`);
    const force = setTimeout(() => process.exit(1), 10000);
    force.unref();
    removeLabFile(dataDir);
    await web.close();
    await lab.stop();
    console.log("[lab] stopped");
    process.exit(0);
  };
  // (before the banner: a Ctrl-C right after it must find the handler)
  process.on("SIGINT", () => void stop("Ctrl-C"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  console.log(lines.join("\n"));
}

main().catch((e) => {
  console.error("npm start: " + (e && e.stack ? e.stack : e));
  process.exit(1);
});
