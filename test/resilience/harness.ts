// Fault-matrix and soak helpers on top of the shared end-to-end harness (test/support/e2e.ts).
import type { Cloud } from "../../sim/cloud";
import type { DeviceHandle } from "../../sim/board";
import { connections, count, CONNECTED, delta, hostPort, ledLit, reported, sharedCloud, stopAll, until } from "../support/e2e";
import { MqttProxy, Pkt } from "./mqtt-proxy";

export * from "../support/e2e";

// Stops every device (and checks, as everywhere, that no log line carried a secret or a signed URL).
export async function stopDevices(): Promise<void> {
  await stopAll();
}

// The fault suites' lifecycle: sharedCloud (one stand-in, devices stopped and checked after each test)
// plus the MQTT fault proxy in front of the stand-in, whose hooks are cleared after each test.
export function sharedCloudWithProxy(use: (cloud: Cloud, proxy: MqttProxy) => void): void {
  let cloud: Cloud;
  let proxy: MqttProxy | undefined;
  sharedCloud((c) => (cloud = c));
  beforeAll(async () => {
    proxy = await MqttProxy.start(() => hostPort(cloud));
    use(cloud, proxy);
  });
  afterEach(() => {
    if (proxy) proxy.onUp = proxy.onDown = null;
  });
  afterAll(() => proxy && proxy.close());
}

// a PUBLISH whose topic ends with suffix (proxy hooks)
export const isPub = (p: Pkt, suffix: string) => p.type === 3 && !!p.topic && p.topic.endsWith(suffix);

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
