// Shared fast-check settings for the fuzz suite: a FIXED seed so CI is deterministic (a failure is
// reproducible with the printed seed/path), bounded runs and a time cap so the suite stays fast.
// Deeper local runs: FUZZ_SEED=<n> FUZZ_SCALE=20 npx jest test/fuzz
import * as fc from "fast-check";

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 0x10ad;
const SCALE = process.env.FUZZ_SCALE ? Math.max(0.1, Number(process.env.FUZZ_SCALE)) : 1;

// Parameters for fc.assert: `runs` before scaling; every property stops after `ms` milliseconds
// (interruptAfterTimeLimit keeps a slow machine from stretching the suite; it then passes with
// the runs it managed, which were all checked).
export function fuzz(runs: number, ms = 8000): fc.Parameters<any> {
  return {
    seed: SEED,
    numRuns: Math.max(1, Math.round(runs * SCALE)),
    interruptAfterTimeLimit: ms * SCALE,
    markInterruptAsFailure: false,
    endOnFailure: true,
  };
}

// A binary string (char codes 0..255) of at most `max` bytes.
export const bytes = (max: number, min = 0): fc.Arbitrary<string> =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((u) => Buffer.from(u).toString("latin1"));

// Sorted split points inside a string of length `len` (chunks as a socket would deliver them).
export const splits = (len: number): fc.Arbitrary<number[]> =>
  fc
    .uniqueArray(fc.integer({ min: 1, max: Math.max(1, len - 1) }), { maxLength: 24 })
    .map((a) => a.filter((x) => x < len).sort((x, y) => x - y));

export function chunks(s: string, at: number[]): string[] {
  const out: string[] = [];
  let last = 0;
  for (const a of at.concat([s.length])) {
    out.push(s.substring(last, a));
    last = a;
  }
  return out;
}

// Mutations of a valid byte string: flip, overwrite, insert, delete, truncate, duplicate a slice.
export type Mutation = { kind: number; at: number; len: number; byte: number };
export const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.integer({ min: 0, max: 5 }),
  at: fc.nat(),
  len: fc.integer({ min: 1, max: 8 }),
  byte: fc.integer({ min: 0, max: 255 }),
});
export function mutate(s: string, ms: Mutation[]): string {
  for (const m of ms) {
    if (!s.length) {
      s = String.fromCharCode(m.byte);
      continue;
    }
    const i = m.at % s.length;
    const c = s.charCodeAt(i);
    switch (m.kind) {
      case 0:
        s = s.substr(0, i) + String.fromCharCode(c ^ (1 << (m.byte & 7))) + s.substr(i + 1);
        break;
      case 1:
        s = s.substr(0, i) + String.fromCharCode(m.byte) + s.substr(i + 1);
        break;
      case 2:
        s = s.substr(0, i) + String.fromCharCode(m.byte).repeat(m.len) + s.substr(i);
        break;
      case 3:
        s = s.substr(0, i) + s.substr(i + m.len);
        break;
      case 4:
        s = s.substr(0, i);
        break;
      default:
        s = s.substr(0, i) + s.substr(i, m.len) + s.substr(i);
    }
  }
  return s;
}

// An error returned by a device parser must be plain words: a non-empty, printable ASCII line.
export function expectPlainError(e: unknown): void {
  expect(typeof e).toBe("string");
  const s = e as string;
  expect(s.length).toBeGreaterThan(5);
  expect(s).toMatch(/^[\x20-\x7e]+$/);
}
