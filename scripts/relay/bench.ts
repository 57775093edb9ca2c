// npx tsx scripts/relay/bench.ts: what the relay adds on loopback (prints figures, asserts nothing).
// Round trip of a 100-byte message (direct TLS vs plain TCP through the relay to the same TLS echo server),
// and bulk throughput through the relay. The relay runs as its own process (npm run relay), as deployed.
// Everything on loopback.
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as tls from "tls";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const selfsigned = require("selfsigned");
const HOST = "localhost";

async function main(): Promise<void> {
  const pems = await selfsigned.generate([{ name: "commonName", value: HOST }], {
    keyType: "ec", curve: "P-256",
    extensions: [{ name: "basicConstraints", cA: true }, { name: "subjectAltName", altNames: [{ type: 2, value: HOST }] }],
  });
  const server = tls.createServer({ key: pems.private, cert: pems.cert }, (s) => {
    let head = true;
    s.on("data", (d: Buffer) => {
      if (head) {
        head = false;
        s.write("HTTP/1.1 101 Switching Protocols\r\n\r\n");
        return;
      }
      s.write(d);
    });
    s.on("error", () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const upPort = (server.address() as net.AddressInfo).port;
  const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "relay-bench-")), "ca.pem");
  fs.writeFileSync(caFile, pems.cert);
  const child = spawn(process.execPath, [path.join(__dirname, "..", "..", "node_modules", "tsx", "dist", "cli.mjs"), path.join(__dirname, "..", "relay.ts"),
    "--listen", "127.0.0.1:0", "--allow", HOST, "--ca", caFile], { stdio: ["ignore", "pipe", "inherit"] });
  const relayPort = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = /listening on [\d.]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (c) => reject(new Error("relay exited " + c)));
  });
  const relay = { port: relayPort };
  const headText = `GET /mqtt?X-Amz-Signature=x HTTP/1.1\r\nHost: ${HOST}:${upPort}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`;

  async function open(direct: boolean): Promise<net.Socket> {
    const s: net.Socket = direct
      ? tls.connect({ host: "127.0.0.1", port: upPort, servername: HOST, ca: pems.cert })
      : net.connect(relay.port, "127.0.0.1");
    s.setNoDelay(true);
    await new Promise<void>((r) => s.once(direct ? "secureConnect" : "connect", () => r()));
    s.write(headText);
    await new Promise<void>((r) => s.once("data", () => r()));
    return s;
  }

  async function roundTrips(s: net.Socket, n: number): Promise<number[]> {
    const msg = Buffer.alloc(100, 0x41);
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      await new Promise<void>((resolve) => {
        let got = 0;
        const on = (d: Buffer) => {
          got += d.length;
          if (got >= msg.length) {
            s.removeListener("data", on);
            resolve();
          }
        };
        s.on("data", on);
        s.write(msg);
      });
      times.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    return times.sort((a, b) => a - b);
  }

  const N = 2000;
  const direct = await open(true);
  const viaRelay = await open(false);
  const d = await roundTrips(direct, N);
  const r = await roundTrips(viaRelay, N);
  const med = (a: number[]) => a[Math.floor(a.length / 2)];
  const p99 = (a: number[]) => a[Math.floor(a.length * 0.99)];
  console.log(`round trip, 100 B, ${N} times: direct TLS median ${med(d).toFixed(0)} us (p99 ${p99(d).toFixed(0)}), via relay median ${med(r).toFixed(0)} us (p99 ${p99(r).toFixed(0)})`);

  const total = 64 * 1024 * 1024;
  const chunk = Buffer.alloc(16384, 0x42);
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    let got = 0;
    viaRelay.on("data", (b: Buffer) => {
      got += b.length;
      if (got >= total) resolve();
    });
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!viaRelay.write(chunk)) return void viaRelay.once("drain", pump);
      }
    };
    pump();
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`throughput via relay (echo, both directions): ${(total / 1048576 / secs).toFixed(0)} MB/s each way`);
  direct.destroy();
  viaRelay.destroy();
  child.kill("SIGTERM");
  server.close();
  fs.rmSync(path.dirname(caFile), { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
