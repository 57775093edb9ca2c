// Declarations for the Espruino APIs the firmware uses that @types/espruino (1.95) lacks or types
// loosely. Built-in modules are loaded with require("Name") (never `import`, see platform facts §7),
// so `require` is typed by module name.

declare function setTimeout(fn: () => void, ms?: number): number;
declare function setInterval(fn: () => void, ms: number): number;
declare function clearTimeout(id?: number): void;
declare function clearInterval(id?: number): void;

interface Console {
  log(...args: any[]): void;
}
declare var console: Console;

interface EspruinoMemory {
  free: number;
  usage: number;
  total: number;
  history?: number;
  gc?: number;
  gctime?: number;
  blocksize?: number;
}
declare var process: {
  memory(gc?: boolean): EspruinoMemory;
  env: { VERSION: string; BOARD: string; [k: string]: any };
  version: string;
  // "uncaughtException": an exception that reached the event loop (then not printed)
  on?(event: string, cb: (e: any) => any): void;
};

declare namespace E {
  function toString(...args: any[]): string;
  function toUint8Array(...args: any[]): Uint8Array;
  function toArrayBuffer(str: string): ArrayBuffer;
  function reboot(): void;
  function getErrorFlags(): string[];
  function on(event: "init" | "kill", cb: () => void): void;
}

interface EspruinoSocket {
  write(data: string): boolean;
  end(data?: string): void;
  on(event: "data", cb: (data: string) => void): void;
  on(event: "connect" | "end" | "close" | "drain", cb: () => void): void;
  on(event: "error", cb: (err: any) => void): void;
  removeAllListeners(event?: string): void;
}

interface NetModule {
  connect(opts: { host: string; port: number }, cb?: () => void): EspruinoSocket;
}

interface TlsModule {
  connect(opts: { host: string; port: number; ca?: string; key?: string; cert?: string }, cb?: () => void): EspruinoSocket;
}

interface CryptoModule {
  SHA1(data: string | ArrayBuffer | Uint8Array): ArrayBuffer;
  SHA256?: (data: string | ArrayBuffer | Uint8Array) => ArrayBuffer;
}

interface StorageModule {
  write(name: string, data: string | object, offset?: number, size?: number): boolean;
  read(name: string, offset?: number, length?: number): string | undefined;
  readArrayBuffer(name: string): ArrayBuffer | undefined;
  readJSON(name: string, noExceptions?: boolean): any;
  erase(name: string): void;
  list(regex?: any): string[];
  getFree(): number;
  compact(): void;
}

interface WifiModule {
  connect(ssid: string, opts: { password?: string }, cb?: (err: string | null) => void): void;
  disconnect(cb?: () => void): void;
  getStatus(): { station?: string; [k: string]: any };
  getIP(): { ip: string; [k: string]: any };
  setHostname(name: string): void;
  setSNTP(server: string, zone: number | string): void;
  save(what?: string): void;
  on(event: "connected" | "disconnected" | "associated" | "dhcp_timeout", cb: (details?: any) => void): void;
  removeAllListeners(event?: string): void;
}

interface TelnetServerModule {
  setOptions(opts: { mode: "on" | "off" }): void;
}

interface ESP8266Module {
  reboot(): void;
  getResetInfo(): any;
  getState(): { freeHeap: number; [k: string]: any };
}

interface EspruinoModules {
  Storage: StorageModule;
  Wifi: WifiModule;
  net: NetModule;
  tls: TlsModule;
  crypto: CryptoModule;
  TelnetServer: TelnetServerModule;
  ESP8266: ESP8266Module;
  ESP32: any;
}

declare function require<K extends keyof EspruinoModules>(name: K): EspruinoModules[K];

// Pins given as GPIO numbers (config stores numbers; Espruino accepts them everywhere a Pin goes).
declare function digitalWrite(pin: number, value: number | boolean): void;
declare function digitalRead(pin: number): number;
declare function pinMode(pin: Pin | number, mode: string, automatic?: boolean): void;
declare function setWatch(
  f: (e: { state: boolean; time: number; lastTime: number }) => void,
  pin: number,
  options: { repeat?: boolean; edge?: "rising" | "falling" | "both"; debounce?: number }
): any;

// More of the device API (docs/espruino-platform.md, pins, Storage, WiFi and system).
/** pinMode() modes on ESP8266/ESP32 ("auto" returns the pin to automatic mode). */
type EspruinoPinMode = "input" | "input_pullup" | "input_pulldown" | "output" | "opendrain" | "opendrain_pullup" | "analog" | "auto";
/** What a setWatch callback receives: level after the edge, and edge times in seconds (~1 us resolution). */
interface EspruinoWatchEvent {
  state: boolean;
  time: number;
  lastTime: number;
}
/** Pulse a pin: one duration or a list of alternating durations, in milliseconds. */
declare function digitalPulse(pin: Pin | number, value: boolean | number, time: number | number[]): void;
declare function clearWatch(id?: number): void;
declare function btoa(binary: string): string;
declare function atob(base64: string): string;
declare function getTime(): number;
declare function setTime(seconds: number): void;
/** Reloads .bootcde from Storage (after Storage.compact(), code running from flash may break). */
declare function load(file?: string): void;

interface WifiDisconnectedDetails {
  reason?: string; // why the link dropped, as the SDK reports it
  [k: string]: any;
}
interface WifiModule {
  on(event: "disconnected", cb: (details: WifiDisconnectedDetails) => void): void;
  getIP(cb?: (err: any, info: { ip: string; netmask?: string; gw?: string; mac?: string }) => void): { ip: string; [k: string]: any };
}

interface ESP32Module {
  reboot(): void;
  getState(): { [k: string]: any };
}

// Espruino passes extra setTimeout arguments to the callback (one callback for many timers).
declare function setTimeout<A>(fn: (a: A) => void, ms: number, arg: A): number;
// The same with two arguments.
declare function setTimeout<A, B>(fn: (a: A, b: B) => void, ms: number, a: A, b: B): number;
