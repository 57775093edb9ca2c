// The lab: a backend (the local AWS IoT stand-in, or a real AWS IoT endpoint), N simulated boards running
// dist/firmware.js, a live model of each device (what the web view and `npm run lab -- status` show) and the
// controls (desired state, button, sensor, WiFi, reboot, jobs). See docs/getting-started.md.
import { EventEmitter } from "events";
import * as fs from "fs";
import * as path from "path";
import { startDevice, DeviceHandle, BoardName } from "../board";
import { shadowDo } from "../../firmware/shadow/shadow";
import type { DeviceConfig } from "../../firmware/config/config";
import { Backend, ExecutionView, awsBackend, localBackend } from "./backend";

export const ROOT = path.resolve(__dirname, "..", "..");
// the device's own check of a desired value: null when valid, else the problem in plain words
const checkDesired = (k: string, v: unknown): string | null => shadowDo("c", k, v);
export const DEFAULT_DATA_DIR = path.join(ROOT, ".lab-data");
export const LOG_LINES = 15;
export const HISTORY_POINTS = 60;
export const JOB_OPERATIONS = ["blink", "reboot", "set-config"];

export interface LabOptions {
  devices?: number; // default 3
  board?: BoardName; // default esp8266
  group?: string; // default "sensors"
  dataDir?: string; // default <repo>/.lab-data
  bundlePath?: string; // default <repo>/dist/firmware.js
  refresh?: number; // report interval written to each device's iot.json, seconds (default 5)
  cloudPort?: number; // stand-in port (default 0 = ephemeral)
  aws?: DeviceConfig; // real AWS IoT: this config (from .env) instead of the stand-in
  fresh?: boolean; // wipe dataDir first
  sensorDrift?: boolean; // vary each simulated DHT11's reading slowly (default true)
  log?: (line: string) => void; // lab messages
  deviceLog?: (name: string, line: string) => void; // every device console line
}

export interface DeviceView {
  name: string;
  board: BoardName;
  online: boolean;
  wifi: boolean; // the access point is up for this device
  sensor: boolean; // a DHT11 is connected
  led: boolean; // lit
  ledPin: number;
  reported: Record<string, any>;
  desired: Record<string, any>;
  delta: Record<string, any> | null;
  version: number | null;
  job: ExecutionView | null;
  logs: string[];
  history: Array<[number, number | null, number | null]>; // [ms, temperature, humidity]
  bootCount: number;
}

export interface LabInfo {
  mode: "local" | "aws";
  endpoint: string;
  region: string;
  board: BoardName;
  group: string;
  devices: string[];
  dataDir: string;
}

export class LabError extends Error {
  constructor(message: string, readonly status = 400) {
    super(message);
  }
}

interface Slot {
  name: string;
  handle: DeviceHandle;
  cfg: DeviceConfig;
  online: boolean;
  wifi: boolean;
  sensor: boolean;
  reading: { temperature: number; humidity: number };
  base: { temperature: number; humidity: number };
  logs: string[];
  history: Array<[number, number | null, number | null]>;
  lastUptime: any;
  shadow: any;
  job: ExecutionView | null;
  sent: string; // last view pushed (JSON)
}

export class Lab extends EventEmitter {
  readonly info: LabInfo;
  readonly backend: Backend;
  private slots = new Map<string, Slot>();
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private jobSeq = 0;
  private polling = false;

  private constructor(info: LabInfo, backend: Backend) {
    super();
    this.info = info;
    this.backend = backend;
  }

  static async start(o: LabOptions = {}): Promise<Lab> {
    const n = o.devices ?? 3;
    if (!Number.isInteger(n) || n < 1 || n > 2000) throw new LabError("--devices must be a whole number from 1 to 2000");
    const board = o.board ?? "esp8266";
    if (board !== "esp8266" && board !== "esp32") throw new LabError(`--board must be esp8266 or esp32, not "${board}"`);
    const group = o.group ?? "sensors";
    if (!/^[a-zA-Z0-9:_-]{1,128}$/.test(group)) throw new LabError(`--group "${group}" is not a valid thing group name (letters, digits, : _ -)`);
    const dataDir = path.resolve(o.dataDir ?? DEFAULT_DATA_DIR);
    const bundlePath = o.bundlePath ?? path.join(ROOT, "dist", "firmware.js");
    if (!fs.existsSync(bundlePath)) throw new LabError(`firmware bundle not found: ${bundlePath} (run npm run build)`);
    if (o.fresh) fs.rmSync(dataDir, { recursive: true, force: true });
    fs.mkdirSync(dataDir, { recursive: true });
    // every board runs the same snapshot of the bundle, even if dist/ is rebuilt while the lab runs
    const snapshot = path.join(dataDir, "firmware.js");
    if (path.resolve(bundlePath) !== snapshot) fs.copyFileSync(bundlePath, snapshot);
    const log = o.log ?? (() => undefined);
    let names: string[];
    let backend: Backend;
    if (o.aws) {
      if (n !== 1 && o.devices !== undefined) throw new LabError("with --aws the lab runs one device: the thing and keys in .env (IOT_THING_NAME)");
      names = [o.aws.thing];
      backend = await awsBackend(o.aws, (l) => log("aws: " + l));
    } else {
      names = [];
      for (let i = 1; i <= n; i++) names.push("dev-" + i);
      backend = await localBackend(dataDir, { port: o.cloudPort });
    }
    const lab = new Lab({ mode: backend.kind, endpoint: backend.endpoint, region: backend.region, board, group, devices: names, dataDir }, backend);
    try {
      await lab.boot(names, board, snapshot, o);
    } catch (e) {
      await lab.stop();
      throw e;
    }
    return lab;
  }

  private async boot(names: string[], board: BoardName, bundlePath: string, o: LabOptions): Promise<void> {
    const b = this.backend;
    b.onPresence((thing, online) => {
      const s = this.slots.get(thing);
      if (s) s.online = online;
    });
    const extra: Partial<DeviceConfig> = o.refresh !== undefined ? { refresh: o.refresh } : {};
    const cfgs: DeviceConfig[] = [];
    for (const name of names) cfgs.push(await b.deviceConfig(name, extra));
    await b.createGroup(this.info.group, names);
    // start the boards a few at a time (each one signs a URL with JS SHA-256 on its first connection)
    const batch = 25;
    for (let i = 0; i < names.length; i += batch) {
      await Promise.all(
        names.slice(i, i + batch).map(async (name, k) => {
          const idx = i + k;
          const cfg = cfgs[idx];
          const base = { temperature: 21 + ((idx * 1.7) % 6), humidity: 40 + ((idx * 7) % 25) };
          const handle = await startDevice({
            board,
            bundlePath,
            storageDir: path.join(this.info.dataDir, "devices", name),
            config: cfg,
            wifi: { ssid: cfg.ssid, password: cfg.pass || "", ip: "192.168.4." + (10 + (idx % 240)) },
            wifiAutoReconnect: true,
            dht: { ...base },
            name,
          });
          const slot: Slot = {
            name,
            handle,
            cfg,
            online: false,
            wifi: true,
            sensor: true,
            reading: { ...base },
            base,
            logs: [],
            history: [],
            lastUptime: undefined,
            shadow: undefined,
            job: null,
            sent: "",
          };
          for (const line of handle.logs) this.onLog(slot, line, o); // lines of the first boot, before now
          handle.on("log", (line) => this.onLog(slot, line, o));
          this.slots.set(name, slot);
        }),
      );
    }
    // keep the devices in name order (they started in parallel)
    const started = this.slots;
    this.slots = new Map(names.map((n) => [n, started.get(n)!]));
    // the view is refreshed every 150 ms for a few devices, less often for a big fleet
    this.timers.push(setInterval(() => void this.poll(), Math.max(b.pollMs, names.length * 5)));
    if (o.sensorDrift !== false) this.timers.push(setInterval(() => this.drift(), 2000));
  }

  private onLog(slot: Slot, line: string, o: LabOptions): void {
    const t = new Date().toISOString().slice(11, 19);
    slot.logs.push(t + " " + line);
    if (slot.logs.length > LOG_LINES) slot.logs.splice(0, slot.logs.length - LOG_LINES);
    if (this.backend.kind === "aws") {
      if (line.includes("connected to AWS IoT")) slot.online = true;
      else if (line.includes("connection lost") || line.includes("wifi lost")) slot.online = false;
    }
    if (o.deviceLog) o.deviceLog(slot.name, line);
    this.emit("log", slot.name, line);
  }

  // slow sinusoidal drift + noise, so the charts have something to show
  private drift(): void {
    const t = Date.now() / 1000;
    let i = 0;
    for (const s of this.slots.values()) {
      i++;
      if (!s.sensor) continue;
      const temp = s.base.temperature + 1.5 * Math.sin(t / 40 + i) + (Math.random() - 0.5) * 0.4;
      const hum = s.base.humidity + 4 * Math.sin(t / 55 + 2 * i) + (Math.random() - 0.5) * 1.2;
      s.reading = { temperature: Math.round(temp * 10) / 10, humidity: Math.max(5, Math.min(95, Math.round(hum))) };
      s.handle.dht.set(s.reading);
    }
  }

  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      for (const s of this.slots.values()) {
        try {
          s.shadow = await this.backend.shadow(s.name);
          const ex = await this.backend.executions(s.name);
          s.job = ex.length ? ex[ex.length - 1] : null;
        } catch {
          /* the backend reports its own problems */
        }
        const up = s.shadow && s.shadow.state && s.shadow.state.reported ? s.shadow.state.reported.uptime : undefined;
        if (up !== undefined && up !== s.lastUptime) {
          s.lastUptime = up;
          const r = s.shadow.state.reported;
          s.history.push([Date.now(), typeof r.temperature === "number" ? r.temperature : null, typeof r.humidity === "number" ? r.humidity : null]);
          if (s.history.length > HISTORY_POINTS) s.history.splice(0, s.history.length - HISTORY_POINTS);
        }
        const v = this.view(s);
        const j = JSON.stringify(v);
        if (j !== s.sent) {
          s.sent = j;
          this.emit("device", v);
        }
      }
    } finally {
      this.polling = false;
    }
  }

  private view(s: Slot): DeviceView {
    const st = (s.shadow && s.shadow.state) || {};
    const ledPin = typeof s.cfg.ledPin === "number" ? s.cfg.ledPin : 2;
    const low = s.cfg.ledLow !== false;
    let led = false;
    try {
      led = s.handle.led(ledPin).level === (low ? 0 : 1);
    } catch {
      /* stopped */
    }
    return {
      name: s.name,
      board: s.handle.board,
      online: s.online,
      wifi: s.wifi,
      sensor: s.sensor,
      led,
      ledPin,
      reported: st.reported || {},
      desired: st.desired || {},
      delta: st.delta || null,
      version: s.shadow && typeof s.shadow.version === "number" ? s.shadow.version : null,
      job: s.job,
      logs: s.logs.slice(),
      history: s.history.slice(),
      bootCount: s.handle.bootCount,
    };
  }

  // ------------------------------------------------------------------ queries
  names(): string[] {
    return [...this.slots.keys()];
  }
  device(name: string): DeviceHandle {
    return this.slot(name).handle;
  }
  views(): DeviceView[] {
    return [...this.slots.values()].map((s) => this.view(s));
  }
  viewOf(name: string): DeviceView {
    return this.view(this.slot(name));
  }
  private slot(name: string): Slot {
    const s = this.slots.get(String(name));
    if (!s) throw new LabError(`no device named "${name}" (devices: ${this.names().join(", ")})`, 404);
    return s;
  }

  // ------------------------------------------------------------------ controls
  /** Sets desired state keys (on: boolean, refresh: 1..86400 s; null removes a key). Returns the shadow version. */
  async desired(name: string, desired: Record<string, unknown>): Promise<{ version?: number }> {
    this.slot(name);
    if (!desired || typeof desired !== "object" || Array.isArray(desired) || !Object.keys(desired).length) {
      throw new LabError("give at least one desired key, e.g. on=true or refresh=10");
    }
    const problems: string[] = [];
    for (const k of Object.keys(desired)) {
      if (desired[k] === null) continue;
      const e = checkDesired(k, desired[k]);
      if (e) problems.push(e !== "unknown key" ? `${k} ${e} (got ${JSON.stringify(desired[k])})` : `"${k}" is not a setting the device knows (on, refresh, reboot)`);
    }
    if (problems.length) throw new LabError(problems.join("; "));
    let version: number | undefined;
    try {
      version = await this.backend.updateDesired(name, desired);
    } catch (e: any) {
      throw new LabError("the shadow update failed: " + (e && e.message ? e.message : String(e)), 502);
    }
    await this.poll();
    return { version };
  }

  async press(name: string): Promise<void> {
    const s = this.slot(name);
    await s.handle.button.press(typeof s.cfg.btnPin === "number" ? s.cfg.btnPin : 0, { holdMs: 120 });
  }

  sensor(name: string, on: boolean): void {
    const s = this.slot(name);
    s.sensor = !!on;
    if (on) s.handle.dht.set(s.reading);
    else s.handle.faults.removeSensor();
    void this.poll();
  }

  wifi(name: string, on: boolean): void {
    const s = this.slot(name);
    s.wifi = !!on;
    if (on) s.handle.faults.wifiUp();
    else s.handle.faults.wifiDown();
    void this.poll();
  }

  async reboot(name: string): Promise<void> {
    const s = this.slot(name);
    await s.handle.reboot();
  }

  /** Creates a job for one device or the lab's group. Returns the job id. */
  async job(target: { device?: string; group?: string }, operation: string, params: Record<string, unknown> = {}): Promise<{ jobId: string; targets: string[] }> {
    if (!JOB_OPERATIONS.includes(operation)) throw new LabError(`unknown job operation "${operation}" (use ${JOB_OPERATIONS.join(", ")})`);
    const doc: Record<string, unknown> = { operation };
    if (operation === "blink") {
      const c = params.count === undefined ? 5 : Number(params.count);
      if (!Number.isInteger(c) || c < 1 || c > 20) throw new LabError("blink count must be a whole number from 1 to 20");
      doc.count = c;
    } else if (operation === "set-config") {
      for (const k of Object.keys(params)) {
        const e = checkDesired(k, params[k]);
        if (e || k === "reboot") throw new LabError(k === "on" || k === "refresh" ? `set-config ${k} ${e} (got ${JSON.stringify(params[k])})` : `set-config takes on and refresh, not "${k}"`);
        doc[k] = params[k];
      }
      if (Object.keys(doc).length === 1) throw new LabError("set-config needs on=true|false and/or refresh=SECONDS");
    }
    let targets: string[];
    let groupTargets = false;
    if (target.group !== undefined) {
      if (this.backend.kind === "local" && target.group !== this.info.group) throw new LabError(`no group named "${target.group}" (this lab's group is "${this.info.group}")`, 404);
      targets = [target.group];
      groupTargets = true;
    } else if (target.device !== undefined) {
      this.slot(target.device);
      targets = [target.device];
    } else throw new LabError("say which device (a name) or --group NAME the job is for");
    const jobId = "lab-" + operation + "-" + Date.now().toString(36) + "-" + ++this.jobSeq;
    try {
      await this.backend.createJob({ jobId, targets, document: doc, groupTargets });
    } catch (e: any) {
      throw new LabError("the job was not created: " + (e && e.message ? e.message : String(e)), this.backend.kind === "aws" ? 502 : 400);
    }
    void this.poll();
    return { jobId, targets };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const s of this.slots.values()) {
      try {
        await s.handle.stop();
      } catch {
        /* already stopped */
      }
    }
    await this.backend.stop();
    this.removeAllListeners();
  }
}

export function startLab(o: LabOptions = {}): Promise<Lab> {
  return Lab.start(o);
}
