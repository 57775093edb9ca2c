// npm run bench:fleet -- --devices N [--seconds S] [--board esp8266|esp32] [--changes R] [--data-dir DIR] [--durable] [--json]
// N simulated boards (dist/firmware.js) against the local AWS IoT stand-in, all in this process, each reporting
// once a second (refresh = 1). While they run, desired changes ({"on": true|false}) are sent through the
// stand-in's shadow API (R per second in all, default N/5: each device about every 5 s) and the round trip
// is timed from the shadow update to the device's reported publish carrying the new value.
// Prints devices sustained, round trip p50/p95/p99, messages per second, CPU and memory per device.
// The stand-in runs with durable: false (no fsync per shadow write; the files are still written atomically)
// unless --durable is given.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { monitorEventLoopDelay, performance } from "perf_hooks";
import { Worker, isMainThread, parentPort, workerData } from "worker_threads";
import { startCloud, Cloud } from "../sim/cloud";
import { startDevice, DeviceHandle, BoardName } from "../sim/board";
import { ArgError, parseArgs } from "../sim/lab/args";
import { bundleIsStale } from "../sim/lab/files";

const ROOT = path.resolve(__dirname, "..");

interface Dev {
  name: string;
  cfg: any;
  dht: { temperature: number; humidity: number };
  handle: DeviceHandle | null; // null when the board runs in a worker thread
  reports: number; // shadow updates with uptime in the window
  connected: boolean;
  drops: number; // disconnects during the window
  pending: { value: boolean; t0: number } | null;
  on: boolean;
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "n/a");
const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toString() : "n/a");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  let opts: Record<string, any>;
  try {
    ({ opts } = parseArgs(process.argv.slice(2), {
      devices: "number",
      seconds: "number",
      board: "string",
      changes: "number",
      "data-dir": "string",
      "ramp-batch": "number",
      workers: "number",
      durable: "boolean",
      json: "boolean",
      help: "boolean",
    }));
  } catch (e) {
    if (e instanceof ArgError) {
      console.error("bench:fleet: " + e.message);
      process.exit(2);
    }
    throw e;
  }
  if (opts.help) {
    console.log("npm run bench:fleet -- --devices N [--seconds S (default 30)] [--board esp8266|esp32] [--changes PER_SECOND] [--data-dir DIR] [--durable (fsync every shadow write, as the stand-in does by default)] [--ramp-batch K] [--workers W (default 1: boards in W worker threads, the stand-in in the main one; 0: all in one thread)] [--json]");
    return;
  }
  const n: number = opts.devices ?? 10;
  const seconds: number = opts.seconds ?? 30;
  const board = (opts.board ?? "esp8266") as BoardName;
  if (!Number.isInteger(n) || n < 1 || n > 5000) throw new ArgError("--devices must be a whole number from 1 to 5000");
  if (!(seconds >= 5 && seconds <= 3600)) throw new ArgError("--seconds must be 5..3600");
  if (board !== "esp8266" && board !== "esp32") throw new ArgError(`--board must be esp8266 or esp32, not "${board}"`);
  const changesPerSecond: number = opts.changes ?? Math.max(1, n / 5);
  const rampBatch: number = opts["ramp-batch"] ?? 20;
  const nWorkers: number = opts.workers ?? 1;
  if (!Number.isInteger(nWorkers) || nWorkers < 0 || nWorkers > 8) throw new ArgError("--workers must be 0..8");
  const distBundle = path.join(ROOT, "dist", "firmware.js");
  if (bundleIsStale(distBundle, path.join(ROOT, "firmware"))) {
    const { buildBundle } = await import("./build");
    await buildBundle({ entry: "firmware/main.ts", outfile: "dist/firmware.js" });
    console.log("rebuilt dist/firmware.js (it was older than firmware/)");
  }
  // Storage of the boards and the stand-in's files: tmpfs by default (/dev/shm), so that the figures measure the
  // simulator and the stand-in rather than the disk; --data-dir DIR to measure on another file system.
  const shm = "/dev/shm";
  let dataRoot: string = opts["data-dir"] ?? os.tmpdir();
  if (opts["data-dir"] === undefined) {
    try {
      fs.accessSync(shm, fs.constants.W_OK);
      dataRoot = shm;
    } catch {
      /* no tmpfs: the temp dir */
    }
  }
  const base = fs.mkdtempSync(path.join(dataRoot, "bench-fleet-"));
  // every board runs the same snapshot, even if dist/ is rebuilt while the benchmark runs
  const bundle = path.join(base, "firmware.js");
  fs.copyFileSync(distBundle, bundle);
  const say = (s: string) => {
    if (!opts.json) console.log(s);
  };
  say(
    `bench:fleet: ${n} ${board} boards, refresh 1 s, ${f1(changesPerSecond)} desired changes/s, ${seconds} s measured; ` +
      (nWorkers ? `boards in ${nWorkers} worker thread(s), stand-in in the main thread` : "boards and stand-in in one thread") +
      `; data in ${base}` +
      (opts.durable ? " (stand-in fsyncs every write)" : " (stand-in without fsync: durable false)"),
  );

  const load0 = os.loadavg()[0];
  const mem0 = process.memoryUsage();
  const durable = !!opts.durable;
  const cloud: Cloud = await startCloud({ dataDir: path.join(base, "cloud"), port: 0, durable });
  const i = cloud.endpoint.lastIndexOf(":");
  const host = cloud.endpoint.slice(0, i);
  const port = Number(cloud.endpoint.slice(i + 1));
  const devs = new Map<string, Dev>();
  const list: Dev[] = [];
  let measuring = false;
  let inbound = 0; // device -> stand-in publishes
  let brokerPublishes = 0; // every publish the broker routed (device requests + service responses)
  const rtts: number[] = [];
  let lateReplies = 0;
  cloud.on("connect", (id: string) => {
    const d = devs.get(id);
    if (d) d.connected = true;
  });
  cloud.on("disconnect", (id: string) => {
    const d = devs.get(id);
    if (!d) return;
    d.connected = false;
    if (measuring) d.drops++;
  });
  cloud.broker.on("publish", () => {
    if (measuring) brokerPublishes++;
  });
  cloud.on("publish", (topic: string, payload: Buffer, clientId: string) => {
    if (!measuring) return;
    inbound++;
    const d = devs.get(clientId);
    if (!d || !topic.endsWith("/shadow/update")) return;
    const s = payload.toString();
    if (s.indexOf('"uptime"') >= 0) d.reports++;
    if (d.pending && s.indexOf('"on":' + d.pending.value) >= 0) {
      rtts.push(performance.now() - d.pending.t0);
      d.pending = null;
    }
  });

  // ---- create things and boot the boards in batches
  const t0 = performance.now();
  for (let k = 1; k <= n; k++) {
    const name = "bench-" + k;
    const cr = await cloud.createThing(name);
    const cfg = { ssid: "lab", pass: "labpass", host, port, region: cloud.region, akid: cr.accessKeyId, secret: cr.secretAccessKey, thing: name, refresh: 1, keepAlive: 60, boMin: 1000, boMax: 10000, getTo: 10, life: 86000 };
    const d: Dev = { name, cfg, dht: { temperature: 20 + (k % 10), humidity: 40 + (k % 30) }, handle: null, reports: 0, connected: false, drops: 0, pending: null, on: false };
    devs.set(name, d);
    list.push(d);
  }
  const tThings = performance.now() - t0;
  const workers: Worker[] = [];
  const replies = new Map<number, (data?: any) => void>();
  let seq = 0;
  const ask = (w: Worker, msg: any) =>
    new Promise<any>((resolve) => {
      const id = ++seq;
      replies.set(id, resolve);
      w.postMessage({ ...msg, id });
    });
  for (let k = 0; k < nWorkers; k++) {
    // the worker runs this same file; TypeScript is loaded there through tsx's require hook
    const boot = `require(${JSON.stringify(require.resolve("tsx/cjs/api"))}).register(); require(${JSON.stringify(__filename)});`;
    const w = new Worker(boot, { eval: true, workerData: { board, bundle, base } });
    w.on("message", (m: any) => {
      const r = replies.get(m.id);
      replies.delete(m.id);
      if (r) r(m.data);
    });
    w.on("error", (e) => console.error("bench:fleet worker: " + (e && e.stack ? e.stack : e)));
    workers.push(w);
  }
  for (let k = 0; k < list.length; k += rampBatch) {
    const batch = list.slice(k, k + rampBatch);
    if (workers.length) {
      await ask(workers[(k / rampBatch) % workers.length], { cmd: "start", devices: batch.map((d) => ({ name: d.name, cfg: d.cfg, dht: d.dht })) });
    } else {
      await Promise.all(
        batch.map(async (d) => {
          d.handle = await startDevice({ board, bundlePath: bundle, storageDir: path.join(base, "dev", d.name), config: d.cfg, dht: d.dht, name: d.name });
        }),
      );
    }
    // let this batch sign and connect before the next one boots
    const deadline = Date.now() + 10000;
    while (batch.some((d) => !d.connected) && Date.now() < deadline) await sleep(20);
  }
  const deadline = Date.now() + 60000;
  while (list.some((d) => !d.connected) && Date.now() < deadline) await sleep(100);
  const tRamp = performance.now() - t0;
  const connected = list.filter((d) => d.connected).length;
  say(`ramp: ${n} things in ${f0(tThings)} ms, ${connected}/${n} boards connected after ${f1(tRamp / 1000)} s`);
  const missing = list.filter((d) => !d.connected).map((d) => d.name);
  if (missing.length) {
    const logs: Record<string, string[]> = {};
    for (const d of list) if (d.handle && !d.connected) logs[d.name] = d.handle.logs.slice(-4);
    for (const w of workers) Object.assign(logs, await ask(w, { cmd: "logs", names: missing }));
    for (const name of missing.slice(0, 3)) say(`  ${name} not connected; last lines: ${(logs[name] || ["(not started)"]).join(" | ")}`);
  }
  await sleep(3000); // let the first shadow get/update exchanges settle
  if (global.gc) global.gc();
  const memRamp = process.memoryUsage();

  // ---- measured window
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  measuring = true;
  let sent = 0;
  let failed = 0;
  let cursor = 0;
  const tickMs = 100;
  let owed = 0;
  let peakRss = 0;
  const driver = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    owed += (changesPerSecond * tickMs) / 1000;
    while (owed >= 1) {
      owed -= 1;
      // next device without a change in flight
      let d: Dev | null = null;
      for (let tries = 0; tries < list.length; tries++) {
        const c = list[cursor++ % list.length];
        if (!c.pending && c.connected) {
          d = c;
          break;
        }
      }
      if (!d) break;
      const value = !d.on;
      d.on = value;
      if (d.pending) lateReplies++;
      const dev = d;
      dev.pending = { value, t0: performance.now() };
      sent++;
      cloud.shadows.update(dev.name, { state: { desired: { on: value } } }).catch(() => {
        failed++;
        dev.pending = null;
      });
    }
  }, tickMs);
  await sleep(seconds * 1000);
  clearInterval(driver);
  measuring = false;
  const wall = (performance.now() - w0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  lag.disable();
  const memEnd = process.memoryUsage();
  const unanswered = list.filter((d) => d.pending).length;

  // ---- results
  const sorted = rtts.slice().sort((a, b) => a - b);
  const reportsPerDevice = list.map((d) => d.reports / wall);
  const sustained = list.filter((d) => d.connected && d.drops === 0 && d.reports >= 0.85 * wall).length;
  const cpuPct = ((cpu.user + cpu.system) / 1000 / (wall * 1000)) * 100;
  const result = {
    devices: n,
    board,
    seconds: Math.round(wall * 10) / 10,
    connectedAtStart: connected,
    rampSeconds: Math.round(tRamp / 100) / 10,
    sustained,
    reportsPerDevicePerSecond: Math.round((reportsPerDevice.reduce((a, b) => a + b, 0) / n) * 100) / 100,
    minReportsPerDevicePerSecond: Math.round(Math.min(...reportsPerDevice) * 100) / 100,
    drops: list.reduce((a, d) => a + d.drops, 0),
    desiredSent: sent,
    desiredFailed: failed,
    roundTrips: rtts.length,
    unanswered,
    rttMs: { p50: Math.round(pct(sorted, 50)), p95: Math.round(pct(sorted, 95)), p99: Math.round(pct(sorted, 99)), max: Math.round(sorted[sorted.length - 1] ?? NaN) },
    inboundPerSecond: Math.round(inbound / wall),
    brokerPublishesPerSecond: Math.round(brokerPublishes / wall),
    cpuPercentOfOneCore: Math.round(cpuPct),
    cpuMsPerDevicePerSecond: Math.round(((cpu.user + cpu.system) / 1000 / wall / n) * 100) / 100,
    eventLoopDelayP99Ms: Math.round(lag.percentile(99) / 1e6),
    rssMB: Math.round(memEnd.rss / 1048576),
    peakRssMB: Math.round(Math.max(peakRss, memEnd.rss) / 1048576),
    memPerDeviceMB: Math.round(((memRamp.rss - mem0.rss) / 1048576 / n) * 100) / 100,
    heapPerDeviceMB: Math.round(((memRamp.heapUsed - mem0.heapUsed) / 1048576 / n) * 100) / 100,
    cores: os.cpus().length,
    loadAverage: [Math.round(load0 * 10) / 10, Math.round(os.loadavg()[0] * 10) / 10],
    workers: nWorkers,
    durable: !!opts.durable,
  };
  if (opts.json) console.log(JSON.stringify(result));
  else {
    say(`devices sustained  ${result.sustained}/${n} (connected throughout, >= 0.85 reports/s; mean ${result.reportsPerDevicePerSecond}/s, min ${result.minReportsPerDevicePerSecond}/s, ${result.drops} drops)`);
    say(`desired->reported  p50 ${result.rttMs.p50} ms, p95 ${result.rttMs.p95} ms, p99 ${result.rttMs.p99} ms, max ${result.rttMs.max} ms (${result.roundTrips} round trips, ${sent} sent, ${unanswered} unanswered at the end, ${failed} failed)`);
    say(`messages           ${result.inboundPerSecond}/s from devices, ${result.brokerPublishesPerSecond}/s through the broker (requests + shadow/jobs responses)`);
    say(`CPU                ${result.cpuPercentOfOneCore} % of one core (${os.cpus().length} cores; ${nWorkers ? nWorkers + " board thread(s) + the stand-in thread" : "one thread"}), ${result.cpuMsPerDevicePerSecond} ms CPU per device per second; event-loop delay p99 ${result.eventLoopDelayP99Ms} ms`);
    say(`machine            load average ${result.loadAverage[0]} at the start, ${result.loadAverage[1]} at the end (other processes compete for the ${result.cores} cores)`);
    say(`memory             ${result.memPerDeviceMB} MB RSS per device (${result.heapPerDeviceMB} MB JS heap), ${result.peakRssMB} MB RSS peak; ramp ${result.rampSeconds} s`);
  }
  // ---- stop
  for (const d of list) if (d.handle) await d.handle.stop();
  await Promise.all(workers.map((w) => ask(w, { cmd: "stop" })));
  await Promise.all(workers.map((w) => w.terminate()));
  await cloud.stop();
  fs.rmSync(base, { recursive: true, force: true });
}

// A worker thread: runs the boards it is given until told to stop.
function workerMain(): void {
  const { board, bundle, base } = workerData as { board: BoardName; bundle: string; base: string };
  const handles: DeviceHandle[] = [];
  parentPort!.on("message", async (m: any) => {
    if (m.cmd === "start") {
      for (const d of m.devices) {
        try {
          handles.push(await startDevice({ board, bundlePath: bundle, storageDir: path.join(base, "dev", d.name), config: d.cfg, dht: d.dht, name: d.name }));
        } catch (e: any) {
          console.error(`bench:fleet: ${d.name} did not start: ${e && e.message ? e.message : e}`);
        }
      }
    } else if (m.cmd === "logs") {
      const data: Record<string, string[]> = {};
      for (const h of handles) if (m.names.includes(h.name)) data[h.name] = h.logs.slice(-4);
      parentPort!.postMessage({ id: m.id, data });
      return;
    } else if (m.cmd === "stop") {
      for (const h of handles) await h.stop();
      handles.length = 0;
    }
    parentPort!.postMessage({ id: m.id });
  });
}

if (isMainThread) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error("bench:fleet: " + (e instanceof ArgError ? e.message : e && e.stack ? e.stack : e));
      process.exit(e instanceof ArgError ? 2 : 1);
    },
  );
} else workerMain();
