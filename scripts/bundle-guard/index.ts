// The bundle guard's pure logic: parses JavaScript with acorn and reports every construct the Espruino
// 2v29 interpreter cannot parse or run (docs/espruino-platform.md, language and built-ins). No I/O here:
// scripts/check-bundle.ts reads files, scripts/build.ts runs it on sources and on the bundle.
import * as acorn from "acorn";
import * as walk from "acorn-walk";
import { MISSING_GLOBALS, MISSING_METHODS, MISSING_METHOD_PATTERN, MISSING_STATICS } from "./builtins";
import { checkRegExp } from "./regexp";
import { FUNCTION_TYPES, PATTERN_TYPES, Node, isReference, scopeNames } from "./scope";

export { checkRegExp } from "./regexp";
export { SourceMapReader } from "./sourcemap";
export type { RawSourceMap, OriginalPosition } from "./sourcemap";
export { fixSelfReferencingClasses } from "./fix-classes";
export { findNonAsciiOutsideComments } from "./non-ascii";

export interface Violation {
  construct: string; // short name of what was found, e.g. "destructuring", "missing built-in"
  line: number; // 1-based
  column: number; // 1-based
  detail?: string; // e.g. "Map", "`?` quantifier in /a?/"
}

export interface GuardOptions {
  /**
   * "bundle" (default): the final file, every rule applies.
   * "source": one module before bundling (TypeScript already stripped): constructs esbuild lowers
   * itself (?., **, logical assignment) and ES module syntax are allowed.
   */
  mode?: "bundle" | "source";
}

export function formatViolation(file: string, v: Violation): string {
  return `${file}:${v.line}:${v.column} ${v.construct}${v.detail ? ": " + v.detail : ""}`;
}


function propName(m: Node): string | null {
  if (!m.computed && m.property.type === "Identifier") return m.property.name;
  if (m.computed && m.property.type === "Literal" && typeof m.property.value === "string") return m.property.value;
  return null;
}

function checkString(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

/** Returns every violation in `code`, sorted by position. */
export function checkSource(code: string, options: GuardOptions = {}): Violation[] {
  const mode = options.mode || "bundle";
  const out: Violation[] = [];
  const report = (node: { loc?: acorn.SourceLocation | null }, construct: string, detail?: string) => {
    const loc = node.loc!.start;
    out.push({ construct, line: loc.line, column: loc.column + 1, detail });
  };

  // Raw characters outside ASCII, anywhere (strings, identifiers, comments): one report per run.
  let line = 1;
  let col = 1;
  let inRun = false;
  for (let i = 0; i < code.length; i++) {
    const c = code.charCodeAt(i);
    if (c > 0x7f) {
      if (!inRun) out.push({ construct: "non-ASCII character", line, column: col, detail: `U+${c.toString(16).toUpperCase().padStart(4, "0")}` });
      inRun = true;
    } else inRun = false;
    if (c === 10) {
      line++;
      col = 1;
    } else if (c < 0xdc00 || c > 0xdfff) col++;
  }

  let ast: Node;
  try {
    ast = acorn.parse(code, {
      ecmaVersion: "latest",
      sourceType: mode === "source" ? "module" : "script",
      locations: true,
      allowHashBang: true,
      allowReturnOutsideFunction: mode === "bundle",
    }) as Node;
  } catch (e) {
    const err = e as Error & { loc?: { line: number; column: number } };
    out.push({ construct: "syntax error", line: err.loc ? err.loc.line : 1, column: err.loc ? err.loc.column + 1 : 1, detail: err.message });
    return out;
  }

  const cache = new WeakMap<Node, Set<string> | null>();
  /** True when `name` is declared in some scope enclosing the last ancestor. */
  const declaredLocally = (name: string, ancestors: Node[]): boolean => {
    for (let i = ancestors.length - 1; i >= 0; i--) {
      const names = scopeNames(ancestors[i], cache);
      if (names && names.has(name)) return true;
    }
    return false;
  };
  const selfRefReported = new Set<Node>();
  const isSource = mode === "source";

  walk.fullAncestor(ast, (n: acorn.Node, _st: unknown, anc: acorn.Node[]) => {
    const node = n as Node;
    const ancestors = anc as Node[];
    const parent = ancestors[ancestors.length - 2];
    switch (node.type) {
      case "ObjectPattern":
      case "ArrayPattern": {
        // report the outermost pattern only
        let nested = false;
        for (let i = ancestors.length - 2; i >= 0; i--) {
          const a = ancestors[i];
          if (a.type === "ObjectPattern" || a.type === "ArrayPattern") nested = true;
          if (nested || !(PATTERN_TYPES.has(a.type) || (a.type === "Property" && ancestors[i - 1]?.type === "ObjectPattern"))) break;
        }
        if (!nested) report(node, "destructuring");
        break;
      }
      case "RestElement":
        if (parent && FUNCTION_TYPES.has(parent.type)) report(node, "rest parameter");
        break;
      case "AssignmentPattern":
        if (parent && FUNCTION_TYPES.has(parent.type)) report(node, "default parameter");
        break;
      case "SpreadElement":
        report(node, "spread", parent ? (parent.type === "ObjectExpression" ? "object" : parent.type === "ArrayExpression" ? "array" : "call arguments") : undefined);
        break;
      case "Property":
        if (node.computed && parent && parent.type === "ObjectExpression") report(node, "computed key");
        break;
      case "MethodDefinition":
        if (node.computed) report(node, "computed key", "class method");
        if (node.key.type === "PrivateIdentifier") report(node.key, "private name", "#" + node.key.name);
        break;
      case "PropertyDefinition":
        report(node, "class field");
        if (node.key.type === "PrivateIdentifier") report(node.key, "private name", "#" + node.key.name);
        break;
      case "StaticBlock":
        if (!isSource) report(node, "class static block");
        break;
      case "PrivateIdentifier":
        report(node, "private name", "#" + node.name);
        break;
      case "LabeledStatement":
        report(node, "label", node.label.name);
        break;
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        if (node.generator) report(node, "generator");
        if (node.async) report(node, "async function");
        break;
      case "AwaitExpression":
        report(node, "await");
        break;
      case "ForOfStatement":
        if (node.await) report(node, "for await");
        break;
      case "TaggedTemplateExpression":
        report(node, "tagged template");
        break;
      case "ChainExpression":
        if (!isSource) report(node, "optional chaining");
        break;
      case "BinaryExpression":
        if (node.operator === "**" && !isSource) report(node, "exponent operator", "**");
        break;
      case "AssignmentExpression":
        if (node.operator === "**=" && !isSource) report(node, "exponent operator", "**=");
        if ((node.operator === "||=" || node.operator === "&&=" || node.operator === "??=") && !isSource) report(node, "logical assignment", node.operator);
        break;
      case "SwitchStatement": {
        const idx = node.cases.findIndex((c: Node) => c.test === null);
        if (idx >= 0 && idx !== node.cases.length - 1) report(node.cases[idx], "switch default not last");
        break;
      }
      case "MetaProperty":
        report(node, node.meta.name === "new" ? "new.target" : "import.meta");
        break;
      case "ImportExpression":
        report(node, "dynamic import()");
        break;
      case "ImportDeclaration":
      case "ExportNamedDeclaration":
      case "ExportDefaultDeclaration":
      case "ExportAllDeclaration":
        if (!isSource) report(node, "ES module syntax");
        break;
      case "ClassDeclaration":
      case "ClassExpression":
        if (node.superClass && node.superClass.type !== "Identifier") report(node.superClass, "class extends an expression");
        else if (node.superClass && (node.superClass.name === "Error" || node.superClass.name === "Array") && !declaredLocally(node.superClass.name, ancestors)) {
          report(node.superClass, "class extends a built-in", node.superClass.name);
        }
        break;
      case "Literal":
        if (node.regex) {
          const problems = checkRegExp(node.regex.pattern, node.regex.flags);
          if (problems.length) report(node, "unsupported RegExp", `${problems.join(", ")} in ${node.raw}`);
        } else if (typeof node.bigint === "string") report(node, "BigInt literal");
        else if (typeof node.value === "string" && !checkString(node.value)) report(node, "character above 0xFF in string", "8-bit strings truncate it");
        else if (typeof node.value === "number" && /_/.test(node.raw)) report(node, "numeric separator");
        break;
      case "TemplateLiteral":
        node.quasis.forEach((q: Node) => {
          if (q.value.cooked != null && !checkString(q.value.cooked)) report(q, "character above 0xFF in string", "8-bit strings truncate it");
        });
        break;
      case "NewExpression":
      case "CallExpression": {
        const callee = node.callee.type === "ChainExpression" ? node.callee.expression : node.callee;
        if (callee.type === "Identifier" && callee.name === "RegExp" && !declaredLocally("RegExp", ancestors)) {
          const [p, f] = node.arguments;
          if (p && p.type === "Literal" && typeof p.value === "string" && (!f || (f.type === "Literal" && typeof f.value === "string"))) {
            const problems = checkRegExp(p.value, f ? f.value : "");
            if (problems.length) report(node, "unsupported RegExp", `${problems.join(", ")} in new RegExp(${p.raw}${f ? ", " + f.raw : ""})`);
          }
        }
        if (node.type === "CallExpression" && callee.type === "MemberExpression") {
          const name = propName(callee);
          const obj = callee.object;
          if (name && (MISSING_METHODS.has(name) || MISSING_METHOD_PATTERN.test(name))) {
            if (!(obj.type === "Identifier" && MISSING_STATICS[obj.name])) report(callee.property, "missing built-in", `.${name}()`);
          } else if (name === "lastIndexOf" && isArrayExpression(obj)) {
            report(callee.property, "missing built-in", "Array.prototype.lastIndexOf");
          } else if (name === "slice" && isArrayBufferExpression(obj)) {
            report(callee.property, "missing built-in", "ArrayBuffer.prototype.slice");
          }
        }
        break;
      }
      case "MemberExpression": {
        if (node.property.type === "PrivateIdentifier") report(node.property, "private name", "#" + node.property.name);
        const obj = node.object;
        const name = propName(node);
        if (obj.type === "Identifier" && name && MISSING_STATICS[obj.name] && MISSING_STATICS[obj.name].has(name) && !declaredLocally(obj.name, ancestors)) {
          report(node, "missing built-in", `${obj.name}.${name}`);
        }
        break;
      }
      case "Identifier": {
        if (!isReference(node, parent)) break;
        if (parent && parent.type === "Property" && ancestors[ancestors.length - 3]?.type === "ObjectPattern" && parent.value === node) break;
        const name: string = node.name;
        if (MISSING_GLOBALS.has(name) && !(parent && parent.type === "UnaryExpression" && parent.operator === "typeof")) {
          if (!declaredLocally(name, ancestors)) report(node, "missing built-in", name);
        }
        // a closure capturing a for (let/const ...) variable: Espruino has no per-iteration binding
        let crossedFunction = false;
        for (let i = ancestors.length - 2; i >= 0; i--) {
          const a = ancestors[i];
          const names = scopeNames(a, cache);
          if (names && names.has(name)) {
            if (crossedFunction && (a.type === "ForStatement" || a.type === "ForInStatement" || a.type === "ForOfStatement")) {
              report(node, "loop variable captured by a closure", `${name} (no per-iteration binding)`);
            }
            break;
          }
          if (FUNCTION_TYPES.has(a.type)) crossedFunction = true;
        }
        // self-referencing named class expression: the inner name is not bound on Espruino
        for (let i = ancestors.length - 2; i >= 0; i--) {
          const a = ancestors[i];
          if (a.type === "ClassExpression" && a.id && a.id.name === name) {
            if (!selfRefReported.has(a) && !isSource) {
              selfRefReported.add(a);
              report(a, "self-referencing named class expression", `class ${name}`);
            }
            break;
          }
          const names = scopeNames(a, cache);
          if (names && names.has(name)) break;
        }
        break;
      }
    }
  });

  out.sort((a, b) => a.line - b.line || a.column - b.column);
  return out;
}

const ARRAY_METHODS = new Set(["map", "filter", "split", "sort", "reverse"]);
/** An expression that is certainly an array: `[...]`, `x.split()`, `x.map()`, `Object.keys()`. */
function isArrayExpression(n: Node): boolean {
  if (n.type === "ArrayExpression") return true;
  if (n.type === "CallExpression" && n.callee.type === "MemberExpression") {
    const name = propName(n.callee);
    if (name && ARRAY_METHODS.has(name)) return true;
    if (n.callee.object.type === "Identifier" && n.callee.object.name === "Object" && (name === "keys" || name === "values" || name === "entries")) return true;
  }
  return false;
}

/** An expression that is certainly an ArrayBuffer: `x.buffer`, `new ArrayBuffer()`, `E.toArrayBuffer()`. */
function isArrayBufferExpression(n: Node): boolean {
  if (n.type === "MemberExpression" && propName(n) === "buffer") return true;
  if (n.type === "NewExpression" && n.callee.type === "Identifier" && n.callee.name === "ArrayBuffer") return true;
  if (n.type === "CallExpression" && n.callee.type === "MemberExpression" && propName(n.callee) === "toArrayBuffer") return true;
  return false;
}
