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
