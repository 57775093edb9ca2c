// The device application: boot sequence, WiFi and clock, the connection (presign -> WebSocket ->
// MQTT), and the wiring of the pure shadow and jobs logic to topics, Storage, LED, button and DHT11.
// Flat module state (no objects per event) because the ESP8266 has 1600 JS variables in all.
import { CONFIG_FILE, DeviceConfig, validateConfig } from "../config/config";
import { Shadow, ShadowHooks, checkDesired } from "../shadow/shadow";
import { Jobs, JobHooks } from "../jobs/jobs";
import { MqttSession } from "../mqtt/session";
import { createMqttClient } from "../mqtt/client";
import { amzDate, mqttRequest, presignAsync, signCache, SignCache } from "../aws/sigv4";
import { bootHash, defer } from "../crypto/select";
import { CLOCK_VALID, parseHttpDate } from "./time";
import { ledBlink, ledError, ledInit, ledSet } from "../io/led";
import { buttonInit } from "../io/button";
import { dhtRead } from "../sensors/dht11";

export const SET_FILE = "iot.set"; // {r: refresh, o: on, m: marker of the last reboot request}
export const JOB_FILE = "iot.job"; // {j: jobId, n: executionNumber, st: step}, see jobs/jobs.ts

const Storage = require("Storage");
const Wifi = require("Wifi");

let cfg: DeviceConfig;
let mq: MqttSession;
let sh: Shadow;
let jb: Jobs;
let sc: SignCache;
let P = ""; // "$aws/things/<thing>/"
let set: any = {}; // persisted settings
let refresh = 30;
let on = false;
let btn = 0;
let temp: number | null = null;
let hum: number | null = null;
let up = 0; // uptime, seconds (clock jumps are not counted)
let lastT = 0;
let rptT: any = 0;
let getT: any = 0;
let getN = 0;
let renT: any = 0;
let clkT: any = 0;
let wifiT: any = 0;
let wifiD = 1;
let wifiUp = false;
let started = false;
let cfgErr = "";
let corr = 0; // seconds to add to getTime() for signing, learned from a 403's Date (SNTP may be off)

export function log(l: string, m: string): void {
  console.log("[" + l + "] " + m);
}

function now(): number {
  return getTime() + corr;
}

function upt(): number {
  const t = getTime();
  const d = t - lastT;
  lastT = t;
  if (d > 0 && d < 90000) up += d; // a jump (SNTP, skew fix) is not uptime
  return Math.round(up);
}

function saveSet(): void {
  Storage.write(SET_FILE, set);
}

function reboot(): void {
  log("I", "rebooting");
  setTimeout(() => E.reboot(), 300);
}

// ------------------------------------------------------------------ settings
function setOn(v: boolean): void {
  on = v;
  ledSet(v);
  if (set.o !== v) {
    set.o = v;
    saveSet();
  }
  log("I", "led " + (v ? "on" : "off"));
}

function setRefresh(v: number): void {
  if (refresh !== v) log("I", "refresh " + v + " s");
  refresh = v;
  if (set.r !== v) {
    set.r = v;
    saveSet();
  }
  schedule(v);
}

// Applies {key: value} settings (shadow desired or a set-config job); returns problems or "".
function applySettings(d: any): string {
  let err = "";
  Object.keys(d).forEach((k) => {
    if (k === "operation") return;
    const e = k === "on" || k === "refresh" ? checkDesired(k, d[k]) : "unknown setting";
    if (e) err += (err ? "; " : "") + k + " " + e;
  });
  if (err) return err;
  const ch: any = {};
  Object.keys(d).forEach((k) => {
    if (k === "on") setOn(d.on);
    else if (k === "refresh") setRefresh(d.refresh);
    else return;
    ch[k] = d[k];
  });
  sh.report(ch);
  return "";
}

// ------------------------------------------------------------------ sensor and reports
function schedule(s: number): void {
  if (rptT) clearTimeout(rptT);
  rptT = setTimeout(tick, s * 1000);
}

let rd = false; // a sensor read is under way

function tick(): void {
  rptT = 0;
  if (rd) return; // its end schedules the next report
  rd = true;
  dhtRead(cfg.dhtPin, 3, (r) => {
    rd = false;
    const bad = typeof r === "string";
    temp = bad ? null : (r as any).t;
    hum = bad ? null : (r as any).h;
    if (bad) log("W", "dht11: " + r);
    sh.report({
      temperature: temp,
      humidity: hum,
      sensorError: bad ? r : null,
      uptime: upt(),
      ram_free: process.memory(false).free,
    });
    if (!rptT) schedule(refresh);
  });
}

function press(): void {
  btn++;
  log("I", "button " + btn);
  const u = upt();
  sh.report({ btnCount: btn, uptime: u });
  mq.publish(
    "devices/" + cfg.thing + "/events",
    JSON.stringify({ btnCount: btn, uptime: u, temperature: temp, humidity: hum }),
    1
  );
}

// ------------------------------------------------------------------ MQTT wiring
function pub(t: string, m: any): void {
  // QoS 0: every request has an answer (accepted/rejected) or is asked again
  if (mq.connected()) mq.publish(P + t, JSON.stringify(m), 0);
}

function getTimer(): void {
  if (getT) clearTimeout(getT);
  const s = Math.min(300, (cfg.getTo || 10) * Math.pow(2, getN++));
  getT = setTimeout(() => {
    getT = 0;
    if (sh.getTok && mq.connected()) {
      log("W", "no answer to shadow get in time, asking again");
      sh.connected();
    }
  }, s * 1000);
}

function message(p: any): void {
  const t: string = p.topic;
  if (t.indexOf(P) !== 0) return;
  let m: any;
  try {
    m = JSON.parse(p.payload);
  } catch (e) {
    log("W", "bad JSON on " + t);
    return;
  }
  const r = t.substr(P.length);
  if (r.indexOf("shadow/") === 0) {
    sh.msg(r.substr(7), m);
    if (!sh.getTok) {
      getN = 0;
      if (getT) clearTimeout(getT);
      getT = 0;
    }
    return;
  }
  if (r.indexOf("jobs/") !== 0) return;
  const j = r.substr(5);
  if (j === "notify-next" || j === "$next/get/accepted") jb.onNext(m);
  else if (j === "$next/get/rejected") log("W", "jobs $next rejected: " + m.code + " " + m.message);
  else {
    const i = j.indexOf("/update/");
    if (i > 0) {
      if (j.substr(i + 8) === "accepted") jb.onAccepted(j.substr(0, i), m);
      else jb.onRejected(j.substr(0, i), m);
    }
  }
}

// renew before the 24 h SigV4 connection limit and before STS credentials expire
function renewTimer(): void {
  if (renT) clearTimeout(renT);
  let s = cfg.life || 82800;
  if (cfg.tokenExp) s = Math.min(s, cfg.tokenExp - 300 - now());
  renT = setTimeout(() => {
    renT = 0;
    loadCfg(true);
    log("I", "renewing the connection (signature/credentials lifetime)");
    mq.reconnect("renewing the signed connection");
  }, Math.max(s, 10) * 1000);
}

function event(type: string, a: any): void {
  if (type === "message") message(a);
  else if (type === "connect") {
    log("I", "connected to AWS IoT");
    renewTimer();
    sh.connected();
    jb.connected();
  } else if (type === "offline") {
    // the client has logged "[W] mqtt: offline: <reason>"
    sh.disconnected();
    if (renT) clearTimeout(renT);
    renT = 0;
  } else if (type === "error") {
    // the client has logged "[W] mqtt: <msg>"; add what it means for the device
    if (a.status) httpRefused(a);
    else if ((a.msg || "").indexOf("skipped") === 0 && a.msg.indexOf("/jobs/") > 0) jb.oversize();
  }
}

function httpRefused(a: any): void {
  let why = "";
  try {
    why = JSON.parse(a.body).message || "";
  } catch (e) {
    why = a.body || "";
  }
  const srv = parseHttpDate(a.date);
  const off = srv - now();
  if (a.status === 403 && srv === srv && Math.abs(off) > 60) {
    // SNTP would set the clock back every 30 s: keep the server's offset and sign with it
    corr = srv - getTime();
    log("W", "clock is " + Math.round(off) + " s off the server's; corrected to " + amzDate(srv));
  } else {
    log("E", (a.status === 403 ? "credentials refused" : "connection refused") + " (HTTP " + a.status + (why ? ": " + why.substr(0, 50) : "") + ")");
    loadCfg(true); // new credentials written to iot.json are used at the next attempt
  }
}

// URL provider: called for every connection attempt, so each attempt is signed afresh
function sign(cb: (err: any, url?: string) => void): void {
  if (cfg.tokenExp && now() > cfg.tokenExp) loadCfg(true);
  if (cfg.tokenExp && now() > cfg.tokenExp) {
    log("E", "credentials expired at " + amzDate(cfg.tokenExp) + "; write new ones to " + CONFIG_FILE);
    return cb("credentials expired");
  }
  const r = mqttRequest(cfg);
  presignAsync(sc, r, now(), defer, (e, path) => cb(e ? e.message : null, e ? undefined : "wss://" + r.host + path));
}

function startMqtt(): void {
  P = "$aws/things/" + cfg.thing + "/";
  sc = signCache(bootHash());
  log("I", "connecting to " + cfg.host + ":" + cfg.port + (cfg.relayHost ? " via " + cfg.relayHost : ""));
  mq = createMqttClient({
    clientId: cfg.clientId || cfg.thing,
    keepAlive: cfg.keepAlive,
    maxPacket: cfg.maxPkt || 2048,
    backoffMin: cfg.boMin,
    backoffMax: cfg.boMax,
    queueMax: 8,
    tls: cfg.tls,
    relayHost: cfg.relayHost,
    relayPort: cfg.relayPort,
    open: sign,
    onEvent: event,
  });
  // One SUBSCRIBE of 7 filters (AWS: at most 8 per SUBSCRIBE). Not shadow/# : that would also echo
  // our own update requests and update/documents (two full documents) into the 1600 variables.
  ["shadow/get/+", "shadow/update/accepted", "shadow/update/rejected", "shadow/update/delta",
    "jobs/notify-next", "jobs/$next/get/+", "jobs/+/update/+"].forEach((f) => mq.subscribe(P + f, 1));
}

// ------------------------------------------------------------------ WiFi and clock
function wifiWords(e: string): string {
  return e === "wrong_password" ? "wrong password"
    : e === "no_ap_found" ? "network not found"
    : e === "connect_fail" ? "connection failed"
    : e === "auth_expire" ? "authentication timed out"
    : e === "beacon_timeout" ? "access point stopped answering"
    : e;
}

function wifiGo(): void {
  wifiT = 0;
  Wifi.connect(cfg.ssid, { password: cfg.pass }, (err) => {
    if (err) {
      log("W", "wifi " + cfg.ssid + ": " + wifiWords(err) + " (" + err + "); retry in " + wifiD + " s");
      loadCfg(true); // a corrected password in iot.json is used at the next attempt
      wifiLater(wifiD);
      wifiD = Math.min(wifiD * 2, Math.min(60, (cfg.boMax || 60000) / 1000));
      return;
    }
    wifiUp2();
  });
}

function wifiUp2(): void {
  wifiD = 1;
  if (wifiT) clearTimeout(wifiT);
  wifiT = 0;
  if (!wifiUp) {
    wifiUp = true;
    log("I", "wifi connected " + Wifi.getIP().ip);
    if (!started && !clkT) clock();
  }
}

function wifiLater(s: number): void {
  if (wifiT) clearTimeout(wifiT);
  wifiT = setTimeout(wifiGo, s * 1000);
}

function clock(): void {
  if (started) return;
  if (now() < CLOCK_VALID) {
    if (!clkT) {
      log("I", "waiting for the clock (SNTP " + cfg.sntp + ")");
      Wifi.setSNTP(cfg.sntp, 0);
    }
    clkT = setTimeout(clock, 1000);
    return;
  }
  clkT = 0;
  started = true;
  lastT = getTime();
  log("I", "clock " + amzDate(now()));
  startMqtt();
}

// ------------------------------------------------------------------ boot
function loadCfg(quiet: boolean): boolean {
  const v = validateConfig(Storage.readJSON(CONFIG_FILE, true));
  if (v.config) {
    cfg = v.config;
    return true;
  }
  const e = v.errors.join("; ");
  if (!quiet && e !== cfgErr) {
    log("E", "config " + CONFIG_FILE + ": " + e);
    log("E", "waiting for a valid configuration (write it with npm run configure)");
  }
  cfgErr = e;
  return false;
}

export function boot(): void {
  try {
    require("TelnetServer").setOptions({ mode: "off" });
  } catch (e) {}
  if (!loadCfg(false)) {
    ledInit(2, true);
    ledError(3);
    setTimeout(boot, 5000);
    return;
  }
  log("I", "boot " + cfg.thing);
  set = Storage.readJSON(SET_FILE, true) || {};
  refresh = typeof set.r === "number" ? set.r : cfg.refresh;
  on = set.o === true;
  ledInit(cfg.ledPin, cfg.ledLow);
  ledSet(on);
  // one hooks object for both pure modules (fewer closures and objects on the device)
  const H: ShadowHooks & JobHooks = {
    pub: (t, m) => {
      pub(t, m);
      if (t === "shadow/get") getTimer();
    },
    apply: (k, v) => (k === "on" ? setOn(v) : setRefresh(v)),
    reboot: () => reboot(),
    mark: () => set.m || "",
    setMark: (m) => {
      set.m = m;
      saveSet();
    },
    log: log,
    save: (r) => Storage.write(JOB_FILE, r),
    known: (op) => op === "reboot" || op === "blink" || op === "set-config",
    run: (doc, done) => {
      if (doc.operation === "blink") {
        const n = doc.count;
        ledBlink(typeof n === "number" && n >= 1 && n <= 20 ? n : 5, () => done(true, ""));
      } else {
        const e = applySettings(doc);
        done(!e, e);
      }
    },
  };
  sh = new Shadow(H, ((46656 + Math.random() * 1632959) | 0).toString(36)); // 4-character token prefix of this boot
  jb = new Jobs(H, Storage.readJSON(JOB_FILE, true) || null);
  sh.report({ on: on, btnCount: 0, refresh: refresh });
  buttonInit(cfg.btnPin, press);
  Wifi.on("disconnected", (d) => {
    if (!wifiUp) return; // a failing connect() also says why in its callback
    wifiUp = false;
    log("W", "wifi lost" + (d && d.reason ? ": " + wifiWords(d.reason) : ""));
    wifiLater(1);
  });
  Wifi.on("connected", () => {
    if (!wifiUp) wifiUp2();
  });
  wifiGo();
  tick();
}

// Test/figures hook: the module state, so the simulator's variable estimate can see it (module scope
// is invisible to it). Unused by main.ts, so esbuild drops it from the device bundle.
export function internals(): any {
  return { cfg: cfg, mq: mq, sh: sh, jb: jb, set: set, sc: sc, P: P };
}
