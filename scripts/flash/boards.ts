// Board descriptions (boards/<name>.json, read by the Espruino CLI too) and the checks that refuse a
// configuration before anything is sent: pins the board cannot use, TLS it does not have, and
// code + configuration that would not fit its Storage.
import * as fs from "fs";
import * as path from "path";
import type { DeviceConfig } from "../device-config";

export const ROOT = path.resolve(__dirname, "..", "..");
export const BOARD_NAMES = ["ESP8266_4MB", "ESP32"] as const;
export type BoardName = (typeof BOARD_NAMES)[number];

// The fields of a board JSON the Espruino CLI 0.1.67 reads (see docs/hardware.md, "Configure and flash").
export interface BoardJson {
  info: { name: string; binary_version: string; builtin_modules: string[] };
  chip: { family: string; saved_code: { address: number; page_size: number; pages: number } };
}

export function boardFile(name: string): string {
  // The CLI treats a --board argument containing a dot as a local file: the path always has ".json".
  return path.join(ROOT, "boards", name + ".json");
}

export function loadBoard(name: string): { board?: BoardJson; file: string; error?: string } {
  const file = boardFile(name);
  if (!(BOARD_NAMES as readonly string[]).includes(name)) {
    return { file, error: `unknown board "${name}": use one of ${BOARD_NAMES.join(", ")}` };
  }
  try {
    return { board: JSON.parse(fs.readFileSync(file, "utf8")) as BoardJson, file };
  } catch (e) {
    return { file, error: `cannot read the board description ${path.relative(ROOT, file)}: ${(e as Error).message}` };
  }
}

// Storage layout (Espruino jsflash): each file is a 32-byte header (4-byte size + 28-byte name) followed by
// its data padded to 4 bytes. Rewriting a file leaves the old copy until Storage compacts itself.
export const STORAGE_HEADER = 32;
// Kept free for the Storage files the firmware writes itself and for page fragmentation.
export const STORAGE_RESERVE_PAGES = 2;

export function storageFootprint(sizes: Record<string, number>): number {
  return Object.keys(sizes).reduce((sum, k) => sum + STORAGE_HEADER + ((sizes[k] + 3) & ~3), 0);
}

export function storageCapacity(board: BoardJson): number {
  return board.chip.saved_code.page_size * board.chip.saved_code.pages;
}

export interface FitReport {
  capacity: number;
  reserve: number;
  used: number;
  free: number;
  fits: boolean;
}

export function checkFit(board: BoardJson, sizes: Record<string, number>): FitReport {
  const capacity = storageCapacity(board);
  const reserve = STORAGE_RESERVE_PAGES * board.chip.saved_code.page_size;
  const used = storageFootprint(sizes);
  return { capacity, reserve, used, free: capacity - reserve - used, fits: used + reserve <= capacity };
}

interface PinRule {
  exists: (g: number) => boolean;
  why: (g: number, role: "dhtPin" | "ledPin" | "btnPin") => string | undefined;
}

const ROLE_NAME = { dhtPin: "IOT_DHT_PIN", ledPin: "IOT_LED_PIN", btnPin: "IOT_BUTTON_PIN" } as const;

const PIN_RULES: Record<BoardName, PinRule> = {
  ESP8266_4MB: {
    exists: (g) => g >= 0 && g <= 16,
    why: (g, role) => {
      if (g >= 6 && g <= 11) return "GPIO 6-11 are wired to the SPI flash chip";
      if (g === 1 || g === 3) return "GPIO 1 and 3 are the serial console (TX/RX)";
      if (g === 16 && role !== "ledPin") return "GPIO 16 (D0) has no interrupt, so it cannot be watched for edges";
      if (g === 15 && role !== "ledPin") return "GPIO 15 (D8) must be low at boot: a pull-up there stops the board from starting";
      return undefined;
    },
  },
  ESP32: {
    exists: (g) => g >= 0 && g <= 39 && ![20, 24, 28, 29, 30, 31].includes(g),
    why: (g, role) => {
      if (g >= 6 && g <= 11) return "GPIO 6-11 are wired to the SPI flash chip";
      if (g >= 34 && role !== "btnPin") return "GPIO 34-39 are input only";
      return undefined;
    },
  },
};

// Problems (refuse) and warnings (print) for this configuration on this board. nowSec: current epoch seconds.
export function checkConfigForBoard(config: DeviceConfig, boardName: BoardName, nowSec: number): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const rule = PIN_RULES[boardName];
  const seen: Record<number, string> = {};
  (["dhtPin", "ledPin", "btnPin"] as const).forEach((role) => {
    const g = config[role];
    const name = ROLE_NAME[role];
    if (!Number.isInteger(g) || !rule.exists(g)) {
      errors.push(`${name}: GPIO ${g} does not exist on ${boardName}`);
      return;
    }
    const why = rule.why(g, role);
    if (why) errors.push(`${name}: GPIO ${g} cannot be used here: ${why}`);
    if (seen[g] !== undefined) errors.push(`${name}: GPIO ${g} is already used by ${seen[g]}`);
    seen[g] = name;
  });
  if (boardName === "ESP32" && config.btnPin >= 34) warnings.push("IOT_BUTTON_PIN: GPIO 34-39 have no internal pull-up: fit an external 10k pull-up to 3.3V");
  if (boardName === "ESP8266_4MB") {
    if (config.tls) errors.push("IOT_TLS=true: the ESP8266 build of Espruino has no TLS; set IOT_TLS=false and use the relay (npm run relay)");
    else if (!config.relayHost) errors.push("IOT_RELAY_HOST is required on ESP8266: it has no TLS, so it reaches AWS IoT through the relay (npm run relay)");
  }
  if (config.tls && config.relayHost) {
    errors.push("IOT_TLS=true with IOT_RELAY_HOST: the relay takes plain ws:// and opens TLS itself; use one or the other");
  }
  if (boardName === "ESP32" && !config.tls && !config.relayHost && config.port === 443) {
    errors.push("IOT_TLS=false without a relay would send plain TCP to port 443 of AWS IoT: set IOT_TLS=true (ESP32) or IOT_RELAY_HOST");
  }
  if (config.token && config.tokenExp === undefined) {
    warnings.push("IOT_SESSION_TOKEN is set without IOT_SESSION_EXPIRES: the device cannot tell when its session credentials run out");
  }
  if (config.tokenExp !== undefined) {
    if (!config.token) errors.push("IOT_SESSION_EXPIRES is set but IOT_SESSION_TOKEN is empty");
    if (config.tokenExp <= nowSec) errors.push(`IOT_SESSION_EXPIRES: the session credentials expired at ${new Date(config.tokenExp * 1000).toISOString()}; get new ones`);
    else if (config.tokenExp - nowSec < 3600) warnings.push(`the session credentials expire in ${Math.round((config.tokenExp - nowSec) / 60)} minutes`);
  }
  if (config.keepAlive < 30 || config.keepAlive > 1200) warnings.push(`IOT_KEEPALIVE=${config.keepAlive}: AWS IoT clamps the keep-alive to 30..1200 seconds`);
  return { errors, warnings };
}
