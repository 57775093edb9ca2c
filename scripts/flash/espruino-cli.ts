// Running the real Espruino CLI (npm package `espruino` 0.1.67), and replaying what it would send.
//
// What the CLI does with our arguments (read from its source, bin/espruino-cli.js and plugins/):
// - `--board <path with a dot>` reads the local board JSON: info.binary_version (>= 1v96 makes it use
//   Storage), info.builtin_modules (require()s it must not try to fetch), chip.family, chip.saved_code.
// - `--storage .bootcde:-` puts the code in Storage file ".bootcde" (SAVE_ON_SEND=3 with that file name:
//   the same `require("Storage").write(".bootcde", chunk, offset, size)` lines as SAVE_ON_SEND=1, in 1 KB
//   chunks, then `load(".bootcde")`). We use it rather than relying on SAVE_ON_SEND=1 alone because `-o`
//   forces SAVE_ON_SEND=-1 (code sent as is, to RAM), which would make the dry run differ from the real upload.
// - `--storage iot.json:<file>` prepends `require("Storage").write("iot.json", atob("..."), offset, size)` lines.
// - `-n -o out.js` writes the transformed upload instead of sending; no port is needed for that.
// - On a real upload the CLI adds, on the wire only, "\x10reset();\n\x10print()\n" before the code
//   (RESET_BEFORE_SEND) and turns echo off per line; `-e` without a file does not reset.
// - `--config MODULE_URL=` leaves no URL to fetch modules from; `--no-ble` keeps noble/D-Bus out.
// - It exits 0 even when it cannot open the port: failures are recognised from its stderr.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as vm from "vm";
import { ROOT } from "./boards";

export const CLI_PATH = path.join(ROOT, "node_modules", "espruino", "bin", "espruino-cli.js");
export const OFFLINE_GUARD = path.join(__dirname, "offline-guard.cjs");

export interface CliPlan {
  boardFile: string; // absolute path of boards/<name>.json
  port?: string; // serial device or tcp://host:port; absent for an offline run
  baud?: number;
  offlineOut?: string; // `-n -o <file>`: write what would be sent, connect to nothing
  saveCode: boolean; // code file -> Storage .bootcde (SAVE_ON_SEND)
  pretokenise: boolean; // only honoured over a serial port
  transportPort?: string; // port whose kind decides pretokenising in an offline run
  storage: Record<string, string>; // Storage name -> file name relative to the CLI's working directory
  codeFile?: string;
  expr?: string;
}

export function isTcpPort(port: string | undefined): boolean {
  return !!port && port.toLowerCase().startsWith("tcp://");
}

export function willPretokenise(plan: CliPlan): boolean {
  const transport = plan.port || plan.transportPort;
  return plan.saveCode && plan.pretokenise && !!transport && !isTcpPort(transport);
}

export function cliArgs(plan: CliPlan): string[] {
  const a: string[] = ["--no-ble", "--board", plan.boardFile, "--config", "MODULE_URL=", "--config", "SET_TIME_ON_WRITE=false"];
  if (plan.offlineOut) a.push("-n", "-o", plan.offlineOut);
  else if (plan.port) a.push("-p", plan.port);
  if (plan.baud && !plan.offlineOut) a.push("-b", String(plan.baud));
  if (plan.saveCode) a.push("--config", "SAVE_ON_SEND=1");
  a.push("--config", "PRETOKENISE=" + (willPretokenise(plan) ? 1 : 0));
  Object.keys(plan.storage).forEach((name) => {
    if (name.includes(":") || plan.storage[name].includes(":")) throw new Error(`Storage name and file may not contain ':' (${name})`);
    a.push("--storage", name + ":" + plan.storage[name]);
  });
  if (plan.saveCode) a.push("--storage", ".bootcde:-");
  if (plan.expr) a.push("-e", plan.expr);
  if (plan.codeFile) a.push(plan.codeFile);
  return a;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  failed: boolean;
  warnings: string[];
}

// Lines on the CLI's stderr that mean the upload did not happen.
const FAILURE = /unable to connect|upload failed|pre-1v96|invalid storage file name|error/i;

// Runs the CLI. Offline runs (plan.offlineOut) get the offline guard preloaded: any network use aborts.
export function runCli(args: string[], opts: { cwd: string; offline: boolean; echo: boolean }): Promise<CliResult> {
  const nodeArgs = opts.offline ? ["--require", OFFLINE_GUARD, CLI_PATH].concat(args) : [CLI_PATH].concat(args);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, nodeArgs, {
      cwd: opts.cwd,
      stdio: [opts.offline ? "ignore" : "inherit", "pipe", "pipe"],
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString("latin1");
      if (opts.echo) process.stdout.write(d);
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString("latin1");
      if (opts.echo) process.stderr.write(d);
    });
    child.on("error", (e) => {
      stderr += String(e.message) + "\n";
    });
    child.on("close", (code) => {
      const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
      const warnings = lines.filter((l) => /module .* not found/i.test(l));
      const failed = code !== 0 || lines.some((l) => FAILURE.test(l) && !/module .* not found/i.test(l));
      resolve({ code, stdout, stderr, failed, warnings });
    });
  });
}

export interface Replay {
  files: Record<string, string>; // Storage contents after the upload (binary strings)
  order: string[]; // Storage file names in the order they were written
  loads: string[]; // load() calls ("" = default .bootcde)
  problems: string[];
}

// Executes an upload (the CLI's -o output) against a model of Espruino's Storage, to learn exactly which
// files it creates. Only Storage writes, atob and load are available: anything else is reported.
export function replayUpload(text: string): Replay {
  const files: Record<string, string> = {};
  const sizes: Record<string, number> = {};
  const written: Record<string, number> = {};
  const order: string[] = [];
  const loads: string[] = [];
  const problems: string[] = [];
  const Storage = {
    write(name: string, data: string, offset?: number, size?: number) {
      if (typeof data !== "string") throw new Error("Storage.write data must be a string here");
      if (offset === undefined || offset === 0) {
        const total = size === undefined ? data.length : size;
        files[name] = "\xff".repeat(total);
        sizes[name] = total;
        written[name] = 0;
        if (!order.includes(name)) order.push(name);
      }
      if (!(name in files)) throw new Error(`Storage.write to "${name}" at ${offset} before the file was created`);
      const off = offset || 0;
      if (off + data.length > sizes[name]) throw new Error(`Storage.write past the end of "${name}"`);
      files[name] = files[name].slice(0, off) + data + files[name].slice(off + data.length);
      written[name] += data.length;
      return true;
    },
  };
  const sandbox = {
    require(m: string) {
      if (m === "Storage") return Storage;
      throw new Error(`the upload requires module "${m}" outside the code`);
    },
    atob: (s: string) => Buffer.from(s, "base64").toString("latin1"),
    load: (f?: string) => {
      loads.push(f || "");
    },
  };
  try {
    vm.runInNewContext(text, sandbox, { timeout: 5000 });
  } catch (e) {
    problems.push("the upload did not replay: " + (e as Error).message);
  }
  Object.keys(files).forEach((n) => {
    if (written[n] !== sizes[n]) problems.push(`"${n}" declared ${sizes[n]} bytes but ${written[n]} were written`);
  });
  return { files, order, loads, problems };
}

export function readBinary(file: string): string {
  return fs.readFileSync(file).toString("latin1");
}
