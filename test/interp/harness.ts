// The real Espruino 2v29 interpreter (Linux builds configured like the boards) running the real
// dist/firmware.js against the local stand-in. One fresh working directory per board (the emulated
// flash is the file espruino.flash in the cwd). A board is prepared while no firmware runs: the
// interpreter starts on an empty flash and the console writes, a short line at a time with a wait
// for the prompt between lines (the Linux port aborts when its input queue gets more than 64 bytes
// at once), ".boot0" (the Wifi stub), "iot.json" (as `npm run flash` writes it) and ".bootcde" (the
// bundle, so it runs from flash as on the board). It is then killed and started again: a power-on.
// The interpreter traps SIGINT/SIGTERM/SIGHUP, so it is always stopped with SIGKILL.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { configFileText } from "../../scripts/device-config";

const ROOT = path.resolve(__dirname, "..", "..");
export const BUNDLE = path.join(ROOT, "dist", "firmware.js");

export type BoardKind = "esp8266" | "esp8266-x64" | "esp32";
const FILES: Record<BoardKind, string> = { esp8266: "espruino-esp8266", "esp8266-x64": "espruino-esp8266-x64", esp32: "espruino-esp32" };
const HOW = "set ESPRUINO_DIR to a folder with espruino-esp8266, espruino-esp8266-x64 and espruino-esp32 (Espruino 2v29 Linux builds configured like the boards, see docs/testing.md) and install qemu-user + libc6-i386";

// Where the interpreters are: ESPRUINO_DIR, else ../shared/espruino beside the clone. null when
// missing (or when qemu-i386 is missing for the 32-bit builds).
export function interpreterDir(): string | null {
  const dir = process.env.ESPRUINO_DIR || path.join(ROOT, "..", "shared", "espruino");
  if (!fs.existsSync(path.join(dir, FILES.esp8266)) || !fs.existsSync(path.join(dir, FILES.esp32))) return null;
  if (spawnSync("qemu-i386", ["-version"]).status !== 0) return null;
  return dir;
}

// describe() when the interpreters are there; else one skipped line saying how to get them. With
// CI set a missing interpreter fails the suite instead.
export function interpDescribe(name: string, body: () => void): void {
  if (interpreterDir()) return describe(name, body);
  if (process.env.CI) {
    return describe(name, () => {
      test("the Espruino interpreters are present", () => {
        throw new Error("no Espruino interpreter found: " + HOW);
      });
    });
  }
  describe.skip(name + " (skipped: no Espruino interpreter; " + HOW + ")", () => {
    test("skipped", () => undefined);
  });
}

// The smallest Wifi the firmware needs (no Wifi module on Linux): connects at once (the host is
// on the network), SNTP is the host clock. Plus the peak sampler of the memory gates: every 25 ms
// (between the firmware's timer callbacks) the garbage-collected usage, highest in `pk`. Their own
// variables are measured (stubCost) and subtracted.
export const WIFI_STUB =
  'Modules.addCached("Wifi",function(){exports.connect=function(s,o,c){setTimeout(c,9,null)};exports.setSNTP=exports.on=function(){};exports.getIP=function(){return{ip:"10.0.0.2"}}});' +
  "global.pk=0;setInterval(function(){var u=process.memory().usage;if(u>pk)pk=u},25)";

function command(kind: BoardKind): [string, string[]] {
  const bin = path.join(interpreterDir()!, FILES[kind]);
  return kind === "esp8266-x64" ? [bin, []] : ["qemu-i386", [bin]];
}

const live = new Set<Board>();
const CHUNK = 256; // characters of a Storage file per console line

export class Board {
  readonly dir: string;
  readonly kind: BoardKind;
  logs: string[] = [];
  private proc?: ChildProcess;
  private partial = "";
  private out = "";
  private waiters: Array<() => void> = [];

  constructor(kind: BoardKind) {
    this.kind = kind;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "interp-" + kind + "-"));
    live.add(this);
  }

  // Prepares the flash (Storage files name -> text) and powers the board on. iot.json: the config
  // object is written as `npm run flash` writes it; null leaves it out.
  static async boot(kind: BoardKind, config: Record<string, any> | null, opts: { bundle?: string; stub?: boolean } = {}): Promise<Board> {
    const b = new Board(kind);
    const files: Array<[string, string]> = [];
    if (opts.stub !== false) files.push([".boot0", WIFI_STUB]);
    if (config) files.push(["iot.json", configFileText(config as any)]);
    if (opts.bundle !== "") files.push([".bootcde", opts.bundle ?? fs.readFileSync(BUNDLE, "latin1")]);
    await b.writeStorage(files);
    b.logs = []; // (the console echoed the bundle)
    b.start();
    return b;
  }

  // Writes Storage files from the console of a board with no .bootcde yet (or one that is off).
  async writeStorage(files: Array<[string, string]>): Promise<void> {
    this.start();
    await this.prompt();
    await this.line('var S=require("Storage")');
    for (const [name, data] of files) {
      for (let off = 0; off < data.length || off === 0; off += CHUNK) {
        const chunk = JSON.stringify(data.substr(off, CHUNK));
        await this.line(`S.write(${JSON.stringify(name)},${chunk},${off}${off ? "" : "," + data.length})`);
        if (!/=true\s*>$/.test(this.out)) throw new Error("Storage write of " + name + " failed: " + this.out.slice(-200));
      }
    }
    await this.kill();
  }

  start(): void {
    const [cmd, args] = command(this.kind);
    this.out = "";
    this.partial = "";
    const p = (this.proc = spawn(cmd, args, { cwd: this.dir, stdio: ["pipe", "pipe", "pipe"] }));
    p.stdout!.setEncoding("latin1");
    p.stdout!.on("data", (d: string) => {
      this.out += d;
      if (this.out.length > 65536) this.out = this.out.slice(-32768);
      const parts = (this.partial + d).split(/\r?\n/);
      this.partial = parts.pop()!;
      for (const l of parts) {
        // (Espruino erases the prompt with ESC [ J before printing from a callback)
        const line = l.replace(/\x1b\[J|\r/g, "").replace(/^>+/, "").trimEnd();
        if (line.trim()) this.logs.push(line);
      }
      const w = this.waiters;
      this.waiters = [];
      w.forEach((f) => f());
    });
    p.stderr!.on("data", () => undefined);
    p.on("exit", () => {
      if (this.proc === p) this.proc = undefined;
      const w = this.waiters;
      this.waiters = [];
      w.forEach((f) => f());
    });
  }

  // Resolves when `cond` holds on the output so far (checked on each output), or rejects after ms.
  until(cond: () => boolean, what: string, ms = 60000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out waiting for " + what + "; last lines:\n" + this.logs.slice(-15).join("\n"))), ms);
      const check = () => {
        if (cond()) {
          clearTimeout(timer);
          return resolve();
        }
        if (!this.proc) {
          clearTimeout(timer);
          return reject(new Error("the interpreter exited while waiting for " + what + "; last lines:\n" + this.logs.slice(-15).join("\n")));
        }
        this.waiters.push(check);
      };
      check();
    });
  }

  private prompt(): Promise<void> {
    return this.until(() => /(^|\n)>$/.test(this.out), "the console prompt", 30000);
  }

  // One console line (short: see the top of this file), then the prompt again.
  async line(text: string): Promise<void> {
    this.out = "";
    this.proc!.stdin!.write(text + "\n");
    await this.until(() => />$/.test(this.out) && this.out.length > text.length, "the answer to " + text.slice(0, 60), 30000);
  }

  // Types a short line at the firmware's console (no wait: read its answer from the logs).
  async send(text: string): Promise<void> {
    this.proc!.stdin!.write(text + "\n");
  }

  // Log lines containing `match` so far.
  count(match: string | RegExp): number {
    return this.logs.filter((l) => (typeof match === "string" ? l.includes(match) : match.test(l))).length;
  }

  waitLog(match: string | RegExp, n = 1, ms = 60000): Promise<void> {
    return this.until(() => this.count(match) >= n, n + " x " + match, ms);
  }

  // process.memory().usage read at the console while the firmware runs (it also collects garbage).
  // The line typed costs a few variables of its own: the same for every reading.
  async usage(): Promise<number> {
    const before = this.count(/^@M\d+/);
    this.proc!.stdin!.write('print("@M"+process.memory().usage)\n');
    await this.until(() => this.count(/^@M\d+/) > before, "a memory reading", 30000);
    return +this.logs.filter((l) => /^@M\d+/.test(l)).pop()!.slice(2);
  }

  // The sampler's peak so far; reset() starts a new one.
  async peak(reset = false): Promise<number> {
    const before = this.count(/^@P\d+/);
    this.proc!.stdin!.write('print("@P"+pk)' + (reset ? ";pk=0" : "") + "\n");
    await this.until(() => this.count(/^@P\d+/) > before, "a peak reading", 30000);
    return +this.logs.filter((l) => /^@P\d+/.test(l)).pop()!.slice(2);
  }

  async kill(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    await new Promise<void>((resolve) => {
      p.once("exit", () => resolve());
      p.kill("SIGKILL");
    });
  }

  // A power cycle: same flash, same working directory.
  async powerCycle(): Promise<void> {
    await this.kill();
    this.logs = [];
    this.start();
  }

  async dispose(): Promise<void> {
    await this.kill();
    live.delete(this);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function disposeAll(): Promise<void> {
  await Promise.all([...live].map((b) => b.dispose()));
}

// Variables the Wifi stub costs on this build: usage at the prompt of a board with the stub minus
// one without (no firmware on either).
const stubCosts: Partial<Record<BoardKind, Promise<number>>> = {};
export function stubCost(kind: BoardKind): Promise<number> {
  return (stubCosts[kind] = stubCosts[kind] || (async () => {
    const read = async (stub: boolean) => {
      const b = await Board.boot(kind, null, { bundle: "", stub });
      try {
        return await b.usage();
      } finally {
        await b.dispose();
      }
    };
    return (await read(true)) - (await read(false));
  })());
}
