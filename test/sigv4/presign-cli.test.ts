// npm run presign: prints the firmware's URL, never the secret.
import { spawnSync } from "child_process";
import * as path from "path";
import { presign, signCache } from "../../firmware/aws/sigv4";

const ROOT = path.resolve(__dirname, "../..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");
const SECRET = "cliSecret/With+Slash=AndPlus0123456789abcd";

function run(args: string[], env: Record<string, string> = {}) {
  const envAll: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete envAll.AWS_ACCESS_KEY_ID;
  delete envAll.AWS_SECRET_ACCESS_KEY;
  delete envAll.AWS_SESSION_TOKEN;
  Object.assign(envAll, env);
  return spawnSync(TSX, ["scripts/presign.ts", ...args], { cwd: ROOT, encoding: "utf8", env: envAll });
}

describe("npm run presign", () => {
  test("prints the URL the firmware computes, with port, expiry and token; never the secret", () => {
    const r = run(["--host", "abc-ats.iot.eu-west-1.amazonaws.com", "--region", "eu-west-1", "--access-key", "AKIAEXAMPLE123",
      "--secret", SECRET, "--token", "tok/en+=", "--port", "8443", "--expires", "3600", "--date", "20260101T010000Z"]);
    expect(r.status).toBe(0);
    const want = presign(signCache(), {
      host: "abc-ats.iot.eu-west-1.amazonaws.com", port: 8443, region: "eu-west-1", akid: "AKIAEXAMPLE123",
      secret: SECRET, token: "tok/en+=", expires: 3600,
    }, "20260101T010000Z");
    expect(r.stdout).toBe(want + "\n");
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(r.stdout + r.stderr).not.toContain(encodeURIComponent(SECRET));
  });

  test("credentials from the environment; bad input is a plain error without the secret", () => {
    const ok = run(["--host", "h.example", "--region", "us-east-1", "--date", "20260101T010000Z"], { AWS_ACCESS_KEY_ID: "AKIAENV", AWS_SECRET_ACCESS_KEY: SECRET });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain("X-Amz-Credential=AKIAENV%2F20260101%2Fus-east-1%2Fiotdevicegateway%2Faws4_request");
    const bad = run(["--host", "h", "--region", "r", "--access-key", "A", "--secret", SECRET, "--date", "yesterday"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("date must be YYYYMMDDTHHMMSSZ");
    expect(bad.stdout + bad.stderr).not.toContain(SECRET);
    const expires = run(["--host", "h", "--region", "r", "--access-key", "A", "--secret", SECRET, "--expires", "0"]);
    expect(expires.status).toBe(1);
    expect(expires.stderr).toContain("--expires must be 1..604800 seconds");
    const missing = run(["--host", "h", "--region", "r", "--access-key", "A"]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("--secret is required");
  });
});
