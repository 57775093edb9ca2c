// npm run size [bundle]: raw and gzipped bytes of dist/firmware.js, each module's share (from the
// esbuild metafile written next to it by npm run build) and a check against size-budget.json.
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";

export interface SizeBudget {
  totalBytes: number; // minified bundle, raw bytes
  gzipBytes?: number;
}

export interface SizeReport {
  bytes: number;
  gzipBytes: number;
  modules: { file: string; bytes: number }[]; // largest first
  overBudget: string[]; // empty when within budget
}

export function sizeReport(bundle: string, meta: any | null, budget: SizeBudget): SizeReport {
  const bytes = Buffer.byteLength(bundle);
  const gzipBytes = zlib.gzipSync(bundle, { level: 9 }).length;
  const modules: { file: string; bytes: number }[] = [];
  if (meta && meta.outputs) {
    for (const out of Object.keys(meta.outputs)) {
      if (!out.endsWith(".js")) continue;
      const inputs = meta.outputs[out].inputs || {};
      for (const f of Object.keys(inputs)) modules.push({ file: f, bytes: inputs[f].bytesInOutput });
    }
  }
  modules.sort((a, b) => b.bytes - a.bytes || a.file.localeCompare(b.file));
  const overBudget: string[] = [];
  if (bytes > budget.totalBytes) overBudget.push(`bundle is ${bytes} bytes, budget ${budget.totalBytes}`);
  if (budget.gzipBytes !== undefined && gzipBytes > budget.gzipBytes) overBudget.push(`gzipped bundle is ${gzipBytes} bytes, budget ${budget.gzipBytes}`);
  return { bytes, gzipBytes, modules, overBudget };
}

export function formatSizeReport(name: string, r: SizeReport, budget: SizeBudget): string[] {
  const lines = [`${name}: ${r.bytes} bytes raw, ${r.gzipBytes} gzipped (budget ${budget.totalBytes} raw, ${((100 * r.bytes) / budget.totalBytes).toFixed(1)}% used)`];
  const width = Math.max(0, ...r.modules.map((m) => m.file.length));
  for (const m of r.modules) {
    if (m.bytes === 0) continue;
    lines.push(`  ${m.file.padEnd(width)} ${String(m.bytes).padStart(6)} B ${((100 * m.bytes) / r.bytes).toFixed(1).padStart(5)}%`);
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
