// npm run check:bundle [file...]: re-checks a built bundle (default dist/firmware.js) against the
// Espruino subset; prints every violation as file:line:col construct (plus the original source
// position when a .map sits next to the file) and exits 1 when there is any.
import * as fs from "fs";
import * as path from "path";
import { checkSource, formatViolation, SourceMapReader } from "./bundle-guard";

function main(): void {
  const files = process.argv.slice(2);
  if (files.length === 0) files.push("dist/firmware.js");
  let bad = 0;
  for (const file of files) {
    if (!fs.existsSync(file)) {
      console.error(`${file}: no such file (run npm run build first)`);
      process.exit(1);
    }
    const t0 = performance.now();
    const code = fs.readFileSync(file, "utf8");
    const found = checkSource(code);
    const ms = performance.now() - t0;
    let map: SourceMapReader | null = null;
    if (fs.existsSync(file + ".map")) {
      try {
        map = new SourceMapReader(JSON.parse(fs.readFileSync(file + ".map", "utf8")));
      } catch {
        map = null; // a broken map only loses the "from" hints
      }
    }
    for (const v of found) {
      const o = map && map.originalPositionFor(v.line, v.column);
      const from = o ? ` (from ${path.relative(process.cwd(), path.resolve(path.dirname(file), o.source))}:${o.line}:${o.column})` : "";
      console.error(formatViolation(file, v) + from);
    }
    bad += found.length;
    if (found.length === 0) console.log(`${file}: ok, ${Buffer.byteLength(code)} bytes inside the Espruino subset (${ms.toFixed(1)} ms)`);
    else console.error(`${file}: ${found.length} construct(s) outside the Espruino subset (see CONTRIBUTING.md)`);
  }
  process.exit(bad ? 1 : 0);
}

main();
