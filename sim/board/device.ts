// One simulated board: builds a fresh vm context per boot, wires the host models (clock, timers,
// pins, DHT11, Storage, WiFi, sockets) to the in-context runtime (context/prelude.js), runs the
// firmware from the Storage file .bootcde, and exposes the DeviceHandle used by tests.
import * as fs from "fs";
import * as path from "path";
import * as vm from "vm";
import { performance } from "perf_hooks";
import { DeviceClock } from "./clock";
import { PinBank } from "./pins";
import { Dht11Model, DhtFaults, DhtReading } from "./dht11";
import { SimStorage } from "./storage";
import { WifiModel } from "./wifi";
import { NetModel, Resolver } from "./net";
import { hash, pbkdf2 } from "./crypto";
import { Baseline, BOOT_VARS, codeVars, estimateVars, snapshotBaseline } from "./memory";
import { BoardName, BoardProfile, PROFILES } from "./profiles";
import { checkBundleSyntax } from "./syntax";
import type { DeviceHandle, StartOptions } from "./index";

const PRELUDE_SRC = fs.readFileSync(path.join(__dirname, "context", "prelude.js"), "utf8");
export const BOOT_FILE = ".bootcde";
// process.memory() called by the firmware reuses the heap estimate for this long (host ms): the walk
// of the context costs ~1 ms and the firmware asks on every report. handle.memory() is always fresh
// (and refreshes what process.memory() sees); the cache belongs to one boot, so a reboot starts afresh.
export const MEMORY_CACHE_MS = 5000;

let macSeq = 0x1a2b00;
interface Dispatch {
  fire(key: string): void;
  edges(list: string): void;
  wifiEvent(ev: string, details: string): void;
  wifiCallback(key: string, err: string, details?: string): void;
  sock(sid: number, ev: string, arg?: string): void;
  emitE(ev: string): void;
  run(code: string, name: string): void;
  report(e: any): void;
  internals(): any;
  counts(): string;
}

interface Boot {
  n: number;
  alive: boolean;
  ctx: vm.Context;
  D: Dispatch;
  timers: Map<string, NodeJS.Timeout>;
  pulses: Set<NodeJS.Timeout>;
  net: NetModel;
  baseline: Baseline | null;
  global: any;
  codeCost: number;
  /** last heap estimate and when (host ms), for process.memory() from inside the firmware */
  heapAt: number;
  heap: number;
}

export class Device implements DeviceHandle {
  readonly name: string;
  readonly board: BoardName;
  readonly profile: BoardProfile;
  readonly logs: string[] = [];
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  bootCount = 0;
  telnet: { mode: string } = { mode: "on" };
  private listeners = new Set<(line: string) => void>();
  private clockModel = new DeviceClock();
  private bank: PinBank;
  private dhtModel: Dht11Model;
  private store: SimStorage;
  private wifi: WifiModel;
  private boot: Boot | null = null;
  private stopped = false;
  private resetReason = "Power On";
  private echo: boolean;
  private resolver: Resolver;
  private rebooting: Promise<void> | null = null;

  constructor(private opts: StartOptions & Record<string, any>) {
    this.board = opts.board ?? "esp8266";
    this.profile = PROFILES[this.board];
    if (!this.profile) throw new Error(`unknown board "${opts.board}" (use "esp8266" or "esp32")`);
    this.name = opts.name ?? this.board;
    this.echo = !!opts.console;
    const valid = (p: number) => this.profile.pins.includes(p) || (this.profile.hasA0 && p === 17);
    this.bank = new PinBank(valid, () => DeviceClock.hostMs(), () => this.clockModel.nowMs() / 1000);
    this.store = new SimStorage(opts.storageDir, this.profile.storageBytes);
    const ap = { ssid: opts.wifi?.ssid ?? "lab", password: opts.wifi?.password ?? "labpass", ip: opts.wifi?.ip ?? "192.168.4.23" };
    this.wifi = new WifiModel(ap, opts.storageDir, opts.clockSkewSeconds ?? 0, opts.sntpDelayMs ?? 50, !!opts.wifiAutoReconnect, macSeq++);
    const cfg: any = opts.config;
    const dhtPin = opts.dhtPin ?? (cfg && typeof cfg.dhtPin === "number" ? cfg.dhtPin : 5);
    const reading = opts.dht === undefined ? { temperature: 22, humidity: 45 } : opts.dht;
    this.dhtModel = new Dht11Model(dhtPin, this.bank, reading, () => DeviceClock.hostMs(), opts.dhtWarmupMs ?? 1000);
    const hosts: Record<string, string> = opts.hosts ?? {};
    const userResolve: Resolver | undefined = opts.resolve;
    this.resolver = (host, port) => {
      if (userResolve) return userResolve(host, port);
      return { host: hosts[host] ?? host, port };
    };
    this.bank.deliver = (edges) => {
      const b = this.boot;
      if (!b || !b.alive) return;
      b.D.edges(edges.map((e) => e.pin + "," + e.level + "," + e.t.toFixed(6)).join(";"));
    };
  }

  // ------------------------------------------------------------------ lifecycle
  async start(): Promise<void> {
    const bundlePath = this.opts.bundlePath ?? path.resolve(__dirname, "..", "..", "dist", "firmware.js");
    if (!fs.existsSync(bundlePath)) throw new Error(`firmware bundle not found: ${bundlePath} (run npm run build first)`);
    const code = fs.readFileSync(bundlePath).toString("latin1");
    const { CONFIG_FILE } = require("../../firmware/config/config") as { CONFIG_FILE: string };
    if (this.opts.config !== undefined) {
      // the same bytes `npm run flash` writes (non-ASCII values as escaped UTF-8 bytes)
      const { configFileText } = require("../../scripts/device-config") as { configFileText: (c: unknown) => string };
      const r = this.store.write(CONFIG_FILE, configFileText(this.opts.config));
      if (r !== true) throw new Error(`could not write ${CONFIG_FILE} to Storage: ${r === false ? "Storage full" : r}`);
    }
    // "Flash" the bundle like the Espruino CLI with save-on-send: Storage file .bootcde.
    const w = this.store.write(BOOT_FILE, code);
    if (w !== true) throw new Error(`could not write the bundle to Storage (${code.length} bytes): ${w === false ? "Storage full" : w}`);
    this.bootNow();
  }

  private bootNow(): void {
    this.bootCount++;
    this.clockModel.reset();
    const n = this.bootCount;
    const timers = new Map<string, NodeJS.Timeout>();
    const pulses = new Set<NodeJS.Timeout>();
    const ctx = vm.createContext({}, { name: `${this.name} boot ${n}`, codeGeneration: { strings: true, wasm: false } });
    const CtxError = vm.runInContext("Error", ctx);
    const boot: Boot = { n, alive: true, ctx, D: null as any, timers, pulses, net: null as any, baseline: null, global: null, codeCost: 0, heapAt: -Infinity, heap: 0 };
    const net = new NetModel(
      { event: (sid, ev, arg) => boot.alive && boot.D.sock(sid, ev, arg) },
      this.profile.mss,
      this.resolver,
      () => this.wifi.station === "connected",
    );
    boot.net = net;
    const self = this;
    const guard = <T extends (...a: any[]) => any>(fn: T, dflt?: any) =>
      ((...a: any[]) => {
        if (!boot.alive) return dflt;
        try {
          return fn(...a);
        } catch (e: any) {
          throw new CtxError(e && e.message ? e.message : String(e));
        }
      }) as T;
    const N = {
      log: guard((s: string) => self.emitLines(s)),
      uncaught: guard((line: string, stack: string) => {
        self.errors.push(stack || line);
        self.emitLines(line);
      }),
      now: guard(() => self.clockModel.nowMs(), 0),
      setTime: guard((s: number) => self.clockModel.setSeconds(s)),
      schedule: guard((key: string, ms: number) => {
        const old = timers.get(key);
        if (old) clearTimeout(old);
        const t = setTimeout(() => {
          timers.delete(key);
          if (boot.alive) boot.D.fire(key);
        }, Math.max(0, ms));
        timers.set(key, t);
      }),
      unschedule: guard((key: string) => {
        const old = timers.get(key);
        if (old) clearTimeout(old);
        timers.delete(key);
      }),
      pinCount: () => Math.max(...this.profile.pins) + 1,
      pinValid: (p: number) => this.profile.pins.includes(p) || (this.profile.hasA0 && p === 17),
      pinWrite: guard((p: number, v: number) => self.bank.write(p, v)),
      pinRead: guard((p: number, changeMode: boolean) => self.bank.read(p, changeMode), 0),
      pinMode: guard((p: number, m: string, forced: boolean) => self.bank.setMode(p, m, forced)),
      pinGetMode: guard((p: number) => self.bank.getMode(p), "input"),
      watch: guard((p: number, on: boolean) => self.bank.setWatched(p, on)),
      pulse: guard((p: number, v: number, times: string) => self.pulse(boot, p, v, times.split(",").map(Number))),
      stWrite: guard((name: string, data: string, offset: number, size: number) => self.store.write(name, data, offset, size), false),
      stRead: guard((name: string) => self.store.read(name)),
      stErase: guard((name: string) => self.store.erase(name)),
      stEraseAll: guard(() => self.store.eraseAll()),
      stList: guard(() => JSON.stringify(self.store.list()), "[]"),
      stFree: guard(() => self.store.getFree(), 0),
      stStats: guard(() => JSON.stringify(self.store.stats()), "{}"),
      stCompact: guard(() => self.store.compact()),
      wifiConnect: guard((ssid: string, pass: string, key: string) => self.wifi.connect(ssid, pass, key)),
      wifiDisconnect: guard((key: string) => self.wifi.disconnect(key)),
      wifiStatus: guard(() => JSON.stringify(self.wifi.getStatus()), "{}"),
      wifiIP: guard(() => JSON.stringify(self.wifi.getIP()), "{}"),
      wifiDetails: guard(() => JSON.stringify(self.wifi.getDetails()), "{}"),
      wifiHostname: guard((h: string) => {
        self.wifi.hostname = h;
      }),
      wifiGetHostname: guard(() => self.wifi.hostname, ""),
      wifiSave: guard((what: string) => self.wifi.save(what)),
      wifiSNTP: guard((server: string, zone: string) => self.wifi.setSNTP(server, zone)),
      wifiScan: guard(
        () => JSON.stringify(self.wifi.apUp ? [{ ssid: self.wifi.ap.ssid, authMode: "wpa2", rssi: -55, channel: 6, isHidden: false }] : []),
        "[]",
      ),
      sockConnect: guard((sid: number, host: string, port: number, tls: boolean, extra: string) => net.connect(sid, host, port, tls, extra)),
      sockWrite: guard((sid: number, data: string) => net.write(sid, data), false),
      sockEnd: guard((sid: number) => net.end(sid)),
      hash: guard((alg: string, data: string) => {
        if (!self.profile.hashes.includes(alg)) throw new Error(`${alg} is not available on ${self.profile.boardName}`);
        return hash(alg, data);
      }),
      pbkdf2: guard((p: string, s: string, it: number, ks: number, h: string) => pbkdf2(p, s, it, ks, h)),
      telnet: guard((o: string) => {
        try {
          const v = JSON.parse(o);
          if (v && typeof v.mode === "string") self.telnet = { mode: v.mode };
        } catch {
          /* ignore */
        }
      }),
      resetInfo: guard(() => JSON.stringify({ code: self.resetReason === "Power On" ? 0 : 4, reason: self.resetReason, exccause: 0, epc1: 0, epc2: 0, epc3: 0, excvaddr: 0, depc: 0 }), "{}"),
      espState: guard(
        () => JSON.stringify({ sdkVersion: self.profile.family === "ESP8266" ? "2.2.1(cfd48f3)" : "v3.3", cpuFrequency: 160, freeHeap: Math.max(0, 12000 - net.count * 3000), maxCon: 10, flashMap: "4MB:1024/1024", flashKB: 4096, flashChip: "0xe0 0x4016" }),
        "{}",
      ),
      memory: guard(() => JSON.stringify(self.memoryOf(boot, MEMORY_CACHE_MS)), "{}"),
      sizeOf: guard((v: any) => estimateVars([v], boot.baseline), 0),
      oomOnSocketData: guard(() => {
        if (!self.oomOnSocketData) return false;
        self.oomOnSocketData = false;
        for (const f of ["CALLBACK", "LOW_MEMORY", "MEMORY"]) self.bank.errorFlags.add(f);
        self.emitLines("OUT OF MEMORY\nERROR: Error processing Socket data handler - removing it.\nExecution Interrupted during event processing.");
        return true;
      }, false),
      errorFlags: guard(() => {
        const f = [...self.bank.errorFlags];
        self.bank.errorFlags.clear();
        return JSON.stringify(f);
      }, "[]"),
      reboot: guard(() => self.requestReboot("Software Reset")),
      runScript: (code: string, name: string) => {
        const script = new vm.Script(code, { filename: name });
        script.runInContext(ctx);
      },
    };
    const P = {
      boardName: this.profile.boardName,
      family: this.profile.family,
      version: this.profile.version,
      modules: this.profile.modules,
      tls: this.profile.tls,
      hashes: this.profile.hashes,
      pbkdf2: this.profile.pbkdf2,
      hasA0: this.profile.hasA0,
      nodemcu: this.profile.nodemcu,
    };
    const preludeFn = vm.runInContext(PRELUDE_SRC, ctx, { filename: "espruino-runtime.js" });
    // Hand over plain copies: the context must not reach host objects through prototypes.
    const Pctx = vm.runInContext("(" + JSON.stringify(P) + ")", ctx);
    boot.D = preludeFn(N, Pctx);
    boot.global = vm.runInContext("globalThis", ctx);
    this.boot = boot;
    this.bank.resetForBoot();
    this.dhtModel.resetForBoot();
    this.wifi.boot({
      emit: (ev, details) => boot.alive && boot.D.wifiEvent(ev, JSON.stringify(details)),
      callback: (key, err, details) => boot.alive && boot.D.wifiCallback(key, err, details ? JSON.stringify(details) : undefined),
      onLinkDown: () => net.linkDown(),
      setClock: (s) => this.clockModel.setSeconds(s),
    });
    boot.baseline = snapshotBaseline([boot.global, boot.D.internals()]);
    const code = this.store.read(BOOT_FILE);
    if (code !== undefined) {
      boot.codeCost = codeVars(code);
      if (this.opts.syntaxCheck !== false) {
        const rep = checkBundleSyntax(code);
        for (const w of rep.warnings) if (!this.warnings.includes(w)) this.warnings.push(w);
        if (rep.fatal.length) {
          this.errors.push(...rep.fatal);
          this.emitLines(`Uncaught SyntaxError: ${rep.fatal[0]} (Espruino cannot parse this${rep.fatal.length > 1 ? `; ${rep.fatal.length - 1} more in errors` : ""})`);
          return;
        }
      }
      boot.D.run(code, BOOT_FILE);
      if (boot.alive) boot.D.emitE("init");
    }
  }

  private teardown(): void {
    const b = this.boot;
    if (!b) return;
    b.alive = false;
    for (const t of b.timers.values()) clearTimeout(t);
    b.timers.clear();
    for (const t of b.pulses) clearTimeout(t);
    b.pulses.clear();
    b.net.destroyAll();
    this.wifi.teardown();
    this.dhtModel.resetForBoot();
    this.boot = null;
  }

  private requestReboot(reason: string): void {
    const b = this.boot;
    if (!b || !b.alive || this.rebooting) return;
    // E.on('kill') runs first; then the chip resets: the rest of the running callback is inert.
    b.D.emitE("kill");
    b.alive = false;
    this.resetReason = reason;
    this.rebooting = new Promise<void>((resolve) => {
      setImmediate(() => {
        this.rebooting = null;
        if (this.stopped) return resolve();
        this.teardown();
        this.bootNow();
        resolve();
      });
    });
  }

  private pulse(boot: Boot, pin: number, v: number, times: number[]): void {
    // digitalPulse: the pin goes to v, then alternates at each time, and ends at !v.
    let level = v;
    this.bank.write(pin, level);
    let delay = 0;
    for (const ms of times) {
      delay += Math.max(0, ms);
      level = level ? 0 : 1;
      const target = level;
      const t = setTimeout(() => {
        boot.pulses.delete(t);
        if (boot.alive) this.bank.write(pin, target);
      }, delay);
      boot.pulses.add(t);
    }
  }

  // ------------------------------------------------------------------ output
  private emitLines(s: string): void {
    for (const line of String(s).split("\n")) {
      this.logs.push(line);
      if (this.logs.length > 50000) this.logs.splice(0, 10000);
      if (this.echo) process.stdout.write(`[${this.name}] ${line}\n`);
      for (const l of [...this.listeners]) {
        try {
          l(line);
        } catch {
          /* a test listener's error must not break the device */
        }
      }
    }
  }

  // ------------------------------------------------------------------ DeviceHandle
  on(ev: "log", cb: (line: string) => void): void {
    if (ev === "log") this.listeners.add(cb);
  }
  off(ev: "log", cb: (line: string) => void): void {
    if (ev === "log") this.listeners.delete(cb);
  }
  waitForLog(match: string | RegExp, timeoutMs = 5000): Promise<string> {
    const test = (l: string) => (typeof match === "string" ? l.includes(match) : match.test(l));
    const past = this.logs.find(test);
    if (past !== undefined) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const cb = (l: string) => {
        if (!test(l)) return;
        clearTimeout(t);
        this.off("log", cb);
        resolve(l);
      };
      const t = setTimeout(() => {
        this.off("log", cb);
        reject(new Error(`${this.name}: no log line matching ${String(match)} within ${timeoutMs} ms; last lines:\n  ` + this.logs.slice(-10).join("\n  ")));
      }, timeoutMs);
      this.on("log", cb);
    });
  }
  led(pin: number) {
    const s = this.bank.state(pin);
    return { level: s.level, history: s.history.slice() };
  }
  readonly pins = {
    read: (pin: number) => this.bank.state(pin).level,
    set: (pin: number, level: number) => this.bank.setExternal(pin, level ? 1 : 0),
    release: (pin: number) => this.bank.setExternal(pin, null),
    mode: (pin: number) => this.bank.getMode(pin),
  };
  readonly button = {
    press: async (pin: number, o: { holdMs?: number; bounce?: boolean } = {}) => {
      const hold = o.holdMs ?? 100;
      const bounce = o.bounce ?? false;
      const edges = (final: number) => {
        const t0 = this.clockModel.nowMs() / 1000;
        if (bounce) {
          const offs = [0, 0.0003, 0.0007, 0.0012, 0.002];
          offs.forEach((dt, i) => this.bank.setExternal(pin, i % 2 === 0 ? final : final ? 0 : 1, t0 + dt));
        } else this.bank.setExternal(pin, final, t0);
      };
      edges(0);
      await new Promise((r) => setTimeout(r, hold));
      edges(1);
      await new Promise((r) => setTimeout(r, 5));
    },
  };
  readonly dht = {
    set: (v: DhtReading | null) => {
      this.dhtModel.reading = v;
    },
    faults: (f: DhtFaults) => {
      this.dhtModel.faults = { ...f };
    },
    stats: () => ({ answers: this.dhtModel.answers, refused: this.dhtModel.refused, pin: this.dhtModel.pin }),
  };
  readonly storage = {
    list: () => this.store.list(),
    read: (name: string) => this.store.read(name),
    readJSON: (name: string) => {
      const s = this.store.read(name);
      return s === undefined ? undefined : JSON.parse(s);
    },
    write: (name: string, data: string) => {
      const r = this.store.write(name, data);
      if (r !== true) throw new Error(`Storage write of ${name} failed: ${r === false ? "Storage full" : r}`);
    },
    erase: (name: string) => this.store.erase(name),
    getFree: () => this.store.getFree(),
  };
  readonly faults = {
    wifiDown: () => this.wifi.down(),
    wifiUp: () => this.wifi.up(),
    resetSockets: () => this.boot?.net.resetAll(),
    stallSockets: (on: boolean) => this.boot?.net.stall(on),
    skewClock: (seconds: number) => this.clockModel.shift(seconds),
    setSntpSkew: (seconds: number) => {
      this.wifi.sntpSkewSeconds = seconds;
    },
    removeSensor: () => {
      this.dhtModel.reading = null;
    },
    outOfMemoryInSocketData: () => {
      this.oomOnSocketData = true;
    },
  };
  /** faults.outOfMemoryInSocketData: armed for the next socket data event */
  private oomOnSocketData = false;
  async reboot(): Promise<void> {
    if (this.stopped) throw new Error(`${this.name} is stopped`);
    if (this.rebooting) return this.rebooting;
    if (this.boot && this.boot.alive) this.requestReboot("Hardware Reset");
    if (this.rebooting) await this.rebooting;
  }
  clock(): number {
    return this.clockModel.nowMs() / 1000;
  }
  /** maxAgeMs 0: walk the context now (handle.memory(), exact); otherwise reuse an estimate that young. */
  private memoryOf(b: Boot, maxAgeMs = 0) {
    const now = performance.now();
    let heap = b.heap;
    if (!(maxAgeMs > 0 && now - b.heapAt <= maxAgeMs && now >= b.heapAt)) {
      heap = estimateVars([b.global, b.D.internals()], b.baseline);
      b.heap = heap;
      b.heapAt = now;
    }
    const sockBuf = Math.ceil(b.net.pendingBytes() / 12);
    const usage = BOOT_VARS + b.codeCost + heap + sockBuf;
    const total = this.profile.variables;
    return { free: Math.max(0, total - usage), usage, total, history: 0, gc: 0, gctime: 0, blocksize: 12, estimate: true, code: b.codeCost, heap, socketBuffers: sockBuf };
  }
  memory() {
    const b = this.boot;
    if (!b) return { usage: 0, total: this.profile.variables, free: this.profile.variables };
    return this.memoryOf(b);
  }
  stats() {
    const b = this.boot;
    if (!b || !b.alive) return { timers: 0, sockets: 0, watches: 0, listeners: 0 };
    const [timers, watches, , listeners] = b.D.counts().split(",").map(Number);
    return { timers, sockets: b.net.count, watches, listeners };
  }
  get wifiStatus() {
    return this.wifi.getStatus();
  }
  get netStats() {
    const b = this.boot;
    return { bytesSent: b?.net.bytesSent ?? 0, bytesReceived: b?.net.bytesReceived ?? 0 };
  }
  /** Run a snippet inside the device (tests and the CLI); returns a JSON-safe copy of the result. */
  eval(code: string): any {
    const b = this.boot;
    if (!b || !b.alive) throw new Error(`${this.name} is not running`);
    const r = vm.runInContext(code, b.ctx);
    return r === undefined ? undefined : JSON.parse(vm.runInContext("JSON.stringify", b.ctx)(r) ?? "null");
  }
  async stop(): Promise<void> {
    if (this.stopped) return;
    if (this.rebooting) await this.rebooting;
    this.stopped = true;
    this.teardown();
    this.bank.dispose();
    this.dhtModel.dispose();
    this.wifi.teardown();
  }
}
