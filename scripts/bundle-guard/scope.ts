// Just enough scope analysis for the guard: which names a scope-creating node declares.
import type * as acorn from "acorn";

export type Node = acorn.Node & Record<string, any>;

export const FUNCTION_TYPES = new Set(["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"]);
export const PATTERN_TYPES = new Set(["ObjectPattern", "ArrayPattern", "AssignmentPattern", "RestElement"]);

export function boundNames(p: Node | null | undefined, out: Set<string>): void {
  if (!p) return;
  switch (p.type) {
    case "Identifier":
      out.add(p.name);
      break;
    case "ObjectPattern":
      p.properties.forEach((q: Node) => boundNames(q.type === "RestElement" ? q : q.value, out));
      break;
    case "ArrayPattern":
      p.elements.forEach((e: Node | null) => boundNames(e, out));
      break;
    case "AssignmentPattern":
      boundNames(p.left, out);
      break;
    case "RestElement":
      boundNames(p.argument, out);
      break;
  }
}

/** Names declared with var / function anywhere inside `node`, not entering nested functions. */
function collectVarScoped(node: any, out: Set<string>): void {
  if (!node || typeof node.type !== "string") return;
  if (node.type === "VariableDeclaration" && node.kind === "var") {
    node.declarations.forEach((d: Node) => boundNames(d.id, out));
  }
  if (node.type === "FunctionDeclaration") {
    if (node.id) out.add(node.id.name);
    return;
  }
  if (FUNCTION_TYPES.has(node.type) || node.type === "ClassExpression" || node.type === "ClassDeclaration") return;
  for (const key of Object.keys(node)) {
    const v = node[key];
    if (Array.isArray(v)) v.forEach((c) => c && typeof c.type === "string" && collectVarScoped(c, out));
    else if (v && typeof v.type === "string") collectVarScoped(v, out);
  }
}

function collectLexical(statements: Node[], out: Set<string>): void {
  for (const s of statements) {
    if (s.type === "VariableDeclaration" && s.kind !== "var") s.declarations.forEach((d: Node) => boundNames(d.id, out));
    else if ((s.type === "ClassDeclaration" || s.type === "FunctionDeclaration") && s.id) out.add(s.id.name);
    else if ((s.type === "ExportNamedDeclaration" || s.type === "ExportDefaultDeclaration") && s.declaration) {
      collectLexical([s.declaration], out);
      collectVarScoped(s.declaration, out);
    } else if (s.type === "ImportDeclaration") s.specifiers.forEach((sp: Node) => out.add(sp.local.name));
  }
}

/** The names a scope-creating node declares itself (null when the node creates no scope). */
export function scopeNames(node: Node, cache: WeakMap<Node, Set<string> | null>): Set<string> | null {
  if (cache.has(node)) return cache.get(node)!;
  let names: Set<string> | null = null;
  switch (node.type) {
    case "Program":
      names = new Set();
      collectVarScoped(node, names);
      collectLexical(node.body, names);
      break;
    case "FunctionDeclaration":
    case "FunctionExpression":
    case "ArrowFunctionExpression":
      names = new Set();
      node.params.forEach((p: Node) => boundNames(p, names!));
      if (node.type === "FunctionExpression" && node.id) names.add(node.id.name);
      if (node.type !== "ArrowFunctionExpression") names.add("arguments");
      if (node.body.type === "BlockStatement") {
        collectVarScoped(node.body, names);
        collectLexical(node.body.body, names);
      }
      break;
    case "BlockStatement":
    case "StaticBlock":
      names = new Set();
      collectLexical(node.body, names);
      break;
    case "ForStatement":
    case "ForInStatement":
    case "ForOfStatement": {
      const decl = node.type === "ForStatement" ? node.init : node.left;
      names = new Set();
      if (decl && decl.type === "VariableDeclaration" && decl.kind !== "var") decl.declarations.forEach((d: Node) => boundNames(d.id, names!));
      break;
    }
    case "CatchClause":
      names = new Set();
      boundNames(node.param, names);
      break;
    case "SwitchStatement":
      names = new Set();
      node.cases.forEach((c: Node) => collectLexical(c.consequent, names!));
      break;
  }
  cache.set(node, names);
  return names;
}


/** False when the Identifier `node` is a declaration, a property name or a label, not a variable reference. */
export function isReference(node: Node, parent: Node | undefined): boolean {
  if (!parent) return true;
  switch (parent.type) {
    case "VariableDeclarator":
      return parent.id !== node;
    case "FunctionDeclaration":
    case "FunctionExpression":
    case "ArrowFunctionExpression":
      return parent.id !== node && !parent.params.includes(node);
    case "ClassDeclaration":
    case "ClassExpression":
      return parent.id !== node;
    case "CatchClause":
      return parent.param !== node;
    case "Property":
    case "MethodDefinition":
    case "PropertyDefinition":
      return parent.key !== node || parent.computed;
    case "MemberExpression":
      return parent.property !== node || parent.computed;
    case "LabeledStatement":
    case "BreakStatement":
    case "ContinueStatement":
      return false;
    case "ImportSpecifier":
    case "ImportDefaultSpecifier":
    case "ImportNamespaceSpecifier":
    case "ExportSpecifier":
    case "MetaProperty":
      return false;
    case "ArrayPattern":
    case "RestElement":
      return false;
    case "AssignmentPattern":
      return parent.left !== node;
  }
  return true;
}
