// Soak: `npm run soak -- --cycles N [--board esp8266|esp32] [--every K] [--json]`
// Runs the firmware bundle (built fresh with buildBundle) in the board simulator against the local
// stand-in and forces N reconnect cycles (TCP resets, and a WiFi drop every 4th cycle), each
// followed by one shadow change the device must apply and report (N reports). After every cycle,
// once the reported state has converged, it samples the device context's stats() (timers, sockets,
// watches, listeners) and memory() estimate. It prints the figures and their growth, and exits 1
// when anything grows (2 when a cycle fails to converge). Loopback only; temp dirs are removed.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildBundle } from "./build";
import { startCloud } from "../sim/cloud";
import { startDevice, DeviceHandle } from "../sim/board";

export interface SoakOptions {
  cycles: number;
  board?: "esp8266" | "esp32";
  wifiEvery?: number; // a WiFi drop instead of a TCP reset every Kth cycle (default 4)
  warmup?: number; // cycles before the baseline window (default 5)
  window?: number; // samples compared at the start and the end (default 10)
  log?: (line: string) => void;
  bundlePath?: string;
  cycleTimeoutMs?: number;
}

export interface Sample {
  cycle: number;
  timers: number;
  sockets: number;
  watches: number;
  listeners: number;
  vars: number; // memory().usage (estimate, JS variables)
  ms: number; // duration of the cycle
}

export interface SoakResult {
  cycles: number;
  samples: Sample[];
  baseline: Record<string, number>; // per metric: max over the baseline window (vars: median)
  final: Record<string, number>; // per metric: min over the last window (vars: median)
  growth: Record<string, number>; // final - baseline (positive = grew)
  grew: string[]; // metrics that grew
  reconnects: number;
  reports: number;
  wallMs: number;
  msPerCycle: number;
  errors: string[];
}

const METRICS = ["timers", "sockets", "watches", "listeners", "vars"] as const;
const VARS_SLACK = 8; // memory() is an estimate: numbers and strings of one report vary a little

function median(a: number[]): number {
  const s = a.slice().sort((x, y) => x - y);
  return s.length ? s[s.length >> 1] : 0;
}

async function until(cond: () => boolean, what: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log || ((l: string) => console.log(l));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "soak-"));
  const every = o.wifiEvery ?? 4;
  const warmup = Math.min(o.warmup ?? 5, Math.max(0, o.cycles - 2));
  const win = Math.max(1, Math.min(o.window ?? 10, Math.floor((o.cycles - warmup) / 2)));
  const cycleMs = o.cycleTimeoutMs ?? 30000;
  const t0 = Date.now();
  let bundle = o.bundlePath;
  if (!bundle) {
    bundle = path.join(tmp, "firmware.js");
    await buildBundle({ entry: "firmware/main.ts", outfile: bundle, sourcemap: false });
  }
  const cloud = await startCloud({ dataDir: path.join(tmp, "cloud"), port: 0, keepAliveMinSeconds: 1 } as any);
  let dev: DeviceHandle | null = null;
  const samples: Sample[] = [];
  let reports = 0;
  try {
    const thing = "soak-1";
    const cr = await cloud.createThing(thing);
    const i = cloud.endpoint.lastIndexOf(":");
    const config = {
      ssid: "lab", pass: "labpass", host: cloud.endpoint.substr(0, i), port: +cloud.endpoint.substr(i + 1), region: cloud.region,
      akid: cr.accessKeyId, secret: cr.secretAccessKey, thing, refresh: 60, boMin: 20, boMax: 200, getTo: 2,
    };
    dev = await startDevice({ board: o.board || "esp8266", storageDir: path.join(tmp, "dev"), bundlePath: bundle, config, wifi: { ssid: "lab", password: "labpass" }, name: thing });
    const d = dev;
    let conns = 0;
    d.on("log", (l) => {
      if (l.includes("connected to AWS IoT")) conns++;
    });
    const rep = () => {
      const s = cloud.shadows.get(thing);
      return (s && s.state && s.state.reported) || {};
    };
    await until(() => conns >= 1, "the first connection", cycleMs);
    for (let c = 1; c <= o.cycles; c++) {
      const start = Date.now();
      const n = conns;
      if (c % every === 0) {
        d.faults.wifiDown();
        d.faults.wifiUp();
      } else d.faults.resetSockets();
      await until(() => conns > n, "reconnection in cycle " + c, cycleMs);
      const on = c % 2 === 0;
      await cloud.shadows.update(thing, { state: { desired: { on } } });
      await until(() => {
        const r = rep();
        const s = cloud.shadows.get(thing);
        return r.on === on && !(s.state.delta && "on" in s.state.delta) && d.led(2).level === (on ? 0 : 1);
      }, "the report in cycle " + c, cycleMs);
      reports++;
      const st = d.stats();
      const m = d.memory();
      samples.push({ cycle: c, timers: st.timers, sockets: st.sockets, watches: st.watches, listeners: st.listeners, vars: m.usage, ms: Date.now() - start });
      if (c === 1 || c % Math.max(1, Math.round(o.cycles / 10)) === 0 || c === o.cycles) {
        log(`cycle ${c}/${o.cycles}: timers ${st.timers} sockets ${st.sockets} watches ${st.watches} listeners ${st.listeners} vars ${m.usage} (${Date.now() - t0} ms)`);
      }
    }
    const base = samples.slice(warmup, warmup + win);
    const last = samples.slice(-win);
    const baseline: Record<string, number> = {};
    const final: Record<string, number> = {};
    const growth: Record<string, number> = {};
    const grew: string[] = [];
    for (const k of METRICS) {
      baseline[k] = k === "vars" ? median(base.map((s) => s[k])) : Math.max(...base.map((s) => s[k]));
      final[k] = k === "vars" ? median(last.map((s) => s[k])) : Math.min(...last.map((s) => s[k]));
      growth[k] = final[k] - baseline[k];
      if (growth[k] > (k === "vars" ? VARS_SLACK : 0)) grew.push(k);
    }
    const wallMs = Date.now() - t0;
    return {
      cycles: o.cycles, samples, baseline, final, growth, grew, reconnects: conns - 1, reports, wallMs,
      msPerCycle: Math.round(samples.reduce((a, s) => a + s.ms, 0) / Math.max(1, samples.length)),
      errors: d.errors.slice(),
    };
  } finally {
    if (dev) await dev.stop();
    await cloud.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export function printSoak(r: SoakResult, log: (l: string) => void = (l) => console.log(l)): void {
  log(`soak: ${r.cycles} cycles, ${r.reconnects} reconnects, ${r.reports} reports, ${(r.wallMs / 1000).toFixed(1)} s (${r.msPerCycle} ms per cycle)`);
  for (const k of METRICS) {
    const all = r.samples.map((s) => s[k]);
    log(`  ${k.padEnd(9)} baseline ${r.baseline[k]}  final ${r.final[k]}  growth ${r.growth[k] > 0 ? "+" : ""}${r.growth[k]}  (min ${Math.min(...all)}, max ${Math.max(...all)})`);
  }
  if (r.errors.length) log("  device errors: " + r.errors.length + "\n    " + r.errors.slice(0, 5).join("\n    "));
  log(r.grew.length ? "GROWTH in: " + r.grew.join(", ") : "no growth");
}

function arg(name: string, dflt?: string): string | undefined {
  const i = process.argv.indexOf("--" + name);
  if (i < 0) return dflt;
  return process.argv[i + 1];
}

if (require.main === module) {
  const cycles = Number(arg("cycles", "100"));
  const board = (arg("board", "esp8266") as "esp8266" | "esp32");
  if (!(cycles >= 1) || Math.floor(cycles) !== cycles) {
    console.error("--cycles must be a whole number >= 1");
    process.exit(2);
  }
  if (board !== "esp8266" && board !== "esp32") {
    console.error("--board must be esp8266 or esp32");
    process.exit(2);
  }
  runSoak({ cycles, board, wifiEvery: Number(arg("every", "4")) })
    .then((r) => {
      printSoak(r);
      if (process.argv.includes("--json")) console.log(JSON.stringify({ ...r, samples: undefined }));
      process.exit(r.grew.length || r.errors.length ? 1 : 0);
    })
    .catch((e) => {
      console.error("soak failed: " + (e && e.message ? e.message : e));
      process.exit(2);
    });
}
