// npm run sim:device -- [--cloud [URL]] [--board esp8266|esp32] [--storage DIR] [--config FILE] [--name NAME] ...
// Boots one simulated board running dist/firmware.js and streams its console until Ctrl-C.
// --cloud: connects it to the local AWS IoT Core stand-in: the one of `npm run cloud` when it answers at URL (the
// thing is created there with the admin key of its data directory), else one started in this process.
// --bench: boots a throw-away device, prints boot / reboot / memory-estimate timings, and exits.
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { performance } from "perf_hooks";
import { startDevice, BoardName } from "../sim/board";

const USAGE = `usage: npm run sim:device -- [options]
  --cloud [URL]      connect to the local AWS IoT Core stand-in at URL (default http://127.0.0.1:8090): the one
                     of npm run cloud if it answers there, else one started in this process (state in --data-dir)
  --data-dir DIR     the stand-in's data directory, for its admin key (default .cloud-data)
  --name NAME        the board's name; with --cloud also its thing name (default sim-1)
  --config FILE      JSON written to the board's Storage as iot.json before boot
                     (example: docs/examples/sim-device.json; keys: docs/configuration.md)
  --board B          esp8266 (default) or esp32
  --storage DIR      the board's Storage directory (default .sim-data/<board>)
  --bundle FILE      the firmware bundle (default dist/firmware.js)
  --bench            print boot, reboot and memory-estimate timings, then exit
  --help             this text`;

const VALUE_OPTIONS = ["board", "storage", "config", "bundle", "name", "data-dir"];
const DEFAULT_CLOUD = "http://127.0.0.1:8090";

export class UsageError extends Error {}

export interface SimArgs {
  opts: Record<string, string>;
  cloud?: string;
  bench: boolean;
  help: boolean;
}

// Plain-words errors; --cloud takes an optional URL (the next argument when it does not start with "--").
export function parseSimArgs(argv: string[]): SimArgs {
  const out: SimArgs = { opts: {}, bench: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(2, eq) : arg.startsWith("--") ? arg.slice(2) : undefined;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    if (arg === "--help" || arg === "-h") out.help = true;
    else if (name === undefined) throw new UsageError(`unexpected argument "${arg}" (options start with --; see --help)`);
    else if (name === "bench") out.bench = true;
    else if (name === "cloud") {
      const next = argv[i + 1];
      if (inline !== undefined) out.cloud = inline;
      else if (next !== undefined && !next.startsWith("--")) {
        out.cloud = next;
        i++;
      } else out.cloud = DEFAULT_CLOUD;
      let url: URL | undefined;
      try {
        url = new URL(out.cloud);
      } catch {
        url = undefined;
      }
      if (!url || url.protocol !== "http:") throw new UsageError(`--cloud takes the stand-in's http:// address, such as ${DEFAULT_CLOUD} (got "${out.cloud}")`);
    } else if (!VALUE_OPTIONS.includes(name)) throw new UsageError(`unknown option --${name} (see --help)`);
    else {
      const value = inline !== undefined ? inline : argv[i + 1];
      if (value === undefined || value === "" || (inline === undefined && value.startsWith("--"))) throw new UsageError(`--${name} needs a value`);
      if (inline === undefined) i++;
      out.opts[name] = value;
    }
  }
  const board = out.opts.board;
  if (board !== undefined && board !== "esp8266" && board !== "esp32") throw new UsageError(`--board must be esp8266 or esp32, not "${board}"`);
  if (out.opts["data-dir"] !== undefined && out.cloud === undefined) throw new UsageError("--data-dir belongs to --cloud");
  return out;
}

function getJson(url: string): Promise<any> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 3000 }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c) => parts.push(c));
      res.on("end", () => {
        try {
          resolve(JSON.parse(Buffer.concat(parts).toString("utf8")));
        } catch {
          resolve({});
        }
      });
    });
    req.on("timeout", () => req.destroy());
    req.on("error", (e: any) => resolve(e && e.code === "ECONNREFUSED" ? undefined : {}));
  });
}

interface CloudLink {
  config: Record<string, unknown>;
  started?: { stop(): Promise<void> };
  how: string;
}

// The connection keys of iot.json for a thing on the stand-in at `base`. Never prints a key.
async function linkToCloud(base: string, dataDir: string, thing: string): Promise<CloudLink> {
  const url = new URL(base);
  const port = Number(url.port) || 80;
  const health = await getJson(new URL("/health", url).toString());
  let region: string;
  let keys: { accessKeyId: string; secretAccessKey: string };
  let started: CloudLink["started"];
  let how: string;
  if (health === undefined) {
    const { startCloud } = await import("../sim/cloud");
    const cloud = await startCloud({ dataDir, host: url.hostname, port });
    keys = await cloud.createThing(thing);
    region = cloud.region;
    started = cloud;
    const shown = path.relative(process.cwd(), dataDir);
    how = `started a local stand-in on ${base} (state in ${shown && !shown.startsWith("..") ? shown : dataDir})`;
  } else {
    if (typeof health.service !== "string" || !health.service.includes("stand-in")) {
      throw new Error(`something answers on ${base}, but it is not the local AWS IoT Core stand-in (npm run cloud); choose another address with --cloud URL`);
    }
    const cfgFile = path.join(dataDir, "config.json");
    let cfg: any;
    try {
      cfg = JSON.parse(fs.readFileSync(cfgFile, "utf8"));
    } catch {
      throw new Error(`the stand-in on ${base} is running, but its admin key is not in ${cfgFile}: pass the --data-dir it was started with`);
    }
    region = health.region || cfg.region;
    // The documented way to silence the SDK's notice that its 2027 releases need Node 22 (the lockfile pins it).
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
    const { IoTClient, CreateThingCommand } = await import("@aws-sdk/client-iot");
    const client = new IoTClient({ region, endpoint: base, credentials: cfg.admin, maxAttempts: 1 });
    try {
      await client.send(new CreateThingCommand({ thingName: thing }));
    } catch (e: any) {
      throw new Error(`the stand-in on ${base} refused to create the thing ${thing}: ${e && e.message}` + (e && e.name === "ForbiddenException" ? ` (is ${cfgFile} the data directory of that stand-in? pass --data-dir)` : ""));
    } finally {
      client.destroy();
    }
    // The stand-in saves the thing's key in config.json before it answers.
    cfg = JSON.parse(fs.readFileSync(cfgFile, "utf8"));
    keys = (cfg.credentials || []).find((c: any) => c.thing === thing && !c.sessionToken && !c.expiration);
    if (!keys) throw new Error(`the stand-in created ${thing} but its key is not in ${cfgFile}: pass the --data-dir it was started with`);
    how = `thing ${thing} on the stand-in at ${base}`;
  }
  return {
    config: { host: url.hostname, port, region, akid: keys.accessKeyId, secret: keys.secretAccessKey, thing, tls: false },
    started,
    how,
  };
}

// The lab's simulated access point, and a report every 10 s.
const SIM_DEFAULTS = { ssid: "lab", pass: "labpass", refresh: 10 };

async function main(): Promise<void> {
  let args: SimArgs;
  try {
    args = parseSimArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`sim:device: ${e.message}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const opt = args.opts;
  const board = (opt.board ?? "esp8266") as BoardName;
  const storageDir = path.resolve(opt.storage ?? path.join(".sim-data", board));
  const bundlePath = opt.bundle ? path.resolve(opt.bundle) : undefined;
  if (bundlePath && !fs.existsSync(bundlePath)) fail(`--bundle ${opt.bundle}: file not found`);
  if (!bundlePath && !fs.existsSync(path.resolve("dist", "firmware.js"))) fail("dist/firmware.js is missing: run npm run build first");
  let config: Record<string, unknown> | undefined;
  if (opt.config) {
    if (!fs.existsSync(opt.config)) fail(`--config ${opt.config}: file not found`);
    try {
      config = JSON.parse(fs.readFileSync(opt.config, "utf8"));
    } catch (e: any) {
      fail(`--config ${opt.config} is not JSON: ${e.message}`);
    }
  }
  if (args.bench) return runBench(board, bundlePath);

  let link: CloudLink | undefined;
  const name = opt.name ?? (args.cloud ? "sim-1" : board);
  if (args.cloud) {
    try {
      link = await linkToCloud(args.cloud, path.resolve(opt["data-dir"] ?? ".cloud-data"), name);
    } catch (e: any) {
      fail(e.message, 1);
    }
    // The file's settings, with the stand-in's connection keys (no relay, no session token, client id = thing).
    const base: Record<string, unknown> = { ...SIM_DEFAULTS, ...(config || {}) };
    for (const k of ["clientId", "relayHost", "relayPort", "token", "tokenExp"]) delete base[k];
    config = { ...base, ...link!.config };
  } else if (!config && !fs.existsSync(path.join(storageDir, "iot.json"))) {
    console.error(
      `[sim] no iot.json in ${storageDir}: the board will wait for one. Use --cloud to connect it to a local stand-in,` +
        ` or --config FILE (example: docs/examples/sim-device.json).`,
    );
  }
  const dev = await startDevice({ board, storageDir, config, bundlePath, name, console: true });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await dev.stop();
    if (link && link.started) await link.started.stop();
    process.exit(0);
  };
  // (before the ready line: a Ctrl-C right after it must find the handler)
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  console.error(
    `[sim] ${dev.name}: ${board} booted from ${opt.bundle ?? "dist/firmware.js"}, Storage in ${storageDir}; WiFi AP "lab"` +
      (link ? `; ${link.how}` : "") +
      ". Ctrl-C to stop.",
  );
}

function fail(msg: string, code = 2): never {
  console.error(`sim:device: ${msg}`);
  process.exit(code);
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

if (require.main === module) {
  main().catch((e) => {
    console.error(`[sim] ${e.message}`);
    process.exit(1);
  });
}
