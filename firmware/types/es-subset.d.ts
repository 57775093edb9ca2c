// The ES2015+ library pieces Espruino 2v29 really implements (docs/espruino-platform.md, built-ins).
// The firmware type-checks against lib ES5 plus this file, so anything Espruino lacks
// (Map, Set, Symbol, Array.from, Promise.prototype.finally, Math.trunc, ...) is a type error.

interface PromiseConstructor {
  readonly prototype: Promise<any>;
  new <T>(executor: (resolve: (value: T | PromiseLike<T>) => void, reject: (reason?: any) => void) => void): Promise<T>;
  all<T>(values: readonly (T | PromiseLike<T>)[]): Promise<T[]>;
  resolve(): Promise<void>;
  resolve<T>(value: T | PromiseLike<T>): Promise<T>;
  reject<T = never>(reason?: any): Promise<T>;
}
declare var Promise: PromiseConstructor;

interface ObjectConstructor {
  assign<T extends {}, U>(target: T, source: U): T & U;
  assign<T extends {}, U, V>(target: T, source1: U, source2: V): T & U & V;
  values<T>(o: { [s: string]: T }): T[];
  entries<T>(o: { [s: string]: T }): [string, T][];
  fromEntries<T>(entries: [string, T][]): { [k: string]: T };
}

interface String {
  /**
   * Espruino 2v29 also reports a needle that runs off the end of the string when it is no longer
   * than the string: "abc".indexOf("cd") is 2. A starts-with test (!s.indexOf(p)) is safe; to find
   * a word in a list or a marker in a buffer, compare exactly or check the slice found.
   */
  indexOf(searchString: string, position?: number): number;
  startsWith(searchString: string, position?: number): boolean;
  endsWith(searchString: string, endPosition?: number): boolean;
  /** Espruino 2v29: true for a needle that runs off the end, as indexOf ("abc".includes("cd")). */
  includes(searchString: string, position?: number): boolean;
  padStart(maxLength: number, fillString?: string): string;
  padEnd(maxLength: number, fillString?: string): string;
  repeat(count: number): string;
  replaceAll(searchValue: string, replaceValue: string): string;
}

interface Array<T> {
  find(predicate: (value: T, index: number, obj: T[]) => unknown): T | undefined;
  findIndex(predicate: (value: T, index: number, obj: T[]) => unknown): number;
  includes(searchElement: T, fromIndex?: number): boolean;
  fill(value: T, start?: number, end?: number): this;
}

interface Uint8Array {
  fill(value: number, start?: number, end?: number): this;
}
