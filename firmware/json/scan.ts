// Streaming JSON scanner: pure, no I/O, no Espruino globals. Reads a document over binary strings
// (char codes 0..255 = the payload's UTF-8 bytes) in slices split anywhere, and reports each member
// or element as it completes, so a document far larger than the device's memory is read without a
// copy of it.
//
// What it holds is bounded whatever the input: nesting depth 32, each key and string value at most
// maxValue bytes (the rest of a longer one is counted, never buffered), numbers 32 characters,
// literals 5. So the path is at most 32 keys of maxValue + 1 bytes.
//
// Speed on Espruino, which interprets the source (every loop turn and property access costs):
// - the bytes of a string are taken in runs found with indexOf (the closing quote, the next
//   backslash), so a long string or key costs a few native calls; a key takes its ":" and the start
//   of its value along, and the usual member ("key":"value" or "key":number, no escape) has its own
//   small turn;
// - a handler that returns true when an object or array opens skips it: the scanner then jumps from
//   quote to bracket with indexOf and reports nothing inside (inside a skipped subtree only strings
//   and the balance of brackets are checked);
// - the hot state lives in locals during a slice, and is written back to the state at its end;
// - Espruino lexes the source of a loop's whole body on every turn, even the branches it does not
//   take: so each mode (structure, skipped subtree) runs in its own small inner loop, a scalar takes
//   the "," after it along, and the rare escape decoding is a separate entry of the same function.
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
// surrogate becomes U+FFFD, as Node's UTF-8 encoder does). Returning true for an Object or Array
// skips its contents (nothing inside is reported); any other return value is ignored (so a handler
// typed "=> void" fits). If the handler throws, the exception reaches the caller of jsonScanFeed and
// this scanner must not be fed again.
export type JsonValueHandler = (path: string, kind: JsonKind, value: string | number | boolean | null) => unknown;

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
  n: number; // token length so far (strings: decoded bytes); in a skipped subtree its open brackets
  x: string; // escape read so far inside a string: "", "\\", "\\u", "\\u1"... up to "\\uXXXX"
  h: number; // a \u high surrogate waiting for its low half, 0 when none
  q: number; // number syntax state (Text.NumberSteps); in a skipped subtree 1 inside a string
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
  Skip = 4, // inside a subtree the handler skipped
}

const enum Limit {
  Depth = 32,
  Number = 32,
  Word = 5,
}

// Constant strings as const enum members: inlined into the function's text, which stays in flash on
// the device, where module-level strings would each take variables.
const enum Text {
  // Number syntax (RFC 8259) as a table: row = state, column = class of the character (0: "0",
  // 1: "1"-"9", 2: "-", 3: "+", 4: ".", 5: "e"/"E"), entry = next state. States: 0 start, 1 after
  // "-", 2 after a leading 0, 3 integer digits, 4 after ".", 5 fraction digits, 6 after "e", 7 after
  // the exponent's sign, 8 exponent digits, 9 not a number. A number may end in 2, 3, 5 or 8.
  NumberSteps = "231999239999999946339946559999559996887799889999889999999999",
  NumberEnds = "2358",
  Replacement = "\xef\xbf\xbd", // U+FFFD in UTF-8
  Marker = "\x01", // stands for "/" in a key, and ends a key cut at maxValue bytes
}

export function jsonScan(onValue: JsonValueHandler, maxValue?: number): JsonScanState;
export function jsonScan(state: JsonScanState, chunk: string | null): string;
// internal: the UTF-8 bytes of one escaped UTF-16 code unit (pairs surrogates through state.h)
export function jsonScan(state: JsonScanState, codeUnit: number): string;
export function jsonScan(a: any, chunk?: any): any {
  if (typeof a == "function") return { f: a, m: chunk > 0 ? chunk : 64, p: "", s: "", k: "", w: Want.Value, t: Tok.None, v: "", n: 0, x: "", h: 0, q: 0, b: 0, r: "" };
  const S: JsonScanState = a;
  if (typeof chunk == "number") {
    let code: number = chunk;
    let out = "";
    if (S.h && code >= 0xdc00 && code < 0xe000) {
      code = 0x10000 + ((S.h - 0xd800) << 10) + code - 0xdc00;
      S.h = 0;
    }
    if (S.h) out = Text.Replacement; // the high surrogate before was alone
    S.h = 0;
    if (code >= 0xd800 && code < 0xdc00) {
      S.h = code;
      return out;
    }
    if (code >= 0xdc00 && code < 0xe000) code = 0xfffd;
    const C = String.fromCharCode;
    if (code < 0x80) return out + C(code);
    if (code < 0x800) return out + C(0xc0 | (code >> 6), 0x80 | (code & 63));
    if (code < 0x10000) return out + C(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    return out + C(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
  }
  if (S.r) return S.r;
  // the end: one blank finishes a trailing number or literal (inside a string nothing can)
  const text: string = chunk !== null ? chunk : S.t == Tok.Str ? "" : " ";
  const length = text.length;
  const max = S.m;
  let want = S.w;
  let tok = S.t;
  let path = S.p;
  let stack = S.s;
  let key = S.k;
  let token = S.v;
  let count = S.n;
  let i = 0;
  let start = 0;
  let problem = "";
  let ch = "";
  let code = 0;
  let kind = 0;
  let value: any = null;
  let add = "";
  let end = 0;
  let at = 0;
  // next positions of these bytes at or after i (length: none in this slice), found when needed
  let nextBackslash = -1;
  let nextQuote = -1;
  let nextComma = -1;
  let nextOpen = -1;
  let nextClose = -1;
  let nextOpen2 = -1;
  let nextClose2 = -1;
  while (i < length && !problem) {
    kind = 0;
    while (tok == Tok.Skip && i < length) {
      // inside a skipped subtree: count holds its open brackets, S.q is 1 inside a string
      if (nextBackslash < i) {
        nextBackslash = text.indexOf("\\", i);
        if (nextBackslash < 0) nextBackslash = length;
      }
      if (nextQuote < i) {
        nextQuote = text.indexOf('"', i);
        if (nextQuote < 0) nextQuote = length;
      }
      if (S.x) {
        // the byte after a backslash
        S.x = "";
        i++;
      } else if (S.q) {
        if (nextBackslash < nextQuote) {
          i = nextBackslash + 1;
          S.x = "\\";
        } else {
          i = nextQuote + 1;
          S.q = nextQuote < length ? 0 : 1;
        }
      } else {
        if (nextOpen < i) {
          nextOpen = text.indexOf("{", i);
          if (nextOpen < 0) nextOpen = length;
        }
        if (nextOpen2 < i) {
          nextOpen2 = text.indexOf("[", i);
          if (nextOpen2 < 0) nextOpen2 = length;
        }
        if (nextClose < i) {
          nextClose = text.indexOf("}", i);
          if (nextClose < 0) nextClose = length;
        }
        if (nextClose2 < i) {
          nextClose2 = text.indexOf("]", i);
          if (nextClose2 < 0) nextClose2 = length;
        }
        end = nextOpen < nextOpen2 ? nextOpen : nextOpen2;
        at = nextClose < nextClose2 ? nextClose : nextClose2;
        if (nextQuote < end && nextQuote < at) {
          i = nextQuote + 1;
          S.q = 1;
        } else if (end < at) {
          i = end + 1;
          count++;
        } else {
          i = at;
          if (at < length) {
            i++;
            if (!--count) {
              tok = Tok.None;
              want = stack ? Want.CommaOrClose : Want.Done;
            }
          }
        }
      }
    }
    while (tok == Tok.None && (want == Want.Key || want == Want.KeyOrClose) && text[i] == '"') {
      // the usual member, "key":"value" or "key":number with no escape, all in this slice, in one
      // small turn; anything else (and every error) is left to the general code below
      if (nextBackslash < i) {
        nextBackslash = text.indexOf("\\", i);
        if (nextBackslash < 0) nextBackslash = length;
      }
      at = text.indexOf('"', i + 1); // the key's closing quote
      if (at < 0 || nextBackslash < at || text[at + 1] != ":") break;
      add = text.substring(i + 1, at);
      if (add.length > max || add.indexOf("/") >= 0) break;
      ch = text[at + 2];
      if (ch == '"') {
        end = text.indexOf('"', at + 3);
        if (end < 0 || nextBackslash < end || end - at - 3 > max) break;
        value = text.substring(at + 3, end++);
        kind = JsonKind.String;
      } else if ((ch >= "0" && ch <= "9") || ch == "-") {
        if (nextComma < at) {
          nextComma = text.indexOf(",", at);
          if (nextComma < 0) nextComma = length;
        }
        if (nextClose < at) {
          nextClose = text.indexOf("}", at);
          if (nextClose < 0) nextClose = length;
        }
        end = nextComma < nextClose ? nextComma : nextClose;
        if (end >= length || end - at - 2 > Limit.Number) break;
        code = +text.substring(at + 2, end);
        if (!(code - code == 0 && "" + code == text.substring(at + 2, end))) break;
        value = code;
        kind = JsonKind.Number;
      } else break;
      key = add;
      i = end;
      want = Want.CommaOrClose;
      S.f(path + key, kind, value);
      kind = 0;
      if (text[i] == ",") {
        want = Want.Key;
        i++;
      }
    }
    while (tok == Tok.None && !kind && !problem && i < length) {
      // structure, one byte a turn (text[i] and string comparisons: cheaper than charCodeAt here)
      start = i;
      ch = text[i];
      if (ch == '"' && (want < Want.Colon || want > Want.Done)) {
        // a key (Want.Key, Want.KeyOrClose) or a string value
        tok = Tok.Str;
        token = "";
        count = 0;
        i++;
      } else if (ch == "," && want == Want.CommaOrClose && stack) {
        i++;
        if (stack[stack.length - 1] == "[") {
          key = "" + (+key + 1);
          want = Want.Value;
        } else want = Want.Key;
      } else if (ch == ":" && want == Want.Colon) {
        want = Want.Value;
        i++;
      } else if ((ch == "{" || ch == "[") && (want == Want.Value || want == Want.ValueOrClose)) {
        if (stack.length >= Limit.Depth) problem = "JSON nested deeper than " + Limit.Depth + " levels";
        kind = ch == "{" ? JsonKind.Object : JsonKind.Array;
        i++;
      } else if ((ch == "}" || ch == "]") && (want == Want.CommaOrClose || want == (ch == "}" ? Want.KeyOrClose : Want.ValueOrClose)) && stack[stack.length - 1] == (ch == "}" ? "{" : "[")) {
        i++;
        stack = stack.substr(0, stack.length - 1);
        add = path.substr(0, path.length - 1);
        at = add.lastIndexOf("/");
        key = stack ? add.substr(at + 1) : "";
        path = stack ? add.substr(0, at + 1) : "";
        want = stack ? Want.CommaOrClose : Want.Done;
      } else if (ch == " " || ch == "\n" || ch == "\r" || ch == "\t") i++;
      else if (((ch >= "0" && ch <= "9") || ch == "-") && (want == Want.Value || want == Want.ValueOrClose)) {
        tok = Tok.Num;
        token = "";
        count = 0;
        S.q = 0;
      } else if (ch >= "a" && ch <= "z" && (want == Want.Value || want == Want.ValueOrClose)) {
        tok = Tok.Word;
        token = "";
      } else {
        code = text.charCodeAt(i);
        problem = "unexpected " + (code > 32 && code < 127 ? '"' + ch + '"' : "byte " + code);
      }
    }
    while (tok == Tok.Str && i < length && !problem) {
      start = i;
      add = "";
      if (S.x) {
        // inside an escape; the bytes come from the function's other entry
        ch = text[i++];
        if (S.x == "\\" && ch != "u") {
          at = '"\\/bfnrt'.indexOf(ch);
          if (at < 0) problem = "bad escape in a string";
          else add = jsonScan(S, '"\\/\b\f\n\r\t'.charCodeAt(at));
          S.x = "";
        } else if (S.x == "\\" || "0123456789abcdefABCDEF".indexOf(ch) >= 0) {
          S.x += ch;
          if (S.x.length == 6) {
            add = jsonScan(S, parseInt(S.x.substr(2), 16));
            S.x = "";
          }
        } else problem = "bad \\u escape in a string";
      } else {
        // a run of plain bytes up to the closing quote, the next backslash or the slice's end
        if (nextQuote < i) {
          nextQuote = text.indexOf('"', i);
          if (nextQuote < 0) nextQuote = length;
        }
        if (nextBackslash < i) {
          nextBackslash = text.indexOf("\\", i);
          if (nextBackslash < 0) nextBackslash = length;
        }
        end = nextBackslash < nextQuote ? nextBackslash : nextQuote;
        add = text.substring(i, end);
        i = end;
        if (end < length) {
          i++;
          if (end == nextBackslash) S.x = "\\";
          else tok = Tok.None;
        }
        if (S.h && (add || tok == Tok.None)) {
          // a high surrogate followed by anything but its low half was alone
          add = Text.Replacement + add;
          S.h = 0;
        }
      }
      if (add) {
        count += add.length;
        if (!token && count <= max) token = add;
        else if (token.length < max) token = (token + add).substr(0, max);
      }
      if (tok == Tok.None) {
        if (want == Want.Key || want == Want.KeyOrClose) {
          key = count > max ? token + Text.Marker : token.indexOf("/") < 0 ? token : token.split("/").join(Text.Marker);
          want = Want.Colon;
          if (text[i] == ":") {
            // the usual ":" right after the key, and the start of a string or number value
            want = Want.Value;
            ch = text[++i];
            if (ch == '"') {
              tok = Tok.Str;
              token = "";
              count = 0;
              i++;
            } else if ((ch >= "0" && ch <= "9") || ch == "-") {
              tok = Tok.Num;
              token = "";
              count = 0;
              S.q = 0;
            }
          }
        } else {
          kind = count > max ? JsonKind.TooLong : JsonKind.String;
          value = kind == JsonKind.String ? token : null;
        }
      }
    }
    if (tok == Tok.Num && i < length && !problem) {
      if (!count) {
        // a number that starts here: usually a whole number before the next "," "}" or "]" in this
        // slice, which converts to the same text (so it is valid JSON): taken at once
        if (nextComma < i) {
          nextComma = text.indexOf(",", i);
          if (nextComma < 0) nextComma = length;
        }
        if (nextClose < i) {
          nextClose = text.indexOf("}", i);
          if (nextClose < 0) nextClose = length;
        }
        if (nextClose2 < i) {
          nextClose2 = text.indexOf("]", i);
          if (nextClose2 < 0) nextClose2 = length;
        }
        end = nextComma < nextClose ? nextComma : nextClose;
        if (nextClose2 < end) end = nextClose2;
        if (end < length && end - i <= Limit.Number) {
          add = text.substring(i, end);
          value = +add;
          if (value - value == 0 && "" + value == add) {
            i = end;
            tok = Tok.None;
            kind = JsonKind.Number;
          }
        }
      }
      if (tok == Tok.Num) {
        // byte by byte; digits in a run stay in their state, the other bytes go through the table
        at = S.q;
        for (end = i; end < length; end++) {
          ch = text[end];
          if (ch >= "0" && ch <= "9") {
            if (at == 3 || at == 5 || at == 8) continue;
            code = ch == "0" ? 0 : 1;
          } else {
            code = "-+.eE".indexOf(ch);
            if (code < 0) break;
            code = code > 2 ? 5 : code + 2;
          }
          at = +Text.NumberSteps[at * 6 + code];
        }
        S.q = at;
        count += end - i;
        if (token.length < Limit.Number) token = (token + text.substring(i, end)).substr(0, Limit.Number + 1);
        i = end;
        if (end < length) {
          tok = Tok.None;
          if (Text.NumberEnds.indexOf("" + at) < 0) {
            problem = "bad number";
            start = end;
          }
          kind = count > Limit.Number ? JsonKind.TooLong : JsonKind.Number;
          value = kind == JsonKind.Number ? +token : null;
        }
      }
    }
    if (tok == Tok.Word && i < length && !problem) {
      start = i;
      ch = text[i];
      if (ch >= "a" && ch <= "z") {
        token += ch;
        i++;
        if (token.length > Limit.Word) problem = "unknown word";
      } else {
        tok = Tok.None;
        value = token == "true" ? true : token == "false" ? false : null;
        kind = token == "null" ? JsonKind.Null : JsonKind.Boolean;
        if (value === null && kind != JsonKind.Null) problem = 'unknown word "' + token + '"';
      }
    }
    if (kind && !problem) {
      // a member is complete (or a container opens): report it, then move on
      add = path + key;
      want = stack ? Want.CommaOrClose : Want.Done;
      if (kind != JsonKind.Object && kind != JsonKind.Array) {
        S.f(add, kind, value);
        if (text[i] == "," && stack) {
          // the usual "," right after a scalar
          i++;
          if (stack[stack.length - 1] == "[") {
            key = "" + (+key + 1);
            want = Want.Value;
          } else want = Want.Key;
        }
      } else if (S.f(add, kind, null) === true) {
        tok = Tok.Skip;
        count = 1;
        S.q = 0;
      } else {
        path = stack ? add + "/" : "";
        stack += kind == JsonKind.Object ? "{" : "[";
        key = kind == JsonKind.Object ? "" : "0";
        want = kind == JsonKind.Object ? Want.KeyOrClose : Want.ValueOrClose;
      }
    }
  }
  S.w = want;
  S.t = tok;
  S.p = path;
  S.s = stack;
  S.k = key;
  S.v = token;
  S.n = count;
  if (problem) S.r = "bad JSON at byte " + (S.b + start) + ": " + problem;
  else if (chunk === null) S.r = want == Want.Done && tok == Tok.None ? "" : "JSON ends early";
  S.b += length;
  return S.r;
}

export { jsonScan as jsonScanStart, jsonScan as jsonScanFeed };
