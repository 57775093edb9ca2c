// `npm run flash` (code + configuration) and `npm run configure` (configuration only), with --dry-run.
// Order of work: check everything, let the real Espruino CLI produce the upload offline, replay it to
// verify what it writes, and only then (not in a dry run) run the same CLI command against the board.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { checkConfigForBoard, checkFit, loadBoard, ROOT, BoardName } from "./boards";
import { cliArgs, CliPlan, isTcpPort, readBinary, replayUpload, runCli, willPretokenise } from "./espruino-cli";
import { loadDeviceConfig, loadProjectConfig, parseArgs, privateTempDir } from "./project";
import { CONFIG_FILE, configFileText, maskConfig, secretValues, withoutDeviceEnv } from "../device-config";

export type Kind = "flash" | "configure";

const HELP: Record<Kind, string> = {
  flash: `npm run flash -- [--dry-run] [--port P] [--board ESP8266_4MB|ESP32] [--baud N] [--env FILE] [--out DIR] [--no-build] [--bundle FILE]
  Builds dist/firmware.js, then saves it to the board's flash (Storage ".bootcde") and writes the device
  configuration as its own Storage file "iot.json", using the Espruino CLI. Settings: espruino.config.js;
  device configuration: .env and IOT_* environment variables (see .env.example).
  --dry-run   do everything without a board or network; write what would be sent to .flash-dry-run/`,
  configure: `npm run configure -- [--dry-run] [--port P] [--board ESP8266_4MB|ESP32] [--baud N] [--env FILE] [--out DIR]
  Rewrites only the Storage file "iot.json" on the board (new WiFi or keys) and restarts the firmware
  with load(), without sending the code again.
  --dry-run   do everything without a board or network; write what would be sent to .flash-dry-run/configure/`,
};

function rel(p: string): string {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith("..") ? r : p;
}

function fail(lines: string[], code: number): number {
  lines.forEach((l) => console.error(l));
  return code;
}

export async function run(kind: Kind, argv: string[]): Promise<number> {
  const { options, errors: argErrors } = parseArgs(argv);
  if (options.help) {
    console.log(HELP[kind]);
    return 0;
  }
  if (argErrors.length) return fail(argErrors.map((e) => `${kind}: ${e}`), 2);
  if (kind === "configure" && (options.bundle || !options.build)) {
    return fail([`configure: --bundle and --no-build belong to npm run flash (configure sends no code)`], 2);
  }
  const { project, error } = loadProjectConfig(options);
  if (!project) return fail([`${kind}: ${error}`], 2);
  const { board, file: boardFile, error: boardError } = loadBoard(project.board);
  if (!board) return fail([`${kind}: ${boardError}`], 2);
  const boardName = project.board as BoardName;

  // 1. The configuration: complete, valid, and possible on this board.
  const dev = loadDeviceConfig(project.envFile, process.env);
  if (!dev.config) {
    return fail([`${kind}: refusing to ${kind === "flash" ? "flash" : "configure"}: the device configuration (${dev.source}) is not usable:`]
      .concat(dev.errors.map((e) => "  - " + e), ["  (variable names: .env.example)"]), 2);
  }
  const config = dev.config;
  const boardCheck = checkConfigForBoard(config, boardName, Math.floor(Date.now() / 1000));
  if (boardCheck.errors.length) {
    return fail([`${kind}: refusing: this configuration cannot work on ${boardName}:`].concat(boardCheck.errors.map((e) => "  - " + e)), 2);
  }
  boardCheck.warnings.forEach((w) => console.warn(`${kind}: warning: ${w}`));
  if (!options.dryRun && !project.port) return fail([`${kind}: no serial port: set port in espruino.config.js or pass --port`], 2);
  const secrets = secretValues(config);

  // 2. The code (flash only): build it with no device variable in the environment.
  let bundleFile: string | undefined;
  let bundle = "";
  if (kind === "flash") {
    if (options.build) {
      console.log(`${kind}: building (npm run build)`);
      const r = spawnSync(process.platform === "win32" ? "npm.cmd" : "npm", ["run", "build", "--silent"], {
        cwd: ROOT,
        stdio: "inherit",
        env: withoutDeviceEnv(process.env) as NodeJS.ProcessEnv,
      });
      if (r.status !== 0) return fail([`${kind}: the build failed; nothing was sent`], 1);
    }
    bundleFile = path.resolve(options.bundle || path.join(ROOT, "dist", "firmware.js"));
    if (!fs.existsSync(bundleFile)) return fail([`${kind}: no bundle at ${rel(bundleFile)}: run npm run build`], 1);
    bundle = readBinary(bundleFile);
    if (bundle.length === 0) return fail([`${kind}: ${rel(bundleFile)} is empty`], 1);
    if (isTcpPort(project.port) && !options.dryRun && /[^\x00-\x7f]/.test(bundle)) {
      return fail([`${kind}: ${rel(bundleFile)} has bytes >= 0x80, which the CLI's TCP transport corrupts: keep the bundle ASCII or use a serial port`], 1);
    }
    const leaked = secrets.filter((s) => bundle.includes(s));
    if (leaked.length) return fail([`${kind}: refusing: the bundle contains ${leaked.length} of your secret values; it must never embed the configuration`], 1);
  }

  // 3. Let the CLI produce the upload offline, and replay it.
  const tmp = privateTempDir("espruino-" + kind + "-");
  const cleanup = () => tmp.remove();
  const onSignal = () => {
    cleanup();
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const configText = configFileText(config);
    tmp.write(CONFIG_FILE, configText);
    const basePlan: CliPlan = {
      boardFile,
      baud: project.baud,
      saveCode: kind === "flash",
      pretokenise: project.pretokenise,
      transportPort: project.port,
      storage: { [CONFIG_FILE]: CONFIG_FILE }, // relative to the CLI's working directory (tmp): no ':' in the path
      codeFile: bundleFile,
      expr: kind === "configure" ? "load()" : undefined,
    };
    const offlinePlan: CliPlan = { ...basePlan, offlineOut: "upload.js" };
    const offlineArgs = cliArgs(offlinePlan);
    const off = await runCli(offlineArgs, { cwd: tmp.dir, offline: true, echo: false });
    const outFile = path.join(tmp.dir, "upload.js");
    if (off.failed || !fs.existsSync(outFile)) {
      return fail([`${kind}: the Espruino CLI could not prepare the upload (exit ${off.code}):`, off.stderr.trim()], 1);
    }
    const upload = readBinary(outFile);
    const replay = replayUpload(upload);
    const pretok = willPretokenise(offlinePlan);
    const problems = replay.problems.slice();
    if (replay.files[CONFIG_FILE] !== configText) problems.push(`the upload does not write ${CONFIG_FILE} as expected`);
    if (kind === "flash") {
      const code = replay.files[".bootcde"];
      if (code === undefined) problems.push("the upload does not save the code to Storage .bootcde");
      // The CLI's module loader puts a "\n" before code that has require()s; nothing else may change.
      else if (!pretok && code.replace(/^\n+/, "") !== bundle.replace(/^\n+/, "")) problems.push("the code saved to .bootcde differs from the bundle");
      if (replay.loads.length !== 1) problems.push("the upload should end with exactly one load()");
    } else {
      if (Object.keys(replay.files).join() !== CONFIG_FILE) problems.push(`configure must write only ${CONFIG_FILE}`);
    }
    const codePart = replay.files[".bootcde"] || "";
    if (secrets.some((s) => codePart.includes(s))) problems.push("a secret value appears in the code part");
    if (problems.length) return fail([`${kind}: the prepared upload is wrong; nothing was sent:`].concat(problems.map((p) => "  - " + p)), 1);

    const sizes: Record<string, number> = {};
    Object.keys(replay.files).forEach((n) => (sizes[n] = replay.files[n].length));
    const fit = checkFit(board, sizes);
    if (!fit.fits) {
      return fail([
        `${kind}: refusing: ${Object.keys(sizes).map((n) => `${n} (${sizes[n]} bytes)`).join(" + ")} need ${fit.used} bytes of Storage,` +
          ` but ${boardName} has ${fit.capacity} bytes and ${fit.reserve} are kept free for the firmware's own files`,
      ], 2);
    }

    const summary = {
      kind,
      dryRun: options.dryRun,
      board: boardName,
      boardFile: path.relative(ROOT, boardFile),
      port: project.port,
      baud: project.baud,
      transport: isTcpPort(project.port) ? "tcp" : "serial",
      pretokenised: pretok,
      bundle: bundleFile ? { file: path.relative(ROOT, bundleFile), bytes: bundle.length } : undefined,
      storage: replay.order.map((n) => ({ file: n, bytes: sizes[n], chunks: Math.max(1, Math.ceil(sizes[n] / 1024)) })),
      load: replay.loads.map((l) => (l ? `load(${JSON.stringify(l)})` : "load()")),
      storageUse: { used: fit.used, capacity: fit.capacity, keptFree: fit.reserve, free: fit.free },
      configSource: dev.source,
      config: maskConfig(config),
      cliWarnings: off.warnings,
      cli: "espruino " + cliArgs({ ...basePlan, offlineOut: options.dryRun ? "upload.js" : undefined, port: options.dryRun ? undefined : project.port }).join(" "),
    };
    printSummary(summary);

    if (options.dryRun) {
      const outDir = path.resolve(options.out || path.join(ROOT, ".flash-dry-run", kind === "configure" ? "configure" : ""));
      fs.mkdirSync(outDir, { recursive: true, mode: 0o700 });
      fs.chmodSync(outDir, 0o700);
      const put = (name: string, data: string) => fs.writeFileSync(path.join(outDir, name), data, { encoding: "latin1", mode: 0o600 });
      ["upload.js", "code.js", "iot.masked.json", "summary.json"].forEach((n) => fs.rmSync(path.join(outDir, n), { force: true }));
      put("upload.js", upload);
      if (kind === "flash") put("code.js", codePart);
      put("iot.masked.json", JSON.stringify(maskConfig(config), null, 2) + "\n");
      put("summary.json", JSON.stringify(summary, null, 2) + "\n");
      console.log(`dry run: nothing was sent (no board, no network). Written to ${rel(outDir)}/:`);
      console.log(`  upload.js        exactly what the CLI sends after its reset()/print() prefix (contains your secrets, mode 0600)`);
      if (kind === "flash") console.log(`  code.js          the Storage file .bootcde (the code part, no secrets)`);
      console.log(`  iot.masked.json  the Storage file ${CONFIG_FILE}, secrets masked`);
      console.log(`  summary.json     this summary`);
      return 0;
    }

    // 4. The real upload: the same CLI command, connected to the board.
    console.log(`${kind}: sending to ${project.port} (keep the board plugged in; Ctrl-C aborts)`);
    const real = await runCli(cliArgs({ ...basePlan, port: project.port }), { cwd: tmp.dir, offline: false, echo: true });
    if (real.failed) return fail([`${kind}: the upload failed (see the CLI output above). Check the port, close other terminals on it, and press RST on the board.`], 1);
    console.log(`${kind}: done. Watch the console with: npx espruino --no-ble -p ${project.port} -b ${project.baud}`);
    return 0;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    cleanup();
  }
}

function printSummary(s: {
  kind: string; dryRun: boolean; board: string; boardFile: string; port: string; baud: number; transport: string; pretokenised: boolean;
  bundle?: { file: string; bytes: number }; storage: Array<{ file: string; bytes: number; chunks: number }>; load: string[];
  storageUse: { used: number; capacity: number; keptFree: number; free: number }; configSource: string; config: Record<string, unknown>; cliWarnings: string[];
}): void {
  console.log(`${s.kind}${s.dryRun ? " (dry run)" : ""}: board ${s.board} (${s.boardFile}), port ${s.port} @ ${s.baud} (${s.transport}${s.pretokenised ? ", pretokenised" : ""})`);
  if (s.bundle) console.log(`  code     ${s.bundle.file} (${s.bundle.bytes} bytes) -> Storage ".bootcde" (runs from flash)`);
  s.storage.forEach((f) => console.log(`  storage  "${f.file}" ${f.bytes} bytes in ${f.chunks} chunk(s)`));
  console.log(`  then     ${s.load.join(", ") || "(no load)"}`);
  console.log(`  space    ${s.storageUse.used} of ${s.storageUse.capacity} bytes of Storage (${s.storageUse.keptFree} kept free, ${s.storageUse.free} left)`);
  console.log(`  config   from ${s.configSource}: ${JSON.stringify(s.config)}`);
  s.cliWarnings.forEach((w) => console.log(`  note     Espruino CLI: ${w} (not built into ${s.board}: the firmware may only require it on boards that have it)`));
}

export function main(kind: Kind): void {
  run(kind, process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(`${kind}: ${(e as Error).stack || e}`);
      process.exit(1);
    },
  );
}
