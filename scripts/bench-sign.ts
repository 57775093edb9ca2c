// npm run bench:sign: SHA-256 compression-function calls for a cold presign (empty cache) and a
// warm one (same UTC day), and time per presign: in Node on the TypeScript source, and in the
// board simulator (sim/board: the bundle in a Node vm context, as an ESP8266 with the TypeScript
// SHA-256 and as an ESP32 with native SHA256) running a bench bundle built with buildBundle.
// The simulator runs on V8, so it measures the bundle, not an ESP8266's interpreter: figures for
// the real interpreter were measured by hand (docs/performance.md, signing).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createHash } from "crypto";
import { buildBundle } from "./build";
import { startDevice } from "../sim/board";
import * as sha from "../firmware/crypto/sha256";
import { presign, signCache, MqttSignConfig, NativeSha } from "../firmware/aws/sigv4";

const CFG: MqttSignConfig = {
  host: "a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com",
  region: "eu-west-1",
  akid: "AKIAIOSFODNN7EXAMPLE",
  secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const T = 1767229200; // 2026-01-01T01:00:00Z

function time(n: number, fn: (i: number) => void): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return (performance.now() - t0) / n;
}

function node(H: NativeSha | undefined, label: string): void {
  const N = 2000;
  for (let i = 0; i < 200; i++) presign(signCache(H), CFG, T + i); // warm up the JIT
  const cold = time(N, (i) => presign(signCache(H), CFG, T + i));
  const c = signCache(H);
  presign(c, CFG, T);
  const warm = time(N, (i) => presign(c, CFG, T + 1 + i));
  console.log(`node ${label}: cold ${(cold * 1000).toFixed(1)} us, warm ${(warm * 1000).toFixed(1)} us per presign`);
}

async function main(): Promise<void> {
  const c = signCache();
  const count = (t: number) => {
    const b0 = sha.blocks;
    presign(c, CFG, t);
    return sha.blocks - b0;
  };
  const cold = count(T);
  const warm = count(T + 60);
  const nextDay = count(T + 86400);
  console.log(`SHA-256 compression calls (TypeScript SHA-256, host ${CFG.host}):`);
  console.log(`  cold presign (empty cache, first after boot): ${cold}`);
  console.log(`  warm presign (same UTC day):                  ${warm}`);
  console.log(`  first presign of a new UTC day:               ${nextDay}`);
  node(undefined, "TypeScript SHA-256 (the ESP8266 path)");
  node((s) => createHash("sha256").update(Buffer.from(s, "latin1")).digest().toString("latin1"), "native SHA-256 (the ESP32 path, node:crypto)");

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-sign-"));
  try {
    const bundlePath = path.join(dir, "bench.js");
    const r = await buildBundle({ entry: "test/fixtures/sigv4/bench-entry.ts", outfile: bundlePath });
    for (const board of ["esp8266", "esp32"] as const) {
      const dev = await startDevice({ board, storageDir: fs.mkdtempSync(path.join(dir, board + "-")), bundlePath });
      try {
        await dev.waitForLog(/^BENCH warm /, 60000);
        for (const l of dev.logs) {
          const m = /^BENCH (\w+) ([\d.]+) (\d+)$/.exec(l);
          if (m) console.log(`simulator ${board} (bench bundle ${r.bytes} bytes): ${m[1]} ${Number(m[2]).toFixed(3)} ms per presign, ${m[3]} JS blocks`);
        }
      } finally {
        await dev.stop();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
