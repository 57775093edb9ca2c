// npm run bench:mqtt — figures for the device's MQTT/WebSocket stack, next to MQTT.js in the same run:
//  1. codec throughput: PUBLISH encode/decode (ours over binary strings, chunked at the ESP8266 MSS)
//     vs mqtt-packet (Buffers);
//  2. end-to-end messages/s against one local aedes (ws://): the device stack running inside the
//     board simulator vs an MQTT.js client, device->peer and peer->device, QoS 0 and QoS 1;
//  3. bundle bytes of the stack (fixture entry test/fixtures/mqtt/device.ts, minified), and the function
//     objects it keeps on the device: the stack alone (a bundle that only keeps createMqttClient
//     reachable) and the whole fixture, with the size report's estimate of the variables they hold;
//  4. with --interp "<command>" (an Espruino 2v29 interpreter built like the board, for example
//     "qemu-i386 ./espruino-esp8266"), the stack's memory on it: test/fixtures/mqtt/memory.ts saved to its
//     emulated flash as .bootcde, against aedes; prints the steady usage and the highest sample. With
//     --oom as well: test/fixtures/mqtt/oom.ts starves the memory once connected, a 1,900-byte message
//     runs the data handler out of memory, and the bench prints how long the device took to drop the
//     link and to be connected again (exit 1 if it never is).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as mp from "mqtt-packet";
import * as mqtt from "mqtt";
import * as esbuild from "esbuild";
import { estimateCodeVars } from "./size";
import { MqttDecoder, mqttPublish } from "../sim/mqtt/codec-server";
import { startAedes } from "../test/mqtt/brokers";
import { buildFixture, startFixture, waitEvent } from "../test/mqtt/sim-helpers";
import { spawn, spawnSync } from "child_process";
import { buildBundle } from "./build";

function rate(n: number, ms: number): string {
  return Math.round((n * 1000) / ms).toLocaleString("en-US");
}
function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function codecBench(): void {
  const N = 100000;
  const payload = "x".repeat(100);
  const pbuf = Buffer.from(payload);
  for (let i = 0; i < 2000; i++) mqttPublish("dev/t/out", payload, 1, false, false, 1 + (i % 65535)); // warm-up
  let sink = 0;
  const encOurs = time(() => {
    for (let i = 0; i < N; i++) {
      const s = mqttPublish("dev/t/out", payload, 1, false, false, 1 + (i % 65535));
      sink += s.charCodeAt(s.length - 1); // reading a byte makes V8 flatten the string (no lazy rope)
    }
  });
  if (!sink) throw new Error("encoder produced nothing");
  const encRef = time(() => {
    for (let i = 0; i < N; i++) mp.generate({ cmd: "publish", topic: "dev/t/out", payload: pbuf, qos: 1, messageId: 1 + (i % 65535), dup: false, retain: false });
  });
  const one = mqttPublish("dev/t/out", payload, 1, false, false, 7);
  const stream = one.repeat(N);
  const sbuf = Buffer.from(stream, "latin1");
  const MSS = 536;
  let got = 0;
  const dec = new MqttDecoder(4096, () => got++);
  const decOurs = time(() => {
    for (let i = 0; i < stream.length; i += MSS) dec.feed(stream.substr(i, MSS));
  });
  let got2 = 0;
  const parser = mp.parser({ protocolVersion: 4 });
  parser.on("packet", () => got2++);
  const decRef = time(() => {
    for (let i = 0; i < sbuf.length; i += MSS) parser.parse(sbuf.subarray(i, i + MSS));
  });
  if (got != N || got2 != N) throw new Error(`decoded ${got}/${got2} of ${N}`);
  console.log(`codec, PUBLISH QoS 1, 100-byte payload, ${N.toLocaleString("en-US")} packets (Node ${process.version}):`);
  console.log(`  encode: ours ${rate(N, encOurs)} packets/s   mqtt-packet ${rate(N, encRef)} packets/s`);
  console.log(`  decode (536-byte chunks): ours ${rate(N, decOurs)} packets/s   mqtt-packet ${rate(N, decRef)} packets/s`);
}

async function peerClient(url: string, id: string): Promise<mqtt.MqttClient> {
  const c = mqtt.connect(url, { clientId: id, reconnectPeriod: 0 });
  await new Promise((r, j) => (c.once("connect", r), c.once("error", j)));
  return c;
}
function countOn(c: mqtt.MqttClient, prefix: string, n: number): Promise<number> {
  const t0 = performance.now();
  let k = 0;
  return new Promise((r) => {
    c.on("message", (t) => {
      if (t.startsWith(prefix) && ++k == n) r(performance.now() - t0);
    });
  });
}

async function e2eBench(dir: string, fixture: string): Promise<void> {
  const N = 500;
  const b = await startAedes();
  const peer = await peerClient(b.mqttUrl, "bench-peer");
  const dev = await startFixture(fixture, "bench-dev", b.wsUrl, { keepAlive: 60, queueMax: 64 });
  await waitEvent(dev, (e) => e.ev == "connect", 10000, 0); // subscribed
  const other = await peerClient(b.mqttUrl, "bench-mqttjs");
  await other.subscribeAsync("dev/bench-mqttjs/in/#", { qos: 1 });
  await peer.subscribeAsync("dev/+/out/#", { qos: 1 });
  const res: string[] = [];
  for (const q of [0, 1] as const) {
    // device -> peer
    let wait = countOn(peer, `dev/bench-dev/out/f${q}`, N);
    await peer.publishAsync("dev/bench-dev/in/cmd", JSON.stringify({ flood: { t: `out/f${q}`, n: N, q, w: 32 } }), { qos: 1 });
    const devOut = await wait;
    // MQTT.js -> peer, same flow (QoS 1 with the same window)
    wait = countOn(peer, `dev/bench-mqttjs/out/f${q}`, N);
    const payload = "x".repeat(100);
    let inflight = 0;
    const sendAll = async () => {
      const ps: Promise<any>[] = [];
      for (let i = 0; i < N; i++) {
        ps.push(other.publishAsync(`dev/bench-mqttjs/out/f${q}`, payload, { qos: q }));
        if (q && ++inflight % 32 == 0) await Promise.all(ps.splice(0));
      }
      await Promise.all(ps);
    };
    await sendAll();
    const jsOut = await wait;
    // peer -> device
    const from = dev.logs.length;
    let t0 = performance.now();
    for (let i = 0; i < N; i++) peer.publish(`dev/bench-dev/in/b/${q}`, payload, { qos: q });
    await waitEvent(dev, (e) => e.ev == "bulk" && e.n >= N * (q + 1), 60000, from);
    const devIn = performance.now() - t0;
    // peer -> MQTT.js
    const w2 = countOn(other, `dev/bench-mqttjs/in/b/${q}`, N);
    t0 = performance.now();
    for (let i = 0; i < N; i++) peer.publish(`dev/bench-mqttjs/in/b/${q}`, payload, { qos: q });
    await w2;
    const jsIn = performance.now() - t0;
    res.push(`  QoS ${q}: device->peer: device ${rate(N, devOut)} msg/s, MQTT.js ${rate(N, jsOut)} msg/s;  peer->device: device ${rate(N, devIn)} msg/s, MQTT.js ${rate(N, jsIn)} msg/s`);
  }
  const from = dev.logs.length;
  await peer.publishAsync("dev/bench-dev/in/cmd", JSON.stringify({ stats: 1 }), { qos: 1 });
  const st = await waitEvent(dev, (e) => e.ev == "stats", 10000, from);
  console.log(`end-to-end, ${N} messages of 100 bytes each way, aedes over ws:// on loopback (device: ESP8266 profile in the simulator, 536-byte MSS):`);
  res.forEach((l) => console.log(l));
  console.log(`  simulator's variable estimate after the run: ${st.mem} vars in use (an estimate, see sim/board/memory.ts)`);
  await dev.stop();
  await other.endAsync(true);
  await peer.endAsync(true);
  await b.close();
}

// The stack on a real interpreter: Storage files are written by short runs with no firmware yet (the
// console takes only short lines), then the interpreter boots the bundle from its emulated flash.
async function interpMemory(command: string, dir: string, oom: boolean): Promise<void> {
  const [exe, ...args] = command.split(" ");
  const file = path.join(dir, "fixture.js");
  await buildBundle({ entry: oom ? "test/fixtures/mqtt/oom.ts" : "test/fixtures/mqtt/memory.ts", outfile: file, sourcemap: false });
  const code = fs.readFileSync(file, "latin1");
  const b = await startAedes();
  const peer = mqtt.connect(b.mqttUrl, { clientId: "bench-oom-peer" });
  const cwd = fs.mkdtempSync(path.join(dir, "flash-"));
  const write = (name: string, data: string, at: number, size: number) =>
    spawnSync(exe, args.concat(["-e", `require("Storage").write(${JSON.stringify(name)},${JSON.stringify(data)},${at},${size});`]), { cwd, timeout: 30000 });
  const cfg = JSON.stringify({ url: b.wsUrl, free: 230 });
  write("iot.json", cfg, 0, cfg.length);
  for (let i = 0; i < code.length; i += 1000) write(".bootcde", code.substr(i, 1000), i, code.length);
  const p = spawn(exe, args, { cwd });
  const lines: any[] = [];
  const console_: string[] = [];
  let buf = "";
  const find = (ev: string) => lines.find((l) => l.ev == ev);
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("interpreter: no end in 120 s; last lines:\n" + console_.slice(-20).join("\n"))), 120000);
      p.stdout.on("data", (d) => {
        buf += d.toString("latin1");
        for (let i; (i = buf.indexOf("\n")) >= 0; buf = buf.slice(i + 1)) {
          const l = buf.slice(0, i);
          console_.push(l);
          const j = l.indexOf('{"ev"');
          if (j < 0) continue;
          const e = JSON.parse(l.slice(j));
          lines.push(e);
          if (e.ev == "starved") setTimeout(() => peer.publish("t/big", "x".repeat(1900), { qos: 1 }), 500);
          if (e.ev == "reconnected") setTimeout(() => peer.publish("t/small", "ok", { qos: 1 }), 500);
          if (e.ev == (oom ? "msg" : "steady")) {
            clearTimeout(t);
            resolve();
          }
        }
      });
    });
  } finally {
    p.kill("SIGKILL");
    peer.end(true);
    await b.close();
  }
  if (oom) {
    const starved = find("starved");
    const err = find("error");
    const back = find("reconnected");
    const removed = console_.some((l) => l.includes("handler - removing it"));
    console.log(`interpreter (${command}): starved to ${starved.free} free variables; ${removed ? "the data handler ran out of memory and was removed" : "the data handler was NOT removed"}; link dropped (Error code ${err.code}) ${Math.round(err.ms - starved.ms)} ms after starving, connected again ${Math.round(back.ms - err.ms)} ms later (${back.free} free), the next message arrived`);
    return;
  }
  const c = find("connect");
  const s = find("steady");
  console.log(`interpreter (${command}), bundle ${code.length} bytes: at Connected ${c.mem} variables (highest sample up to then ${c.peak}); steady ${s.mem}, highest sample ${s.peak}`);
}

async function main(): Promise<void> {
  const at = process.argv.indexOf("--interp");
  if (at > 0) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-mqtt-"));
    try {
      return await interpMemory(process.argv[at + 1], dir, process.argv.includes("--oom"));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  codecBench();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-mqtt-"));
  try {
    const fx = await buildFixture(dir);
    const meta = JSON.parse(fs.readFileSync(fx.file.replace(/\.js$/, ".meta.json"), "utf8"));
    const out: any = Object.entries(meta.outputs).find(([k]) => k.endsWith(".js"))![1];
    let stack = 0;
    const parts: string[] = [];
    for (const [f, v] of Object.entries<any>(out.inputs)) {
      if (/firmware\/(mqtt|ws)\//.test(f)) {
        stack += v.bytesInOutput;
        parts.push(`${path.basename(path.dirname(f))}/${path.basename(f)} ${v.bytesInOutput}`);
      }
    }
    // function objects (each costs JS variables even when its body is in flash)
    const all = estimateCodeVars(fs.readFileSync(fx.file, "latin1"));
    const only = estimateCodeVars(
      esbuild.buildSync({
        stdin: { contents: 'import { createMqttClient } from "./firmware/mqtt/client"; (globalThis as any).c = createMqttClient;', resolveDir: path.resolve(__dirname, ".."), loader: "ts" },
        bundle: true, write: false, minify: true, format: "cjs", target: "es2015", external: ["crypto", "net", "tls"],
        tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
      }).outputFiles[0].text
    );
    console.log(`bundle: MQTT + WebSocket stack ${stack} bytes minified (${parts.join(", ")}); stack alone ${only.functions} functions, ${only.params} parameters (~${only.estimate} variables); whole fixture bundle ${fx.bytes} bytes, ${all.functions} functions, ${all.params} parameters (~${all.estimate} variables)`);
    await e2eBench(dir, fx.file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  }
);
