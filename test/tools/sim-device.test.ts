// `npm run sim:device`: its options in plain words, and --cloud, which connects a simulated board to a local
// stand-in with no hand-copied keys (a running one, where it creates the thing, or one it starts itself).
import { spawn, spawnSync, ChildProcess } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { parseSimArgs, UsageError } from "../../scripts/sim-device";
import { validateConfig } from "../../scripts/device-config";
import { startCloud } from "../../sim/cloud";
import type { Cloud } from "../../sim/cloud";
import { cleanup, dir, firmware, until } from "../support/e2e";

const ROOT = path.resolve(__dirname, "..", "..");
const children: ChildProcess[] = [];
let cloud: Cloud | undefined;

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  if (cloud) await cloud.stop();
  cleanup();
});

function simDevice(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/sim-device.ts", ...args], {
    cwd: ROOT,
    // without the SDK's notice switch that jest's configuration sets: the tool must set it itself
    env: { ...process.env, FORCE_COLOR: "0", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: undefined },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (c) => (out += c));
  child.stderr!.on("data", (c) => (out += c));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, output: () => out, exited };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe("options", () => {
  it("--help prints the usage and exits 0", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/sim-device.ts", "--help"], { cwd: ROOT, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm run sim:device/);
    expect(r.stdout).toContain("--cloud [URL]");
  });

  it("says what is wrong with an option, in plain words", () => {
    expect(() => parseSimArgs(["--bogus"])).toThrow(new UsageError("unknown option --bogus (see --help)"));
    expect(() => parseSimArgs(["--bogus", "1"])).toThrow(/unknown option --bogus/);
    expect(() => parseSimArgs(["--name"])).toThrow("--name needs a value");
    expect(() => parseSimArgs(["--name", "--bench"])).toThrow("--name needs a value");
    expect(() => parseSimArgs(["--board", "esp9000"])).toThrow('--board must be esp8266 or esp32, not "esp9000"');
    expect(() => parseSimArgs(["dev1"])).toThrow(/unexpected argument "dev1"/);
    expect(() => parseSimArgs(["--cloud", "ftp://x"])).toThrow(/--cloud takes the stand-in's http:\/\/ address/);
    expect(() => parseSimArgs(["--data-dir", "d"])).toThrow("--data-dir belongs to --cloud");
  });

  it("reads --cloud with and without an address, and --name=value", () => {
    expect(parseSimArgs(["--cloud"]).cloud).toBe("http://127.0.0.1:8090");
    expect(parseSimArgs(["--cloud", "--name", "a"])).toEqual({ opts: { name: "a" }, cloud: "http://127.0.0.1:8090", bench: false, help: false });
    expect(parseSimArgs(["--cloud", "http://127.0.0.1:9000", "--bench"]).cloud).toBe("http://127.0.0.1:9000");
    expect(parseSimArgs(["--name=lamp", "--board=esp32"]).opts).toEqual({ name: "lamp", board: "esp32" });
  });

  it("the example configuration is a valid iot.json", () => {
    const example = JSON.parse(fs.readFileSync(path.join(ROOT, "docs", "examples", "sim-device.json"), "utf8"));
    const r = validateConfig(example);
    expect(r.errors).toEqual([]);
    expect(example.ssid).toBe("lab"); // the simulated access point
  });
});

describe("without a configuration", () => {
  it("says how to give the board one, and the board says what is missing", async () => {
    const storage = dir("sim-device-empty");
    const sim = simDevice(["--storage", storage, "--bundle", await firmware()]);
    await until(() => sim.output().includes("[E] config iot.json: missing or not JSON"), "the board's configuration error", 30000).catch((e) => {
      throw new Error(e.message + "; output so far:\n" + sim.output());
    });
    expect(sim.output()).toContain(`[sim] no iot.json in ${storage}: the board will wait for one. Use --cloud to connect it to a local stand-in, or --config FILE (example: docs/examples/sim-device.json).`);
    await until(() => sim.output().includes("Ctrl-C to stop."), "the ready line", 30000);
    sim.child.kill("SIGINT");
    expect(await sim.exited).toBe(0);
  }, 60000);
});

describe("--cloud", () => {
  it("creates the thing on a running stand-in and connects to it", async () => {
    const dataDir = dir("sim-device-cloud");
    cloud = await startCloud({ dataDir, port: 0 });
    const connected = new Promise<string>((r) => cloud!.on("connect", (id: string) => r(id)));
    const sim = simDevice(["--cloud", `http://${cloud.endpoint}`, "--data-dir", dataDir, "--name", "lamp9", "--storage", dir("sim-device-storage1"), "--bundle", await firmware()]);
    await until(() => sim.output().includes("[lamp9] [I] connected to AWS IoT"), "the board connected", 30000).catch((e) => {
      throw new Error(e.message + "; output so far:\n" + sim.output());
    });
    expect(await connected).toBe("lamp9");
    const registry = JSON.parse(fs.readFileSync(path.join(dataDir, "registry.json"), "utf8"));
    expect(registry.things.map((t: any) => t.thingName)).toEqual(["lamp9"]);
    await until(() => (cloud!.shadows.get("lamp9") as any)?.state?.reported?.refresh === 10, "the board's first report");
    // keys never printed
    const cfg = JSON.parse(fs.readFileSync(path.join(dataDir, "config.json"), "utf8"));
    for (const c of [cfg.admin, ...cfg.credentials]) expect(sim.output()).not.toContain(c.secretAccessKey);
    expect(sim.output()).not.toContain("NodeVersionSupportWarning"); // it created the thing with the AWS SDK
    await until(() => sim.output().includes("Ctrl-C to stop."), "the ready line", 30000);
    sim.child.kill("SIGINT");
    expect(await sim.exited).toBe(0);
  }, 60000);

  it("starts a stand-in when none answers, and stops it on Ctrl-C", async () => {
    const dataDir = dir("sim-device-own-cloud");
    const port = await freePort();
    const sim = simDevice(["--cloud", `http://127.0.0.1:${port}`, "--data-dir", dataDir, "--storage", dir("sim-device-storage2"), "--bundle", await firmware()]);
    await until(() => sim.output().includes("[sim-1] [I] connected to AWS IoT"), "the board connected", 30000).catch((e) => {
      throw new Error(e.message + "; output so far:\n" + sim.output());
    });
    expect(sim.output()).toContain(`started a local stand-in on http://127.0.0.1:${port}`);
    const registry = JSON.parse(fs.readFileSync(path.join(dataDir, "registry.json"), "utf8"));
    expect(registry.things.map((t: any) => t.thingName)).toEqual(["sim-1"]);
    sim.child.kill("SIGINT");
    expect(await sim.exited).toBe(0);
    // the port is free again: the stand-in stopped with the board
    await new Promise<void>((resolve, reject) => {
      const s = net.createServer().once("error", reject).listen(port, "127.0.0.1", () => s.close(() => resolve()));
    });
  }, 60000);

  it("refuses a running stand-in whose data directory it was not given", async () => {
    cloud ??= await startCloud({ dataDir: dir("sim-device-cloud"), port: 0 });
    const sim = simDevice(["--cloud", `http://${cloud.endpoint}`, "--data-dir", dir("sim-device-wrong-dir"), "--storage", dir("sim-device-storage3")]);
    expect(await sim.exited).toBe(1);
    expect(sim.output()).toMatch(/the stand-in on http:\/\/127\.0\.0\.1:\d+ is running, but its admin key is not in .*config\.json: pass the --data-dir it was started with/);
  }, 30000);
});
