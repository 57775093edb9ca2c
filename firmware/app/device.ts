// The device application: boot sequence, WiFi and clock, the connection (presign -> WebSocket ->
// MQTT), and the wiring of the pure shadow and jobs logic to topics, Storage, LED, button and DHT11.
// Memory first (1600 JS variables on an ESP8266): flat module state, loops instead of forEach
// callbacks, and as few functions as readable (each function object costs about 5 variables);
// module functions double as the hooks of the pure modules and as event handlers.
import { CONFIG_FILE, DeviceConfig, validateConfig } from "../config/config";
import {
  ShadowHooks, checkDesired, getTok, shadowInit, shadowLink, shadowMsg, shadowReport,
} from "../shadow/shadow";
import { JOB_FILE, JobHooks, jobsAccepted, jobsConnected, jobsInit, jobsNext, jobsOversize, jobsRejected } from "../jobs/jobs";
import { MqttSession } from "../mqtt/session";
import { createMqttClient } from "../mqtt/client";
import { amzDate, mqttRequest, presignAsync, signCache, SignCache } from "../aws/sigv4";
import { bootHash, defer } from "../crypto/select";
import { CLOCK_VALID, parseHttpDate } from "./time";
import { ledInit, ledPattern, ledSet } from "../io/led";
import { buttonInit } from "../io/button";
import { dhtRead } from "../sensors/dht11";
import { DhtReading } from "../sensors/dht11-decode";

export const SET_FILE = "iot.set"; // {r: refresh, o: on, m: marker of the last shadow reboot request}

const Storage = require("Storage");
const Wifi = require("Wifi");

let cfg: DeviceConfig;
let mq: MqttSession;
let sc: SignCache;
let P = ""; // "$aws/things/<thing>/"
let set: any = {}; // persisted settings (SET_FILE)
let refresh = 30;
let on = false;
let btn = 0;
let temp: number | null = null;
let hum: number | null = null;
let up = 0; // uptime, seconds (clock jumps are not counted)
let lastT = 0;
let rd = false; // a sensor read is under way
let rptT: any = 0; // timers: an id while pending, 0 otherwise (never clearTimeout a stale id)
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

function upt(): number {
  const t = getTime();
  const d = t - lastT;
  lastT = t;
  if (d > 0 && d < 90000) up += d; // a jump (SNTP) is not uptime
  return Math.round(up);
}

// Storage.write that says so when the flash is full (the device keeps running on RAM values);
// also the jobs' hook for their record
function store(name: string, data: any): boolean {
  let ok = false;
  try {
    ok = Storage.write(name, data);
  } catch (e) {}
  if (!ok) log("E", "Storage full: " + name + " not saved");
  return ok;
}

// hook: reboot after the log line is out
function reboot(): void {
  log("I", "rebooting");
  setTimeout(E.reboot, 300);
}

// ------------------------------------------------------------------ settings
// hook: a valid setting ("on" or "refresh"), from the shadow or a set-config job; kept in SET_FILE
function apply(k: string, v: any): void {
  if (k === "on") {
    on = v;
    ledSet(v);
  } else {
    refresh = v;
    if (rptT) clearTimeout(rptT);
    rptT = setTimeout(tick, v * 1000); // the new interval starts now
  }
  log("I", "set " + k + "=" + v);
  const s = k === "on" ? "o" : "r";
  if (set[s] !== v) {
    set[s] = v;
    store(SET_FILE, set);
  }
}

// hook: the marker of the last executed shadow reboot request; with m, store it first
function mark(m?: string): string {
  if (m) {
    set.m = m;
    store(SET_FILE, set);
  }
  return set.m || "";
}

// hook: run a job operation; done(problem) fails it, done() succeeds
function run(doc: any, done: (err?: string) => void): void {
  if (doc.operation === "blink") {
    const n = doc.count;
    return ledPattern(typeof n === "number" && n >= 1 && n <= 20 ? n : 5, false, done);
  }
  // set-config: check everything first, then apply all and report
  let err = "";
  const ks = Object.keys(doc);
  for (const k of ks) {
    if (k === "operation") continue;
    const e = k === "on" || k === "refresh" ? checkDesired(k, doc[k]) : "unknown setting";
    if (e) err += (err ? "; " : "") + k + " " + e;
  }
  if (!err) {
    const ch: any = {};
    for (const k of ks) {
      if (k === "operation") continue;
      apply(k, doc[k]);
      ch[k] = doc[k];
    }
    shadowReport(ch);
  }
  done(err);
}

// ------------------------------------------------------------------ sensor, reports, button
// Report timer callback (no argument): read the sensor; the reading comes back here as `r`.
function tick(r?: DhtReading | string): void {
  if (r === undefined) {
    rptT = 0;
    if (rd) return; // its end schedules the next report
    rd = true;
    return dhtRead(cfg.dhtPin, 3, tick);
  }
  rd = false;
  const bad = typeof r === "string";
  temp = bad ? null : (r as DhtReading).t;
  hum = bad ? null : (r as DhtReading).h;
  if (bad) log("W", "dht11: " + r);
  shadowReport({
    temperature: temp,
    humidity: hum,
    sensorError: bad ? r : null,
    uptime: upt(),
    ram_free: process.memory(false).free,
  });
  if (!rptT) rptT = setTimeout(tick, refresh * 1000);
}

function press(): void {
  btn++;
  log("I", "button " + btn);
  const u = upt();
  shadowReport({ btnCount: btn, uptime: u });
  // QoS 1: queued by the client while offline (not before the first connection attempt)
  if (mq) mq.publish("devices/" + cfg.thing + "/events", JSON.stringify({ btnCount: btn, uptime: u, temperature: temp, humidity: hum }), 1);
}

// ------------------------------------------------------------------ MQTT wiring
// hook: publish a request under $aws/things/<thing>/. QoS 0: each has an answer or is asked again.
function pub(t: string, m: any): void {
  if (mq.connected()) mq.publish(P + t, JSON.stringify(m), 0);
  if (t === "shadow/get") {
    // bound the wait for get/accepted: ask again (10 s, doubling up to 5 min)
    if (getT) clearTimeout(getT);
    getT = setTimeout(later, Math.min(300, (cfg.getTo || 10) * Math.pow(2, getN++)) * 1000, "g");
  }
}

// MQTT client events; "message": one of our shadow or jobs topics (the only ones subscribed)
function event(type: string, a: any): void {
  if (type === "message") {
    const t: string = a.topic;
    if (t.indexOf(P) !== 0) return;
    let m: any;
    try {
      m = JSON.parse(a.payload);
    } catch (e) {}
    if (!m || typeof m !== "object") {
      log("W", "bad JSON on " + t);
      return;
    }
    const r = t.substr(P.length);
    if (r.indexOf("shadow/") === 0) {
      shadowMsg(r.substr(7), m);
      if (!getTok && getT) {
        getN = 0;
        clearTimeout(getT);
        getT = 0;
      }
      return;
    }
    const j = r.substr(5); // after "jobs/"
    const i = j.indexOf("/update/");
    if (j === "notify-next" || j === "$next/get/accepted") jobsNext(m);
    else if (j === "$next/get/rejected") log("W", "jobs $next rejected: " + m.code + " " + m.message);
    else if (i > 0) {
      if (j.substr(i + 8) === "accepted") jobsAccepted(j.substr(0, i), m);
      else jobsRejected(j.substr(0, i), m);
    }
  } else if (type === "connect") {
    log("I", "connected to AWS IoT");
    let s = cfg.life || 82800;
    if (cfg.tokenExp) s = Math.min(s, cfg.tokenExp - 300 - (getTime() + corr));
    if (renT) clearTimeout(renT);
    renT = setTimeout(later, Math.max(s, 10) * 1000, "r");
    shadowLink(true);
    jobsConnected();
  } else if (type === "offline") {
    // the client has logged "[W] mqtt: offline: <reason>"
    shadowLink(false);
    if (renT) clearTimeout(renT);
    renT = 0;
  } else if (type === "error") {
    // the client has logged "[W] mqtt: <msg>"; add what it means for the device
    const msg: string = a.msg || "";
    if (a.status) {
      let why = "";
      try {
        why = JSON.parse(a.body).message || "";
      } catch (e) {
        why = a.body || "";
      }
      const srv = parseHttpDate(a.date);
      const off = srv - (getTime() + corr);
      if (a.status === 403 && srv === srv && Math.abs(off) > 60) {
        // SNTP would set the clock back every 30 s: keep the server's offset and sign with it
        corr = srv - getTime();
        log("W", "clock is " + Math.round(off) + " s off the server's; corrected to " + amzDate(srv));
      } else {
        log("E", (a.status === 403 ? "credentials refused" : "connection refused") + " (HTTP " + a.status + (why ? ": " + why.substr(0, 90) : "") + ")");
        loadCfg(true); // new credentials written to iot.json are used at the next attempt
      }
    } else if (msg.indexOf("skipped") === 0) {
      if (msg.indexOf("/jobs/") > 0) jobsOversize();
      else if (msg.indexOf("/shadow/") > 0) log("E", "a shadow message is larger than maxPkt: keep the shadow small or raise maxPkt");
    }
  }
}

// URL provider: called for every connection attempt, so each attempt is signed afresh
function sign(cb: (err: any, url?: string) => void): void {
  if (cfg.tokenExp && getTime() + corr > cfg.tokenExp) loadCfg(true);
  if (cfg.tokenExp && getTime() + corr > cfg.tokenExp) {
    log("E", "credentials expired at " + amzDate(cfg.tokenExp) + "; write new ones to " + CONFIG_FILE);
    return cb("credentials expired");
  }
  const r = mqttRequest(cfg);
  presignAsync(sc, r, getTime() + corr, defer, (e, path) => cb(e ? e.message : null, e ? undefined : "wss://" + r.host + path));
}

// ------------------------------------------------------------------ WiFi and clock
// Wifi.connect callback; also the "disconnected" ({reason}) and "connected" event handler
function wifiDone(err: any): void {
  if (err && typeof err === "object") {
    if (err.reason === undefined) err = null; // the "connected" event ({ip, ...})
    else if (!wifiUp) return; // "disconnected" ({reason}) from a failing connect(): its callback says why
  }
  const lost = !!err && typeof err === "object";
  if (wifiT) clearTimeout(wifiT);
  wifiT = 0;
  if (err) {
    const why: string = lost ? err.reason : err;
    const w = why === "wrong_password" ? "wrong password"
      : why === "no_ap_found" ? "network not found"
      : why === "connect_fail" ? "connection failed"
      : why === "auth_expire" ? "authentication timed out"
      : why === "beacon_timeout" ? "access point stopped answering"
      : why;
    if (lost) log("W", "wifi lost: " + w);
    else log("W", "wifi " + cfg.ssid + ": " + w + " (" + why + "); retry in " + wifiD + " s");
    wifiUp = false;
    loadCfg(true); // a corrected password in iot.json is used at the next attempt
    wifiT = setTimeout(later, (lost ? 1 : wifiD) * 1000, "w");
    if (!lost) wifiD = Math.min(wifiD * 2, Math.min(60, (cfg.boMax || 60000) / 1000));
    return;
  }
  wifiD = 1;
  if (wifiUp) return;
  wifiUp = true;
  log("I", "wifi connected " + Wifi.getIP().ip);
  if (!started && !clkT) later("c");
}

// The app's timer callback, one function for all its timers (each function costs variables):
// setTimeout(later, ms, what) with what = "w" (connect WiFi), "c" (wait for the clock, then start
// MQTT), "g" (shadow get unanswered: ask again), "r" (renew the signed connection).
function later(w: string): void {
  if (w === "w") {
    wifiT = 0;
    Wifi.connect(cfg.ssid, { password: cfg.pass }, wifiDone);
  } else if (w === "g") {
    getT = 0;
    if (getTok && mq.connected()) {
      log("W", "no answer to shadow get in time, asking again");
      shadowLink(true);
    }
  } else if (w === "r") {
    // re-sign and reconnect before SigV4's 24 h connection limit and before STS credentials expire
    renT = 0;
    loadCfg(true); // new credentials, if any
    log("I", "renewing the connection (signature/credentials lifetime)");
    mq.reconnect("renewing the signed connection");
  } else if (getTime() + corr < CLOCK_VALID) {
    // "c": no signing before the clock is valid (SNTP)
    if (!clkT) {
      log("I", "waiting for the clock (SNTP " + cfg.sntp + ")");
      Wifi.setSNTP(cfg.sntp, 0);
    }
    clkT = setTimeout(later, 1000, "c");
  } else {
    clkT = 0;
    started = true;
    lastT = getTime();
    log("I", "clock " + amzDate(getTime() + corr));
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
    // One SUBSCRIBE of 6 filters (AWS: at most 8 per SUBSCRIBE). Not shadow/# nor shadow/update/+:
    // they would also bring update/documents (two whole documents per update) and the echo of our
    // own requests. jobs/+/+/+ = $next/get/accepted|rejected and <jobId>/update/accepted|rejected:
    // jobs answers go only to the connection that asked, and we ask nothing else of three levels.
    const f = ["shadow/get/+", "shadow/update/accepted", "shadow/update/rejected", "shadow/update/delta",
      "jobs/notify-next", "jobs/+/+/+"];
    for (const x of f) mq.subscribe(P + x, 1);
  }
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
    ledInit(2, true);
    ledPattern(3, true, null);
  }
  cfgErr = e;
  return false;
}

export function boot(): void {
  try {
    require("TelnetServer").setOptions({ mode: "off" });
  } catch (e) {}
  if (!loadCfg(false)) {
    setTimeout(boot, 5000); // read iot.json again: no reset needed once it is written
    return;
  }
  log("I", "boot " + cfg.thing);
  set = Storage.readJSON(SET_FILE, true) || {};
  refresh = typeof set.r === "number" ? set.r : cfg.refresh;
  on = set.o === true;
  ledInit(cfg.ledPin, cfg.ledLow);
  ledSet(on);
  // one hooks object for both pure modules, made of module functions (no extra closures)
  const H: ShadowHooks & JobHooks = { pub: pub, apply: apply, reboot: reboot, mark: mark, log: log, store: store, ops: ",reboot,blink,set-config,", run: run };
  shadowInit(H, ((46656 + Math.random() * 1632959) | 0).toString(36)); // 4-character token prefix of this boot
  jobsInit(H, Storage.readJSON(JOB_FILE, true) || null);
  shadowReport({ on: on, btnCount: 0, refresh: refresh });
  buttonInit(cfg.btnPin, press);
  Wifi.on("disconnected", wifiDone);
  Wifi.on("connected", wifiDone);
  later("w");
  tick();
}

// Test/figures hook: the module state, so the simulator's variable estimate can see it (module scope
// is invisible to it). Unused by main.ts, so esbuild drops it from the device bundle.
export function internals(): any {
  return { cfg: cfg, mq: mq, set: set, sc: sc, P: P };
}
