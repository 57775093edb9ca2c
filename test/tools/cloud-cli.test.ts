// `npm run cloud`'s options: a wrong value is refused in plain words before anything starts.
import { spawnSync } from "child_process";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");

function cloudCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/cloud.ts", ...args], { cwd: ROOT, encoding: "utf8", timeout: 30000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("a port out of range names the range; a missing or non-numeric value says a number is needed", () => {
  const high = cloudCli(["--https-port", "70000"]);
  expect(high.status).toBe(2);
  expect(high.stderr).toContain("error: --https-port must be a port number 0..65535 (0 = any free port), got 70000");
  const word = cloudCli(["--port", "eighty"]);
  expect(word.status).toBe(2);
  expect(word.stderr).toContain('error: --port needs a whole number, got "eighty"');
  const none = cloudCli(["--mqtt-port"]);
  expect(none.status).toBe(2);
  expect(none.stderr).toContain("error: --mqtt-port needs a whole number, got nothing");
});

test("--help exits 0 with the usage; an unknown option is named", () => {
  const help = cloudCli(["--help"]);
  expect(help.status).toBe(0);
  expect(help.stderr).toMatch(/^usage: npm run cloud/);
  const bogus = cloudCli(["--bogus"]);
  expect(bogus.status).toBe(2);
  expect(bogus.stderr).toContain("error: unknown option --bogus");
});
