// Command-line parsing shared by npm start, npm run lab and npm run bench:fleet. Errors are plain words.
export type OptKind = "string" | "number" | "boolean";

export class ArgError extends Error {}

/** --name value / --name=value / --flag; everything else is positional. */
export function parseArgs(argv: string[], spec: Record<string, OptKind>): { opts: Record<string, any>; positional: string[] } {
  const opts: Record<string, any> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--") || a === "--") {
      if (a !== "--") positional.push(a);
      continue;
    }
    let name = a.slice(2);
    let value: string | undefined;
    const eq = name.indexOf("=");
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const kind = spec[name];
    if (!kind) throw new ArgError(`unknown option --${name} (options: ${Object.keys(spec).map((k) => "--" + k).join(", ")})`);
    if (kind === "boolean") {
      if (value !== undefined && value !== "true" && value !== "false") throw new ArgError(`--${name} takes no value`);
      opts[name] = value !== "false";
      continue;
    }
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined || value.startsWith("--")) throw new ArgError(`--${name} needs a value`);
      i++;
    }
    if (kind === "number") {
      const n = Number(value);
      if (value.trim() === "" || !Number.isFinite(n)) throw new ArgError(`--${name} must be a number (got "${value}")`);
      opts[name] = n;
    } else opts[name] = value;
  }
  return { opts, positional };
}

/** The value of key=value on the command line: true/false/null, numbers, JSON objects/arrays, else the text. */
export function parseValue(v: string): unknown {
  if (v === "true") return true;
  if (v === "false") return false;
  if (v === "null") return null;
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  if ((v.startsWith("{") && v.endsWith("}")) || (v.startsWith("[") && v.endsWith("]")) || v.startsWith('"')) {
    try {
      return JSON.parse(v);
    } catch {
      /* plain text */
    }
  }
  return v;
}

/** key=value pairs -> object; anything else is an error. */
export function parsePairs(items: string[], what: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const it of items) {
    const eq = it.indexOf("=");
    if (eq <= 0) throw new ArgError(`${what}: expected key=value, got "${it}"`);
    out[it.slice(0, eq)] = parseValue(it.slice(eq + 1));
  }
  return out;
}
