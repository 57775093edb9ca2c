// Configuration values beyond ASCII (a WiFi password "pässwörd", an SSID with an emoji), end to end:
// iot.json is ASCII JSON carrying each value's UTF-8 bytes as \u00XX escapes; the dry run's upload
// writes exactly that file (and is ASCII, so a TCP console carries it intact); on the simulated
// board the firmware hands the exact UTF-8 bytes to Wifi.connect.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { replayUpload } from "../../scripts/flash/espruino-cli";
import { configFileText, deviceString, validateConfig } from "../../scripts/device-config";
import { CONFIG_FILE } from "../../firmware/config/config";
import type { Cloud } from "../../sim/cloud";
import { boot, CONNECTED, deviceConfig, sharedCloud } from "../support/e2e";

const ROOT = path.resolve(__dirname, "..", "..");
const TSX = path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const SSID = "Café 📶";
const PASS = "pässwörd";
const ASCII = /^[\x00-\x7f]*$/;

jest.setTimeout(60000);

describe("iot.json text", () => {
  test("ASCII JSON whose values parse to the UTF-8 bytes of the originals", () => {
    const text = configFileText({ ssid: SSID, pass: PASS, thing: "t" } as any);
    expect(text).toMatch(ASCII);
    expect(text).toContain('"pass":"p\\u00c3\\u00a4ssw\\u00c3\\u00b6rd"');
    const parsed = JSON.parse(text); // what Espruino's JSON parser gives: one 8-bit char per escape
    expect(Buffer.from(parsed.pass, "latin1")).toEqual(Buffer.from(PASS, "utf8"));
    expect(Buffer.from(parsed.ssid, "latin1")).toEqual(Buffer.from(SSID, "utf8"));
    expect(parsed.thing).toBe("t");
  });

  test("an ASCII configuration is written as before, byte for byte", () => {
    const config = { ssid: "LabNet", pass: "pa\"ss\\word", thing: "t", port: 443 } as any;
    expect(configFileText(config)).toBe(JSON.stringify(config));
  });

  test("WiFi limits count UTF-8 bytes: 32 for the SSID, 64 for the password", () => {
    const base = { ssid: "x", host: "h", region: "eu-west-1", akid: "AKIA", secret: "s", thing: "t" };
    expect(validateConfig({ ...base, ssid: "ü".repeat(16) }).errors).toEqual([]); // 32 bytes
    expect(validateConfig({ ...base, ssid: "ü".repeat(17) }).errors).toEqual(["ssid is longer than 32 bytes (in UTF-8)"]);
    expect(validateConfig({ ...base, pass: "📶".repeat(16) }).errors).toEqual([]); // 64 bytes
    expect(validateConfig({ ...base, pass: "📶".repeat(16) + "a" }).errors).toEqual(["pass is longer than 64 bytes (in UTF-8)"]);
  });
});

describe("npm run flash -- --dry-run with non-ASCII values", () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flash-utf8-"));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test("the upload is ASCII and writes iot.json with the values' UTF-8 bytes", async () => {
    const env = [
      `IOT_WIFI_SSID="${SSID}"`,
      `IOT_WIFI_PASSWORD="${PASS}"`,
      `IOT_ENDPOINT="abc123example-ats.iot.eu-west-1.amazonaws.com"`,
      `IOT_REGION="eu-west-1"`,
      `IOT_ACCESS_KEY_ID="AKIAFAKEDEVICE000042"`,
      `IOT_SECRET_ACCESS_KEY="FAKEsecret/9f3b+Xq2vLm8Tn4Kd7Wz1Hs5Rp0Yc6Ue"`,
      `IOT_THING_NAME="nodemcu-utf8"`,
      `IOT_RELAY_HOST="192.168.1.20"`,
      `IOT_RELAY_PORT="8883"`,
    ].join("\n") + "\n";
    const envFile = path.join(tmp, "device.env");
    fs.writeFileSync(envFile, env, "utf8");
    const bundle = path.join(tmp, "tiny.js");
    fs.writeFileSync(bundle, 'console.log("tiny");\n');
    const out = path.join(tmp, "dry");
    const args = ["--dry-run", "--no-build", "--bundle", bundle, "--env", envFile, "--out", out, "--port", "tcp://192.168.1.50:23", "--board", "ESP8266_4MB"];
    const r = await runFlash(args);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout + r.stderr).not.toContain(PASS);

    const upload = fs.readFileSync(path.join(out, "upload.js")).toString("latin1");
    expect(upload).toMatch(ASCII); // nothing for a TCP console to corrupt
    const replay = replayUpload(upload);
    expect(replay.problems).toEqual([]);
    const written = replay.files[CONFIG_FILE];
    expect(written).toMatch(ASCII);
    const onBoard = JSON.parse(written);
    expect(onBoard.ssid).toBe(deviceString(SSID));
    expect(onBoard.pass).toBe(deviceString(PASS));
    expect(Buffer.from(onBoard.pass, "latin1").toString("utf8")).toBe(PASS);
  });
});

describe("on the simulated board", () => {
  let cloud: Cloud;
  sharedCloud((c) => (cloud = c));

  test("Wifi.connect receives the exact UTF-8 bytes: the device joins an AP whose SSID and password are those bytes", async () => {
    const config = await deviceConfig(cloud, "utf8-wifi", { ssid: SSID, pass: PASS });
    const d = await boot(config, { wifi: { ssid: deviceString(SSID), password: deviceString(PASS) } });
    await d.waitForLog(CONNECTED, 15000);
    expect(d.wifiStatus.station).toBe("connected");
  });

  test("control: an AP that expects the Latin-1 bytes of the password refuses the device", async () => {
    const config = await deviceConfig(cloud, "utf8-wrong", { ssid: SSID, pass: PASS });
    const latin1Password = Buffer.from(PASS, "latin1").toString("latin1"); // "p\xe4ssw\xf6rd": not UTF-8
    const d = await boot(config, { wifi: { ssid: deviceString(SSID), password: latin1Password } });
    const line = await d.waitForLog(/^\[W\] wifi .*wrong password/, 5000);
    expect(line).not.toContain(deviceString(PASS));
  });
});

function runFlash(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const k of Object.keys(process.env)) if (!k.startsWith("IOT_") && !k.startsWith("ESPRUINO_")) env[k] = process.env[k];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TSX, path.join(ROOT, "scripts", "flash.ts"), ...args], { cwd: ROOT, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
