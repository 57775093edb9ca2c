// The bundle guard's pure logic against fixture bundles: each file in fixtures/guard/fail names the
// construct it must be reported for and its line:col in a first-line comment; fixtures/guard/pass
// must produce no violation at all.
import * as fs from "fs";
import * as path from "path";
import { checkRegExp, checkSource, fixSelfReferencingClasses } from "../../scripts/bundle-guard";

const FIX = path.join(__dirname, "..", "fixtures", "guard");
const failFiles = fs.readdirSync(path.join(FIX, "fail")).filter((f) => f.endsWith(".js")).sort();
const passFiles = fs.readdirSync(path.join(FIX, "pass")).filter((f) => f.endsWith(".js")).sort();

describe("bundle guard: fixtures that must fail", () => {
  test("there is at least one fixture per construct", () => {
    expect(failFiles.length).toBeGreaterThanOrEqual(40);
  });
  test.each(failFiles)("%s", (file) => {
    const code = fs.readFileSync(path.join(FIX, "fail", file), "utf8");
    const m = /^\/\/ expect: (.+) (\d+):(\d+)$/m.exec(code.split("\n")[0]);
    expect(m).not.toBeNull();
    const [, construct, line, column] = m!;
    const found = checkSource(code);
    expect(found).toContainEqual(expect.objectContaining({ construct, line: Number(line), column: Number(column) }));
  });
});

describe("bundle guard: fixtures that must pass", () => {
  test.each(passFiles)("%s", (file) => {
    const code = fs.readFileSync(path.join(FIX, "pass", file), "utf8");
    expect(checkSource(code)).toEqual([]);
  });
});

describe("bundle guard details", () => {
  test("reports every violation, in order, with a detail naming what was found", () => {
    const v = checkSource("var a = new Map();\nvar {b} = c;\nvar d = Math.trunc(1);");
    expect(v.map((x) => `${x.line}:${x.column} ${x.construct} ${x.detail || ""}`.trim())).toEqual([
      "1:13 missing built-in Map",
      "2:5 destructuring",
      "3:9 missing built-in Math.trunc",
    ]);
  });
  test("nested destructuring is one report, at the outermost pattern", () => {
    expect(checkSource("var {a: [b, {c}], d = 1} = e;").map((x) => x.construct)).toEqual(["destructuring"]);
  });
  test("source mode allows what esbuild lowers itself and module syntax", () => {
    const src = 'import { x } from "./x";\nexport const y = x?.z ** 2;\nlet w; w ||= 1;';
    expect(checkSource(src, { mode: "source" })).toEqual([]);
    expect(checkSource(src.split("\n").slice(1).join("\n").replace("export ", ""), { mode: "bundle" }).map((x) => x.construct)).toEqual([
      "optional chaining",
      "exponent operator",
      "logical assignment",
    ]);
    expect(checkSource(src, { mode: "bundle" })[0].construct).toBe("syntax error"); // a bundle is a script
  });
  test("binary strings (\\x00-\\xFF escapes) are allowed, raw non-ASCII and escapes above 0xFF are not", () => {
    expect(checkSource('var s = "\\x00\\xff\\u00e9";')).toEqual([]);
    expect(checkSource("var s = `\\u0100`;")[0].construct).toBe("character above 0xFF in string");
    expect(checkSource("// caf\u00e9\nvar s = 1;")[0]).toMatchObject({ construct: "non-ASCII character", line: 1, column: 7 });
  });
  test("RegExp checker accepts the Espruino subset and names each problem", () => {
    expect(checkRegExp("^[a-z]+(\\d*)\\s.$|x", "gi")).toEqual([]);
    expect(checkRegExp("a?(?:b)(c)+\\1", "y")).toEqual([
      'flag "y" (only g and i)',
      "`?` quantifier",
      "non-capturing group (?:...)",
      "quantifier on a group (only on a single character or class)",
      "backreference",
    ]);
    expect(checkRegExp("(a|b)", "")).toEqual(["`|` inside a group (only top-level alternation)"]);
  });
});

describe("self-referencing class rewrite", () => {
  test("renames inner references to the outer variable in place (columns unchanged)", () => {
    const code = "var s=class n{static make(){return new n}};";
    const r = fixSelfReferencingClasses(code);
    expect(r.fixed).toBe(1);
    expect(r.code).toBe("var s=class  {static make(){return new s}};");
    expect(r.code.length).toBe(code.length);
    expect(checkSource(r.code)).toEqual([]);
  });
  test("same inner and outer name: the inner name is blanked", () => {
    const r = fixSelfReferencingClasses("var _K=class _K{m(){return _K}};");
    expect(r.code).toBe("var _K=class   {m(){return _K}};");
  });
  test("leaves a class it cannot rewrite safely and says so", () => {
    const r = fixSelfReferencingClasses("var s=class n{m(){var s=1;return new n}};");
    expect(r.fixed).toBe(0);
    expect(r.unfixable[0]).toMatch(/class n/);
  });
  test("a class that does not refer to itself is untouched", () => {
    const code = "var a=class b{m(){return 1}};";
    expect(fixSelfReferencingClasses(code).code).toBe(code);
  });
});
