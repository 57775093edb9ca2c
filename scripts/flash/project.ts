// Shared by `npm run flash` and `npm run configure`: command-line options, espruino.config.js, the
// device configuration (.env + environment), and a private temporary file for iot.json.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "./boards";
import { configFromEnv, mergeEnv, parseEnvFile, DeviceConfig, Env, ENV_FIELDS } from "../device-config";

export interface Options {
  dryRun: boolean;
  build: boolean;
  board?: string;
  port?: string;
  baud?: number;
  envFile?: string;
  out?: string;
  bundle?: string;
  projectConfig: string;
  help: boolean;
}

export function parseArgs(argv: string[]): { options: Options; errors: string[] } {
  const o: Options = { dryRun: false, build: true, projectConfig: path.join(ROOT, "espruino.config.js"), help: false };
  const errors: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf("=");
    const name = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith("--") && eq > 0 ? a.slice(eq + 1) : undefined;
    const value = (): string | undefined => {
      if (inline !== undefined) return inline;
      const v = argv[i + 1];
      if (v === undefined || v.startsWith("--")) {
        errors.push(`${name} needs a value`);
        return undefined;
      }
      i++;
      return v;
    };
    switch (name) {
      case "--dry-run": o.dryRun = true; break;
      case "--no-build": o.build = false; break;
      case "--board": o.board = value(); break;
      case "--port": case "-p": o.port = value(); break;
      case "--baud": case "-b": {
        const v = value();
        if (v !== undefined) {
          o.baud = Number(v);
          if (!Number.isInteger(o.baud) || o.baud <= 0) errors.push(`--baud must be a positive whole number (got "${v}")`);
        }
        break;
      }
      case "--env": o.envFile = value(); break;
      case "--out": o.out = value(); break;
      case "--bundle": o.bundle = value(); break;
      case "--config": { const v = value(); if (v) o.projectConfig = path.resolve(v); break; }
      case "--help": case "-h": o.help = true; break;
      default: errors.push(`unknown option "${a}" (try --help)`);
    }
  }
  return { options: o, errors };
}

export interface ProjectConfig {
  board: string;
  port: string;
  baud: number;
  envFile: string;
  pretokenise: boolean;
}

export function loadProjectConfig(o: Options): { project?: ProjectConfig; error?: string } {
  let file: Partial<ProjectConfig> = {};
  if (fs.existsSync(o.projectConfig)) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      file = require(o.projectConfig);
    } catch (e) {
      return { error: `cannot load ${path.relative(ROOT, o.projectConfig)}: ${(e as Error).message}` };
    }
  } else if (o.projectConfig !== path.join(ROOT, "espruino.config.js")) {
    return { error: `no such file: ${o.projectConfig}` };
  }
  const project: ProjectConfig = {
    board: o.board || file.board || "ESP8266_4MB",
    port: o.port || file.port || "/dev/ttyUSB0",
    baud: o.baud || file.baud || 115200,
    envFile: path.resolve(ROOT, o.envFile || file.envFile || ".env"),
    pretokenise: file.pretokenise !== false,
  };
  // A file named on the command line must exist: without it every variable would be reported missing.
  if (o.envFile && !fs.existsSync(project.envFile)) return { error: `--env ${o.envFile}: file not found` };
  return { project };
}

// Reads the .env file (if any) under the process environment and builds the device configuration.
export function loadDeviceConfig(envFile: string, processEnv: Env): { config?: DeviceConfig; errors: string[]; source: string } {
  let fileVars: Record<string, string> = {};
  let source = "environment only (no " + path.relative(ROOT, envFile) + ")";
  if (fs.existsSync(envFile)) {
    const parsed = parseEnvFile(fs.readFileSync(envFile, "utf8"));
    if (parsed.errors.length) return { errors: parsed.errors.map((e) => `${path.relative(ROOT, envFile)} ${e}`), source };
    fileVars = parsed.vars;
    source = path.relative(ROOT, envFile) + " + environment";
  }
  if (!fs.existsSync(envFile) && !ENV_FIELDS.some((f) => processEnv[f.env])) {
    const name = path.relative(ROOT, envFile);
    return { errors: [`${name} not found and no IOT_* variable is set: cp .env.example ${name}, then fill it in`], source };
  }
  const res = configFromEnv(mergeEnv(fileVars, processEnv));
  return { config: res.config, errors: res.errors, source };
}

// A private temporary directory (0700) holding files with 0600 permissions; remove() deletes it all.
export function privateTempDir(prefix: string): { dir: string; write: (name: string, data: string) => string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o700);
  return {
    dir,
    write(name, data) {
      const f = path.join(dir, name);
      fs.writeFileSync(f, data, { mode: 0o600 });
      fs.chmodSync(f, 0o600);
      return f;
    },
    remove() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
