// Raw non-ASCII characters in a TypeScript/JavaScript source, outside comments (comments never reach
// the bundle). Strings must be ASCII in the source: bytes 0x80-0xFF are written as \xNN escapes.
import type { Violation } from "./index";

export function findNonAsciiOutsideComments(text: string): Violation[] {
  const out: Violation[] = [];
  let line = 1;
  let col = 1;
  let state: "code" | "line" | "block" | "sq" | "dq" | "tpl" = "code";
  let inRun = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const code = text.charCodeAt(i);
    const next = text[i + 1];
    if (code > 0x7f && state !== "line" && state !== "block") {
      if (!inRun) out.push({ construct: "non-ASCII character", line, column: col, detail: `U+${code.toString(16).toUpperCase().padStart(4, "0")}` });
      inRun = true;
    } else inRun = false;
    switch (state) {
      case "code":
        if (c === "/" && next === "/") state = "line";
        else if (c === "/" && next === "*") {
          state = "block";
          i++;
          col++;
        } else if (c === "'") state = "sq";
        else if (c === '"') state = "dq";
        else if (c === "`") state = "tpl";
        break;
      case "line":
        if (c === "\n") state = "code";
        break;
      case "block":
        if (c === "*" && next === "/") {
          state = "code";
          i++;
          col++;
        }
        break;
      case "sq":
      case "dq":
      case "tpl":
        if (c === "\\") {
          i++;
          col++;
          if (text[i] === "\n") {
            line++;
            col = 0;
          }
        } else if ((state === "sq" && c === "'") || (state === "dq" && c === '"') || (state === "tpl" && c === "`")) state = "code";
        else if (c === "\n" && state !== "tpl") state = "code"; // unterminated: let the parser complain
        break;
    }
    if (text[i] === "\n") {
      line++;
      col = 1;
    } else if (code < 0xdc00 || code > 0xdfff) col++;
  }
  return out;
}
