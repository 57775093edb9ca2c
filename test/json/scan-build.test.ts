// The scanner goes through the firmware's build and guard: bundled alone from a fixture entry, it must
// stay inside the Espruino subset (ASCII, no unsupported syntax or built-ins) and stay one function.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildBundle } from "../../scripts/build";
import { checkSource } from "../../scripts/bundle-guard";
import { estimateCodeVars } from "../../scripts/size";

test("firmware/json/scan.ts bundles through the guard as one function", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "scan-build-"));
  try {
    const out = path.join(tmp, "scan.js");
    await buildBundle({ entry: "test/fixtures/json/scan-entry.ts", outfile: out });
    const code = fs.readFileSync(out, "utf8");
    expect(/^[\x00-\x7f]*$/.test(code)).toBe(true);
    expect(checkSource(code)).toEqual([]);
    // the IIFE wrapper and jsonScan (two parameters): constant tables and enums are inlined
    expect(estimateCodeVars(code)).toEqual({ functions: 2, params: 2, estimate: 12 });
    expect(code).not.toMatch(/\bvar [A-Za-z_$]+="/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
