// Device configuration from environment variables (or a git-ignored .env file) -> DeviceConfig.
// Pure: no file or process access here, so the flashing tools, the lab and the tests share it.
// validateConfig below is the full check of iot.json, run on the host before a file reaches a
// board; it includes the device's own compact check (firmware/config/config.ts checkConfig).
import { checkConfig, DeviceConfig, CONFIG_FILE } from "../firmware/config/config";

export { CONFIG_FILE };
export type { DeviceConfig };

// The firmware's defaults (it applies each one where the value is used when a key is absent);
// written into iot.json by the tools so the file says what the device does.
export const CONFIG_DEFAULTS = { port: 443, tls: false, dhtPin: 5, ledPin: 2, ledLow: true, btnPin: 0, refresh: 30, keepAlive: 60, sntp: "pool.ntp.org" };

// Every key the firmware reads from iot.json, by type.
const STRING_KEYS = ["ssid", "pass", "host", "region", "akid", "secret", "token", "thing", "clientId", "relayHost", "sntp"];
const BOOLEAN_KEYS = ["tls", "ledLow"];
const NUMBER_KEYS = ["port", "tokenExp", "relayPort", "dhtPin", "ledPin", "btnPin", "refresh", "keepAlive", "boMin", "boMax", "life", "maxPkt", "getTo", "kaMin", "pingTo"];
export const CONFIG_KEYS = STRING_KEYS.concat(BOOLEAN_KEYS, NUMBER_KEYS);

// Returns the config with the defaults applied, or every problem in plain words: the device's own
// check (required keys, thing name) plus the type of every key, unknown keys, ranges and
// combinations. The device keeps only the compact check, so this is what stands between a bad file
// and a board: npm run flash / npm run configure refuse to write one. A key set to null is absent.
export function validateConfig(raw: any): { config?: DeviceConfig; errors: string[] } {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return { errors: ["configuration is missing or not a JSON object"] };
  const c: any = { ...CONFIG_DEFAULTS };
  for (const k of Object.keys(raw)) if (raw[k] !== undefined && raw[k] !== null) c[k] = raw[k];
  if (c.pass === undefined) c.pass = "";
  const dev = checkConfig(c);
  const errors: string[] = dev ? dev.split("; ") : [];
  const num = (k: string) => typeof c[k] === "number" && c[k] === c[k];
  for (const k of Object.keys(c)) {
    if (STRING_KEYS.includes(k)) {
      if (typeof c[k] !== "string") errors.push(`${k} must be a string`);
    } else if (BOOLEAN_KEYS.includes(k)) {
      if (typeof c[k] !== "boolean") errors.push(`${k} must be true or false`);
    } else if (!NUMBER_KEYS.includes(k)) errors.push(`${k} is not a configuration key`);
    else if (!num(k)) errors.push(`${k} must be a number`);
    else if (k !== "tokenExp" && !(Number.isInteger(c[k]) && c[k] >= 0)) errors.push(`${k} must be a whole number`);
  }
  if (typeof c.thing === "string" && c.thing.length > 128) errors.push("thing is longer than 128 characters");
  // the WiFi stack counts bytes of UTF-8 (what the device receives, see configFileText)
  if (typeof c.ssid === "string" && Buffer.byteLength(c.ssid, "utf8") > 32) errors.push("ssid is longer than 32 bytes (in UTF-8)");
  if (typeof c.pass === "string" && Buffer.byteLength(c.pass, "utf8") > 64) errors.push("pass is longer than 64 bytes (in UTF-8)");
  if (num("refresh") && (c.refresh < 1 || c.refresh > 86400)) errors.push("refresh must be 1..86400 seconds");
  if (num("port") && (c.port < 1 || c.port > 65535)) errors.push("port must be 1..65535");
  if (num("relayPort") && (c.relayPort < 1 || c.relayPort > 65535)) errors.push("relayPort must be 1..65535");
  if (num("life") && c.life < 10) errors.push("life must be at least 10 seconds");
  if (num("maxPkt") && (c.maxPkt < 512 || c.maxPkt > 65536)) errors.push("maxPkt must be 512..65536 bytes");
  if (num("getTo") && c.getTo < 1) errors.push("getTo must be at least 1 second");
  if (num("boMin") && num("boMax") && c.boMin > c.boMax) errors.push("boMin must not exceed boMax");
  if (c.relayHost !== undefined && c.relayPort === undefined) errors.push("relayPort is required with relayHost");
  if (errors.length) return { errors };
  return { config: c as DeviceConfig, errors };
}

type Kind = "string" | "number" | "boolean" | "pin" | "epoch";

export interface EnvField {
  env: string; // environment variable name
  key: keyof DeviceConfig; // field of iot.json
  kind: Kind;
  help: string;
}

// One line per variable: docs/configuration.md and `.env.example` list the same names. The device's keys are
// IOT_ACCESS_KEY_ID / IOT_SECRET_ACCESS_KEY / IOT_SESSION_TOKEN, deliberately not AWS_ACCESS_KEY_ID & co:
// those usually hold the laptop's own (admin) AWS CLI credentials, which must never end up on a board.
export const ENV_FIELDS: EnvField[] = [
  { env: "IOT_WIFI_SSID", key: "ssid", kind: "string", help: "WiFi network name" },
  { env: "IOT_WIFI_PASSWORD", key: "pass", kind: "string", help: "WiFi password (empty for an open network)" },
  { env: "IOT_ENDPOINT", key: "host", kind: "string", help: "AWS IoT data endpoint (aws iot describe-endpoint --endpoint-type iot:Data-ATS)" },
  { env: "IOT_PORT", key: "port", kind: "number", help: "endpoint port (443 on AWS)" },
  { env: "IOT_REGION", key: "region", kind: "string", help: "AWS region, e.g. eu-west-1" },
  { env: "IOT_ACCESS_KEY_ID", key: "akid", kind: "string", help: "access key id of the device's IAM user" },
  { env: "IOT_SECRET_ACCESS_KEY", key: "secret", kind: "string", help: "secret access key of the device's IAM user" },
  { env: "IOT_SESSION_TOKEN", key: "token", kind: "string", help: "optional STS session token" },
  { env: "IOT_SESSION_EXPIRES", key: "tokenExp", kind: "epoch", help: "optional: when the session token expires (ISO date or epoch seconds)" },
  { env: "IOT_THING_NAME", key: "thing", kind: "string", help: "thing name (also the MQTT client id unless IOT_CLIENT_ID is set)" },
  { env: "IOT_CLIENT_ID", key: "clientId", kind: "string", help: "optional MQTT client id" },
  { env: "IOT_RELAY_HOST", key: "relayHost", kind: "string", help: "LAN address of the TLS relay (ESP8266)" },
  { env: "IOT_RELAY_PORT", key: "relayPort", kind: "number", help: "port of the TLS relay, e.g. 8883" },
  { env: "IOT_TLS", key: "tls", kind: "boolean", help: "true: the device opens TLS itself (ESP32, wss://); false: plain ws:// to the relay" },
  { env: "IOT_DHT_PIN", key: "dhtPin", kind: "pin", help: "GPIO of the DHT11 data line (NodeMCU D1 = 5)" },
  { env: "IOT_LED_PIN", key: "ledPin", kind: "pin", help: "GPIO of the LED (NodeMCU on-board LED D4 = 2)" },
  { env: "IOT_LED_ACTIVE_LOW", key: "ledLow", kind: "boolean", help: "true when the LED lights on a low level (NodeMCU on-board LED)" },
  { env: "IOT_BUTTON_PIN", key: "btnPin", kind: "pin", help: "GPIO of the button (NodeMCU FLASH button D3 = 0)" },
  { env: "IOT_REFRESH", key: "refresh", kind: "number", help: "report interval in seconds" },
  { env: "IOT_KEEPALIVE", key: "keepAlive", kind: "number", help: "MQTT keep-alive in seconds" },
  { env: "IOT_SNTP", key: "sntp", kind: "string", help: "SNTP server" },
  // Optional tuning; the firmware has defaults for each.
  { env: "IOT_BACKOFF_MIN_MS", key: "boMin", kind: "number", help: "optional: reconnect backoff base in ms" },
  { env: "IOT_BACKOFF_MAX_MS", key: "boMax", kind: "number", help: "optional: reconnect backoff cap in ms" },
  { env: "IOT_CONNECTION_LIFE", key: "life", kind: "number", help: "optional: seconds before a connection is re-signed and renewed" },
  { env: "IOT_MAX_PACKET", key: "maxPkt", kind: "number", help: "optional: largest incoming MQTT packet kept, bytes" },
  { env: "IOT_SHADOW_GET_TIMEOUT", key: "getTo", kind: "number", help: "optional: seconds to wait for the shadow before asking again" },
];

// Fields whose values are secrets: never printed, never logged, never in the code part of an upload.
export const SECRET_KEYS: Array<keyof DeviceConfig> = ["pass", "secret", "token"];

// NodeMCU silk-screen labels -> GPIO numbers, for error messages only (the config stores GPIOs).
export const NODEMCU_PINS: Record<string, number> = { D0: 16, D1: 5, D2: 4, D3: 0, D4: 2, D5: 14, D6: 12, D7: 13, D8: 15 };

export type Env = Record<string, string | undefined>;

// Parses the text of a .env file: KEY=value lines, # comments, optional `export `, single or double quotes
// (double quotes understand \n, \" and \\). Returns the variables and plain-words problems (with line numbers).
export function parseEnvFile(text: string): { vars: Record<string, string>; errors: string[] } {
  const vars: Record<string, string> = {};
  const errors: string[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((raw, i) => {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    if (line.startsWith("export ")) line = line.slice(7).trim();
    const eq = line.indexOf("=");
    if (eq <= 0) {
      errors.push(`line ${i + 1}: expected NAME=value`);
      return;
    }
    const name = line.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      errors.push(`line ${i + 1}: "${name}" is not a valid variable name`);
      return;
    }
    let value = line.slice(eq + 1).trim();
    const q = value[0];
    if (q === '"' || q === "'") {
      const end = value.lastIndexOf(q);
      if (end === 0) {
        errors.push(`line ${i + 1}: ${name} has an opening ${q} but no closing one`);
        return;
      }
      const inner = value.slice(1, end);
      value = q === '"' ? inner.replace(/\\(n|"|\\)/g, (_m, c) => (c === "n" ? "\n" : c)) : inner;
    } else {
      const hash = value.search(/\s#/); // inline comment after an unquoted value
      if (hash >= 0) value = value.slice(0, hash).trim();
    }
    vars[name] = value;
  });
  return { vars, errors };
}

// Merges .env variables under the process environment (a variable set in the shell wins over .env).
export function mergeEnv(fileVars: Record<string, string>, processEnv: Env): Env {
  const out: Env = { ...fileVars };
  ENV_FIELDS.forEach((f) => {
    const v = processEnv[f.env];
    if (v !== undefined && v !== "") out[f.env] = v;
  });
  return out;
}

function parseValue(f: EnvField, value: string): { value?: unknown; error?: string } {
  const v = value.trim();
  switch (f.kind) {
    case "string":
      return { value: value };
    case "number": {
      if (!/^-?\d+(\.\d+)?$/.test(v)) return { error: `${f.env} must be a number (got "${v}")` };
      return { value: Number(v) };
    }
    case "boolean": {
      const l = v.toLowerCase();
      if (["true", "1", "yes", "on"].includes(l)) return { value: true };
      if (["false", "0", "no", "off"].includes(l)) return { value: false };
      return { error: `${f.env} must be true or false (got "${v}")` };
    }
    case "pin": {
      const m = /^(?:GPIO)?(\d{1,2})$/i.exec(v);
      if (m) return { value: Number(m[1]) };
      const label = v.toUpperCase();
      if (label in NODEMCU_PINS) {
        return { error: `${f.env} must be a GPIO number: NodeMCU ${label} is GPIO ${NODEMCU_PINS[label]}, so write ${NODEMCU_PINS[label]}` };
      }
      return { error: `${f.env} must be a GPIO number such as 5 (got "${v}")` };
    }
    case "epoch": {
      if (/^\d+$/.test(v)) {
        const n = Number(v);
        return { value: n > 1e12 ? Math.floor(n / 1000) : n }; // accept milliseconds too
      }
      const t = Date.parse(v);
      if (isNaN(t)) return { error: `${f.env} must be a date such as 2026-01-31T12:00:00Z or epoch seconds (got "${v}")` };
      return { value: Math.floor(t / 1000) };
    }
  }
}

// The example values of .env.example (and their look-alikes): a copy that was not filled in must not reach a
// board, where it would only fail later (WiFi "no ap found", HTTP 403) far from the cause.
const PLACEHOLDERS: Array<{ env: string; looksLike: RegExp }> = [
  { env: "IOT_WIFI_SSID", looksLike: /^MyHomeWifi$/i },
  { env: "IOT_WIFI_PASSWORD", looksLike: /^change-me$/i },
  { env: "IOT_ENDPOINT", looksLike: /^x{6,}(-ats)?\./i },
  { env: "IOT_ACCESS_KEY_ID", looksLike: /^(AKIA|ASIA)?X{8,}$/i },
  { env: "IOT_SECRET_ACCESS_KEY", looksLike: /^replace-with/i },
  { env: "IOT_SESSION_TOKEN", looksLike: /^replace-with/i },
];

// One plain-words problem per variable that still holds an example value.
export function placeholderErrors(env: Env): string[] {
  return PLACEHOLDERS.filter((p) => typeof env[p.env] === "string" && p.looksLike.test(env[p.env]!.trim())).map(
    (p) => `${p.env} still holds the example value of .env.example ("${p.env.includes("SECRET") || p.env.includes("TOKEN") || p.env.includes("PASSWORD") ? "..." : env[p.env]!.trim()}"): put your own in`,
  );
}

// Environment -> DeviceConfig. Errors name the environment variable to fix.
export function configFromEnv(env: Env): { config?: DeviceConfig; errors: string[] } {
  const raw: Record<string, unknown> = {};
  const errors: string[] = [];
  ENV_FIELDS.forEach((f) => {
    const v = env[f.env];
    if (v === undefined || (v === "" && f.key !== "pass")) return;
    const r = parseValue(f, v);
    if (r.error) errors.push(r.error);
    else raw[f.key] = r.value;
  });
  const res = validateConfig(raw);
  // A variable that did not parse is reported once (by its own message), not again as missing.
  const bad = ENV_FIELDS.filter((f) => errors.some((e) => e.startsWith(f.env + " "))).map((f) => f.key as string);
  res.errors.forEach((e) => {
    if (!bad.includes(e.split(" ")[0])) errors.push(explainError(e));
  });
  errors.push(...placeholderErrors(env));
  if (errors.length) return { errors };
  return { config: res.config, errors: [] };
}

// validateConfig speaks in iot.json keys; say which variable sets each one.
function explainError(msg: string): string {
  const key = msg.split(" ")[0];
  const f = ENV_FIELDS.find((x) => x.key === key);
  return f ? `${f.env}: ${msg} (${f.help})` : msg;
}

// The exact bytes of the Storage file iot.json: JSON in plain ASCII. Espruino strings are 8-bit and
// the board's WiFi stack (and AWS) want UTF-8, so a value with characters beyond ASCII (a WiFi
// password "pässwörd", an SSID with an emoji) is written as its UTF-8 bytes, each one a \u00XX
// escape. Espruino's JSON parser turns every escape back into one byte, so the firmware reads the
// exact UTF-8 bytes and passes them on unchanged; and an ASCII file passes intact through the
// Espruino CLI and a TCP console, which corrupts bytes >= 0x80.
export function configFileText(config: DeviceConfig): string {
  return utf8Escaped(JSON.stringify(config));
}

// JSON text -> the same JSON in ASCII, every non-ASCII character as its UTF-8 bytes (\u00XX each).
// (JSON.stringify already escapes lone surrogates, so the input has only whole characters.)
export function utf8Escaped(json: string): string {
  return json.replace(/[^\x00-\x7f]+/g, (chars) =>
    Array.from(Buffer.from(chars, "utf8"), (byte) => "\\u00" + byte.toString(16).padStart(2, "0")).join(""));
}

// A value as the firmware sees it after reading iot.json: its UTF-8 bytes as an 8-bit string.
export function deviceString(value: string): string {
  return Buffer.from(value, "utf8").toString("latin1");
}

// A copy safe to print: secrets replaced by their length, the access key id shortened.
export function maskConfig(config: DeviceConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  SECRET_KEYS.forEach((k) => {
    const v = config[k];
    if (typeof v === "string") out[k] = v === "" ? "" : `***(${v.length} chars)`;
  });
  if (typeof config.akid === "string") out.akid = config.akid.length > 8 ? config.akid.slice(0, 4) + "..." + config.akid.slice(-4) : "***";
  return out;
}

// The secret strings of a config (for checks that none of them leaked somewhere).
export function secretValues(config: DeviceConfig): string[] {
  return SECRET_KEYS.map((k) => config[k]).filter((v): v is string => typeof v === "string" && v.length >= 4);
}

// Environment for child processes (the build) with every device variable removed, so no value
// from .env or the shell can end up compiled into the bundle.
export function withoutDeviceEnv(env: Env): Env {
  const out: Env = { ...env };
  ENV_FIELDS.forEach((f) => delete out[f.env]);
  return out;
}
