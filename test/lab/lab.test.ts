// The lab without a browser: two simulated boards running the firmware against the stand-in,
// driven through the terminal commands (scripts/lab.ts -> control API -> lab), all on 127.0.0.1.
import * as fs from "fs";
import * as path from "path";
import { startLab, Lab } from "../../sim/lab/lab";
import { startLabServer, LabServer } from "../../sim/lab/server";
import { bundleIsStale, readLabFile, removeLabFile, writeLabFile } from "../../sim/lab/files";
import { parseArgs, parsePairs, ArgError } from "../../sim/lab/args";
import { run } from "../../scripts/lab";
import { cleanup, dir, firmware, until } from "./helpers";

let lab: Lab;
let web: LabServer;
let dataDir: string;

async function cli(...argv: string[]): Promise<string> {
  const out: string[] = [];
  await run([...argv, "--data", dataDir], (s) => out.push(s));
  return out.join("\n");
}

const reported = (name: string) => {
  const s = lab.backend.cloud!.shadows.get(name);
  return (s && (s as any).state && (s as any).state.reported) || {};
};

beforeAll(async () => {
  dataDir = dir("lab");
  lab = await startLab({ devices: 2, group: "sensors", dataDir, bundlePath: await firmware(), refresh: 2, sensorDrift: false });
  web = await startLabServer(lab, { port: 0 });
  writeLabFile(dataDir, { pid: process.pid, port: web.port, url: web.url, mode: "local", endpoint: lab.info.endpoint, group: "sensors", devices: lab.info.devices, startedAt: new Date().toISOString() });
  await until(() => lab.views().every((d) => d.online && d.version !== null), "both devices online with a shadow");
}, 60000);

afterAll(async () => {
  removeLabFile(dataDir);
  if (web) await web.close();
  if (lab) await lab.stop();
  cleanup();
});

test("status lists both devices online, with their reported state", async () => {
  const out = await cli("status");
  expect(out).toMatch(/local stand-in 127\.0\.0\.1:\d+, group "sensors", 2 device\(s\)/);
  expect(out).toMatch(/dev-1\s+yes\s+up\s+yes\s+off/);
  expect(out).toMatch(/dev-2\s+yes\s+up\s+yes\s+off/);
});

test("desired on=true refresh=3: the LED lights and the device reports both", async () => {
  const out = await cli("desired", "dev-1", "on=true", "refresh=3");
  expect(out).toMatch(/dev-1: desired \{"on":true,"refresh":3\} accepted \(shadow version \d+\)/);
  await until(() => reported("dev-1").on === true && reported("dev-1").refresh === 3, "dev-1 to report on=true refresh=3");
  expect(lab.device("dev-1").led(2).level).toBe(0); // active-low on-board LED: lit
  await until(() => lab.viewOf("dev-1").led && lab.viewOf("dev-1").delta === null, "the view to show the LED lit and no delta");
});

test("bad input gets a plain-words error and changes nothing", async () => {
  const before = lab.backend.cloud!.shadows.get("dev-2") as any;
  await expect(cli("desired", "dev-2", "on=maybe")).rejects.toThrow(/on must be true or false \(got "maybe"\)/);
  await expect(cli("desired", "dev-2", "refresh=0")).rejects.toThrow(/refresh must be a whole number 1\.\.86400/);
  await expect(cli("desired", "dev-2", "colour=red")).rejects.toThrow(/"colour" is not a setting the device knows/);
  await expect(cli("desired", "dev-2")).rejects.toThrow(/key=value/);
  await expect(cli("press", "dev-7")).rejects.toThrow(/no device named "dev-7" \(devices: dev-1, dev-2\)/);
  await expect(cli("sensor", "dev-2", "maybe")).rejects.toThrow(/on or off/);
  await expect(cli("job", "dev-2", "selfdestruct")).rejects.toThrow(/unknown job operation "selfdestruct"/);
  await expect(cli("job", "--group", "nope", "blink")).rejects.toThrow(/no group named "nope"/);
  await expect(cli("job", "dev-2", "blink", "count=99")).rejects.toThrow(/1 to 20/);
  await expect(cli("fly")).rejects.toThrow(/unknown command "fly"/);
  const after = lab.backend.cloud!.shadows.get("dev-2") as any;
  expect(after.state.desired).toEqual(before.state.desired);
  expect(lab.views().every((d) => d.online)).toBe(true);
});

test("press: btnCount goes up in the shadow", async () => {
  const n = reported("dev-2").btnCount || 0;
  expect(await cli("press", "dev-2")).toBe("dev-2: button pressed");
  await until(() => reported("dev-2").btnCount === n + 1, "btnCount + 1");
});

test("sensor off reports a sensor error, sensor on brings readings back", async () => {
  await cli("sensor", "dev-2", "off");
  // null in a reported update deletes the key: no temperature, a sensorError instead
  await until(() => typeof reported("dev-2").sensorError === "string" && reported("dev-2").temperature === undefined, "a sensor error report");
  expect(lab.viewOf("dev-2").sensor).toBe(false);
  await cli("sensor", "dev-2", "on");
  await until(() => reported("dev-2").sensorError === undefined && typeof reported("dev-2").temperature === "number", "readings again");
}, 30000);

test("wifi off: the device goes offline; wifi on: it comes back", async () => {
  await cli("wifi", "dev-2", "off");
  await until(() => !lab.viewOf("dev-2").online, "dev-2 offline");
  expect((await cli("status")).split("\n").find((l) => l.startsWith("dev-2"))).toMatch(/dev-2\s+no\s+CUT/);
  await cli("wifi", "dev-2", "on");
  await until(() => lab.viewOf("dev-2").online, "dev-2 online again", 25000);
}, 40000);

test("jobs: blink for one device, set-config for the group, both SUCCEEDED", async () => {
  const one = await cli("job", "dev-2", "blink", "count=1");
  expect(one).toMatch(/^job lab-blink-\S+ created for dev-2$/);
  await until(() => lab.viewOf("dev-2").job?.status === "SUCCEEDED" && lab.viewOf("dev-2").job?.operation === "blink", "blink SUCCEEDED");
  const grp = await cli("job", "--group", "sensors", "set-config", "refresh=4");
  expect(grp).toMatch(/created for sensors \(thing group\)/);
  await until(() => lab.views().every((d) => d.job?.operation === "set-config" && d.job.status === "SUCCEEDED"), "set-config SUCCEEDED on both");
  await until(() => reported("dev-2").refresh === 4, "dev-2 reports refresh 4");
}, 30000);

test("reboot: the board boots again and reconnects", async () => {
  const d = lab.device("dev-1");
  const boots = d.bootCount;
  let connects = 0;
  const onConnect = (id: string) => {
    if (id === "dev-1") connects++;
  };
  lab.backend.cloud!.on("connect", onConnect);
  expect(await cli("reboot", "dev-1")).toBe("dev-1: rebooted");
  await until(() => d.bootCount === boots + 1 && connects === 1 && lab.viewOf("dev-1").online, "dev-1 rebooted and connected again");
  lab.backend.cloud!.off("connect", onConnect);
  // the LED state survives (desired on=true, persisted by the firmware)
  await until(() => lab.viewOf("dev-1").led, "LED lit after the reboot");
}, 30000);

test("control API: JSON errors and live events", async () => {
  const r = await fetch(web.url + "api/devices/dev-1/desired", { method: "POST", body: "{not json" });
  expect(r.status).toBe(400);
  expect(((await r.json()) as any).error).toBe("the request body is not valid JSON");
  const nf = await fetch(web.url + "api/nothing");
  expect(nf.status).toBe(404);
  const page = await fetch(web.url);
  expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
  expect(await page.text()).toContain("<script src=\"/app.js\">");
  // SSE: the first event is the whole state
  const ac = new AbortController();
  const ev = await fetch(web.url + "api/events", { signal: ac.signal });
  const reader = ev.body!.getReader();
  let text = "";
  while (!text.includes("event: state")) text += new TextDecoder().decode((await reader.read()).value);
  ac.abort();
  await reader.cancel().catch(() => undefined);
});

test("lab file, staleness check and argument parsing", () => {
  expect(readLabFile(dataDir).lab!.port).toBe(web.port);
  expect(readLabFile(path.join(dataDir, "none")).error).toMatch(/no lab is running .* start one with npm start/);
  const d = dir("stale");
  fs.mkdirSync(path.join(d, "fw", "sub"), { recursive: true });
  const src = path.join(d, "fw", "sub", "a.ts");
  const out = path.join(d, "out.js");
  fs.writeFileSync(src, "x");
  expect(bundleIsStale(out, path.join(d, "fw"))).toBe(true); // missing
  fs.writeFileSync(out, "y");
  fs.utimesSync(src, new Date(Date.now() - 60000), new Date(Date.now() - 60000));
  expect(bundleIsStale(out, path.join(d, "fw"))).toBe(false);
  fs.utimesSync(src, new Date(Date.now() + 60000), new Date(Date.now() + 60000));
  expect(bundleIsStale(out, path.join(d, "fw"))).toBe(true);
  expect(parseArgs(["--devices", "5", "--board=esp32", "--fresh", "x"], { devices: "number", board: "string", fresh: "boolean" })).toEqual({
    opts: { devices: 5, board: "esp32", fresh: true },
    positional: ["x"],
  });
  expect(() => parseArgs(["--devices", "many"], { devices: "number" })).toThrow(ArgError);
  expect(() => parseArgs(["--nope"], { devices: "number" })).toThrow(/unknown option --nope/);
  expect(parsePairs(["on=true", "refresh=10", "name=abc", "x=null"], "t")).toEqual({ on: true, refresh: 10, name: "abc", x: null });
});
