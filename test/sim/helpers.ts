// Shared helpers for the simulator tests: fixture bundles built with esbuild into a temp dir,
// per-test storage directories, and device cleanup.
import * as esbuild from "esbuild";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startDevice, DeviceHandle, StartOptions } from "../../sim/board";

const ROOT = path.resolve(__dirname, "..", "..");
const FIXTURES = path.join(ROOT, "test", "fixtures", "sim");
const BUILTINS = ["Wifi", "Storage", "net", "tls", "crypto", "ESP8266", "ESP32", "TelnetServer", "http"];
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "sim-test-"));
const built = new Map<string, string>();

/** Bundles test/fixtures/sim/<name>.ts like the firmware build (cjs wrapped in an IIFE, es2015). */
export async function fixture(name: string): Promise<string> {
  const hit = built.get(name);
  if (hit) return hit;
  const outfile = path.join(tmpRoot, "bundles", name + ".js");
  await esbuild.build({
    entryPoints: [path.join(FIXTURES, name + ".ts")],
    outfile,
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "es2015",
    charset: "ascii",
    banner: { js: "(function(){" },
    footer: { js: "})();" },
    external: BUILTINS,
    logLevel: "silent",
  });
  built.set(name, outfile);
  return outfile;
}

/** A bundle written from source text (for one-off snippets). */
export function bundleFromSource(name: string, code: string): string {
  const f = path.join(tmpRoot, "bundles", name + ".js");
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, code);
  return f;
}

let dirSeq = 0;
export function storageDir(tag = "dev"): string {
  return path.join(tmpRoot, "storage", `${tag}-${++dirSeq}`);
}

const running = new Set<DeviceHandle>();
export async function boot(opts: Partial<StartOptions> & { fixture?: string; source?: string } = {}): Promise<DeviceHandle> {
  const { fixture: fx, source, ...rest } = opts;
  let bundlePath = rest.bundlePath;
  if (fx) bundlePath = await fixture(fx);
  if (source !== undefined) bundlePath = bundleFromSource("src-" + ++dirSeq, source);
  if (!bundlePath) bundlePath = bundleFromSource("empty-" + ++dirSeq, "");
  const d = await startDevice({ ...rest, storageDir: rest.storageDir ?? storageDir(), bundlePath });
  running.add(d);
  return d;
}
export async function stopAll(): Promise<void> {
  for (const d of [...running]) {
    await d.stop();
    running.delete(d);
  }
}
export { sleep, until, waitFor } from "../support/wait";
export { tmpRoot };
