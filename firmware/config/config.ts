// Device configuration: one flat JSON object in the Storage file CONFIG_FILE, written at flash
// time (npm run flash / npm run configure), never compiled into the bundle. Pure module.
// The device does not keep it in RAM: it reads the file where a value is needed (signing, WiFi,
// connecting) and applies each default there. The host (scripts/device-config.ts validateConfig)
// checks everything (ranges, unknown keys, pins per board) before a file reaches a board; the
// device keeps the compact checkConfig below, so a missing or broken file is still said in words,
// and fixConfig, so a value that bypassed the host tools (written by hand, an older tool) is
// clamped to its range or replaced by its default, with a plain message, instead of driving the
// device into a reconnect storm.

export const CONFIG_FILE = "iot.json";

export interface DeviceConfig {
  ssid: string; // WiFi network
  pass: string; // WiFi password ("" for an open network)
  host: string; // AWS IoT endpoint as signed and sent in Host, e.g. abc-ats.iot.eu-west-1.amazonaws.com
  port: number; // endpoint port [443]; part of the signed host when not 443
  region: string; // e.g. eu-west-1
  akid: string; // IAM access key id
  secret: string; // IAM secret access key
  token?: string; // optional STS session token
  tokenExp?: number; // optional: when the STS credentials expire (epoch seconds)
  thing: string; // thing name; also the MQTT client id unless clientId is set
  clientId?: string;
  relayHost?: string; // optional TCP target (a TLS relay on the LAN) when it differs from host
  relayPort?: number;
  tls: boolean; // [false] open the socket with require("tls") (ESP32 direct to AWS); false through a relay
  dhtPin: number; // GPIO numbers (NodeMCU D1 = 5, D2 = 4, D3 = 0, D4 = 2) [5]
  ledPin: number; // [2]
  ledLow: boolean; // LED is lit by a low level (NodeMCU on-board LED) [true]
  btnPin: number; // [0]
  refresh: number; // report interval, seconds [30]
  keepAlive: number; // MQTT keep-alive, seconds (AWS clamps to 30..1200) [60]
  sntp: string; // SNTP server [pool.ntp.org]
  // Optional tuning, defaults in brackets; tests shorten them:
  boMin?: number; // reconnect backoff base, ms [1000]
  boMax?: number; // reconnect backoff cap, ms [120000]
  life?: number; // seconds a connection may live before it is re-signed and renewed [82800 = 23 h]
  maxPkt?: number; // largest incoming MQTT packet kept, bytes [2048]; larger job documents are REJECTED
  getTo?: number; // seconds to wait for shadow get/accepted before asking again [10]
  kaMin?: number; // lowest MQTT keep-alive, seconds [30, the AWS minimum]; tests use 1 with a matching broker
  pingTo?: number; // seconds to wait for PINGRESP before the link is declared dead [10]
}

// "" when c is usable by the device, else its problems in plain words joined by "; ": the required
// keys and the characters of the thing name (it goes into topics). Types, ranges and unknown keys
// are checked on the host (scripts/device-config.ts validateConfig, which runs this one too).
export function checkConfig(c: any): string {
  if (!c) return "missing or not JSON";
  let e = "";
  for (const k of ["ssid", "host", "region", "akid", "secret", "thing"]) if (!c[k] || typeof c[k] != "string") e += "; " + k + (c[k] ? " must be text" : " is required");
  if (!/^[a-zA-Z0-9:_-]+$/.test(c.thing)) e += "; thing may contain only A-Z a-z 0-9 : _ -";
  return e.substr(2);
}

// The numeric keys the device checks: key, lowest, highest, default ("" = none: the key is dropped).
// Ranges as on the host; keepAlive from 1 because kaMin may lower AWS's 30 for a test broker.
// (a const enum member: inlined into the code, which stays in flash)
const enum Ranges {
  Numbers = "port 1 65535 443,relayPort 1 65535 ,dhtPin 0 39 5,ledPin 0 39 2,btnPin 0 39 0,refresh 1 86400 30,keepAlive 1 1200 60,kaMin 1 1200 30,boMin 100 60000 1000,boMax 100 3600000 120000,life 10 86400 82800,maxPkt 512 65536 2048,getTo 1 3600 10,pingTo 1 600 10,tokenExp 0 1e10 ",
}

// Makes every numeric and boolean value of c usable (in place): a number out of its range is
// clamped to it, anything that is not a number (a string, NaN, an object) is replaced by the
// default, or dropped when the key has none; tls and ledLow must be true or false. Returns what it
// changed in plain words joined by "; ", "" when nothing.
export function fixConfig(c: any): string {
  let said = "";
  for (const range of Ranges.Numbers.split(",")) {
    const r = range.split(" ");
    const key = r[0];
    let v = c[key];
    if (v == null) continue;
    const low = +r[1];
    const high = +r[2];
    if (typeof v != "number" || v != v) v = r[3] ? +r[3] : undefined;
    else v = Math.min(Math.max(v, low), high);
    if (v !== c[key]) {
      said += "; " + key + " must be a number " + low + ".." + high + ": using " + (v === undefined ? "none" : v);
      c[key] = v;
    }
  }
  if (c.tls != null && typeof c.tls != "boolean") {
    said += "; tls must be true or false: using false";
    c.tls = false;
  }
  if (c.ledLow != null && typeof c.ledLow != "boolean") {
    said += "; ledLow must be true or false: using true";
    c.ledLow = true;
  }
  return said.substr(2);
}
