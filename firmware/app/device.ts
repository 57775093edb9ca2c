// The device application: boot sequence, WiFi and clock, the connection (presign -> WebSocket ->
// MQTT), and the wiring of the pure shadow and jobs logic to topics, Storage, LED, button and DHT11.
// Memory first (1600 JS variables on an ESP8266; a retained function costs 5 variables + 1 per
// parameter whatever its length, an object entry about 2): flat module state, loops instead of
// forEach callbacks, and very few functions. dev(op, a, b) below is at once the hook of the pure
// shadow and jobs modules, the MQTT client's event handler and URL provider, and the callback of
// every app timer; tick() is the report timer, the DHT11 callback and the button handler.
import { DeviceConfig, validateConfig } from "../config/config";
import { getTok, shadowDo } from "../shadow/shadow";
import { jobsDo } from "../jobs/jobs";
import { MqttSession } from "../mqtt/session";
import { createMqttClient } from "../mqtt/client";
import { amzDate, signCache, SignCache } from "../aws/sigv4";
import { bootHash, signUrl } from "../crypto/select";
import { parseHttpDate } from "./time";
import { led } from "../io/led";
import { dhtRead } from "../sensors/dht11";
import { DhtReading } from "../sensors/dht11-decode";

// Storage files: "iot.json" the configuration (config/config.ts CONFIG_FILE), "iot.set" the persisted
// settings {r: refresh, o: on, m: marker of the last shadow reboot request}, "iot.job" the job record.
// (built-in modules are looked up with require() where used: a module-level name costs variables)

let cfg: DeviceConfig;
let mq: MqttSession;
let sc: SignCache;
// (values that boot sets are left undefined here: each initial value would cost a variable)
let P: any; // "$aws/things/<thing>/"
let set: any; // persisted settings ("iot.set")
let refresh = 30;
let on: any; // boolean once booted
let btn = 0;
let temp: number | null = null;
let hum: number | null = null;
let up = 0; // uptime, seconds (clock jumps are not counted)
let lastT = 0;
let rd = 0; // 1 while a sensor read is under way
let rptT: any = 0; // timers: an id while pending, 0 otherwise (never clearTimeout a stale id)
let getT: any = 0;
let getN = 0;
let renT: any = 0;
let clkT: any = 0;
let wifiT: any = 0;
let wifiD = 1;
let wifiUp = 0;
let started = 0;
let cfgErr: any = 0; // the last configuration problem logged
let corr = 0; // seconds to add to getTime() for signing, learned from a 403's Date (SNTP may be off)

// Report timer callback (no argument): read the sensor; the reading comes back here as `r` (an
// object {t, h} or an error string). Button: setWatch calls it with an event {state, time, lastTime}.
function tick(r?: any): void {
  let t = getTime();
  const d = t - lastT;
  lastT = t;
  if (d > 0 && d < 90000) up += d; // a jump (SNTP) is not uptime
  t = Math.round(up);
  if (r === undefined) {
    rptT = 0;
    if (rd) return; // its end schedules the next report
    rd = 1;
    return dhtRead(cfg.dhtPin, 3, tick);
  }
  if (r.time !== undefined) {
    // button press (falling edge, debounced)
    btn++;
    dev("I", "button " + btn);
    shadowDo("r", { btnCount: btn, uptime: t });
    // QoS 1: queued by the client while offline (not before the first connection attempt)
    if (mq) mq.publish("devices/" + cfg.thing + "/events", JSON.stringify({ btnCount: btn, uptime: t, temperature: temp, humidity: hum }), 1);
    return;
  }
  rd = 0;
  const bad = typeof r === "string";
  temp = bad ? null : (r as DhtReading).t;
  hum = bad ? null : (r as DhtReading).h;
  if (bad) dev("W", "dht11: " + r);
  shadowDo("r", {
    temperature: temp,
    humidity: hum,
    sensorError: bad ? r : null,
    uptime: t,
    ram_free: process.memory(false).free,
  });
  if (!rptT) rptT = setTimeout(tick, refresh * 1000);
}

// The app's one function (ops are single letters or the MQTT client's event names):
//   "I" | "W" | "E" (line)  log a line at that level (short, for a serial console; never secrets)
//   hooks of shadow/jobs: "p" (sub, msg) publish under $aws/things/<thing>/ (QoS 0: each request
//     has an answer or is asked again), "a" (key, v) apply a valid setting, "b" reboot, "m" (m?)
//     the shadow reboot marker, "s" (file, data) Storage.write -> false when it could not,
//     "r" (doc, done) run a job operation, "o" the supported job operations
//   MQTT client: "message" | "connect" | "offline" | "error" | "log" (arg); dev(cb) = open: sign a URL
//   timers (setTimeout(dev, ms, op)): "w" connect WiFi, "c" wait for the clock then start MQTT,
//     "g" shadow get unanswered: ask again, "n" renew the signed connection, "B" boot again
//   "L" (quiet) (re)load the configuration -> true when valid
//   any other value: WiFi (see the end)
export function dev(op: any, a?: any, b?: any): any {
  if (op === "I" || op === "W" || op === "E") return console.log("[" + op + "] " + a);
  if (typeof op === "function") {
    // URL provider: called for every connection attempt, so each attempt is signed afresh
    if (cfg.tokenExp && getTime() + corr > cfg.tokenExp) dev("L", 1);
    if (cfg.tokenExp && getTime() + corr > cfg.tokenExp) {
      dev("E", "credentials expired at " + amzDate(cfg.tokenExp) + "; write new ones to iot.json");
      return op("credentials expired");
    }
    return signUrl(sc, cfg, getTime() + corr, op);
  }
  if (op === "p") {
    if (mq.connected()) mq.publish(P + a, JSON.stringify(b), 0);
    if (a === "shadow/get") {
      // bound the wait for get/accepted: ask again (10 s, doubling up to 5 min)
      if (getT) clearTimeout(getT);
      getT = setTimeout(dev, Math.min(300, (cfg.getTo || 10) * Math.pow(2, getN++)) * 1000, "g");
    }
    return;
  }
  if (op === "a") {
    // a valid setting ("on" or "refresh"), from the shadow or a set-config job; kept in iot.set
    if (a === "on") {
      on = b;
      led("s", b);
    } else {
      refresh = b;
      if (rptT) clearTimeout(rptT);
      rptT = setTimeout(tick, b * 1000); // the new interval starts now
    }
    dev("I", "set " + a + "=" + b);
    const s = a === "on" ? "o" : "r";
    if (set[s] !== b) {
      set[s] = b;
      dev("s", "iot.set", set);
    }
    return;
  }
  if (op === "b") {
    dev("I", "rebooting");
    return setTimeout(E.reboot, 300); // after the log line is out
  }
  if (op === "m") {
    // the marker of the last executed shadow reboot request; with a, store it first
    if (a) {
      set.m = a;
      dev("s", "iot.set", set);
    }
    return set.m || "";
  }
  if (op === "s") {
    // Storage.write that says so when the flash is full (the device keeps running on RAM values)
    let ok = false;
    try {
      ok = require("Storage").write(a, b);
    } catch (e) {}
    if (!ok) dev("E", "Storage full: " + a + " not saved");
    return ok;
  }
  if (op === "o") return ",reboot,blink,set-config,";
  if (op === "r") {
    // run a job operation (a = its document); b(problem) fails it, b() succeeds
    if (a.operation === "blink") {
      const n = a.count;
      return led("b", typeof n === "number" && n >= 1 && n <= 20 ? n : 5, b);
    }
    // set-config: check everything first, then apply all and report
    let err = "";
    const ks = Object.keys(a);
    for (const k of ks) {
      if (k === "operation") continue;
      const e = k === "on" || k === "refresh" ? shadowDo("c", k, a[k]) : "unknown setting";
      if (e) err += (err ? "; " : "") + k + " " + e;
    }
    if (!err) {
      const ch: any = {};
      for (const k of ks) {
        if (k === "operation") continue;
        dev("a", k, a[k]);
        ch[k] = a[k];
      }
      shadowDo("r", ch);
    }
    return b(err);
  }
  if (op === "message") {
    // one of our shadow or jobs topics (the only ones subscribed)
    const t: string = a.topic;
    if (t.indexOf(P) !== 0) return;
    let m: any;
    try {
      m = JSON.parse(a.payload);
    } catch (e) {}
    if (!m || typeof m !== "object") return dev("W", "bad JSON on " + t);
    const r = t.substr(P.length);
    if (r.indexOf("shadow/") === 0) {
      shadowDo("m", r.substr(7), m);
      if (!getTok && getT) {
        getN = 0;
        clearTimeout(getT);
        getT = 0;
      }
      return;
    }
    const j = r.substr(5); // after "jobs/"
    const i = j.indexOf("/update/");
    if (j === "notify-next" || j === "$next/get/accepted") jobsDo("n", m);
    else if (j === "$next/get/rejected") dev("W", "jobs $next rejected: " + m.code + " " + m.message);
    else if (i > 0) jobsDo(j.substr(i + 8) === "accepted" ? "a" : "j", j.substr(0, i), m);
    return;
  }
  if (op === "connect") {
    dev("I", "connected to AWS IoT");
    let s = cfg.life || 82800;
    if (cfg.tokenExp) s = Math.min(s, cfg.tokenExp - 300 - (getTime() + corr));
    if (renT) clearTimeout(renT);
    renT = setTimeout(dev, Math.max(s, 10) * 1000, "n");
    shadowDo("l", 1);
    return jobsDo("c");
  }
  if (op === "offline") {
    // the client has logged "[W] mqtt: offline: <reason>"
    shadowDo("l", 0);
    if (renT) clearTimeout(renT);
    renT = 0;
    return;
  }
  if (op === "error") {
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
        dev("W", "clock is " + Math.round(off) + " s off the server's; corrected to " + amzDate(srv));
      } else {
        dev("E", (a.status === 403 ? "credentials refused" : "connection refused") + " (HTTP " + a.status + (why ? ": " + why.substr(0, 90) : "") + ")");
        dev("L", 1); // new credentials written to iot.json are used at the next attempt
      }
    } else if (msg.indexOf("skipped") === 0) {
      if (msg.indexOf("/jobs/") > 0) jobsDo("o");
      else if (msg.indexOf("/shadow/") > 0) dev("E", "a shadow message is larger than maxPkt: keep the shadow small or raise maxPkt");
    }
    return;
  }
  if (op === "w") {
    wifiT = 0;
    return require("Wifi").connect(cfg.ssid, { password: cfg.pass }, dev);
  }
  if (op === "g") {
    getT = 0;
    if (getTok && mq.connected()) {
      dev("W", "no answer to shadow get in time, asking again");
      shadowDo("l", 1);
    }
    return;
  }
  if (op === "n") {
    // re-sign and reconnect before SigV4's 24 h connection limit and before STS credentials expire
    renT = 0;
    dev("L", 1); // new credentials, if any
    dev("I", "renewing the connection (signature/credentials lifetime)");
    return mq.reconnect("renewing the signed connection");
  }
  if (op === "c") {
    if (getTime() + corr < 1704067200) {
      // no signing before the clock is valid (2024-01-01, SNTP)
      if (!clkT) {
        dev("I", "waiting for the clock (SNTP " + cfg.sntp + ")");
        require("Wifi").setSNTP(cfg.sntp, 0);
      }
      clkT = setTimeout(dev, 1000, "c");
      return;
    }
    clkT = 0;
    started = 1;
    lastT = getTime();
    dev("I", "clock " + amzDate(getTime() + corr));
    P = "$aws/things/" + cfg.thing + "/";
    sc = signCache(bootHash());
    dev("I", "connecting to " + cfg.host + ":" + cfg.port + (cfg.relayHost ? " via " + cfg.relayHost : ""));
    const o: any = { clientId: cfg.clientId || cfg.thing, keepAlive: cfg.keepAlive, maxPacket: cfg.maxPkt || 2048, queueMax: 8, tls: cfg.tls, open: dev, onEvent: dev };
    // optional keys only when set (each key costs variables for the whole uptime)
    if (cfg.boMin) o.backoffMin = cfg.boMin;
    if (cfg.boMax) o.backoffMax = cfg.boMax;
    if (cfg.relayHost) {
      o.relayHost = cfg.relayHost;
      o.relayPort = cfg.relayPort;
    }
    if (cfg.kaMin !== undefined) o.kaMin = cfg.kaMin;
    if (cfg.pingTo) o.pingTimeout = cfg.pingTo * 1000;
    mq = createMqttClient(o);
    // One SUBSCRIBE of 6 filters (AWS: at most 8 per SUBSCRIBE). Not shadow/# nor shadow/update/+:
    // they would also bring update/documents (two whole documents per update) and the echo of our
    // own requests. jobs/+/+/+ = $next/get/accepted|rejected and <jobId>/update/accepted|rejected:
    // jobs answers go only to the connection that asked, and we ask nothing else of three levels.
    for (const x of ["shadow/get/+", "shadow/update/accepted", "shadow/update/rejected", "shadow/update/delta", "jobs/notify-next", "jobs/+/+/+"]) mq.subscribe(P + x, 1);
    return;
  }
  if (op === "L") {
    const v = validateConfig(require("Storage").readJSON("iot.json", true));
    if (v.config) {
      cfg = v.config;
      return true;
    }
    const e = v.errors.join("; ");
    if (!a && e !== cfgErr) {
      dev("E", "config iot.json: " + e);
      dev("E", "waiting for a valid configuration (write it with npm run configure)");
      led("i", 2, true);
      led("e", 3);
    }
    cfgErr = e;
    return false;
  }
  if (op === "log") return; // the client has printed it
  if (op !== "B") {
    // WiFi: the Wifi.connect callback (null, or the reason it failed), and the handler of the
    // "disconnected" ({reason}) and "connected" ({ip, ...}) events
    if (op && typeof op === "object") {
      if (op.reason === undefined) op = null; // the "connected" event ({ip, ...})
      else if (!wifiUp) return; // "disconnected" ({reason}) from a failing connect(): its callback says why
    }
    const lost = !!op && typeof op === "object";
    if (wifiT) clearTimeout(wifiT);
    wifiT = 0;
    if (op) {
      const why: string = lost ? op.reason : op;
      const w = why === "wrong_password" ? "wrong password"
        : why === "no_ap_found" ? "network not found"
        : why === "connect_fail" ? "connection failed"
        : why === "auth_expire" ? "authentication timed out"
        : why === "beacon_timeout" ? "access point stopped answering"
        : why;
      if (lost) dev("W", "wifi lost: " + w);
      else dev("W", "wifi " + cfg.ssid + ": " + w + " (" + why + "); retry in " + wifiD + " s");
      wifiUp = 0;
      dev("L", 1); // a corrected password in iot.json is used at the next attempt
      wifiT = setTimeout(dev, (lost ? 1 : wifiD) * 1000, "w");
      if (!lost) wifiD = Math.min(wifiD * 2, Math.min(60, (cfg.boMax || 60000) / 1000));
      return;
    }
    wifiD = 1;
    if (wifiUp) return;
    wifiUp = 1;
    dev("I", "wifi connected " + require("Wifi").getIP().ip);
    if (!started && !clkT) dev("c");
    return;
  }
  // boot
  try {
    require("TelnetServer").setOptions({ mode: "off" });
  } catch (e) {}
  if (!dev("L", 0)) {
    setTimeout(dev, 5000, "B"); // read iot.json again: no reset needed once it is written
    return;
  }
  dev("I", "boot " + cfg.thing);
  set = require("Storage").readJSON("iot.set", true) || {};
  refresh = typeof set.r === "number" ? set.r : cfg.refresh;
  on = set.o === true;
  led("i", cfg.ledPin, cfg.ledLow);
  led("s", on);
  shadowDo("i", dev, ((46656 + Math.random() * 1632959) | 0).toString(36)); // 4-character token prefix of this boot
  jobsDo("i", dev, require("Storage").readJSON("iot.job", true) || null);
  shadowDo("r", { on: on, btnCount: 0, refresh: refresh });
  // button: a press (falling edge, 50 ms debounce, internal pull-up) is a tick() with the event
  pinMode(cfg.btnPin, "input_pullup");
  setWatch(tick, cfg.btnPin, { edge: "falling", repeat: true, debounce: 50 });
  require("Wifi").on("disconnected", dev);
  require("Wifi").on("connected", dev);
  dev("w");
  tick();
}

export function boot(): void {
  dev("B");
}

// Test/figures hook: the module state, so the simulator's variable estimate can see it (module scope
// is invisible to it). Unused by main.ts, so esbuild drops it from the device bundle.
export function internals(): any {
  return { cfg: cfg, mq: mq, set: set, sc: sc, P: P };
}
