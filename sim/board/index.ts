// Board simulator: runs dist/firmware.js itself in a Node vm context that looks like an Espruino
// board (ESP8266 / ESP32). docs/simulator.md says what is modelled and what is not.
import { Device } from "./device";
import type { BoardName } from "./profiles";
export type { BoardName } from "./profiles";
export { PROFILES } from "./profiles";
export { dhtBytes } from "./dht11";
export { SOCKET_ERRORS, TLS_SNI } from "./net";

export interface StartOptions {
  board?: BoardName; // default esp8266
  bundlePath?: string; // default <repo>/dist/firmware.js
  storageDir: string; // per-device directory; Storage files live here and survive reboot
  config?: object; // written as JSON to Storage file CONFIG_FILE before first boot
  wifi?: { ssid: string; password: string; ip?: string }; // the AP in range (default "lab"/"labpass")
  clockSkewSeconds?: number; // error added when SNTP sets the clock
  sntpDelayMs?: number; // delay before SNTP sets the clock after WiFi connects (default 50)
  dht?: { temperature: number; humidity: number } | null; // null = no sensor (default 22 C / 45 %)
  name?: string; // label used in log lines
  console?: boolean; // echo device console to stdout
  // Additions:
  dhtPin?: number; // GPIO of the DHT11 (default: config.dhtPin, else 5 = NodeMCU D1)
  dhtWarmupMs?: number; // the sensor ignores start signals this long after power-on (default 1000)
  wifiAutoReconnect?: boolean; // re-associate by itself when the AP comes back (default false)
  hosts?: Record<string, string>; // host name -> address for net/tls connects (e.g. endpoint -> 127.0.0.1)
  resolve?: (host: string, port: number) => { host: string; port: number }; // full rewrite of connect targets
  syntaxCheck?: boolean; // refuse bundles with syntax Espruino cannot parse (default true)
}

export interface DeviceHandle {
  name: string;
  board: BoardName;
  logs: string[];
  errors: string[]; // uncaught exceptions (with V8 stack when known) and syntax the board rejects
  warnings: string[]; // constructs that parse but behave differently on Espruino (from the bundle guard)
  on(ev: "log", cb: (line: string) => void): void;
  off(ev: "log", cb: (line: string) => void): void;
  waitForLog(match: string | RegExp, timeoutMs?: number): Promise<string>;
  led(pin: number): { level: number; history: { t: number; level: number }[] };
  pins: { read(pin: number): number; set(pin: number, level: number): void; release(pin: number): void; mode(pin: number): string };
  button: { press(pin: number, opts?: { holdMs?: number; bounce?: boolean }): Promise<void> };
  dht: {
    set(v: { temperature: number; humidity: number } | null): void;
    faults(f: { jitterUs?: number; bitErrors?: number; checksumError?: boolean }): void;
    stats(): { answers: number; refused: number; pin: number };
  };
  storage: {
    list(): string[];
    read(name: string): string | undefined;
    readJSON(name: string): any;
    write(name: string, data: string): void;
    erase(name: string): void;
    getFree(): number;
  };
  reboot(): Promise<void>;
  bootCount: number;
  faults: {
    wifiDown(): void;
    wifiUp(): void;
    resetSockets(): void;
    stallSockets(on: boolean): void;
    skewClock(seconds: number): void;
    setSntpSkew(seconds: number): void;
    removeSensor(): void;
    /**
     * The next data event of a socket runs out of memory as on Espruino: "OUT OF MEMORY", "Error
     * processing Socket data handler - removing it", the error flags CALLBACK, LOW_MEMORY and MEMORY,
     * and the socket keeps no data handler (the data is lost; the socket stays open).
     */
    outOfMemoryInSocketData(): void;
  };
  telnet: { mode: string };
  wifiStatus: { station: string; [k: string]: any };
  netStats: { bytesSent: number; bytesReceived: number };
  clock(): number;
  memory(): { usage: number; total: number; free: number; [k: string]: any };
  stats(): { timers: number; sockets: number; watches: number; listeners: number };
  eval(code: string): any;
  stop(): Promise<void>;
}

export async function startDevice(opts: StartOptions): Promise<DeviceHandle> {
  if (!opts || typeof opts.storageDir !== "string" || !opts.storageDir) {
    throw new Error("startDevice needs storageDir (a per-device directory for its Storage files)");
  }
  const d = new Device(opts);
  try {
    await d.start();
  } catch (e) {
    await d.stop();
    throw e;
  }
  return d;
}
