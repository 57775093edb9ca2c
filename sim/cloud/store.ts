/**
 * Persistence: one JSON file per record under dataDir, written atomically (write to a temporary file, fsync,
 * rename). Writes to the same key are serialized and coalesced (the latest value wins): while one write of a
 * record is on its way, later values wait and only the newest is written next.
 * Options: durable (default true) fsyncs each file before the rename; durable false skips the fsync (still atomic
 * for readers and process crashes, not for a machine crash). Directories already made are remembered.
 */
import * as fs from "node:fs";
import * as path from "node:path";

function encodeName(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*:~.]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

interface Slot { writing: boolean; pending: string | null | undefined; waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> }

export class JsonStore {
  private slots = new Map<string, Slot>();
  private seq = 0;
  private dirs = new Set<string>(); // directories known to exist
  readonly durable: boolean;
  constructor(readonly dir: string, opts: { durable?: boolean } = {}) {
    fs.mkdirSync(dir, { recursive: true });
    this.durable = opts.durable !== false;
  }

  fileFor(collection: string, key: string): string {
    return path.join(this.dir, collection, encodeName(key) + ".json");
  }

  /** Synchronous load of a whole collection: key -> value. Unreadable files are reported and skipped. */
  loadAll<T>(collection: string, onError?: (file: string, err: Error) => void): Map<string, T> {
    const out = new Map<string, T>();
    const dir = path.join(this.dir, collection);
    let names: string[] = [];
    try { names = fs.readdirSync(dir); } catch { return out; }
    for (const n of names) {
      if (!n.endsWith(".json")) continue;
      const file = path.join(dir, n);
      try {
        out.set(decodeURIComponent(n.slice(0, -5)), JSON.parse(fs.readFileSync(file, "utf8")));
      } catch (e) {
        // keep the unreadable file (renamed aside) so nothing is lost, and report it
        const aside = file + ".unreadable-" + Date.now();
        try { fs.renameSync(file, aside); } catch { /* leave it */ }
        if (onError) onError(file, new Error((e as Error).message + " (moved to " + aside + ")"));
      }
    }
    return out;
  }

  /** Reads a top-level JSON file: undefined when it does not exist, a clear error when it is not valid JSON. */
  readFile<T>(name: string): T | undefined {
    const file = path.join(this.dir, name);
    let text: string;
    try { text = fs.readFileSync(file, "utf8"); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new Error("cannot read " + file + ": " + (e as Error).message);
    }
    try { return JSON.parse(text); } catch (e) {
      throw new Error(file + " is not valid JSON (" + (e as Error).message + "); fix it or move it away - the stand-in will not overwrite it");
    }
  }

  /** Atomic synchronous write of a top-level file (config). */
  writeFileSync(name: string, value: unknown, mode?: number): void {
    const file = path.join(this.dir, name);
    const tmp = file + ".tmp" + process.pid;
    fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + "\n", { mode: mode ?? 0o600 });
    fs.renameSync(tmp, file);
  }

  /** Stores (value !== null) or removes (value === null) a record. Resolves once it is on disk. */
  put(collection: string, key: string, value: unknown | null): Promise<void> {
    const file = this.fileFor(collection, key);
    let slot = this.slots.get(file);
    if (!slot) { slot = { writing: false, pending: undefined, waiters: [] }; this.slots.set(file, slot); }
    slot.pending = value === null ? null : JSON.stringify(value);
    const p = new Promise<void>((resolve, reject) => slot!.waiters.push({ resolve, reject }));
    if (!slot.writing) this.drain(file, slot);
    return p;
  }

  private async drain(file: string, slot: Slot): Promise<void> {
    slot.writing = true;
    while (slot.pending !== undefined) {
      const data = slot.pending;
      const waiters = slot.waiters;
      slot.pending = undefined;
      slot.waiters = [];
      try {
        if (data === null) {
          await fs.promises.rm(file, { force: true });
        } else {
          const dir = path.dirname(file);
          if (!this.dirs.has(dir)) {
            await fs.promises.mkdir(dir, { recursive: true });
            this.dirs.add(dir);
          }
          try {
            await this.writeAtomic(file, data);
          } catch (e) {
            // the directory was removed behind our back (a test wiping data): make it again and retry once
            if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
            await fs.promises.mkdir(dir, { recursive: true });
            await this.writeAtomic(file, data);
          }
        }
        waiters.forEach((w) => w.resolve());
      } catch (e) {
        waiters.forEach((w) => w.reject(e as Error));
      }
    }
    slot.writing = false;
    this.slots.delete(file);
    slot.waiters.forEach((w) => w.resolve());
  }

  private async writeAtomic(file: string, data: string): Promise<void> {
    const tmp = file + ".tmp" + process.pid + "." + this.seq++;
    if (this.durable) {
      const fh = await fs.promises.open(tmp, "w", 0o600);
      try { await fh.writeFile(data); await fh.sync(); } finally { await fh.close(); }
    } else {
      await fs.promises.writeFile(tmp, data, { mode: 0o600 });
    }
    await fs.promises.rename(tmp, file);
  }

  /** Resolves when every write started so far is on disk. */
  async flush(): Promise<void> {
    const all: Promise<void>[] = [];
    for (const slot of this.slots.values()) {
      all.push(new Promise<void>((resolve) => slot.waiters.push({ resolve, reject: () => resolve() })));
    }
    await Promise.all(all);
  }
}
