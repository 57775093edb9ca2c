// Device configuration: one flat JSON object in the Storage file CONFIG_FILE, written at flash
// time (npm run flash / npm run configure), never compiled into the bundle. Flat keys with short
// names because every nested object and every key costs JS variables on an ESP8266.
// Pure module: no Espruino globals, so the flashing tool validates with the same code.

export const CONFIG_FILE = "iot.json";

export interface DeviceConfig {
  ssid: string; // WiFi network
  pass: string; // WiFi password ("" for an open network)
  host: string; // AWS IoT endpoint as signed and sent in Host, e.g. abc-ats.iot.eu-west-1.amazonaws.com
  port: number; // endpoint port (443 on AWS); part of the signed host when not 443
  region: string; // e.g. eu-west-1
  akid: string; // IAM access key id
  secret: string; // IAM secret access key
  token?: string; // optional STS session token
  tokenExp?: number; // optional: when the STS credentials expire (epoch seconds)
  thing: string; // thing name; also the MQTT client id unless clientId is set
  clientId?: string;
  relayHost?: string; // optional TCP target (a TLS relay on the LAN) when it differs from host
  relayPort?: number;
  tls: boolean; // open the socket with require("tls") (ESP32 direct to AWS); false through a relay
  dhtPin: number; // GPIO numbers (NodeMCU D1 = 5, D2 = 4, D3 = 0, D4 = 2)
  ledPin: number;
  ledLow: boolean; // LED is lit by a low level (NodeMCU on-board LED)
  btnPin: number;
  refresh: number; // report interval, seconds
  keepAlive: number; // MQTT keep-alive, seconds (AWS clamps to 30..1200)
  sntp: string; // SNTP server
  // Optional tuning (issue 7), defaults in brackets; tests shorten them:
  boMin?: number; // reconnect backoff base, ms [1000]
  boMax?: number; // reconnect backoff cap, ms [120000]
  life?: number; // seconds a connection may live before it is re-signed and renewed [82800 = 23 h]
  maxPkt?: number; // largest incoming MQTT packet kept, bytes [2048]; larger job documents are REJECTED
  getTo?: number; // seconds to wait for shadow get/accepted before asking again [10]
  kaMin?: number; // lowest MQTT keep-alive, seconds [30, the AWS minimum]; tests use 1 with a matching broker
  pingTo?: number; // seconds to wait for PINGRESP before the link is declared dead [10]
}

// Defaults (applied by validateConfig): port 443, tls false, dhtPin 5, ledPin 2, ledLow true, btnPin 0,
// refresh 30, keepAlive 60, sntp "pool.ntp.org".

// Returns the config with defaults applied, or a list of plain-words problems.
export function validateConfig(raw: any): { config?: DeviceConfig; errors: string[] } {
  const errors: string[] = [];
  if (!raw || typeof raw !== "object") return { errors: ["configuration is missing or not a JSON object"] };
  // Defaults and key lists live inside the function (as literals): module-level constants would
  // hold about 80 JS variables for the whole uptime; here they exist only while it runs.
  const c: any = { port: 443, tls: false, dhtPin: 5, ledPin: 2, ledLow: true, btnPin: 0, refresh: 30, keepAlive: 60, sntp: "pool.ntp.org" };
  for (const k of Object.keys(raw)) if (raw[k] !== undefined && raw[k] !== null) c[k] = raw[k];
  if (c.pass === undefined) c.pass = "";
  for (const k of "ssid,host,region,akid,secret,thing".split(",")) if (typeof c[k] !== "string" || c[k] === "") errors.push(k + " is required (a non-empty string)");
  for (const k of "pass,token,clientId,relayHost,sntp".split(",")) if (c[k] !== undefined && typeof c[k] !== "string") errors.push(k + " must be a string");
  for (const k of "port,relayPort,tokenExp,dhtPin,ledPin,btnPin,refresh,keepAlive,boMin,boMax,life,maxPkt,getTo,kaMin,pingTo".split(",")) {
    if (c[k] !== undefined && (typeof c[k] !== "number" || c[k] !== c[k])) errors.push(k + " must be a number");
  }
  for (const k of ["tls", "ledLow"]) if (typeof c[k] !== "boolean") errors.push(k + " must be true or false");
  if (typeof c.thing === "string" && !/^[a-zA-Z0-9:_-]+$/.test(c.thing)) {
    errors.push("thing may contain only letters, digits, ':', '_' and '-'");
  }
  if (typeof c.thing === "string" && c.thing.length > 128) errors.push("thing is longer than 128 characters");
  if (typeof c.refresh === "number" && (c.refresh < 1 || c.refresh > 86400)) errors.push("refresh must be 1..86400 seconds");
  if (typeof c.port === "number" && (c.port < 1 || c.port > 65535)) errors.push("port must be 1..65535");
  if (typeof c.life === "number" && c.life < 10) errors.push("life must be at least 10 seconds");
  if (typeof c.maxPkt === "number" && (c.maxPkt < 512 || c.maxPkt > 65536)) errors.push("maxPkt must be 512..65536 bytes");
  if (c.relayHost !== undefined && c.relayPort === undefined) errors.push("relayPort is required with relayHost");
  if (errors.length) return { errors: errors };
  return { config: c as DeviceConfig, errors: errors };
}
