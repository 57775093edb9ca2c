// Bundles firmware/main.ts into dist/firmware.js for the Espruino 2v29 interpreter, then guards it.
//
// Pipeline (buildBundle):
//  1. esbuild bundles the entry, imported from a one-line stdin module so the entry's own exports
//     never produce esbuild's CommonJS export helpers (they use `for (let ...)` getters, which Espruino
//     runs wrongly without per-iteration bindings).
//     format "cjs" + our own wrapper function (banner/footer): esbuild's "iife" (and "esm") format routes external
//     require() calls through a __require helper built on Proxy, which Espruino lacks; with "cjs",
//     require("Storage") stays a plain call. target es2015, ASCII output, minified.
//     `supported` turns what esbuild cannot lower into build errors naming file:line (destructuring,
//     default/rest parameters, async, generators, for-await), and keeps as written what esbuild would
//     lower through a helper needing a missing built-in (object spread -> Object.getOwnPropertySymbols,
//     private #names -> WeakMap, tagged templates -> Object.freeze) so the guard reports it at its
//     source line instead. TS class fields become constructor assignments (useDefineForClassFields off).
//  2. Source guard: each bundled module, with TypeScript stripped but nothing lowered, goes through the
//     guard (scripts/bundle-guard) so violations name the original file:line:col.
//  3. Post-process: `var X = class _X {..._X...}` is rewritten in place (Espruino does not bind _X).
//  4. Bundle guard on the final text; positions are mapped back through the source map.
import * as esbuild from "esbuild";
import * as fs from "fs";
import * as path from "path";
import { checkSource, findNonAsciiOutsideComments, fixSelfReferencingClasses, formatViolation, SourceMapReader } from "./bundle-guard";

export const ROOT = path.resolve(__dirname, "..");

/** Espruino's built-in modules: always left as require("X") calls. */
export const ESPRUINO_BUILTINS = ["Wifi", "Storage", "net", "tls", "crypto", "ESP8266", "ESP32", "TelnetServer", "http", "dgram", "fs", "Flash"];

// The bundle's scope is a DECLARED function, not an anonymous IIFE: when an exception is created
// (even one caught at once), Espruino 2v29 names each stack frame, and an anonymous function is
// named by its source text, copied into RAM whole. For the bundle's wrapper that is the whole
// firmware (about 30 KB): the device ran out of memory at its first caught exception and boot was
// interrupted. A declared function is named by its name (measured: 53 variables for the exception).
const BANNER = "function iotFirmware(){";
const FOOTER = "}iotFirmware();";

export const ESBUILD_SUPPORTED: Record<string, boolean> = {
  // cannot be lowered by esbuild to anything Espruino runs: build errors
  destructuring: false,
  "default-argument": false,
  "rest-argument": false,
  "async-await": false,
  "async-generator": false,
  generator: false,
  "for-await": false,
  // esbuild's lowering would need a missing built-in: keep them so the guard names the source line
  "object-rest-spread": true,
  "class-field": true,
  "class-static-field": true,
  "class-private-field": true,
  "class-private-method": true,
  "class-private-accessor": true,
  "class-private-static-field": true,
  "class-private-static-method": true,
  "class-private-static-accessor": true,
  "class-private-brand-check": true,
  // static blocks (also what TS static fields become) are lowered to assignments after the class
  "class-static-blocks": false,
  "template-literal": true,
  bigint: true,
};

const TSCONFIG_RAW = { compilerOptions: { useDefineForClassFields: false } };

export interface BuildOptions {
  entry: string; // relative to the repository root, or absolute
  outfile: string; // idem; the source map goes to outfile + ".map", the metafile to <name>.meta.json
  minify?: boolean; // default true
  sourcemap?: boolean; // default true
  guard?: boolean; // default true: source guard + bundle guard, violations make the build fail
}

export interface BuildResult {
  bytes: number;
  metafile: esbuild.Metafile;
  ms: number; // whole build, guard included
  guardMs: number;
  outfile: string; // absolute
}

/** Thrown when the build fails; `problems` are "file:line:col what" lines. */
export class BuildError extends Error {
  constructor(public problems: string[]) {
    super(`build failed:\n  ${problems.join("\n  ")}`);
    this.name = "BuildError";
  }
}

/**
 * `import ... from "Storage"` makes esbuild emit an interop helper that defines getters in a
 * `for (let ...)` loop (every getter returns the last property on Espruino): built-ins must be
 * loaded with require("Storage"). This turns such an import into a build error at its line.
 */
const builtinRequireOnly: esbuild.Plugin = {
  name: "espruino-builtins-require-only",
  setup(b) {
    const filter = new RegExp(`^(${ESPRUINO_BUILTINS.join("|")})$`);
    b.onResolve({ filter }, (args) => {
      if (args.kind === "require-call") return { path: args.path, external: true };
      return { errors: [{ text: `load the built-in module "${args.path}" with require("${args.path}"), not import (see CONTRIBUTING.md)` }] };
    });
  },
};

const rel = (p: string) => path.relative(ROOT, p).split(path.sep).join("/") || p;

export function metafilePath(outfile: string): string {
  return outfile.replace(/\.js$/, "") + ".meta.json";
}

/** Runs the guard on one source module (TypeScript stripped, nothing lowered); positions in the original file. */
async function guardModule(file: string): Promise<string[]> {
  const abs = path.resolve(ROOT, file);
  const ext = path.extname(abs).slice(1);
  const loader = ext === "ts" || ext === "tsx" || ext === "jsx" || ext === "json" ? (ext as esbuild.Loader) : "js";
  if (loader === "json") return [];
  const source = fs.readFileSync(abs, "utf8");
  const out = await esbuild.transform(source, {
    loader,
    target: "esnext",
    format: "esm",
    sourcemap: "external",
    sourcefile: rel(abs),
    legalComments: "none",
    tsconfigRaw: TSCONFIG_RAW,
  });
  const map = new SourceMapReader(JSON.parse(out.map));
  // raw non-ASCII is looked for in the original text (esbuild's output escapes it)
  const found = findNonAsciiOutsideComments(source).concat(
    checkSource(out.code, { mode: "source" }).map((v) => {
      const o = map.originalPositionFor(v.line, v.column);
      return o ? { ...v, line: o.line, column: o.column } : v;
    }),
  );
  found.sort((a, b) => a.line - b.line || a.column - b.column);
  return found.map((v) => formatViolation(rel(abs), v));
}

export async function buildBundle(opts: BuildOptions): Promise<BuildResult> {
  const t0 = performance.now();
  const entry = path.resolve(ROOT, opts.entry);
  const outfile = path.resolve(ROOT, opts.outfile);
  const guard = opts.guard !== false;
  let result: esbuild.BuildResult & { metafile: esbuild.Metafile; outputFiles: esbuild.OutputFile[] };
  try {
    result = await esbuild.build({
      absWorkingDir: ROOT,
      stdin: { contents: `import ${JSON.stringify("./" + rel(entry))};`, resolveDir: ROOT, sourcefile: "<entry>", loader: "ts" },
      outfile,
      write: false,
      bundle: true,
      format: "cjs",
      platform: "node",
      target: "es2015",
      charset: "ascii",
      minify: opts.minify !== false,
      sourcemap: opts.sourcemap === false ? false : "external",
      metafile: true,
      legalComments: "none",
      external: ESPRUINO_BUILTINS,
      logLevel: "silent",
      tsconfigRaw: TSCONFIG_RAW,
      supported: ESBUILD_SUPPORTED,
      plugins: [builtinRequireOnly],
      banner: { js: BANNER },
      footer: { js: FOOTER },
    });
  } catch (e) {
    const failure = e as esbuild.BuildFailure;
    if (!failure.errors) throw e;
    throw new BuildError(
      failure.errors.map((m) => (m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1} ${m.text}` : m.text)),
    );
  }
  const jsFile = result.outputFiles.find((f) => f.path === outfile)!;
  const mapFile = result.outputFiles.find((f) => f.path === outfile + ".map");
  // esbuild's "use strict" directive: strict mode is ignored by Espruino, so it only costs bytes
  let code = jsFile.text.replace(BANNER + '\n"use strict";', BANNER + "\n");
  const strictRemoved = code !== jsFile.text;
  let mapText = mapFile ? mapFile.text : undefined;
  if (strictRemoved && mapText) {
    // the directive sat at the start of line 2: shift that line's first generated column back
    mapText = shiftFirstColumnOfLine(mapText, 1, -'"use strict";'.length);
  }
  const fix = fixSelfReferencingClasses(code);
  code = fix.code;

  let guardMs = 0;
  if (guard) {
    const g0 = performance.now();
    const problems: string[] = [];
    const inputs = Object.keys(result.metafile.inputs).filter((f) => f !== "<entry>");
    for (const found of await Promise.all(inputs.map(guardModule))) problems.push(...found);
    // the bundle is checked once the sources are clean (otherwise it mostly repeats them, e.g. at
    // places where the minifier inlined a constant)
    if (problems.length === 0) {
      const map = mapText ? new SourceMapReader(JSON.parse(mapText)) : null;
      for (const v of checkSource(code)) {
        const o = map && map.originalPositionFor(v.line, v.column);
        const src = o ? rel(path.resolve(path.dirname(outfile), o.source)) : "";
        problems.push(formatViolation(rel(outfile), v) + (o ? ` (from ${src}:${o.line}:${o.column})` : " (in esbuild's generated code)"));
      }
    }
    for (const u of fix.unfixable) problems.push(`${rel(outfile)}:${u} self-referencing named class expression (cannot rewrite)`);
    guardMs = performance.now() - g0;
    if (problems.length) throw new BuildError(problems);
  }

  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  fs.writeFileSync(outfile, code);
  if (mapText) fs.writeFileSync(outfile + ".map", mapText);
  fs.writeFileSync(metafilePath(outfile), JSON.stringify(result.metafile));
  return { bytes: Buffer.byteLength(code), metafile: result.metafile, ms: performance.now() - t0, guardMs, outfile };
}

/** Adds `delta` to the first segment's generated column on 0-based generated line `line`. */
function shiftFirstColumnOfLine(mapText: string, line: number, delta: number): string {
  const map = JSON.parse(mapText);
  const lines: string[] = map.mappings.split(";");
  const segs = lines[line] ? lines[line].split(",") : [];
  if (!segs.length) return mapText;
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  // decode the first field of the first segment, shift, re-encode
  let value = 0;
  let shift = 0;
  let i = 0;
  for (; i < segs[0].length; i++) {
    const d = B64.indexOf(segs[0][i]);
    value += (d & 31) << shift;
    if (d & 32) shift += 5;
    else break;
  }
  let col = (value & 1 ? -(value >>> 1) : value >>> 1) + delta;
  if (col < 0) col = 0;
  let v = col << 1;
  let enc = "";
  do {
    let d = v & 31;
    v >>>= 5;
    if (v > 0) d |= 32;
    enc += B64[d];
  } while (v > 0);
  segs[0] = enc + segs[0].slice(i + 1);
  lines[line] = segs.join(",");
  map.mappings = lines.join(";");
  return JSON.stringify(map);
}

async function main(): Promise<void> {
  try {
    const r = await buildBundle({ entry: "firmware/main.ts", outfile: "dist/firmware.js" });
    console.log(
      `built dist/firmware.js: ${r.bytes} bytes in ${Math.round(r.ms)} ms (guard ${Math.round(r.guardMs)} ms, ` +
        `${Object.keys(r.metafile.inputs).length - 1} modules); source map and metafile in dist/`,
    );
  } catch (e) {
    if (e instanceof BuildError) {
      console.error(`build failed: ${e.problems.length} problem(s) outside the Espruino subset`);
      for (const p of e.problems) console.error("  " + p);
      console.error("see CONTRIBUTING.md (The Espruino subset)");
    } else console.error((e as Error).message);
    process.exit(1);
  }
}

if (require.main === module) void main();
