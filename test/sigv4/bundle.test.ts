// "The bundle that contains this code passes the bundle guard": a fixture entry that presigns with
// the firmware modules is built with the project's buildBundle (esbuild + source guard + bundle
// guard), re-checked with the guard, and run in a bare Node vm context (no require("crypto")
// SHA256: the TypeScript path, as on an ESP8266) and in the board simulator as an ESP8266 (the
// TypeScript SHA-256) and as an ESP32 (native require("crypto").SHA256); its URLs must equal Node's.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vm from "vm";
import { buildBundle } from "../../scripts/build";
import { checkSource } from "../../scripts/bundle-guard";
import { presign, signCache } from "../../firmware/aws/sigv4";
import { startDevice } from "../../sim/board";
import { CFG } from "../fixtures/sigv4/presign-config";

function runInBareContext(code: string, ticks = 100): string[] {
  const lines: string[] = [];
  const timers: (() => void)[] = [];
  const ctx = vm.createContext({
    console: { log: (...a: unknown[]) => lines.push(a.join(" ")) },
    setTimeout: (fn: () => void) => timers.push(fn),
    require: (name: string) => {
      if (name === "crypto") return { SHA1: () => new ArrayBuffer(20) }; // ESP8266: SHA1 only
      throw new Error("Module " + name + " not found");
    },
    E: { toString: () => { throw new Error("E.toString must not be used on the JS path"); } },
  });
  vm.runInContext(code, ctx, { timeout: 10000 });
  for (let i = 0; i < ticks && timers.length; i++) timers.shift()!();
  return lines;
}

describe("bundle with the signing code", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sigv4-bundle-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function expected(): string[] {
    const c = signCache();
    return [
      "SIGV4 cold " + presign(c, CFG, "20260101T010000Z"),
      "SIGV4 warm " + presign(c, CFG, "20260101T010100Z"),
      "SIGV4 async " + presign(c, CFG, "20260102T020000Z"),
      "SIGV4 guard clock not set (before 2024)",
    ];
  }

  test("builds through buildBundle, passes the guard, and gives Node's URLs in a vm", async () => {
    const out = path.join(dir, "presign.js");
    const r = await buildBundle({ entry: "test/fixtures/sigv4/presign-entry.ts", outfile: out });
    const code = fs.readFileSync(out, "utf8");
    expect(checkSource(code)).toEqual([]);
    expect(/^[\x00-\x7f]*$/.test(code)).toBe(true);
    expect(r.bytes).toBeLessThan(4000);
    const lines = runInBareContext(code);
    for (const l of expected()) expect(lines).toContain(l);
    expect(lines.find((l) => l.startsWith("SIGV4 blocks"))).toMatch(/^SIGV4 blocks 28 8 ms /);
  });

  for (const board of ["esp8266", "esp32"] as const) {
    test(`runs in the board simulator as an ${board} with Node's URLs`, async () => {
      const bundlePath = path.join(dir, "presign.js");
      if (!fs.existsSync(bundlePath)) await buildBundle({ entry: "test/fixtures/sigv4/presign-entry.ts", outfile: bundlePath });
      const storageDir = fs.mkdtempSync(path.join(dir, board + "-"));
      const dev = await startDevice({ board, storageDir, bundlePath });
      try {
        await dev.waitForLog(/^SIGV4 async /, 20000);
        await dev.waitForLog(/^SIGV4 guard /, 20000);
        for (const l of expected()) expect(dev.logs).toContain(l);
        // ESP8266: the TypeScript SHA-256 (28 / 8 blocks); ESP32: native SHA256, no JS blocks
        const blocks = board === "esp8266" ? "28 8" : "0 0";
        expect(dev.logs.find((l) => l.startsWith("SIGV4 blocks"))).toMatch(new RegExp("^SIGV4 blocks " + blocks + " ms "));
        expect(dev.errors).toEqual([]);
      } finally {
        await dev.stop();
      }
    });
  }
});
