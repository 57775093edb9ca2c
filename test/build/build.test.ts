// buildBundle on a clean entry: one Espruino-safe file, built-in modules left as require(), no
// `class _X` self-reference, no export helpers; plus the check:bundle and size commands.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkSource, SourceMapReader } from "../../scripts/bundle-guard";
import { buildBundle, BuildResult, metafilePath } from "../../scripts/build";
import { estimateCodeVars, formatSizeReport, sizeReport, VARS_PER_FUNCTION, VARS_PER_PARAM } from "../../scripts/size";

const ROOT = path.resolve(__dirname, "..", "..");
const TSX = path.join(ROOT, "node_modules/tsx/dist/cli.mjs");
let tmp: string;
let out: string;
let code: string;
let result: BuildResult;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "build-test-"));
  out = path.join(tmp, "ok.js");
  result = await buildBundle({ entry: "test/fixtures/build/ok-entry.ts", outfile: out });
  code = fs.readFileSync(out, "utf8");
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// A declared function, not an anonymous IIFE: Espruino names an anonymous frame of an exception by
// its whole source, copied into RAM (see scripts/build.ts).
test("wraps the bundle in one declared function, with a source map and a metafile, and reports its size", () => {
  expect(code.startsWith("function iotFirmware(){\n")).toBe(true);
  expect(code.endsWith("\n}iotFirmware();\n") || code.endsWith("\n}iotFirmware();")).toBe(true);
  expect(code).not.toMatch(/^\(function\(\)\{/);
  expect(result.bytes).toBe(Buffer.byteLength(code));
  expect(fs.existsSync(out + ".map")).toBe(true);
  expect(Object.keys(JSON.parse(fs.readFileSync(metafilePath(out), "utf8")).inputs)).toEqual(
    expect.arrayContaining(["test/fixtures/build/ok-entry.ts", "test/fixtures/build/helper.ts"]),
  );
});

test("the bundle is ASCII and inside the Espruino subset", () => {
  expect(/^[\x00-\x7f]*$/.test(code)).toBe(true);
  expect(checkSource(code)).toEqual([]);
});

test("built-in modules stay require() calls, with no __require/Proxy helper or export helpers", () => {
  expect(code).toContain('require("Storage")');
  expect(code).toContain('require("Wifi")');
  expect(code).not.toMatch(/Proxy|__require|module\.exports|__toCommonJS|use strict/);
});

test("no `var X = class _X` shape; ?. ** ||= are lowered", () => {
  expect(code).not.toMatch(/class [\w$]+\s*\{/);
  expect(code).not.toMatch(/\?\.|\*\*|\|\|=/);
  expect(code).toMatch(/this\.items=\[\]/); // the class field became a constructor assignment
});

test("the source map points back into the TypeScript sources", () => {
  const map = new SourceMapReader(JSON.parse(fs.readFileSync(out + ".map", "utf8")));
  const lines = code.split("\n");
  const line = lines.findIndex((l) => l.includes('require("Wifi")')) + 1;
  const col = lines[line - 1].indexOf('require("Wifi")') + 1;
  const o = map.originalPositionFor(line, col);
  expect(o).not.toBeNull();
  expect(o!.source).toMatch(/ok-entry\.ts$/);
  expect(o!.line).toBe(5);
});

test("npm run check:bundle: exit 0 on a clean bundle, exit 1 with file:line:col construct otherwise", () => {
  const ok = spawnSync(process.execPath, [TSX, "scripts/check-bundle.ts", out], { cwd: ROOT, encoding: "utf8" });
  expect(ok.status).toBe(0);
  expect(ok.stdout).toMatch(/ok, \d+ bytes/);
  const bad = spawnSync(process.execPath, [TSX, "scripts/check-bundle.ts", "test/fixtures/guard/fail/missing-map.js", "test/fixtures/guard/fail/label.js"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  expect(bad.status).toBe(1);
  expect(bad.stderr).toContain("test/fixtures/guard/fail/missing-map.js:2:13 missing built-in: Map");
  expect(bad.stderr).toContain("test/fixtures/guard/fail/label.js:2:1 label: outer");
});

test("size report: module shares from the metafile and the budget check", () => {
  const meta = JSON.parse(fs.readFileSync(metafilePath(out), "utf8"));
  const r = sizeReport(code, meta, { totalBytes: 24576 });
  expect(r.bytes).toBe(result.bytes);
  expect(r.gzipBytes).toBeGreaterThan(0);
  expect(r.modules.map((m) => m.file)).toEqual(expect.arrayContaining(["test/fixtures/build/helper.ts", "test/fixtures/build/ok-entry.ts"]));
  expect(r.overBudget).toEqual([]);
  const over = sizeReport(code, meta, { totalBytes: 10 });
  expect(over.overBudget).toEqual([`bundle is ${r.bytes} bytes, budget 10`]);
  expect(formatSizeReport("ok.js", over, { totalBytes: 10 }).pop()).toMatch(/^OVER BUDGET/);
});

test("the variable estimate counts functions and parameters, as measured on the interpreter", () => {
  const v = estimateCodeVars("(function(){function a(x){return x}var b=(y,z)=>y+z;var c={m(){return 1}};setInterval(function(){a(b)},1e3)})();");
  expect(v.functions).toBe(5);
  expect(v.params).toBe(3);
  expect(v.estimate).toBe(5 * VARS_PER_FUNCTION + 3 * VARS_PER_PARAM);
  // the IIFE wrapper is a function too: 3 functions, no parameters
  const over = sizeReport("(function(){function a(){}function b(){}})();", null, { totalBytes: 1e6, codeVars: 9 });
  expect(over.overBudget).toEqual(["functions hold ~15 variables, budget 9"]);
});

test("a module's estimate leaves out its const enums (the bundle inlines them; alone each would be an object built by a function)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "size-enum-"));
  const file = path.join(dir, "m.ts");
  fs.writeFileSync(file, "export const enum Op { A = 1, B = 2 }\nconst enum Local { X = 3 }\nexport function f(op: Op, a: number): number { return op == Op.A ? a + Local.X : a; }\n");
  const meta = { outputs: { "out.js": { inputs: { [file]: { bytesInOutput: 40 } } } } };
  const r = sizeReport("(function(){})();", meta, { totalBytes: 1e6 });
  expect(r.modules[0].vars).toEqual({ functions: 1, params: 2, estimate: VARS_PER_FUNCTION + 2 * VARS_PER_PARAM });
  fs.rmSync(dir, { recursive: true });
});

test("the complete firmware stays within size-budget.json (<= 32 KB minified, few functions)", async () => {
  const fw = path.join(tmp, "firmware.js");
  await buildBundle({ entry: "firmware/main.ts", outfile: fw });
  const budget = JSON.parse(fs.readFileSync(path.join(ROOT, "size-budget.json"), "utf8"));
  expect(budget.totalBytes).toBeLessThanOrEqual(32768);
  expect(budget.reason).toMatch(/\w/); // a raised budget says why
  const r = sizeReport(fs.readFileSync(fw, "utf8"), JSON.parse(fs.readFileSync(metafilePath(fw), "utf8")), budget);
  expect(r.overBudget).toEqual([]);
});
