// Helpers to run the MQTT fixture firmware in the board simulator.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildBundle } from "../../scripts/build";
import { DeviceHandle, startDevice } from "../../sim/board";

export const FIXTURE = "test/fixtures/mqtt/device.ts";

export async function buildFixture(dir: string): Promise<{ file: string; bytes: number }> {
  const file = path.join(dir, "mqtt-fixture.js");
  const r = await buildBundle({ entry: FIXTURE, outfile: file });
  return { file, bytes: r.bytes };
}

export async function startFixture(bundlePath: string, thing: string, url: string, extra: object = {}): Promise<DeviceHandle> {
  const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "mqtt-dev-"));
  const config = Object.assign(
    { ssid: "lab", pass: "labpass", thing, url, keepAlive: 2, kaMin: 1, pingTimeout: 1500, backoffMin: 100, backoffMax: 1000, maxPacket: 4096, queueMax: 20 },
    extra
  );
  const dev = await startDevice({ board: "esp8266", storageDir, bundlePath, config, name: thing, wifiAutoReconnect: true });
  const stop = dev.stop.bind(dev);
  dev.stop = async () => {
    await stop();
    fs.rmSync(storageDir, { recursive: true, force: true }); // the device's Storage files
  };
  return dev;
}

// Waits for a JSON event line from the device after log index `from` (default: any new line).
export function waitEvent(dev: DeviceHandle, pred: (e: any) => boolean, timeoutMs = 10000, from?: number): Promise<any> {
  const parse = (l: string) => {
    const i = l.indexOf("{");
    if (i < 0) return null;
    try {
      return JSON.parse(l.slice(i));
    } catch {
      return null;
    }
  };
  for (const l of dev.logs.slice(from ?? dev.logs.length)) {
    const e = parse(l);
    if (e && pred(e)) return Promise.resolve(e);
  }
  return new Promise((resolve, reject) => {
    const cb = (l: string) => {
      const e = parse(l);
      if (!e || !pred(e)) return;
      clearTimeout(t);
      dev.off("log", cb);
      resolve(e);
    };
    const t = setTimeout(() => {
      dev.off("log", cb);
      reject(new Error(`${dev.name}: no matching event within ${timeoutMs} ms; last lines:\n  ` + dev.logs.slice(-15).join("\n  ")));
    }, timeoutMs);
    dev.on("log", cb);
  });
}
