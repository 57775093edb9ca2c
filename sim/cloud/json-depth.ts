/**
 * Nesting depth of JSON text, counted without parsing (pure): the code that walks parsed documents recurses, so a
 * body nested thousands deep is refused from its text before it is parsed.
 */

/** True when `text` opens more than `max` objects or arrays inside one another (brackets in strings ignored). */
export function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}
