// Checks a RegExp against the minimal engine of Espruino 2v29: `.`, classes, \d \s \w, ^ $, capture
// groups (at most 9), `*` and `+` on a single character or class, top-level `|`, flags g and i.
import { parse } from "regjsparser";

const MAX_GROUPS = 9;

/** Returns the problems found in one pattern (empty when Espruino can run it). */
export function checkRegExp(pattern: string, flags: string): string[] {
  const problems: string[] = [];
  for (const f of flags) {
    if (f !== "g" && f !== "i") problems.push(`flag "${f}" (only g and i)`);
  }
  let ast: any;
  try {
    ast = parse(pattern, flags.includes("u") ? "u" : "", { namedGroups: true, lookbehind: true, unicodePropertyEscape: true });
  } catch (e) {
    return problems.concat([`unparsable pattern (${(e as Error).message.split("\n")[0]})`]);
  }
  let groups = 0;
  const seen = new Set<string>();
  const add = (p: string) => {
    if (!seen.has(p)) {
      seen.add(p);
      problems.push(p);
    }
  };
  const visit = (n: any, depth: number): void => {
    switch (n.type) {
      case "disjunction":
        if (depth > 0) add("`|` inside a group (only top-level alternation)");
        n.body.forEach((c: any) => visit(c, depth));
        return;
      case "alternative":
        n.body.forEach((c: any) => visit(c, depth));
        return;
      case "group":
        if (n.behavior === "ignore") add("non-capturing group (?:...)");
        else if (n.behavior !== "normal") add(`lookaround (${n.behavior})`);
        else {
          groups++;
          if (n.name) add("named capture group");
        }
        n.body.forEach((c: any) => visit(c, depth + 1));
        return;
      case "quantifier": {
        const sym = n.symbol;
        if (sym === "?") add("`?` quantifier");
        else if (sym !== "*" && sym !== "+") add("{n,m} quantifier");
        if (!n.greedy) add("lazy quantifier");
        const body = n.body[0];
        const single = body && (body.type === "value" || body.type === "characterClass" || body.type === "characterClassEscape" || body.type === "dot");
        if (!single) add("quantifier on a group (only on a single character or class)");
        n.body.forEach((c: any) => visit(c, depth));
        return;
      }
      case "anchor":
        if (n.kind === "boundary" || n.kind === "not-boundary") add("word boundary \\b / \\B");
        return;
      case "reference":
        add("backreference");
        return;
      case "unicodePropertyEscape":
        add("unicode property escape \\p{...}");
        return;
      case "value":
        if (n.codePoint > 0xff) add("character above 0xFF");
        return;
      default:
        return;
    }
  };
  visit(ast, 0);
  if (groups > MAX_GROUPS) add(`${groups} capture groups (at most ${MAX_GROUPS})`);
  return problems;
}
