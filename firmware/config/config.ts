// Device configuration: one flat JSON object in the Storage file CONFIG_FILE, written at flash
// time (npm run flash / npm run configure), never compiled into the bundle. Pure module.
// The device does not keep it in RAM: it reads the file where a value is needed (signing, WiFi,
// connecting) and applies each default there. The host (scripts/device-config.ts validateConfig)
// checks everything (ranges, unknown keys, pins per board) before a file reaches a board; the
// device keeps the compact checkConfig below, so a missing or broken file is still said in words.

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
  for (const k of ["ssid", "host", "region", "akid", "secret", "thing"]) if (!c[k]) e += "; " + k + " is required";
  if (!/^[a-zA-Z0-9:_-]+$/.test(c.thing)) e += "; thing may contain only A-Z a-z 0-9 : _ -";
  return e.substr(2);
}
