// No secret in logs or in the bundle, and the telnet console off after boot.
// A device runs with recognisable secrets (WiFi password, a wrong secret key first, then real
// long-term and session credentials) through boot, a 403, reconnects, a WiFi drop and a reboot;
// every log line of the device and of the stand-in is searched for every secret and for the signed
// URL's signature and token parameters. The bundle is built with sentinel IOT_* variables set.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildBundle } from "../../scripts/build";
import { until } from "../support/wait";
import { startCloud, Cloud } from "../../sim/cloud";
import { startDevice, DeviceHandle } from "../../sim/board";

jest.setTimeout(60000);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sec-secrets-"));
const WIFI_PASS = "WIFI-PASS-SENTINEL-7d1e";
const BAD_SECRET = "BADSECRETSENTINEL0123456789abcdefghijklm"; // 40 characters, like an AWS secret key
let cloud: Cloud;
let bundle: string;
const cloudLogs: string[] = [];

beforeAll(async () => {
  bundle = path.join(tmp, "firmware.js");
  await buildBundle({ entry: "firmware/main.ts", outfile: bundle, sourcemap: false });
  cloud = await startCloud({ dataDir: path.join(tmp, "cloud"), port: 0, keepAliveMinSeconds: 1, log: (l: string) => cloudLogs.push(l) } as any);
});
afterAll(async () => {
  await cloud.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const count = (d: DeviceHandle, s: string) => d.logs.filter((l) => l.includes(s)).length;

function expectNoSecrets(lines: string[], secrets: string[], where: string): void {
  const text = lines.join("\n");
  for (const s of secrets) {
    // the whole value, and any 12-character piece of it (a truncated or split print)
    expect({ where, leaked: text.includes(s) ? s : "" }).toEqual({ where, leaked: "" });
    for (let i = 0; i + 12 <= s.length; i += 6) {
      const piece = s.substr(i, 12);
      expect({ where, leaked: text.includes(piece) ? piece : "" }).toEqual({ where, leaked: "" });
    }
  }
  expect({ where, signed: /X-Amz-Signature=|X-Amz-Security-Token=|X-Amz-Credential=/.test(text) }).toEqual({ where, signed: false });
}

test("no secret in any log line: boot, a 403, reconnects, a WiFi drop, session credentials, a reboot", async () => {
  const T = "sec-logs";
  const cr = await cloud.createThing(T);
  const sts = cloud.issueSessionCredentials(T, 3600);
  const i = cloud.endpoint.lastIndexOf(":");
  const base = { ssid: "lab", pass: WIFI_PASS, host: cloud.endpoint.substr(0, i), port: +cloud.endpoint.substr(i + 1), region: cloud.region, thing: T, refresh: 2, boMin: 100, boMax: 500, getTo: 2 };
  const d = await startDevice({
    board: "esp8266",
    storageDir: path.join(tmp, "dev"),
    bundlePath: bundle,
    config: { ...base, akid: cr.accessKeyId, secret: BAD_SECRET },
    wifi: { ssid: "lab", password: WIFI_PASS },
    name: T,
  });
  try {
    expect(d.telnet.mode).toBe("off"); // right after boot
    await d.waitForLog(/HTTP 403/, 10000); // wrong secret: refused
    d.storage.write("iot.json", JSON.stringify({ ...base, akid: cr.accessKeyId, secret: cr.secretAccessKey }));
    await d.waitForLog("connected to AWS IoT", 15000);
    d.faults.resetSockets();
    await until(() => count(d, "connected to AWS IoT") >= 2, "reconnect after a reset");
    d.faults.wifiDown();
    d.faults.wifiUp();
    await until(() => count(d, "connected to AWS IoT") >= 3, "reconnect after a WiFi drop");
    // session credentials, then a reboot (boot prints the configuration summary again)
    d.storage.write("iot.json", JSON.stringify({ ...base, akid: sts.accessKeyId, secret: sts.secretAccessKey, token: sts.sessionToken, tokenExp: Math.floor(sts.expiration / 1000) }));
    await d.reboot();
    expect(d.telnet.mode).toBe("off");
    await until(() => count(d, "connected to AWS IoT") >= 4, "connected with session credentials");
    d.faults.resetSockets();
    await until(() => count(d, "connected to AWS IoT") >= 5, "reconnect with session credentials");
    const secrets = [WIFI_PASS, BAD_SECRET, cr.secretAccessKey, sts.secretAccessKey, sts.sessionToken];
    expectNoSecrets(d.logs, secrets, "device console");
    expectNoSecrets(cloudLogs, secrets, "stand-in log");
    expect(d.errors).toEqual([]);
  } finally {
    await d.stop();
  }
});

test("the telnet console is turned off at boot, also when the configuration is missing or invalid", async () => {
  const d = await startDevice({ board: "esp8266", storageDir: path.join(tmp, "dev-nocfg"), bundlePath: bundle, name: "nocfg" });
  try {
    await d.waitForLog(/config iot\.json/, 5000);
    expect(d.telnet.mode).toBe("off");
    d.storage.write("iot.json", "{ not json");
    await d.reboot();
    expect(d.telnet.mode).toBe("off");
  } finally {
    await d.stop();
  }
  const e = await startDevice({ board: "esp32", storageDir: path.join(tmp, "dev-esp32"), bundlePath: bundle, name: "esp32", config: { ssid: "lab" } });
  try {
    expect(e.telnet.mode).toBe("off");
  } finally {
    await e.stop();
  }
});

test("the bundle holds no secret: built with sentinel IOT_* variables set, no key ids or secrets inside", async () => {
  const sentinels: Record<string, string> = {
    IOT_ACCESS_KEY_ID: "AKIASENTINEL0000KEY1",
    IOT_SECRET_ACCESS_KEY: "SECRETSENTINELwJalrXUtnFEMIK7MDENGbPxRfi",
    IOT_SESSION_TOKEN: "TOKENSENTINEL-FwoGZXIvYXdzEJr",
    IOT_WIFI_PASS: "WIFISENTINEL-hunter2",
    IOT_WIFI_PASSWORD: "WIFISENTINEL-hunter3",
    AWS_ACCESS_KEY_ID: "AKIASENTINEL0000KEY2",
    AWS_SECRET_ACCESS_KEY: "AWSSECRETSENTINEL00000000000000000000000",
  };
  const saved: Record<string, string | undefined> = {};
  for (const k of Object.keys(sentinels)) {
    saved[k] = process.env[k];
    process.env[k] = sentinels[k];
  }
  const out = path.join(tmp, "sentinel-firmware.js");
  try {
    await buildBundle({ entry: "firmware/main.ts", outfile: out, sourcemap: true });
  } finally {
    for (const k of Object.keys(sentinels)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
  const files = [out, out + ".map", path.join(__dirname, "..", "..", "dist", "firmware.js")].filter((f) => fs.existsSync(f));
  expect(files.length).toBeGreaterThanOrEqual(2);
  for (const f of files) {
    const text = fs.readFileSync(f, "latin1");
    for (const v of Object.values(sentinels)) expect({ f, leaked: text.includes(v) ? v : "" }).toEqual({ f, leaked: "" });
    // nothing shaped like an AWS access key id, and none of this test run's stand-in keys
    expect({ f, keyIds: text.match(/\b(AKIA|ASIA)[0-9A-Z]{16}\b/g) || [] }).toEqual({ f, keyIds: [] });
    expect({ f, env: /process\.env/.test(text) }).toEqual({ f, env: false });
  }
});
