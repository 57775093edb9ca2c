// npm run bench:sign: SHA-256 compression-function calls for a cold presign (empty cache) and a
// warm one (same UTC day), and time per presign: in Node on the TypeScript source, and in a vm
// context running a bench bundle built with the project's buildBundle (the simulator's way of
// running the firmware: same bundle, Node's JS engine, so it measures the bundle, not an ESP8266).
// Figures for the real interpreter are measured by hand (see README, #4).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vm from "vm";
import { createHash } from "crypto";
import { buildBundle } from "./build";
import { SHA_STATS } from "../firmware/crypto/sha256";
import { JS_SHA256, nativeHash, HashProvider } from "../firmware/crypto/hmac";
import { presignMqttUrl, signCache, MqttSignConfig } from "../firmware/aws/sigv4";

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

function node(H: HashProvider, label: string): void {
  const N = 2000;
  for (let i = 0; i < 200; i++) presignMqttUrl(signCache(H), CFG, T + i); // warm up the JIT
  const cold = time(N, (i) => presignMqttUrl(signCache(H), CFG, T + i));
  const c = signCache(H);
  presignMqttUrl(c, CFG, T);
  const warm = time(N, (i) => presignMqttUrl(c, CFG, T + 1 + i));
  console.log(`node ${label}: cold ${(cold * 1000).toFixed(1)} us, warm ${(warm * 1000).toFixed(1)} us per presign`);
}

async function main(): Promise<void> {
  const c = signCache(JS_SHA256);
  SHA_STATS.blocks = 0;
  presignMqttUrl(c, CFG, T);
  const cold = SHA_STATS.blocks;
  SHA_STATS.blocks = 0;
  presignMqttUrl(c, CFG, T + 60);
  const warm = SHA_STATS.blocks;
  SHA_STATS.blocks = 0;
  presignMqttUrl(c, CFG, T + 86400);
  const nextDay = SHA_STATS.blocks;
  console.log(`SHA-256 compression calls (TypeScript SHA-256, host ${CFG.host}):`);
  console.log(`  cold presign (empty cache, first after boot): ${cold}`);
  console.log(`  warm presign (same UTC day):                  ${warm}`);
  console.log(`  first presign of a new UTC day:               ${nextDay}`);
  node(JS_SHA256, "TypeScript SHA-256 (the ESP8266 path)");
  node(nativeHash((s) => createHash("sha256").update(Buffer.from(s, "latin1")).digest().toString("latin1")), "native SHA-256 (the ESP32 path, node:crypto)");

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-sign-"));
  try {
    const out = path.join(dir, "bench.js");
    const r = await buildBundle({ entry: "test/fixtures/sigv4/bench-entry.ts", outfile: out });
    const lines: string[] = [];
    const ctx = vm.createContext({
      console: { log: (...a: unknown[]) => lines.push(a.join(" ")) },
      require: (name: string) => {
        if (name === "crypto") return { SHA1: () => new ArrayBuffer(20) }; // as on an ESP8266
        throw new Error("Module " + name + " not found");
      },
      atob: (s: string) => Buffer.from(s, "base64").toString("latin1"),
    });
    vm.runInContext(fs.readFileSync(out, "utf8"), ctx, { timeout: 60000 });
    for (const l of lines) {
      const m = /^BENCH (\w+) ([\d.]+) (\d+)$/.exec(l);
      if (m) console.log(`bundle in a vm context (${r.bytes} bytes, no native SHA256): ${m[1]} ${Number(m[2]).toFixed(3)} ms per presign, ${m[3]} blocks`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
