// Storage: one directory on disk per device. Each Storage file is one disk file; names are
// truncated to 28 characters (silently, as Espruino does) and encoded for the file system.
// Capacity model: every file costs a 32-byte header plus its size rounded up to 4 bytes; erased or
// rewritten files leave garbage until compact() (or an automatic compact when a write does not
// fit). A write that still does not fit returns false.
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
  constructor(
    readonly dir: string,
    readonly capacity: number,
  ) {
    fs.mkdirSync(dir, { recursive: true });
  }
  static normName(name: string): string {
    return name.length > MAX_NAME ? name.substr(0, MAX_NAME) : name;
  }
  private file(name: string): string {
    return path.join(this.dir, encodeName(SimStorage.normName(name)));
  }
  private meta(): { garbage: number } {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir, META), "utf8"));
    } catch {
      return { garbage: 0 };
    }
  }
  private setMeta(m: { garbage: number }): void {
    fs.writeFileSync(path.join(this.dir, META), JSON.stringify(m));
  }
  list(): string[] {
    return fs
      .readdirSync(this.dir)
      .filter((f) => f !== META && !f.startsWith("#"))
      .map(decodeName)
      .sort();
  }
  read(name: string): string | undefined {
    const f = this.file(name);
    if (!fs.existsSync(f)) return undefined;
    return fs.readFileSync(f).toString("latin1");
  }
  private liveBytes(): number {
    let n = 0;
    for (const f of fs.readdirSync(this.dir)) {
      if (f === META || f.startsWith("#")) continue;
      n += cost(fs.statSync(path.join(this.dir, f)).size);
    }
    return n;
  }
  used(): number {
    return this.liveBytes() + this.meta().garbage;
  }
  getFree(): number {
    return Math.max(0, this.capacity - this.used());
  }
  stats() {
    const files = this.list();
    const live = this.liveBytes();
    const garbage = this.meta().garbage;
    return {
      totalBytes: this.capacity,
      freeBytes: Math.max(0, this.capacity - live - garbage),
      fileBytes: live,
      fileCount: files.length,
      trashBytes: garbage,
      trashCount: garbage ? 1 : 0,
    };
  }
  compact(): void {
    this.setMeta({ garbage: 0 });
  }
  erase(name: string): void {
    const f = this.file(name);
    if (!fs.existsSync(f)) return;
    const size = fs.statSync(f).size;
    fs.unlinkSync(f);
    const m = this.meta();
    m.garbage += cost(size);
    this.setMeta(m);
  }
  eraseAll(): void {
    for (const f of fs.readdirSync(this.dir)) fs.unlinkSync(path.join(this.dir, f));
  }
  /** Returns true/false like Storage.write, or an error message (string) that the caller throws. */
  write(name: string, data: string, offset = -1, size = -1): boolean | string {
    name = SimStorage.normName(name);
    if (!name.length) return "Invalid filename";
    const f = this.file(name);
    const exists = fs.existsSync(f);
    if (offset > 0 || (offset === 0 && size < 0 && exists)) {
      // Writing part of an existing file: only into bytes still erased (0xFF) or identical.
      if (!exists) return "Can't write to a file at an offset when it doesn't exist";
      const cur = fs.readFileSync(f);
      if (offset + data.length > cur.length) return "Too much data for file size";
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
    const oldCost = exists ? cost(fs.statSync(f).size) : 0;
    const m = this.meta();
    const live = this.liveBytes();
    let need = live + m.garbage + cost(total);
    if (need > this.capacity) {
      // Espruino compacts automatically when a write does not fit, then tries again.
      m.garbage = 0;
      need = live - oldCost + cost(total);
      if (need > this.capacity) {
        this.setMeta(m);
        return false;
      }
    } else if (exists) m.garbage += oldCost;
    const buf = Buffer.alloc(total, 0xff);
    buf.write(data, 0, "latin1");
    fs.writeFileSync(f, buf);
    this.setMeta(m);
    return true;
  }
}
