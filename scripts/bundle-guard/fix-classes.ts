// esbuild emits `var X = class _X { ... _X ... }` for top-level classes that refer to themselves;
// Espruino does not bind the inner name `_X` (ReferenceError). This pass rewrites the bundle so the
// class body refers to the outer variable instead, keeping every column in place (the source map
// stays valid): the inner name is blanked and each inner reference is renamed, padded with spaces.
import * as acorn from "acorn";
import * as walk from "acorn-walk";
import { Node, isReference, scopeNames } from "./scope";

export interface ClassFixResult {
  code: string;
  fixed: number; // classes rewritten
  unfixable: string[]; // "line:col class _X" that could not be rewritten in place
}

export function fixSelfReferencingClasses(code: string): ClassFixResult {
  let ast: Node;
  try {
    ast = acorn.parse(code, { ecmaVersion: "latest", sourceType: "script", locations: true, allowReturnOutsideFunction: true }) as Node;
  } catch {
    return { code, fixed: 0, unfixable: [] }; // the guard reports the syntax error
  }
  const cache = new WeakMap<Node, Set<string> | null>();
  // class node -> inner references; and every identifier name used inside each class
  const refs = new Map<Node, Node[]>();
  const namesInside = new Map<Node, Set<string>>();
  const outerOf = new Map<Node, Node>();
  const shorthand = new Set<Node>();
  walk.fullAncestor(ast, (n: acorn.Node, _st: unknown, anc: acorn.Node[]) => {
    const node = n as Node;
    const ancestors = anc as Node[];
    if (node.type === "ClassExpression" && node.id) {
      const parent = ancestors[ancestors.length - 2];
      if (parent && parent.type === "VariableDeclarator" && parent.id.type === "Identifier") outerOf.set(node, parent.id);
      else if (parent && parent.type === "AssignmentExpression" && parent.left.type === "Identifier") outerOf.set(node, parent.left);
    }
    if (node.type !== "Identifier") return;
    for (let i = ancestors.length - 2; i >= 0; i--) {
      const a = ancestors[i];
      if (a.type === "ClassExpression" && a.id) {
        if (!namesInside.has(a)) namesInside.set(a, new Set());
        namesInside.get(a)!.add(node.name);
      }
    }
    if (!isReference(node, ancestors[ancestors.length - 2])) return;
    for (let i = ancestors.length - 2; i >= 0; i--) {
      const a = ancestors[i];
      if (a.type === "ClassExpression" && a.id && a.id.name === node.name) {
        if (!refs.has(a)) refs.set(a, []);
        refs.get(a)!.push(node);
        const parent = ancestors[ancestors.length - 2];
        if (parent && parent.type === "Property" && parent.shorthand) shorthand.add(a);
        break;
      }
      const names = scopeNames(a, cache);
      if (names && names.has(node.name)) break;
    }
  });
  const edits: { start: number; end: number; text: string }[] = [];
  const unfixable: string[] = [];
  let fixed = 0;
  for (const [cls, list] of refs) {
    const inner: string = cls.id.name;
    const outer = outerOf.get(cls);
    const where = `${cls.loc!.start.line}:${cls.loc!.start.column + 1} class ${inner}`;
    if (!outer) {
      unfixable.push(where + " (not assigned to a variable)");
      continue;
    }
    const target: string = outer.name;
    if (target !== inner) {
      // the outer name must not be shadowed or used inside the class, and must fit in place
      const used = namesInside.get(cls);
      if (target.length > inner.length || (used && used.has(target)) || shorthand.has(cls)) {
        unfixable.push(where + ` (outer name ${target})`);
        continue;
      }
      for (const r of list) edits.push({ start: r.start, end: r.end, text: target.padEnd(inner.length, " ") });
    }
    edits.push({ start: cls.id.start, end: cls.id.end, text: " ".repeat(inner.length) });
    fixed++;
  }
  edits.sort((a, b) => b.start - a.start);
  let out = code;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return { code: out, fixed, unfixable };
}
