// scripts/device-config.ts (env/.env -> iot.json) and the board checks of scripts/flash/boards.ts.
import { configFromEnv, placeholderErrors, parseEnvFile, mergeEnv, maskConfig, withoutDeviceEnv, ENV_FIELDS, secretValues, validateConfig, CONFIG_KEYS } from "../../scripts/device-config";
import { checkConfig } from "../../firmware/config/config";
import { checkConfigForBoard, checkFit, loadBoard, storageFootprint } from "../../scripts/flash/boards";

const BASE = {
  IOT_WIFI_SSID: "Net",
  IOT_WIFI_PASSWORD: "pw-FAKE",
  IOT_ENDPOINT: "abc-ats.iot.eu-west-1.amazonaws.com",
  IOT_REGION: "eu-west-1",
  IOT_ACCESS_KEY_ID: "AKIAFAKE00000000TEST",
  IOT_SECRET_ACCESS_KEY: "secret-FAKE-0123456789",
  IOT_THING_NAME: "dev-1",
  IOT_RELAY_HOST: "192.168.1.2",
  IOT_RELAY_PORT: "8883",
};

describe(".env parsing", () => {
  it("reads names, quotes, comments and export", () => {
    const r = parseEnvFile('# c\nexport A=1\nB = "two words" \nC=\'x#y\'\nD=plain # note\nE="a\\nb"\n\nF=\n');
    expect(r.errors).toEqual([]);
    expect(r.vars).toEqual({ A: "1", B: "two words", C: "x#y", D: "plain", E: "a\nb", F: "" });
  });
  it("reports bad lines with their number and keeps going", () => {
    const r = parseEnvFile("A=1\nnot a line\n1X=2\nB=\"open\n");
    expect(r.errors).toEqual(['line 2: expected NAME=value', 'line 3: "1X" is not a valid variable name', "line 4: B has an opening \" but no closing one"]);
    expect(r.vars).toEqual({ A: "1" });
  });
  it("lets the shell override the file, for device variables only", () => {
    const env = mergeEnv({ IOT_WIFI_SSID: "file", OTHER: "x" }, { IOT_WIFI_SSID: "shell", PATH: "/bin", AWS_SECRET_ACCESS_KEY: "admin" });
    expect(env.IOT_WIFI_SSID).toBe("shell");
    expect(env.PATH).toBeUndefined();
    expect(env.AWS_SECRET_ACCESS_KEY).toBeUndefined(); // the laptop's own AWS keys never become device keys
  });
});

describe("configFromEnv", () => {
  it("builds a valid config with the firmware's defaults", () => {
    const r = configFromEnv({ ...BASE, IOT_TLS: "no", IOT_DHT_PIN: "GPIO4", IOT_SESSION_EXPIRES: "2030-01-01T00:00:00Z", IOT_SESSION_TOKEN: "tok-FAKE" });
    expect(r.errors).toEqual([]);
    expect(r.config).toMatchObject({ ssid: "Net", akid: BASE.IOT_ACCESS_KEY_ID, tls: false, dhtPin: 4, ledPin: 2, btnPin: 0, port: 443, relayPort: 8883, tokenExp: 1893456000 });
  });
  it("refuses the example values of .env.example, and only those", () => {
    const fs = require("fs") as typeof import("fs");
    const example = parseEnvFile(fs.readFileSync(require("path").join(__dirname, "..", "..", ".env.example"), "utf8"));
    expect(example.errors).toEqual([]);
    const r = configFromEnv(example.vars);
    expect(r.config).toBeUndefined();
    const named = r.errors.filter((e) => e.includes("still holds the example value")).map((e) => e.split(" ")[0]);
    expect(named.sort()).toEqual(["IOT_ACCESS_KEY_ID", "IOT_ENDPOINT", "IOT_SECRET_ACCESS_KEY", "IOT_WIFI_PASSWORD", "IOT_WIFI_SSID"]);
    expect(r.errors.join("\n")).not.toContain("replace-with-the-secret-access-key"); // secrets are not echoed
    // look-alikes too; real-looking values pass
    expect(placeholderErrors({ IOT_ACCESS_KEY_ID: "AKIAXXXXXXXX", IOT_ENDPOINT: "xxxxxx.iot.eu-west-1.amazonaws.com" })).toHaveLength(2);
    expect(placeholderErrors(BASE)).toEqual([]);
    expect(configFromEnv({ ...example.vars, IOT_WIFI_SSID: "Net", IOT_WIFI_PASSWORD: "pw", IOT_ENDPOINT: BASE.IOT_ENDPOINT, IOT_ACCESS_KEY_ID: BASE.IOT_ACCESS_KEY_ID, IOT_SECRET_ACCESS_KEY: BASE.IOT_SECRET_ACCESS_KEY }).errors).toEqual([]);
  });
  it("names the variable to fix, for every problem at once", () => {
    const r = configFromEnv({ ...BASE, IOT_THING_NAME: "", IOT_PORT: "eighty", IOT_LED_PIN: "D4", IOT_TLS: "maybe" });
    expect(r.config).toBeUndefined();
    expect(r.errors.join("\n")).toMatch(/IOT_PORT must be a number/);
    expect(r.errors.join("\n")).toMatch(/IOT_LED_PIN must be a GPIO number: NodeMCU D4 is GPIO 2/);
    expect(r.errors.join("\n")).toMatch(/IOT_TLS must be true or false/);
    expect(r.errors.join("\n")).toMatch(/IOT_THING_NAME: thing is required/);
  });
  it("masks secrets for printing and lists them for leak checks", () => {
    const c = configFromEnv(BASE).config!;
    const m = JSON.stringify(maskConfig(c));
    expect(m).not.toContain("pw-FAKE");
    expect(m).not.toContain("secret-FAKE");
    expect(m).toContain("AKIA...TEST");
    expect(secretValues(c).sort()).toEqual(["pw-FAKE", "secret-FAKE-0123456789"]);
  });
  it("strips every device variable from the build's environment", () => {
    const env = withoutDeviceEnv({ ...BASE, PATH: "/bin" });
    expect(env).toEqual({ PATH: "/bin" });
    expect(ENV_FIELDS.length).toBeGreaterThan(20);
  });
});

describe("validateConfig: the full check of iot.json on the host (the device keeps a compact one)", () => {
  const ok = { ssid: "Net", host: "abc-ats.iot.eu-west-1.amazonaws.com", region: "eu-west-1", akid: "AKIA", secret: "s", thing: "dev-1" };

  it("applies the firmware's defaults, and what it accepts the device accepts", () => {
    const r = validateConfig(ok);
    expect(r.errors).toEqual([]);
    expect(r.config).toMatchObject({ port: 443, tls: false, dhtPin: 5, ledPin: 2, ledLow: true, btnPin: 0, refresh: 30, keepAlive: 60, sntp: "pool.ntp.org", pass: "" });
    expect(checkConfig(r.config)).toBe("");
  });
  it("refuses wrong types, unknown keys, ranges and bad combinations, all at once", () => {
    const r = validateConfig({ ...ok, thing: "bad name!", port: "443", tls: "no", ledPin: 2.5, refresh: 0, maxPkt: 100, relayHost: "r", colour: "red", life: 5 });
    expect(r.config).toBeUndefined();
    expect(r.errors).toEqual(expect.arrayContaining([
      "thing may contain only A-Z a-z 0-9 : _ -",
      "port must be a number",
      "tls must be true or false",
      "ledPin must be a whole number",
      "refresh must be 1..86400 seconds",
      "maxPkt must be 512..65536 bytes",
      "relayPort is required with relayHost",
      "colour is not a configuration key",
      "life must be at least 10 seconds",
    ]));
    expect(validateConfig(null).errors).toEqual(["configuration is missing or not a JSON object"]);
    expect(validateConfig({ ssid: "Net" }).errors).toEqual(expect.arrayContaining(["host is required", "secret is required"]));
  });
  it("knows every key of the DeviceConfig that the env variables set", () => {
    for (const f of ENV_FIELDS) expect(CONFIG_KEYS).toContain(f.key);
  });
});

describe("board checks", () => {
  const cfg = (extra: Record<string, string>) => configFromEnv({ ...BASE, ...extra }).config!;
  const now = Math.floor(Date.parse("2026-11-22T00:00:00Z") / 1000);

  it("accepts the NodeMCU defaults through the relay", () => {
    expect(checkConfigForBoard(cfg({}), "ESP8266_4MB", now)).toEqual({ errors: [], warnings: [] });
  });
  it("refuses pins the board cannot use, and pins used twice", () => {
    const e = checkConfigForBoard(cfg({ IOT_DHT_PIN: "16", IOT_LED_PIN: "9", IOT_BUTTON_PIN: "16" }), "ESP8266_4MB", now).errors.join("\n");
    expect(e).toMatch(/IOT_DHT_PIN: GPIO 16 cannot be used here: GPIO 16 \(D0\) has no interrupt/);
    expect(e).toMatch(/IOT_LED_PIN: GPIO 9 cannot be used here: GPIO 6-11/);
    expect(e).toMatch(/IOT_BUTTON_PIN: GPIO 16 is already used by IOT_DHT_PIN/);
    expect(checkConfigForBoard(cfg({ IOT_LED_PIN: "35", IOT_TLS: "true", IOT_RELAY_HOST: "", IOT_RELAY_PORT: "" }), "ESP32", now).errors.join()).toMatch(/input only/);
  });
  it("refuses an ESP8266 without a relay, and expired session credentials", () => {
    const e = checkConfigForBoard(cfg({ IOT_RELAY_HOST: "", IOT_RELAY_PORT: "", IOT_SESSION_TOKEN: "t-FAKE", IOT_SESSION_EXPIRES: "2026-11-21T00:00:00Z" }), "ESP8266_4MB", now).errors.join("\n");
    expect(e).toMatch(/IOT_RELAY_HOST is required on ESP8266/);
    expect(e).toMatch(/expired at 2026-11-21T00:00:00.000Z/);
  });
  it("computes Storage use with 32-byte headers and 4-byte padding", () => {
    expect(storageFootprint({ a: 1, b: 8 })).toBe(32 + 4 + 32 + 8);
    const board = loadBoard("ESP8266_4MB").board!;
    expect(checkFit(board, { ".bootcde": 100000, "iot.json": 500 }).fits).toBe(true);
    expect(checkFit(board, { ".bootcde": 190000, "iot.json": 500 }).fits).toBe(false);
    expect(loadBoard("ESP8266").error).toMatch(/unknown board/);
  });
});
