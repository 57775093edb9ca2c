// npm run size [bundle]: raw and gzipped bytes of dist/firmware.js, each module's share (from the
// esbuild metafile written next to it by npm run build) and a check against size-budget.json.
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import * as acorn from "acorn";
import * as walk from "acorn-walk";
import * as esbuild from "esbuild";

export interface SizeBudget {
  totalBytes: number; // minified bundle, raw bytes
  gzipBytes?: number;
  codeVars?: number; // estimated Espruino variables held by the bundle's functions (see estimateCodeVars)
}

// On Espruino, code saved to flash keeps function bodies in flash, but every function object that stays
// reachable still costs JS variables: measured on the 2v29 interpreter built like ESP8266_4MB (1600 vars of
// 12 bytes), 100 retained functions cost 5 variables each plus 1 per parameter, whatever the body length
// (class and object-literal methods about 6). So the number of functions, not the bytes, is what fills an
// ESP8266's memory; this estimate tracks it without needing the interpreter.
export const VARS_PER_FUNCTION = 5;
export const VARS_PER_PARAM = 1;

export interface CodeVars {
  functions: number;
  params: number;
  estimate: number;
}

export function estimateCodeVars(js: string): CodeVars {
  let functions = 0;
  let params = 0;
  walk.full(acorn.parse(js, { ecmaVersion: "latest", sourceType: "module" }), (n: any) => {
    if (n.type === "FunctionDeclaration" || n.type === "FunctionExpression" || n.type === "ArrowFunctionExpression") {
      functions++;
      params += n.params.length;
    }
  });
  return { functions, params, estimate: functions * VARS_PER_FUNCTION + params * VARS_PER_PARAM };
}

function moduleCodeVars(file: string): CodeVars | undefined {
  try {
    // `const enum`s are inlined by the bundle and never exist on the device; transformed alone, a
    // module would keep each one as an object built by a function. Made local and tree-shaken, they go.
    const src = fs.readFileSync(file, "utf8").replace(/\bexport\s+const\s+enum\b/g, "const enum");
    const js = esbuild.transformSync(src, { loader: file.endsWith(".ts") ? "ts" : "js", target: "es2015", minify: true, treeShaking: true, format: "esm" }).code;
    return estimateCodeVars(js);
  } catch {
    return undefined;
  }
}

export interface SizeReport {
  bytes: number;
  gzipBytes: number;
  modules: { file: string; bytes: number; vars?: CodeVars }[]; // largest first
  vars: CodeVars;
  overBudget: string[]; // empty when within budget
}

export function sizeReport(bundle: string, meta: any | null, budget: SizeBudget): SizeReport {
  const bytes = Buffer.byteLength(bundle);
  const gzipBytes = zlib.gzipSync(bundle, { level: 9 }).length;
  const modules: SizeReport["modules"] = [];
  if (meta && meta.outputs) {
    for (const out of Object.keys(meta.outputs)) {
      if (!out.endsWith(".js")) continue;
      const inputs = meta.outputs[out].inputs || {};
      for (const f of Object.keys(inputs)) modules.push({ file: f, bytes: inputs[f].bytesInOutput, vars: moduleCodeVars(f) });
    }
  }
  modules.sort((a, b) => b.bytes - a.bytes || a.file.localeCompare(b.file));
  const vars = estimateCodeVars(bundle);
  const overBudget: string[] = [];
  if (budget.codeVars !== undefined && vars.estimate > budget.codeVars) {
    overBudget.push(`functions hold ~${vars.estimate} variables, budget ${budget.codeVars}`);
  }
  if (bytes > budget.totalBytes) overBudget.push(`bundle is ${bytes} bytes, budget ${budget.totalBytes}`);
  if (budget.gzipBytes !== undefined && gzipBytes > budget.gzipBytes) overBudget.push(`gzipped bundle is ${gzipBytes} bytes, budget ${budget.gzipBytes}`);
  return { bytes, gzipBytes, modules, vars, overBudget };
}

export function formatSizeReport(name: string, r: SizeReport, budget: SizeBudget): string[] {
  const lines = [`${name}: ${r.bytes} bytes raw, ${r.gzipBytes} gzipped (budget ${budget.totalBytes} raw, ${((100 * r.bytes) / budget.totalBytes).toFixed(1)}% used)`];
  lines.push(
    `code variables: ~${r.vars.estimate} (${r.vars.functions} functions x ${VARS_PER_FUNCTION} + ${r.vars.params} parameters)` +
      (budget.codeVars !== undefined ? `, budget ${budget.codeVars} of the ESP8266's 1600` : ""),
  );
  const width = Math.max(0, ...r.modules.map((m) => m.file.length));
  for (const m of r.modules) {
    if (m.bytes === 0) continue;
    const v = m.vars ? `  ~${String(m.vars.estimate).padStart(4)} vars` : "";
    lines.push(`  ${m.file.padEnd(width)} ${String(m.bytes).padStart(6)} B ${((100 * m.bytes) / r.bytes).toFixed(1).padStart(5)}%${v}`);
  }
  const wrapper = r.bytes - r.modules.reduce((s, m) => s + m.bytes, 0);
  if (r.modules.length) lines.push(`  ${"(wrapper and helpers)".padEnd(width)} ${String(wrapper).padStart(6)} B`);
  lines.push(r.overBudget.length ? `OVER BUDGET: ${r.overBudget.join("; ")}` : "within budget");
  return lines;
}

function main(): void {
  const root = path.resolve(__dirname, "..");
  const file = process.argv[2] || path.join(root, "dist/firmware.js");
  if (!fs.existsSync(file)) {
    console.error(`${file}: no such file (run npm run build first)`);
    process.exit(1);
  }
  const metaFile = file.replace(/\.js$/, "") + ".meta.json";
  const meta = fs.existsSync(metaFile) ? JSON.parse(fs.readFileSync(metaFile, "utf8")) : null;
  const budget: SizeBudget = JSON.parse(fs.readFileSync(path.join(root, "size-budget.json"), "utf8"));
  const r = sizeReport(fs.readFileSync(file, "utf8"), meta, budget);
  const lines = formatSizeReport(path.relative(process.cwd(), file), r, budget);
  if (!meta) lines.splice(1, 0, `  (no ${path.basename(metaFile)}: module shares unknown, run npm run build)`);
  console.log(lines.join("\n"));
  process.exit(r.overBudget.length ? 1 : 0);
}

if (require.main === module) main();
