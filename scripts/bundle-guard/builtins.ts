// What Espruino 2v29 lacks (docs/espruino-platform.md, language and built-ins), as the guard looks for it.

/** Globals that do not exist on the device. Referencing one (unless declared locally) is a violation. */
export const MISSING_GLOBALS = new Set([
  "Map", "Set", "WeakMap", "WeakSet", "Symbol", "Proxy", "Reflect", "BigInt",
  "TextEncoder", "TextDecoder", "queueMicrotask", "RangeError",
  // ES2021+ / web globals the interpreter never had (same family as the list above)
  "WeakRef", "FinalizationRegistry", "AggregateError", "Intl", "structuredClone",
  "SharedArrayBuffer", "Atomics",
]);

const TYPED_ARRAYS = [
  "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array",
  "Float32Array", "Float64Array", "Uint24Array",
];

/** Static members missing on built-in constructors: `Array.from`, `Math.trunc`, ... */
export const MISSING_STATICS: Record<string, Set<string>> = {
  Array: new Set(["from", "of"]),
  Object: new Set(["freeze", "seal", "is", "getOwnPropertySymbols"]),
  Math: new Set(["trunc", "imul", "clz32", "log2", "log10", "hypot"]),
  Number: new Set(["isInteger", "isNaN", "isFinite", "parseInt", "EPSILON", "MAX_SAFE_INTEGER"]),
  Date: new Set(["UTC"]),
  Promise: new Set(["race", "allSettled", "any"]),
};
for (const t of TYPED_ARRAYS) MISSING_STATICS[t] = new Set(["from", "of"]);

/**
 * Prototype methods missing on the device whose names no present built-in uses, so any call
 * `x.name(...)` is flagged whatever `x` is (the receiver's type is unknown in a bundle).
 */
export const MISSING_METHODS = new Set([
  "finally", // Promise.prototype.finally
  "flat", "flatMap", "at", "findLast", "findLastIndex", "reduceRight", // Array.prototype
  "trimStart", "trimEnd", "codePointAt", // String.prototype
]);

/** `getUTC*` Date methods exist only after 2v29. */
export const MISSING_METHOD_PATTERN = /^getUTC[A-Z]/;
