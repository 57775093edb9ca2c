// Storage: one directory on disk per device. Each Storage file is one disk file; names are
// truncated to 28 characters (silently, as Espruino does) and encoded for the file system.
// Capacity model: every file costs a 32-byte header plus its size rounded up to 4 bytes; erased or
// rewritten files leave garbage until compact() (or an automatic compact when a write does not
// fit). A write that still does not fit returns false.
// Speed: the directory is read once per SimStorage (one per device, kept across reboots) into an
// in-memory index (file sizes, live and garbage bytes), so list/getFree/stats touch no disk and a
// write is one fs write (plus one small write of #meta.json when the garbage count changes).
// Files are only changed through this class; a file added to the directory behind its back
// (not done by the simulator) would be seen by a new SimStorage, not by a running one.
import * as fs from "fs";
import * as path from "path";

export const MAX_NAME = 28;
const HEADER = 32;
const META = "#meta.json"; // '#' never appears in encoded names

export function encodeName(name: string): string {
  let r = "";
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i) & 255;
    const ch = String.fromCharCode(c);
    if (/[A-Za-z0-9_-]/.test(ch) || (ch === "." && i > 0)) r += ch;
    else r += "%" + c.toString(16).toUpperCase().padStart(2, "0");
  }
  return r || "%";
}
export function decodeName(enc: string): string {
  if (enc === "%") return "";
  return enc.replace(/%([0-9A-F]{2})/g, (_m, h) => String.fromCharCode(parseInt(h, 16)));
}
function cost(size: number): number {
  return HEADER + Math.ceil(size / 4) * 4;
}

export class SimStorage {
  /** encoded file name -> size in bytes (files on disk, '#'-prefixed host files excluded) */
  private sizes = new Map<string, number>();
  private live = 0; // sum of cost() of the files
  private garbage = 0;
  constructor(
    readonly dir: string,
    readonly capacity: number,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    for (const f of fs.readdirSync(dir)) {
      if (f === META || f.startsWith("#")) continue;
      let st: fs.Stats;
      try {
        st = fs.statSync(path.join(dir, f));
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      this.sizes.set(f, st.size);
      this.live += cost(st.size);
    }
    try {
      const m = JSON.parse(fs.readFileSync(path.join(dir, META), "utf8"));
      this.garbage = typeof m.garbage === "number" && m.garbage > 0 ? m.garbage : 0;
    } catch {
      this.garbage = 0;
    }
  }
  static normName(name: string): string {
    return name.length > MAX_NAME ? name.substr(0, MAX_NAME) : name;
  }
  private key(name: string): string {
    return encodeName(SimStorage.normName(name));
  }
  private setGarbage(g: number): void {
    if (g === this.garbage) return;
    this.garbage = g;
    fs.writeFileSync(path.join(this.dir, META), JSON.stringify({ garbage: g }));
  }
  private setSize(key: string, size: number | undefined): void {
    const old = this.sizes.get(key);
    if (old !== undefined) this.live -= cost(old);
    if (size === undefined) this.sizes.delete(key);
    else {
      this.sizes.set(key, size);
      this.live += cost(size);
    }
  }
  list(): string[] {
    return [...this.sizes.keys()].map(decodeName).sort();
  }
  read(name: string): string | undefined {
    const k = this.key(name);
    if (!this.sizes.has(k)) return undefined;
    try {
      return fs.readFileSync(path.join(this.dir, k)).toString("latin1");
    } catch {
      return undefined;
    }
  }
  used(): number {
    return this.live + this.garbage;
  }
  getFree(): number {
    return Math.max(0, this.capacity - this.used());
  }
  stats() {
    return {
      totalBytes: this.capacity,
      freeBytes: Math.max(0, this.capacity - this.live - this.garbage),
      fileBytes: this.live,
      fileCount: this.sizes.size,
      trashBytes: this.garbage,
      trashCount: this.garbage ? 1 : 0,
    };
  }
  compact(): void {
    this.garbage = -1; // force the meta file to be written even if it was already 0 in memory
    this.setGarbage(0);
  }
  erase(name: string): void {
    const k = this.key(name);
    const size = this.sizes.get(k);
    if (size === undefined) return;
    fs.rmSync(path.join(this.dir, k), { force: true });
    this.setSize(k, undefined);
    this.setGarbage(this.garbage + cost(size));
  }
  eraseAll(): void {
    for (const f of fs.readdirSync(this.dir)) fs.unlinkSync(path.join(this.dir, f));
    this.sizes.clear();
    this.live = 0;
    this.garbage = 0;
  }
  /** Returns true/false like Storage.write, or an error message (string) that the caller throws. */
  write(name: string, data: string, offset = -1, size = -1): boolean | string {
    name = SimStorage.normName(name);
    if (!name.length) return "Invalid filename";
    const k = encodeName(name);
    const f = path.join(this.dir, k);
    const curSize = this.sizes.get(k);
    const exists = curSize !== undefined;
    if (offset > 0 || (offset === 0 && size < 0 && exists)) {
      // Writing part of an existing file: only into bytes still erased (0xFF) or identical.
      if (!exists) return "Can't write to a file at an offset when it doesn't exist";
      if (offset + data.length > curSize) return "Too much data for file size";
      const cur = fs.readFileSync(f);
      for (let i = 0; i < data.length; i++) {
        const b = data.charCodeAt(i) & 255;
        const old = cur[offset + i];
        if (old !== b && old !== 0xff) return "Can't rewrite Storage file '" + name + "' at offset " + offset + " with different data; rewrite the whole file";
        cur[offset + i] = b;
      }
      fs.writeFileSync(f, cur);
      return true;
    }
    const total = offset === 0 && size > data.length ? size : data.length;
    const oldCost = exists ? cost(curSize) : 0;
    let garbage = this.garbage;
    let need = this.live + garbage + cost(total);
    if (need > this.capacity) {
      // Espruino compacts automatically when a write does not fit, then tries again.
      garbage = 0;
      need = this.live - oldCost + cost(total);
      if (need > this.capacity) {
        this.setGarbage(garbage);
        return false;
      }
    } else if (exists) garbage += oldCost;
    const buf = Buffer.alloc(total, 0xff);
    buf.write(data, 0, "latin1");
    fs.writeFileSync(f, buf);
    this.setSize(k, total);
    this.setGarbage(garbage);
    return true;
  }
}
