// Syntax fidelity: V8 parses far more than Espruino 2v29. Before running a bundle, the loader asks
// the project's bundle guard (scripts/bundle-guard) for constructs the interpreter cannot parse;
// if there are any the bundle is not run and the console shows an "Uncaught SyntaxError" line, as
// the board would (the board parses lazily, so it may fail later than this; we fail early).
// Constructs that parse but misbehave (loop variable captured by a closure, RegExp features, ...)
// are reported as warnings only. Built-ins are handled by the context itself.
import * as crypto from "crypto";

const FATAL = new Set([
  "BigInt literal",
  "ES module syntax",
  "async function",
  "await",
  "class field",
  "class static block",
  "computed key",
  "default parameter",
  "destructuring",
  "dynamic import()",
  "exponent operator",
  "for await",
  "generator",
  "label",
  "logical assignment",
  "numeric separator",
  "optional chaining",
  "private name",
  "rest parameter",
  "spread",
  "tagged template",
]);

export interface SyntaxReport {
  fatal: string[];
  warnings: string[];
}

const cache = new Map<string, SyntaxReport>();
let checker: ((code: string) => { construct: string; line: number; column: number; detail?: string }[]) | null | undefined;

function loadChecker() {
  if (checker !== undefined) return checker;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    checker = require("../../scripts/bundle-guard").checkSource;
  } catch {
    checker = null; // guard not available: run unchecked
  }
  return checker;
}

export function checkBundleSyntax(code: string): SyntaxReport {
  const key = crypto.createHash("sha1").update(code).digest("hex");
  const hit = cache.get(key);
  if (hit) return hit;
  const check = loadChecker();
  const rep: SyntaxReport = { fatal: [], warnings: [] };
  if (check) {
    let found: { construct: string; line: number; column: number; detail?: string }[] = [];
    try {
      found = check(code);
    } catch (e: any) {
      found = [];
      rep.warnings.push("bundle guard failed: " + e.message);
    }
    for (const v of found) {
      if (v.construct === "missing built-in") continue;
      const text = `${v.construct}${v.detail ? " (" + v.detail + ")" : ""} at line ${v.line} col ${v.column}`;
      if (FATAL.has(v.construct)) rep.fatal.push(text);
      else rep.warnings.push(text);
    }
  }
  cache.set(key, rep);
  return rep;
}
