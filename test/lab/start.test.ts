// `npm start` end to end: the real scripts/start.ts in a child process (one board, ephemeral port, its own data
// dir and a test build of the firmware), driven by `npm run lab` (scripts/lab.ts), stopped with SIGINT.
import { spawn, ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { run } from "../../scripts/lab";
import { cleanup, dir, firmware, until } from "./helpers";

const ROOT = path.resolve(__dirname, "..", "..");
let child: ChildProcess | undefined;

afterAll(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  cleanup();
});

test("npm start prints where to look, serves the lab, and stops cleanly on Ctrl-C (SIGINT)", async () => {
  const dataDir = dir("start");
  const bundle = await firmware();
  child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts", "--devices", "1", "--port", "0", "--refresh", "2", "--data", dataDir, "--bundle", bundle], {
    cwd: ROOT,
    env: { ...process.env, FORCE_COLOR: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (c) => (out += c));
  child.stderr!.on("data", (c) => (out += c));
  const exited = new Promise<number | null>((r) => child!.on("exit", (code) => r(code)));

  await until(() => out.includes("Ctrl-C stops the lab") && fs.existsSync(path.join(dataDir, "lab.json")), "the banner and the lab file", 30000).catch((e) => {
    throw new Error(e.message + "; output so far:\n" + out);
  });
  expect(out).toMatch(/\[dev-1\] \[I\] /); // the board's console is echoed
  expect(out).toMatch(/1 simulated esp8266 board\(s\) running dist\/firmware\.js against the local AWS IoT Core stand-in/);
  expect(out).toMatch(/web view\s+http:\/\/127\.0\.0\.1:\d+\//);
  expect(out).toMatch(/endpoint\s+ws:\/\/127\.0\.0\.1:\d+\/mqtt/);
  expect(out).toMatch(/things\s+dev-1 in thing group "sensors"/);
  expect(out).toContain("npm run lab -- desired dev-1 on=true refresh=10");
  // no secret of the stand-in is printed
  const cfg = JSON.parse(fs.readFileSync(path.join(dataDir, "cloud", "config.json"), "utf8"));
  for (const c of [cfg.admin, ...cfg.credentials]) expect(out).not.toContain(c.secretAccessKey);

  const lab = JSON.parse(fs.readFileSync(path.join(dataDir, "lab.json"), "utf8"));
  expect(lab.pid).toBe(child.pid);
  const page = await fetch(lab.url);
  expect(page.status).toBe(200);
  const lines: string[] = [];
  await until(async () => {
    lines.length = 0;
    await run(["status", "--data", dataDir], (s) => lines.push(s));
    return /dev-1\s+yes\s+up\s+yes/.test(lines.join("\n"));
  }, "status to show dev-1 online");

  child.kill("SIGINT");
  expect(await exited).toBe(0);
  expect(out).toContain("[lab] stopped");
  expect(fs.existsSync(path.join(dataDir, "lab.json"))).toBe(false);
  await expect(run(["status", "--data", dataDir], () => undefined)).rejects.toThrow(/no lab is running/);
}, 60000);
