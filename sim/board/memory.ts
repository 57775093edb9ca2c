// ESTIMATE of Espruino JS variables in use, for trends (leak/soak tests), not absolute budgets.
// It walks the object graph reachable from the context's global object plus the runtime's tables
// (timers, watches, sockets, listeners) and prices each value roughly as Espruino stores it:
// object/array 1 + 2 per entry (name + value), number/boolean 1, string 1 per 10 chars (min 1),
// function 2 + its own properties, typed array 2 + bytes/12, pending socket data bytes/12.
// Plus a fixed boot cost and 1.5 per function in the bundle text (code saved to flash).
// Blind spot: V8 closures are invisible, so state held only in closure variables (the bundle's
// module scope, for example) is NOT counted; only what hangs off globals, timers, watches,
// sockets and listeners is.


// A property's descriptor, or undefined when reading it throws (exotic host objects).
function ownDescriptor(o: object, k: string | symbol): PropertyDescriptor | undefined {
  try {
    return Object.getOwnPropertyDescriptor(o, k);
  } catch {
    return undefined;
  }
}

export const BOOT_VARS = 50;

export class Baseline {
  readonly keys = new WeakMap<object, Set<string>>();
}

function isObj(v: any): v is object {
  return (typeof v === "object" && v !== null) || typeof v === "function";
}

export function snapshotBaseline(roots: any[]): Baseline {
  const b = new Baseline();
  const stack: any[] = roots.filter(isObj);
  while (stack.length) {
    const o = stack.pop();
    if (b.keys.has(o)) continue;
    let names: string[] = [];
    try {
      names = Object.getOwnPropertyNames(o);
    } catch {
      names = [];
    }
    b.keys.set(o, new Set(names));
    try {
      const proto = Object.getPrototypeOf(o);
      if (isObj(proto)) stack.push(proto);
    } catch {
      /* ignore */
    }
    for (const k of names) {
      const d = ownDescriptor(o, k);
      if (!d) continue;
      if (isObj(d.value)) stack.push(d.value);
      if (d.get) stack.push(d.get);
      if (d.set) stack.push(d.set);
    }
  }
  return b;
}

function strCost(s: string): number {
  return Math.max(1, Math.ceil(s.length / 10));
}

export function estimateVars(roots: any[], baseline: Baseline | null): number {
  const seen = new Set<any>();
  let total = 0;
  const stack: any[] = [];
  const valueCost = (v: any): number => {
    if (v === undefined) return 0;
    if (typeof v === "string") return strCost(v);
    if (isObj(v)) {
      stack.push(v);
      return 0;
    }
    return 1;
  };
  for (const r of roots) if (isObj(r)) stack.push(r);
  while (stack.length) {
    const o = stack.pop();
    if (seen.has(o)) continue;
    seen.add(o);
    const base = baseline ? baseline.keys.get(o) : undefined;
    let names: string[];
    try {
      names = Object.getOwnPropertyNames(o);
    } catch {
      continue;
    }
    if (!base) {
      if (typeof o === "function") total += 2;
      else if (ArrayBuffer.isView(o)) total += 2;
      else if (Object.prototype.toString.call(o) === "[object ArrayBuffer]") total += 1 + Math.ceil((o as ArrayBuffer).byteLength / 12);
      else total += 1;
      try {
        const proto = Object.getPrototypeOf(o);
        if (isObj(proto) && !(baseline && baseline.keys.has(proto))) stack.push(proto);
      } catch {
        /* ignore */
      }
    }
    if (ArrayBuffer.isView(o)) {
      stack.push((o as any).buffer);
      continue;
    }
    const isFn = typeof o === "function";
    for (const k of names) {
      if (isFn && (k === "length" || k === "name" || k === "arguments" || k === "caller")) continue;
      if (k === "length" && Array.isArray(o)) continue;
      const d = ownDescriptor(o, k);
      if (!d) continue;
      const known = base ? base.has(k) : false;
      if (isFn && k === "prototype") {
        // A class prototype counts only for what was added to it.
        if (isObj(d.value)) {
          const own = Object.getOwnPropertyNames(d.value).filter((n) => n !== "constructor");
          if (own.length) stack.push(d.value);
        }
        continue;
      }
      if (d.get || d.set) {
        if (!known) total += 1;
        if (d.get) stack.push(d.get);
        if (d.set) stack.push(d.set);
        continue;
      }
      if (known) {
        if (isObj(d.value)) stack.push(d.value);
        continue;
      }
      total += 1 + valueCost(d.value);
    }
  }
  return total;
}

/** Rough cost of the saved code itself: functions defined in flash still cost a few variables. */
export function codeVars(source: string): number {
  const fns = (source.match(/\bfunction\b/g) || []).length + (source.match(/=>/g) || []).length;
  return Math.round(fns * 1.5);
}
