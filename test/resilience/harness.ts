// End-to-end harness for the fault matrix and the soak: the firmware bundle (built once per jest
// worker with buildBundle, the same pipeline as `npm run build`) in the board simulator, against the
// local AWS IoT stand-in, optionally through the MQTT proxy. Everything on 127.0.0.1, ports 0.
// Waits are on cloud state and device logs (polling), never fixed sleeps for correctness.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildBundle } from "../../scripts/build";
import { startCloud, Cloud } from "../../sim/cloud";
import { startDevice, DeviceHandle, StartOptions } from "../../sim/board";
import { MqttProxy } from "./mqtt-proxy";

export const LED = 2; // default ledPin, active low (level 0 = lit)
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "resilience-"));
let bundle: Promise<string> | null = null;

export function firmware(): Promise<string> {
  if (!bundle) {
    const outfile = path.join(tmp, "firmware.js");
    bundle = buildBundle({ entry: "firmware/main.ts", outfile, sourcemap: false }).then(() => outfile);
  }
  return bundle;
}

export function dir(name: string): string {
  return fs.mkdtempSync(path.join(tmp, name + "-"));
}

export async function cloudUp(opts: Record<string, any> = {}): Promise<Cloud> {
  return startCloud({ dataDir: dir("cloud"), port: 0, keepAliveMinSeconds: 1, ...opts } as any);
}

export function hostPort(cloud: Cloud): { host: string; port: number } {
  const i = cloud.endpoint.lastIndexOf(":");
  return { host: cloud.endpoint.substr(0, i), port: +cloud.endpoint.substr(i + 1) };
}

// iot.json for `thing` with short test timings (the optional tuning keys of firmware/config/config.ts).
export async function deviceConfig(cloud: Cloud, thing: string, extra: Record<string, any> = {}): Promise<Record<string, any>> {
  const cr = await cloud.createThing(thing);
  const hp = hostPort(cloud);
  return {
    ssid: "lab",
    pass: "labpass",
    host: hp.host,
    port: hp.port,
    region: cloud.region,
    akid: cr.accessKeyId,
    secret: cr.secretAccessKey,
    thing,
    refresh: 2,
    boMin: 100,
    boMax: 1000,
    getTo: 2,
    ...extra,
  };
}

const devices: DeviceHandle[] = [];
export async function boot(config: Record<string, any>, opts: Partial<StartOptions> & { proxy?: MqttProxy } = {}): Promise<DeviceHandle> {
  const { proxy, ...rest } = opts;
  const d = await startDevice({
    board: "esp8266",
    storageDir: dir("dev"),
    bundlePath: await firmware(),
    config,
    wifi: { ssid: "lab", password: "labpass" },
    name: config.thing,
    console: !!process.env.DEVICE_CONSOLE,
    ...(proxy ? { resolve: () => ({ host: "127.0.0.1", port: proxy.port }) } : {}),
    ...rest,
  });
  devices.push(d);
  return d;
}

export async function stopDevices(): Promise<void> {
  while (devices.length) await devices.pop()!.stop();
}

// Polls cond() until truthy; rejects with `what` (and the last error) on timeout.
export async function until<T>(cond: () => T | Promise<T>, what: string, ms = 15000): Promise<T> {
  const end = Date.now() + ms;
  let last: any;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error("timed out waiting for " + what + (last ? ": " + last.message : ""));
    await new Promise((r) => setTimeout(r, 40));
  }
}

export function count(d: DeviceHandle, match: string | RegExp): number {
  return d.logs.filter((l) => (typeof match === "string" ? l.includes(match) : match.test(l))).length;
}

export const CONNECTED = "connected to AWS IoT";
export async function connections(d: DeviceHandle, n: number, ms = 15000): Promise<void> {
  await until(() => count(d, CONNECTED) >= n, n + " connection(s) of " + d.name, ms);
}

export function doc(cloud: Cloud, thing: string): any {
  return cloud.shadows.get(thing) || {};
}
export function reported(cloud: Cloud, thing: string): any {
  const s = doc(cloud, thing);
  return (s.state && s.state.reported) || {};
}
export function desired(cloud: Cloud, thing: string): any {
  const s = doc(cloud, thing);
  return (s.state && s.state.desired) || {};
}
export function delta(cloud: Cloud, thing: string): any {
  const s = doc(cloud, thing);
  return s.state && s.state.delta;
}

export function ledLit(d: DeviceHandle): boolean {
  return d.led(LED).level === 0;
}

// Sets desired {on, refresh} and waits until the reported state matches, the delta is gone and the
// LED shows it: the device's reported state has converged to the truth.
export async function converge(cloud: Cloud, d: DeviceHandle, thing: string, want: { on: boolean; refresh: number }, ms = 15000): Promise<void> {
  await cloud.shadows.update(thing, { state: { desired: want } });
  await converged(cloud, d, thing, want, ms);
}
export async function converged(cloud: Cloud, d: DeviceHandle, thing: string, want: { on: boolean; refresh: number }, ms = 15000): Promise<void> {
  await until(() => {
    const r = reported(cloud, thing);
    const dl = delta(cloud, thing);
    return r.on === want.on && r.refresh === want.refresh && !(dl && ("on" in dl || "refresh" in dl)) && ledLit(d) === want.on;
  }, thing + " reported " + JSON.stringify(want) + " (now " + JSON.stringify(reported(cloud, thing)) + ", delta " + JSON.stringify(delta(cloud, thing)) + ")", ms);
}

// Reboots the device and checks that its settings came back from Storage: the LED is in the saved
// state right after boot (before any cloud answer) and the reported state is unchanged.
export async function settingsSurviveReboot(cloud: Cloud, d: DeviceHandle, thing: string, want: { on: boolean; refresh: number }): Promise<void> {
  const n = count(d, CONNECTED);
  const boots = d.bootCount;
  await d.reboot();
  expect(d.bootCount).toBe(boots + 1);
  expect(ledLit(d)).toBe(want.on);
  await connections(d, n + 1);
  await converged(cloud, d, thing, want);
}

// Lines that mean the firmware hit an exception instead of handling the input.
export function crashes(d: DeviceHandle): string[] {
  return d.errors.concat(d.logs.filter((l) => /Uncaught|threw|TypeError|ReferenceError/.test(l)));
}
