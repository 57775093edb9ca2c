// Board profiles: what each Espruino build offers (see docs/espruino-platform.md, crypto and TLS per board, and the
// Espruino board files ESP8266_4MB.py / ESP32.py, which define neither LED1 nor BTN1).
export type BoardName = "esp8266" | "esp32";

export interface BoardProfile {
  name: BoardName;
  boardName: string; // process.env.BOARD
  family: "ESP8266" | "ESP32";
  version: string; // process.env.VERSION
  variables: number; // JS variable budget
  tls: boolean;
  hashes: string[]; // require("crypto") hash functions
  pbkdf2: boolean;
  pins: number[]; // valid GPIO numbers (D<n> constants)
  hasA0: boolean;
  nodemcu: boolean; // NodeMCU.D0..D10 pin names
  storageBytes: number; // Storage area: pages * page size
  mss: number; // largest chunk a socket 'data' event delivers
  modules: string; // process.env.MODULES
}

function range(a: number, b: number): number[] {
  const r: number[] = [];
  for (let i = a; i <= b; i++) r.push(i);
  return r;
}

export const PROFILES: Record<BoardName, BoardProfile> = {
  esp8266: {
    name: "esp8266",
    boardName: "ESP8266_4MB",
    family: "ESP8266",
    version: "2v29",
    variables: 1600,
    tls: false,
    hashes: ["SHA1"],
    pbkdf2: false,
    pins: range(0, 16),
    hasA0: true,
    nodemcu: true,
    storageBytes: 48 * 4096,
    mss: 536,
    modules: "Flash,Storage,net,dgram,http,NetworkJS,Wifi,ESP8266,TelnetServer,crypto,neopixel",
  },
  esp32: {
    name: "esp32",
    boardName: "ESP32",
    family: "ESP32",
    version: "2v29",
    variables: 8000,
    tls: true,
    hashes: ["SHA1", "SHA224", "SHA256", "SHA384", "SHA512"],
    pbkdf2: true,
    pins: range(0, 39),
    hasA0: false,
    nodemcu: false,
    storageBytes: 64 * 4096,
    mss: 1436,
    modules: "Flash,Storage,heatshrink,fs,net,dgram,http,tls,Wifi,ESP32,TelnetServer,crypto,neopixel",
  },
};
