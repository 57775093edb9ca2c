// The type-level guard and the build reject firmware sources outside the Espruino subset, naming the
// file and line: destructuring, a default parameter, Map and async (the acceptance), plus
// object spread, private fields and missing built-ins.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BuildError, buildBundle } from "../../scripts/build";

const ROOT = path.resolve(__dirname, "..", "..");
const BAD = "test/fixtures/bad-firmware";
let tmp: string;
let tscOutput = "";

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "type-guard-"));
  const r = spawnSync(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", `${BAD}/tsconfig.json`, "--pretty", "false"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  tscOutput = r.stdout + r.stderr;
  expect(r.status).not.toBe(0);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function buildProblems(file: string): Promise<string[]> {
  try {
    await buildBundle({ entry: `${BAD}/${file}`, outfile: path.join(tmp, file.replace(/\.ts$/, ".js")) });
  } catch (e) {
    if (e instanceof BuildError) return e.problems;
    throw e;
  }
  return [];
}

describe("typecheck with the firmware tsconfig", () => {
  test("Map is a type error naming file and line", () => {
    expect(tscOutput).toMatch(/test\/fixtures\/bad-firmware\/uses-map\.ts\(2,18\): error TS2583: Cannot find name 'Map'/);
  });
  test("Array.from and Math.trunc are type errors naming file and line", () => {
    expect(tscOutput).toMatch(/array-from\.ts\(2,18\): error TS2550: Property 'from' does not exist/);
    expect(tscOutput).toMatch(/array-from\.ts\(3,29\): error TS2550: Property 'trunc' does not exist/);
  });
  test("the fixtures that are valid TypeScript for ES5 are left to the build", () => {
    expect(tscOutput).not.toMatch(/destructuring\.ts|default-param\.ts/);
  });
});

describe("buildBundle rejects what Espruino cannot run, naming file:line:col", () => {
  test("destructuring", async () => {
    const p = await buildProblems("destructuring.ts");
    expect(p).toEqual([expect.stringMatching(/^test\/fixtures\/bad-firmware\/destructuring\.ts:3:7 .*destructuring/)]);
  });
  test("default parameter", async () => {
    const p = await buildProblems("default-param.ts");
    expect(p).toEqual([expect.stringMatching(/^test\/fixtures\/bad-firmware\/default-param\.ts:2:34 .*default arguments/)]);
  });
  test("async function", async () => {
    const p = await buildProblems("async.ts");
    expect(p).toEqual([expect.stringMatching(/^test\/fixtures\/bad-firmware\/async\.ts:5:1 .*async functions/)]);
  });
  test("Map (also caught by the source guard, not only by the typecheck)", async () => {
    expect(await buildProblems("uses-map.ts")).toEqual(["test/fixtures/bad-firmware/uses-map.ts:2:18 missing built-in: Map"]);
  });
  test("object spread (esbuild's helper would need Object.getOwnPropertySymbols)", async () => {
    expect(await buildProblems("object-spread.ts")).toEqual(["test/fixtures/bad-firmware/object-spread.ts:3:16 spread: object"]);
  });
  test("private #field (esbuild's lowering would need WeakMap)", async () => {
    const p = await buildProblems("private-field.ts");
    expect(p).toContain("test/fixtures/bad-firmware/private-field.ts:3:3 private name: #n");
  });
  test("a failed build writes nothing", async () => {
    await buildProblems("uses-map.ts");
    expect(fs.existsSync(path.join(tmp, "uses-map.js"))).toBe(false);
  });
});

describe("buildBundle: ASCII sources and built-in modules", () => {
  test("raw non-ASCII in a string and a \\u escape above 0xFF are rejected; comments and \\xNN escapes are fine", async () => {
    expect(await buildProblems("non-ascii.ts")).toEqual([
      "test/fixtures/bad-firmware/non-ascii.ts:2:22 non-ASCII character: U+00E9",
      "test/fixtures/bad-firmware/non-ascii.ts:3:14 character above 0xFF in string: 8-bit strings truncate it",
    ]);
  });
  test("import from a built-in module is a build error naming file and line", async () => {
    const p = await buildProblems("import-builtin.ts");
    expect(p).toEqual([expect.stringMatching(/^test\/fixtures\/bad-firmware\/import-builtin\.ts:2:26 load the built-in module "Storage" with require\("Storage"\)/)]);
  });
});

describe("every construct outside the subset fails the build at its source line", () => {
  const cases: [string, string, RegExp][] = [
    ["for-of destructuring", "declare const m: [string, number][];\nfor (const [k, v] of m) console.log(k, v);", /:2:12 .*destructuring/],
    ["catch destructuring", "try { JSON.parse('x'); }\ncatch ({ message }) { console.log(message); }", /:2:8 .*destructuring/],
    ["object rest", "const o: any = {};\nconst { a, ...r } = o; console.log(a, r);", /:2:7 .*destructuring/],
    ["rest parameter", "function f(...xs: number[]) { return xs.length; }\nconsole.log(f(1));", /:1:12 .*rest arguments/],
    ["array spread", "const a = [1];\nconsole.log([0, ...a]);", /:2:17 spread: array/],
    ["generator", "function* g() { yield 1; }\nconsole.log(g());", /:1:9 .*generator/],
    ["async arrow", "const f = async () => 1;\nconsole.log(f());", /:1:11 .*async/],
    ["computed key", "const k = 'a';\nconsole.log({ [k]: 1 });", /:2:15 computed key/],
    ["label", "outer: for (;;) { break outer; }", /:1:1 label: outer/],
    ["tagged template", "const t = (s: TemplateStringsArray) => s[0];\nconsole.log(t`x`);", /:2:13 tagged template/],
    ["new.target", "function F(this: any) { console.log(new.target); }\nconsole.log(F);", /:1:37 new\.target/],
    ["regexp", "console.log(/colou?r/.test('color'));", /:1:13 unsupported RegExp: `\?` quantifier/],
    ["switch default", "const x: number = 1;\nswitch (x) { default: break; case 1: break; }", /:2:14 switch default not last/],
    ["loop capture", "for (let i = 0; i < 2; i++) setTimeout(() => console.log(i), 0);", /:1:58 loop variable captured/],
    ["Object.freeze (ES5 lib, so only the build sees it)", "console.log(Object.freeze({}));", /:1:13 missing built-in: Object\.freeze/],
  ];
  test.each(cases)("%s", async (name, src, expected) => {
    const file = path.join(tmp, name.replace(/\W+/g, "-") + ".ts");
    fs.writeFileSync(file, src + "\nexport {};\n");
    let problems: string[] = [];
    try {
      await buildBundle({ entry: file, outfile: file.replace(/\.ts$/, ".js") });
    } catch (e) {
      problems = (e as BuildError).problems;
    }
    expect(problems[0]).toContain(path.basename(file));
    expect(problems[0]).toMatch(expected);
  });
});
