// End-to-end harness shared by the device, resilience and security suites: the firmware (a test build
// of firmware/main.ts through buildBundle, the same pipeline as `npm run build`, built once per jest
// worker) in the board simulator against the local AWS IoT stand-in, all on 127.0.0.1 with ports 0.
// Waits poll cloud state and device logs; fixed sleeps are never what makes a test pass.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildBundle } from "../../scripts/build";
import { startCloud, Cloud } from "../../sim/cloud";
import { startDevice, DeviceHandle, StartOptions } from "../../sim/board";
import { until } from "./wait";

export { sleep, until, waitFor } from "./wait";

export const LED = 2; // default ledPin, active low (level 0 = lit)
export const BTN = 0; // default btnPin
export const CONNECTED = "connected to AWS IoT";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-"));
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

// Removes this worker's temp tree (bundle, Storage and cloud data dirs).
export function cleanup(): void {
  fs.rmSync(tmp, { recursive: true, force: true });
}

export async function cloudUp(opts: Record<string, any> = {}): Promise<Cloud> {
  return startCloud({ dataDir: dir("cloud"), port: 0, keepAliveMinSeconds: 1, ...opts } as any);
}

export function hostPort(cloud: Cloud): { host: string; port: number } {
  const i = cloud.endpoint.lastIndexOf(":");
  return { host: cloud.endpoint.substr(0, i), port: +cloud.endpoint.substr(i + 1) };
}

// iot.json for `thing` against `cloud`, with short test timings (the optional tuning keys of
// firmware/config/config.ts: refresh 2 s, fast backoff, short shadow-get wait).
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
const given = new WeakMap<DeviceHandle, string[]>();

// Boots a simulated ESP8266 with `config` in Storage. `proxy`: send the device's TCP connections to
// a local proxy (the signed Host stays the endpoint), as a relay on the LAN would.
export async function boot(config: Record<string, any>, opts: Partial<StartOptions> & { proxy?: { port: number } } = {}): Promise<DeviceHandle> {
  const { proxy, ...rest } = opts;
  const d = await startDevice({
    board: "esp8266",
    storageDir: dir("dev"),
    bundlePath: await firmware(),
    config,
    wifi: { ssid: "lab", password: "labpass" },
    name: config.thing,
    console: !!process.env.DEVICE_CONSOLE, // DEVICE_CONSOLE=1 echoes device logs
    ...(proxy ? { resolve: () => ({ host: "127.0.0.1", port: proxy.port }) } : {}),
    ...rest,
  } as StartOptions);
  devices.push(d);
  given.set(d, [config.secret, config.token, config.pass]);
  return d;
}

// Stops every device and the given clouds; then checks that no log line of any device carried a
// secret (WiFi password, secret key, session token, from any iot.json it was given) or a signed URL.
export async function stopAll(...clouds: (Cloud | undefined)[]): Promise<void> {
  const leaks: string[] = [];
  while (devices.length) {
    const d = devices.pop()!;
    const cfg = d.storage.readJSON("iot.json") || {};
    const secrets = [cfg.secret, cfg.token, cfg.pass, ...(given.get(d) || [])].filter((x) => typeof x === "string" && x.length >= 6);
    for (const l of d.logs) {
      if (l.includes("X-Amz-") || secrets.some((x) => l.includes(x))) leaks.push(d.name + ": " + l);
    }
    await d.stop();
  }
  for (const c of clouds) if (c) await c.stop();
  if (leaks.length) throw new Error("secret or signed URL in the device log:\n" + leaks.join("\n"));
}

// Jest lifecycle of a suite sharing one stand-in: builds the firmware and starts the stand-in before
// the suite (handing it to `use`), stops the suite's devices after each test (with the secret check
// of stopAll), and the stand-in at the end.
export function sharedCloud(use: (cloud: Cloud) => void, opts: Record<string, any> = {}): void {
  let cloud: Cloud | undefined;
  beforeAll(async () => {
    await firmware();
    cloud = await cloudUp(opts);
    use(cloud);
  });
  afterEach(() => stopAll());
  afterAll(() => stopAll(cloud));
}

export function count(d: DeviceHandle, match: string | RegExp): number {
  return d.logs.filter((l) => (typeof match === "string" ? l.includes(match) : match.test(l))).length;
}

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

// Counts MQTT publishes from the device (client id = thing) on topics ending with `suffix`.
export function watchPublishes(cloud: Cloud, thing: string, suffix: string): { list: any[]; stop(): void } {
  const list: any[] = [];
  const cb = (topic: string, payload: Buffer, clientId: string) => {
    if (clientId !== thing || !topic.endsWith(suffix)) return;
    try {
      list.push({ topic, msg: JSON.parse(payload.toString()) });
    } catch {
      list.push({ topic, msg: null });
    }
  };
  cloud.on("publish", cb);
  return { list, stop: () => cloud.off("publish", cb) };
}
