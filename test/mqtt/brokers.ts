// Local brokers for the interoperability tests and the benchmark, all on 127.0.0.1 with
// ephemeral ports: aedes behind a `ws` WebSocket server, and a real mosquitto started from a
// generated config in a temp dir (websockets listener for the device, TCP for MQTT.js).
import { spawn, spawnSync, ChildProcess } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { WebSocketServer, createWebSocketStream } from "ws";

export interface Broker {
  wsUrl: string; // for the device
  mqttUrl: string; // for MQTT.js
  port: number;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startAedes(port = 0): Promise<Broker> {
  const createAedes = require("aedes"); // aedes 0.51: CommonJS factory
  let inst: any;
  let server: http.Server;
  let wss: WebSocketServer;
  const socks = new Set<net.Socket>();
  const listen = async (p: number) => {
    inst = createAedes();
    server = http.createServer();
    server.on("connection", (s) => {
      socks.add(s);
      s.on("close", () => socks.delete(s));
    });
    wss = new WebSocketServer({ server });
    wss.on("connection", (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on("error", () => {});
      inst.handle(stream as any);
    });
    await new Promise<void>((r) => server.listen(p, "127.0.0.1", () => r()));
    return (server.address() as net.AddressInfo).port;
  };
  const stop = async () => {
    for (const c of wss.clients) c.terminate();
    for (const s of socks) s.destroy();
    wss.close();
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => inst.close(() => r()));
  };
  const p = await listen(port);
  const b: Broker = {
    port: p,
    wsUrl: `ws://127.0.0.1:${p}/mqtt`,
    mqttUrl: `ws://127.0.0.1:${p}/mqtt`,
    async restart() {
      await stop();
      await listen(p);
    },
    close: stop,
  };
  return b;
}

export function mosquittoPath(): string | null {
  for (const p of ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"]) if (fs.existsSync(p)) return p;
  const w = spawnSync("sh", ["-c", "command -v mosquitto"], { encoding: "utf8" });
  return w.status === 0 && w.stdout.trim() ? w.stdout.trim() : null;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

async function waitPort(port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = net.connect(port, "127.0.0.1", () => (c.destroy(), r(true)));
      c.on("error", () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`mosquitto did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startMosquitto(bin: string): Promise<Broker> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mosq-"));
  const wsPort = await freePort();
  const tcpPort = await freePort();
  const conf = path.join(dir, "mosquitto.conf");
  fs.writeFileSync(
    conf,
    [
      "persistence false",
      "allow_anonymous true",
      "log_dest stderr",
      "log_type error",
      "log_type warning",
      `listener ${wsPort} 127.0.0.1`,
      "protocol websockets",
      `listener ${tcpPort} 127.0.0.1`,
      "protocol mqtt",
      "",
    ].join("\n")
  );
  let proc: ChildProcess;
  let errText = "";
  const run = async () => {
    proc = spawn(bin, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    proc.stderr!.on("data", (d) => (errText = (errText + d).slice(-2000)));
    const exited = new Promise<never>((_, rej) => proc.once("exit", (c) => rej(new Error(`mosquitto exited (${c}): ${errText}`))));
    await Promise.race([Promise.all([waitPort(wsPort, 5000), waitPort(tcpPort, 5000)]), exited]);
    exited.catch(() => {});
  };
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const done = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await done;
    }
  };
  await run();
  return {
    port: wsPort,
    wsUrl: `ws://127.0.0.1:${wsPort}/mqtt`,
    mqttUrl: `mqtt://127.0.0.1:${tcpPort}`,
    async restart() {
      await stop();
      await run();
    },
    async close() {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
