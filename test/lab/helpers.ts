// Shared by the lab tests: a test build of the firmware (same pipeline as npm run build), temp dirs, polling.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildBundle } from "../../scripts/build";

export const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lab-test-"));
let bundle: Promise<string> | null = null;

export function firmware(): Promise<string> {
  if (!bundle) {
    const outfile = path.join(tmp, "firmware.js");
    bundle = buildBundle({ entry: "firmware/main.ts", outfile, sourcemap: false }).then(() => outfile);
  }
  return bundle;
}

export function dir(name: string): string {
  return fs.mkdtempSync(path.join(tmp, name + "-"));
}

// Polls cond() until it returns a truthy value (no fixed sleeps); rejects with `what` on timeout.
export async function until<T>(cond: () => T | Promise<T>, what: string, ms = 15000): Promise<T> {
  const end = Date.now() + ms;
  let last: any;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error("timed out waiting for " + what + (last ? ": " + last.message : ""));
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function cleanup(): void {
  fs.rmSync(tmp, { recursive: true, force: true });
}
