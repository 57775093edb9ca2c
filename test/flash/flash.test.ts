// npm run flash / npm run configure, dry run: the real Espruino CLI produces the upload offline (no board,
// no network), and we check what it would write to the board's Storage.
import { spawn, spawnSync } from "child_process";
import * as net from "net";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { replayUpload, OFFLINE_GUARD, CLI_PATH } from "../../scripts/flash/espruino-cli";
import { CONFIG_FILE } from "../../firmware/config/config";
import { buildBundle } from "../../scripts/build";

const ROOT = path.resolve(__dirname, "..", "..");
let BUNDLE = ""; // the firmware, built from the current source into the test's temp dir (dist/ is left alone)
const TSX = path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");

// Fake secrets, distinctive enough that any leak is found by a substring search.
const FAKE = {
  pass: "wifi-FAKE-pass-7c1e",
  akid: "AKIAFAKEDEVICE000042",
  secret: "FAKEsecret/9f3b+Xq2vLm8Tn4Kd7Wz1Hs5Rp0Yc6Ue",
  token: "FAKEsessionToken//Zm9vYmFy+IQoJb3JpZ2luX2VjEFAKE==",
};

function envText(extra: Record<string, string> = {}): string {
  const vars: Record<string, string> = {
    IOT_WIFI_SSID: "LabNet",
    IOT_WIFI_PASSWORD: FAKE.pass,
    IOT_ENDPOINT: "abc123example-ats.iot.eu-west-1.amazonaws.com",
    IOT_REGION: "eu-west-1",
    IOT_ACCESS_KEY_ID: FAKE.akid,
    IOT_SECRET_ACCESS_KEY: FAKE.secret,
    IOT_SESSION_TOKEN: FAKE.token,
    IOT_SESSION_EXPIRES: String(Math.floor(Date.now() / 1000) + 12 * 3600),
    IOT_THING_NAME: "nodemcu-test",
    IOT_RELAY_HOST: "192.168.1.20",
    IOT_RELAY_PORT: "8883",
    ...extra,
  };
  return Object.keys(vars).map((k) => `${k}="${vars[k]}"`).join("\n") + "\n";
}

// The child sees no IOT_* variable from the developer's shell: only the .env file we write.
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  Object.keys(process.env).forEach((k) => {
    if (!k.startsWith("IOT_") && !k.startsWith("ESPRUINO_")) env[k] = process.env[k];
  });
  return env;
}

interface Ran { code: number | null; stdout: string; stderr: string }

function runScript(script: "flash" | "configure", args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const pre = script === "flash" ? ["--bundle", BUNDLE] : []; // a later --bundle in args wins
    const child = spawn(process.execPath, [TSX, path.join(ROOT, "scripts", script + ".ts")].concat(pre, args), { cwd: ROOT, env: { ...cleanEnv(), ...extraEnv } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

let tmp: string;
let envFile: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flash-test-"));
  BUNDLE = path.join(tmp, "firmware.js");
  await buildBundle({ entry: "firmware/main.ts", outfile: BUNDLE, sourcemap: false });
  envFile = path.join(tmp, "device.env");
  fs.writeFileSync(envFile, envText());
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function noSecretIn(text: string, where: string): void {
  Object.values(FAKE).forEach((s) => {
    if (s === FAKE.akid) return; // the key id is not a secret (printed shortened)
    expect({ where, leaked: text.includes(s) }).toEqual({ where, leaked: false });
    expect({ where, leakedBase64: text.includes(Buffer.from(s).toString("base64").slice(0, 16)) }).toEqual({ where, leakedBase64: false });
  });
}

describe("npm run flash -- --dry-run", () => {
  let out: string;
  let res: Ran;
  const bundle = () => fs.readFileSync(BUNDLE).toString("latin1");

  beforeAll(async () => {
    out = path.join(tmp, "dry-tcp");
    // tcp:// port: no pretokenising, so the saved code must be the bundle byte for byte
    res = await runScript("flash", ["--dry-run", "--no-build", "--env", envFile, "--out", out, "--port", "tcp://192.168.1.50:23", "--board", "ESP8266_4MB"]);
  });

  it("succeeds without a board and says nothing was sent", () => {
    expect(res.stderr).not.toMatch(/offline guard/);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/nothing was sent/);
  });

  it("saves the code to flash: Storage .bootcde, then load()", () => {
    const upload = fs.readFileSync(path.join(out, "upload.js"), "latin1");
    expect(upload).toContain('require("Storage").write(".bootcde",');
    const replay = replayUpload(upload);
    expect(replay.problems).toEqual([]);
    // byte for byte, apart from the newline the CLI's module loader puts first when the code has require()s
    expect(replay.files[".bootcde"].replace(/^\n/, "")).toBe(bundle());
    expect(replay.loads).toEqual([".bootcde"]);
  });

  it("writes the configuration as its own Storage file, with every field", () => {
    const replay = replayUpload(fs.readFileSync(path.join(out, "upload.js"), "latin1"));
    expect(Object.keys(replay.files).sort()).toEqual([".bootcde", CONFIG_FILE].sort());
    const cfg = JSON.parse(replay.files[CONFIG_FILE]);
    expect(cfg).toMatchObject({
      ssid: "LabNet", pass: FAKE.pass, akid: FAKE.akid, secret: FAKE.secret, token: FAKE.token,
      thing: "nodemcu-test", host: "abc123example-ats.iot.eu-west-1.amazonaws.com", region: "eu-west-1",
      relayHost: "192.168.1.20", relayPort: 8883, tls: false, port: 443, dhtPin: 5, ledPin: 2, btnPin: 0,
    });
    // the configuration is written before the code, and the code is the last thing loaded
    expect(replay.order).toEqual([CONFIG_FILE, ".bootcde"]);
  });

  it("keeps every secret out of the code part, the summary and the console", () => {
    const replay = replayUpload(fs.readFileSync(path.join(out, "upload.js"), "latin1"));
    noSecretIn(replay.files[".bootcde"], ".bootcde");
    noSecretIn(fs.readFileSync(path.join(out, "code.js"), "latin1"), "code.js");
    noSecretIn(fs.readFileSync(path.join(out, "summary.json"), "utf8"), "summary.json");
    noSecretIn(fs.readFileSync(path.join(out, "iot.masked.json"), "utf8"), "iot.masked.json");
    noSecretIn(res.stdout + res.stderr, "console");
    const masked = JSON.parse(fs.readFileSync(path.join(out, "iot.masked.json"), "utf8"));
    expect(masked.secret).toMatch(/^\*\*\*/);
    expect(masked.pass).toMatch(/^\*\*\*/);
  });

  it("keeps the full upload private (it holds the secrets)", () => {
    if (process.platform === "win32") return;
    expect(fs.statSync(path.join(out, "upload.js")).mode & 0o077).toBe(0);
    expect(fs.statSync(out).mode & 0o077).toBe(0);
  });

  it("pretokenises over a serial port only, still with no secret in the code", async () => {
    const outSerial = path.join(tmp, "dry-serial");
    const r = await runScript("flash", ["--dry-run", "--no-build", "--env", envFile, "--out", outSerial, "--port", "/dev/ttyUSB9"]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(fs.readFileSync(path.join(outSerial, "summary.json"), "utf8"));
    expect(summary.pretokenised).toBe(true);
    expect(summary.transport).toBe("serial");
    const replay = replayUpload(fs.readFileSync(path.join(outSerial, "upload.js"), "latin1"));
    expect(replay.problems).toEqual([]);
    expect(replay.files[".bootcde"].length).toBeGreaterThan(0);
    expect(replay.files[".bootcde"].length).toBeLessThanOrEqual(bundle().length);
    noSecretIn(replay.files[".bootcde"], "pretokenised .bootcde");
    const tcpSummary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"));
    expect(tcpSummary.pretokenised).toBe(false);
  });

  it("works for an ESP32 going wss:// directly", async () => {
    const esp32Env = path.join(tmp, "esp32.env");
    fs.writeFileSync(esp32Env, envText({ IOT_TLS: "true", IOT_RELAY_HOST: "", IOT_RELAY_PORT: "" }));
    const o = path.join(tmp, "dry-esp32");
    const r = await runScript("flash", ["--dry-run", "--no-build", "--env", esp32Env, "--out", o, "--board", "ESP32"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const cfg = JSON.parse(replayUpload(fs.readFileSync(path.join(o, "upload.js"), "latin1")).files[CONFIG_FILE]);
    expect(cfg.tls).toBe(true);
    expect(cfg.relayHost).toBeUndefined();
  });
});

describe("refusals: nothing is prepared or sent", () => {
  it("refuses a configuration missing a field, naming the variable", async () => {
    const f = path.join(tmp, "missing.env");
    fs.writeFileSync(f, envText().split("\n").filter((l) => !l.startsWith("IOT_THING_NAME")).join("\n"));
    const o = path.join(tmp, "dry-missing");
    const r = await runScript("flash", ["--dry-run", "--no-build", "--env", f, "--out", o]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/IOT_THING_NAME/);
    expect(fs.existsSync(o)).toBe(false);
  });

  it("refuses .env.example copied as it is, naming each example value to replace", async () => {
    const o = path.join(tmp, "dry-example");
    const r = await runScript("flash", ["--dry-run", "--no-build", "--env", path.join(ROOT, ".env.example"), "--out", o]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to flash/);
    for (const v of ["IOT_WIFI_SSID", "IOT_WIFI_PASSWORD", "IOT_ENDPOINT", "IOT_ACCESS_KEY_ID", "IOT_SECRET_ACCESS_KEY"]) {
      expect(r.stderr).toMatch(new RegExp(v + " still holds the example value of \\.env\\.example"));
    }
    expect(r.stderr).toContain('IOT_WIFI_SSID still holds the example value of .env.example ("MyHomeWifi"): put your own in');
    expect(fs.existsSync(o)).toBe(false);
  });

  it("says a missing --env file is not found, instead of listing every variable as missing", async () => {
    const missing = path.join(tmp, "no-such.env");
    for (const script of ["flash", "configure"] as const) {
      const r = await runScript(script, script === "flash" ? ["--dry-run", "--no-build", "--env", missing] : ["--dry-run", "--env", missing]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(`${script}: --env ${missing}: file not found`);
    }
  });

  it("without a .env file nor IOT_* variables, says to copy .env.example", async () => {
    const project = path.join(tmp, "project-no-env.js");
    fs.writeFileSync(project, `module.exports = { envFile: ${JSON.stringify(path.join(tmp, "absent.env"))} };`);
    const r = await runScript("configure", ["--dry-run", "--config", project, "--out", path.join(tmp, "dry-none")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/absent\.env not found and no IOT_\* variable is set: cp \.env\.example .*absent\.env, then fill it in/);
  });

  it("refuses TLS on an ESP8266 and a pin wired to the flash chip", async () => {
    const f = path.join(tmp, "esp8266-tls.env");
    fs.writeFileSync(f, envText({ IOT_TLS: "true", IOT_DHT_PIN: "7" }));
    const r = await runScript("flash", ["--dry-run", "--no-build", "--env", f, "--out", path.join(tmp, "dry-tls"), "--board", "ESP8266_4MB"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no TLS/);
    expect(r.stderr).toMatch(/IOT_DHT_PIN: GPIO 7/);
  });

  it("refuses code + configuration that would not fit the board's Storage", async () => {
    const big = path.join(tmp, "big.js");
    fs.writeFileSync(big, "var x=1;\n" + "// padding padding padding padding padding padding padding padding\n".repeat(3000));
    const r = await runScript("flash", ["--dry-run", "--no-build", "--bundle", big, "--env", envFile, "--out", path.join(tmp, "dry-big"), "--port", "tcp://10.0.0.1:23"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/need \d+ bytes of Storage, but ESP8266_4MB has 196608 bytes/);
  });

  it("refuses a bundle that embeds a secret", async () => {
    const bad = path.join(tmp, "leaky.js");
    fs.writeFileSync(bad, `var k=${JSON.stringify(FAKE.secret)};\n`);
    const r = await runScript("flash", ["--dry-run", "--no-build", "--bundle", bad, "--env", envFile, "--out", path.join(tmp, "dry-leak")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bundle contains/);
    noSecretIn(r.stdout + r.stderr, "console");
  });
});

describe("npm run configure -- --dry-run", () => {
  it("writes only iot.json and restarts the firmware, without sending code", async () => {
    const o = path.join(tmp, "dry-configure");
    fs.writeFileSync(path.join(tmp, "new-wifi.env"), envText({ IOT_WIFI_SSID: "NewNet", IOT_WIFI_PASSWORD: "new-FAKE-pw-1" }));
    const r = await runScript("configure", ["--dry-run", "--env", path.join(tmp, "new-wifi.env"), "--out", o]);
    expect(r.code).toBe(0);
    const upload = fs.readFileSync(path.join(o, "upload.js"), "latin1");
    const replay = replayUpload(upload);
    expect(replay.problems).toEqual([]);
    expect(Object.keys(replay.files)).toEqual([CONFIG_FILE]);
    expect(JSON.parse(replay.files[CONFIG_FILE])).toMatchObject({ ssid: "NewNet", pass: "new-FAKE-pw-1" });
    expect(replay.loads).toEqual([""]);
    expect(upload).not.toContain(".bootcde");
    expect(r.stdout).not.toContain("new-FAKE-pw-1");
  });
});

describe("the offline guard", () => {
  it("aborts the Espruino CLI if it tries the network (a board name without a dot is downloaded)", () => {
    const r = spawnSync(process.execPath, ["--require", OFFLINE_GUARD, CLI_PATH, "--no-ble", "-n", "-o", path.join(tmp, "x.js"), "--board", "ESP8266_4MB", "--config", "MODULE_URL=", "-e", "1"], {
      cwd: tmp,
      encoding: "utf8",
      timeout: 20000,
    });
    expect(r.status).toBe(97);
    expect(r.stderr).toMatch(/offline guard/);
  });
});

// A stand-in for a board's console on 127.0.0.1 (the CLI's tcp:// transport): answers every line with
// Espruino's prompt and records everything it receives.
function fakeEspruino(): Promise<{ port: number; received: () => string; close: () => Promise<void> }> {
  let all = "";
  const socks: net.Socket[] = [];
  const server = net.createServer((sock) => {
    socks.push(sock);
    sock.on("data", (d) => {
      all += d.toString("latin1");
      if (d.includes(10)) sock.write("\r\n=undefined\r\n>");
    });
    sock.on("error", () => undefined);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({
    port: (server.address() as net.AddressInfo).port,
    received: () => all,
    close: () => new Promise<void>((r) => { socks.forEach((x) => x.destroy()); server.close(() => r()); }),
  })));
}

describe("npm run flash (real upload, to a fake board console over tcp://)", () => {
  it("sends exactly the dry run's upload after reset(), and deletes its temporary config file", async () => {
    const board = await fakeEspruino();
    const tmpRoot = fs.mkdtempSync(path.join(tmp, "tmpdir-"));
    try {
      const port = "tcp://127.0.0.1:" + board.port;
      const dry = path.join(tmp, "dry-for-real");
      const d = await runScript("flash", ["--dry-run", "--no-build", "--env", envFile, "--out", dry, "--port", port]);
      expect(d.code).toBe(0);
      const r = await runScript("flash", ["--no-build", "--env", envFile, "--port", port], { TMPDIR: tmpRoot, TMP: tmpRoot, TEMP: tmpRoot });
      expect(r.code).toBe(0);
      // the CLI first looks for a prompt (a newline, Ctrl-C if it is slow to come), then sends the upload
      const all = board.received().replace(/\x03/g, "").split("\n").map((l) => l.replace(/^\x10/, "")).filter((l) => l !== "");
      const sent = all.slice(all.indexOf("reset();"));
      expect(sent.slice(0, 2)).toEqual(["reset();", "print()"]);
      const expected = fs.readFileSync(path.join(dry, "upload.js"), "latin1").split("\n").filter((l) => l !== "");
      expect(sent.slice(2)).toEqual(expected);
      expect(fs.readdirSync(tmpRoot).filter((n) => n.startsWith("espruino-"))).toEqual([]); // the 0600 iot.json copy is gone
      noSecretIn(r.stdout + r.stderr, "console");
    } finally {
      await board.close();
    }
  }, 60000);
});
