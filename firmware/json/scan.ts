// Streaming JSON scanner: pure, no I/O, no Espruino globals. Reads a document over binary strings
// (char codes 0..255 = the payload's UTF-8 bytes) in slices split anywhere, and reports each member
// or element as it completes, so a document far larger than the device's memory is read without a
// copy of it.
//
// What it holds is bounded whatever the input: nesting depth 32, each key and string value at most
// maxValue bytes (the rest of a longer one is counted, never buffered), numbers 32 characters,
// literals 5. So the path is at most 32 keys of maxValue + 1 bytes.
//
// Speed on Espruino (which interprets the source, so every loop turn costs): the bytes of a string
// are taken in runs found with indexOf (the closing quote, the next backslash), so a long string or
// key costs a few native calls; only structure, numbers and escapes go byte by byte.
//
// Memory diet (see CONTRIBUTING): ONE function, jsonScan, with two exported names:
//   jsonScanStart(onValue, maxValue?)  a new scanner (the state object below);
//   jsonScanFeed(state, chunk)         the next slice, null at the end of the document.

export const enum JsonKind {
  String = 1,
  Number = 2,
  Boolean = 3,
  Null = 4,
  Object = 5, // reported when it opens, value null
  Array = 6, // idem
  TooLong = 7, // a string over maxValue bytes or a number over 32 characters, value null
}

// path: keys from the root joined by "/", array elements by their index ("state/desired/on",
// "steps/0"); the root value itself has the path "". A key longer than maxValue is reported as its
// first maxValue bytes plus "\x01", and each "/" inside a key as "\x01", so neither aliases a path
// of short keys. Strings are decoded: escapes become the UTF-8 bytes of their character (a lone
// surrogate becomes U+FFFD, as Node's UTF-8 encoder does).
export type JsonValueHandler = (path: string, kind: JsonKind, value: string | number | boolean | null) => void;

// Everything the scanner keeps between slices. Short keys: they survive minification and cost fewer
// variables on Espruino.
export interface JsonScanState {
  f: JsonValueHandler; // onValue
  m: number; // maxValue: longest string (and key) reported as such, in bytes
  p: string; // path of the innermost open container, followed by "/" ("" for the root container)
  s: string; // the open containers, innermost last: one "{" or "[" each (at most 32)
  k: string; // key (in an object) or index (in an array) of the member being read
  w: number; // what may come next (Want)
  t: number; // token being read (Tok)
  v: string; // token text so far (strings decoded): at most m bytes, numbers 32 chars, literals 5
  n: number; // token length so far (strings: decoded bytes)
  x: string; // escape read so far inside a string: "", "\\", "\\u", "\\u1"... up to "\\uXXXX"
  h: number; // a \u high surrogate waiting for its low half, 0 when none
  q: number; // number syntax state (Text.NumberSteps)
  b: number; // bytes before the current slice (for error positions)
  r: string; // the error, "" while all is well; once set the scanner is dead
}

const enum Want {
  Value = 0, // after ":" or "," in an array, or at the start
  Key = 1, // after "," in an object
  Colon = 2,
  CommaOrClose = 3, // after a member
  Done = 4, // after the root value: only whitespace
  KeyOrClose = 5, // after "{"
  ValueOrClose = 6, // after "["
}

const enum Tok {
  None = 0,
  Str = 1,
  Num = 2,
  Word = 3, // true, false, null
}

const MAX_DEPTH = 32;
const MAX_NUMBER = 32;
// Constant strings as const enum members: inlined into the function's text, which stays in flash on
// the device, where module-level strings would each take variables.
const enum Text {
  // Number syntax (RFC 8259) as a table: row = state, column = class of the character (0: "0",
  // 1: "1"-"9", 2: "-", 3: "+", 4: ".", 5: "e"/"E"), entry = next state or "x" (not a number).
  // States: 0 start, 1 after "-", 2 after a leading 0, 3 integer digits, 4 after ".", 5 fraction
  // digits, 6 after "e", 7 after the exponent's sign, 8 exponent digits. A number may end in 2, 3, 5, 8.
  NumberSteps = "231xxx23xxxxxxxx4633xx4655xxxx55xxx68877xx88xxxx88xxxx",
  NumberChars = "0123456789-+.eE",
  NumberEnds = "2358",
  Replacement = "\xef\xbf\xbd", // U+FFFD in UTF-8
  Marker = "\x01", // stands for "/" in a key, and ends a key cut at maxValue bytes
}
export function jsonScan(onValue: JsonValueHandler, maxValue?: number): JsonScanState;
export function jsonScan(state: JsonScanState, chunk: string | null): string;
export function jsonScan(a: any, chunk?: any): any {
  if (typeof a == "function") return { f: a, m: chunk > 0 ? chunk : 64, p: "", s: "", k: "", w: Want.Value, t: Tok.None, v: "", n: 0, x: "", h: 0, q: 0, b: 0, r: "" };
  const S: JsonScanState = a;
  if (S.r) return S.r;
  // the end: one blank finishes a trailing number or literal (inside a string nothing can)
  const text: string = chunk !== null ? chunk : S.t == Tok.Str ? "" : " ";
  const length = text.length;
  const C = String.fromCharCode;
  let i = 0;
  let nextBackslash = -1;
  let problem = "";
  let start = 0;
  while (i < length && !problem) {
    let kind = 0;
    start = i;
    let value: any = null;
    if (S.t == Tok.Str) {
      let add = "";
      if (S.x) {
        // inside an escape
        const ch = text.charAt(i++);
        if (S.x == "\\" && ch != "u") {
          const at = '"\\/bfnrt'.indexOf(ch);
          if (at < 0) problem = "bad escape in a string";
          add = (S.h ? Text.Replacement : "") + '"\\/\b\f\n\r\t'.charAt(at); // a high surrogate before it was alone
          S.h = 0;
          S.x = "";
        } else if (S.x == "\\" || "0123456789abcdefABCDEF".indexOf(ch) >= 0) {
          S.x += ch;
          if (S.x.length == 6) {
            let code = parseInt(S.x.substr(2), 16);
            S.x = "";
            if (S.h && code >= 0xdc00 && code < 0xe000) {
              code = 0x10000 + ((S.h - 0xd800) << 10) + code - 0xdc00;
              S.h = 0;
            }
            if (code >= 0xd800 && code < 0xdc00) {
              add = S.h ? Text.Replacement : ""; // a high surrogate after another: the first was alone
              S.h = code;
              code = -1;
            } else if (code >= 0xdc00 && code < 0xe000) code = 0xfffd;
            if (code >= 0 && S.h) {
              add = Text.Replacement;
              S.h = 0;
            }
            if (code < 0) {
            } else if (code < 0x80) add += C(code);
            else if (code < 0x800) add += C(0xc0 | (code >> 6), 0x80 | (code & 63));
            else if (code < 0x10000) add += C(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
            else add += C(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
          }
        } else problem = "bad \\u escape in a string";
      } else {
        // a run of plain bytes up to the closing quote, the next backslash or the slice's end
        let end = text.indexOf('"', i);
        if (end < 0) end = length;
        if (nextBackslash < i) {
          nextBackslash = text.indexOf("\\", i);
          if (nextBackslash < 0) nextBackslash = length;
        }
        if (nextBackslash < end) end = nextBackslash;
        add = text.substring(i, end);
        i = end;
        if (end < length) {
          i++;
          if (end == nextBackslash) S.x = "\\";
          else S.t = Tok.None;
        }
        if (S.h && (add || S.t == Tok.None)) {
          // a high surrogate followed by anything but its low half was alone
          add = Text.Replacement + add;
          S.h = 0;
        }
      }
      if (add) {
        S.n += add.length;
        if (S.v.length < S.m) S.v = (S.v + add).substr(0, S.m);
      }
      if (S.t == Tok.None) {
        if (S.w == Want.Key || S.w == Want.KeyOrClose) {
          S.k = S.n > S.m ? S.v + Text.Marker : S.v.indexOf("/") < 0 ? S.v : S.v.split("/").join("\x01");
          S.w = Want.Colon;
        } else {
          kind = S.n > S.m ? JsonKind.TooLong : JsonKind.String;
          if (kind == JsonKind.String) value = S.v;
        }
      }
    } else {
      const ch = text.charAt(i);
      const code = text.charCodeAt(i);
      const wantsValue = S.w == Want.Value || S.w == Want.ValueOrClose;
      if (S.t == Tok.Num) {
        let cls = Text.NumberChars.indexOf(ch);
        if (cls >= 0) {
          cls = cls > 12 ? 5 : cls > 9 ? cls - 8 : cls ? 1 : 0;
          const next = Text.NumberSteps.charAt(S.q * 6 + cls);
          if (next == "x") problem = "bad number";
          S.q = +next;
          if (++S.n <= MAX_NUMBER) S.v += ch;
          i++;
          continue;
        }
        S.t = Tok.None;
        if (Text.NumberEnds.indexOf("" + S.q) < 0) problem = "bad number";
        kind = S.n > MAX_NUMBER ? JsonKind.TooLong : JsonKind.Number;
        if (kind == JsonKind.Number) value = +S.v;
      } else if (S.t == Tok.Word) {
        if (code >= 97 && code <= 122) {
          S.v += ch;
          i++;
          if (S.v.length > 5) problem = "unknown word";
          continue;
        }
        S.t = Tok.None;
        value = S.v == "true" ? true : S.v == "false" ? false : null;
        kind = S.v == "null" ? JsonKind.Null : JsonKind.Boolean;
        if (value === null && kind != JsonKind.Null) problem = 'unknown word "' + S.v + '"';
      } else if (code == 32 || code == 10 || code == 13 || code == 9) i++;
      else if (ch == '"' && (wantsValue || S.w == Want.Key || S.w == Want.KeyOrClose)) {
        S.t = Tok.Str;
        S.v = "";
        S.n = 0;
        i++;
      } else if ((ch == "{" || ch == "[") && wantsValue) {
        if (S.s.length >= MAX_DEPTH) problem = "JSON nested deeper than " + MAX_DEPTH + " levels";
        kind = ch == "{" ? JsonKind.Object : JsonKind.Array;
        i++;
      } else if ((ch == "}" && (S.w == Want.KeyOrClose || S.w == Want.CommaOrClose) && S.s.slice(-1) == "{") || (ch == "]" && (S.w == Want.ValueOrClose || S.w == Want.CommaOrClose) && S.s.slice(-1) == "[")) {
        S.s = S.s.slice(0, -1);
        i++;
        const parent = S.p.slice(0, -1);
        const cut = parent.lastIndexOf("/");
        S.k = S.s ? parent.substr(cut + 1) : "";
        S.p = S.s ? parent.substr(0, cut + 1) : "";
        S.w = S.s ? Want.CommaOrClose : Want.Done;
      } else if (ch == "," && S.w == Want.CommaOrClose && S.s) {
        i++;
        if (S.s.slice(-1) == "[") {
          S.k = "" + (+S.k + 1);
          S.w = Want.Value;
        } else S.w = Want.Key;
      } else if (ch == ":" && S.w == Want.Colon) {
        i++;
        S.w = Want.Value;
      } else if (wantsValue && Text.NumberChars.indexOf(ch) >= 0) {
        S.t = Tok.Num;
        S.v = "";
        S.n = 0;
        S.q = 0;
      } else if (wantsValue && code >= 97 && code <= 122) {
        S.t = Tok.Word;
        S.v = "";
      } else problem = "unexpected " + (code > 32 && code < 127 ? '"' + ch + '"' : "byte " + code);
    }
    if (kind && !problem) {
      // a member is complete (or a container opens): report it, then move on
      const path = S.p + S.k;
      S.w = S.s ? Want.CommaOrClose : Want.Done;
      if (kind == JsonKind.Object || kind == JsonKind.Array) {
        S.p = S.s ? path + "/" : "";
        S.s += kind == JsonKind.Object ? "{" : "[";
        S.k = kind == JsonKind.Object ? "" : "0";
        S.w = kind == JsonKind.Object ? Want.KeyOrClose : Want.ValueOrClose;
      }
      S.f(path, kind, value);
    }
  }
  if (problem) S.r = "bad JSON at byte " + (S.b + start) + ": " + problem;
  else if (chunk === null) S.r = S.w == Want.Done ? "" : "JSON ends early";
  S.b += length;
  return S.r;
}

export { jsonScan as jsonScanStart, jsonScan as jsonScanFeed };
