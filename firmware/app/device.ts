// The device application: boot sequence, WiFi and clock, the connection (presign -> WebSocket ->
// MQTT), and the wiring of the pure shadow and jobs logic to topics, Storage, LED, button and DHT11.
// Memory first (1600 JS variables on an ESP8266; a retained function costs 5 variables + 1 per
// parameter whatever its length, an object entry about 2): flat module state, very few functions,
// and no configuration object in RAM: iot.json is read where a value is needed (dev("L")), so new
// credentials or a corrected WiFi password written to it are used at the next attempt.
// dev(op, a, b) is at once the hook of the pure shadow and jobs modules, the MQTT client's event
// handler and URL provider, the WiFi callback and the callback of every app timer; tick() is the
// report timer, the DHT11 callback and the button handler.
// Storage files: "iot.json" the configuration (config/config.ts), "iot.set" the persisted settings
// {r: refresh, o: on, m: marker of the last shadow reboot request}, "iot.job" the job record.
import { checkConfig } from "../config/config";
import { getTok, shadowDo } from "../shadow/shadow";
import { jobsDo } from "../jobs/jobs";
import { MqttSession } from "../mqtt/session";
import { createMqttClient } from "../mqtt/client";
import { MqttEvent } from "../mqtt/events";
import { amzDate, SignCache } from "../aws/sigv4";
import { bootCache, signUrl } from "../crypto/select";
import { led } from "../io/led";
import { dhtRead } from "../sensors/dht11";

// (values that boot sets are left undefined here: each initial value would cost a variable)
let mq: MqttSession; // set once the clock is valid
let sc: SignCache;
let P: any; // "$aws/things/<thing>/"
let refresh: any;
let btn = 0;
let temp: any = null;
let hum: any = null;
let up = 0; // uptime, seconds (clock jumps are not counted)
let lastT = 0;
let rptT: any = 0; // timers: an id while pending, 0 otherwise (never clearTimeout a stale id)
let getT: any = 0;
let renT: any = 0;
let wifiD = 1;
let wifiUp = 0;
let cfgErr: any = 0; // the last configuration problem logged
let corr = 0; // seconds to add to getTime() for signing, learned from a 403's Date (SNTP may be off)

// Report timer callback (no argument): read the sensor; the reading comes back here as `r` (an
// object {t, h} or an error string). Button: setWatch calls it with an event {state, time, lastTime}.
function tick(r?: any): void {
  let t = getTime();
  const d = t - lastT;
  lastT = t;
  if (d > 0 && d < 9e4) up += d; // a jump (SNTP) is not uptime
  t = Math.round(up);
  if (r == null) {
    rptT = 0;
    return dhtRead(tick); // ignored while a reading is under way: its end schedules the next report
  }
  if (r.time) {
    // button press (falling edge, debounced)
    dev("I", "button " + ++btn);
    shadowDo("r", { btnCount: btn, uptime: t });
    // QoS 1: queued by the client while offline (not before the first connection attempt)
    if (mq) mq.publish("devices/" + P.substr(12) + "events", JSON.stringify({ btnCount: btn, uptime: t, temperature: temp, humidity: hum }), 1);
    return;
  }
  if (typeof r == "string") {
    dev("W", "dht11: " + r);
    temp = hum = null; // never a made-up number
  } else {
    temp = r.t;
    hum = r.h;
    r = null; // no sensorError
  }
  shadowDo("r", { temperature: temp, humidity: hum, sensorError: r, uptime: t, ram_free: process.memory().free });
  if (!rptT) rptT = setTimeout(tick, refresh * 1000);
}

// The app's one function (ops are single letters or the MQTT client's event names):
//   "I" | "W" | "E" (line)  log a line at that level (short, for a serial console; never secrets)
//   hooks of shadow/jobs: "p" (sub, msg) publish under $aws/things/<thing>/ (QoS 0: each request
//     has an answer or is asked again), "a" (key, v) apply a valid setting, "b" reboot, "m" (m?)
//     the shadow reboot marker, "s" (file, data) Storage.write -> false when it could not,
//     "r" (doc, done) run a job operation, "o" the supported job operations
//   MQTT client: MqttEvent.Message | Connected | Offline | Error | Log (arg); dev(cb) = open: sign a URL
//   timers (setTimeout(dev, ms, op)): "w" connect WiFi, "c" start MQTT once the clock is valid,
//     "g" shadow get unanswered: ask again, "n" renew the signed connection, "B" boot (again)
//   "R" (file) Storage.readJSON (undefined when missing or not JSON)
//   "L" read iot.json -> the configuration ({} when there is none); cfgErr says what is wrong with
//     it ("" when it is usable; a new problem is logged once)
//   anything else (null, {reason}, a reason string): WiFi (see default:)
export function dev(op: any, a?: any, b?: any): any {
  let c: any; // the configuration, where it is needed
  let t: any;
  if (typeof op == "function") {
    // URL provider: called for every connection attempt, so each attempt is signed afresh
    // (with no valid iot.json the signer says what is missing)
    c = dev("L");
    t = getTime() + corr;
    if (c.tokenExp < t) {
      dev("E", "credentials expired at " + amzDate(c.tokenExp));
      return op("expired");
    }
    return signUrl(sc, c, t, op);
  }
  switch (op) {
    case "I":
    case "W":
    case "E":
      return console.log("[" + op + "] " + a);
    case "R":
      return require("Storage").readJSON(a, true);
    case "L":
      c = dev("R", "iot.json");
      t = checkConfig(c);
      if (t && t !== cfgErr) dev("E", "config iot.json: " + t); // (Espruino: a long string compared to a number throws)
      cfgErr = t;
      return c || {};
    case "p":
      if (mq.connected()) mq.publish(P + a, JSON.stringify(b), 0);
      if (a == "shadow/get") {
        // bound the wait for get/accepted: ask again after getTo (10) s
        if (getT) clearTimeout(getT);
        getT = setTimeout(dev, (dev("L").getTo || 10) * 1000, "g");
      }
      return;
    case "a":
      // a valid setting ("on" or "refresh"), from the shadow or a set-config job; kept in iot.set
      dev("I", "set " + a + "=" + b);
      if (a == "on") led("s", b);
      else {
        refresh = b;
        if (rptT) clearTimeout(rptT);
        rptT = setTimeout(tick, b * 1000); // the new interval starts now
      }
      return dev("m", a[0], b);
    case "m":
      // iot.set: dev("m") the marker of the last executed shadow reboot request; dev("m", m) store
      // it; dev("m", "o" | "r", v) store a setting
      c = dev("R", "iot.set") || {};
      if (!a) return c.m || "";
      if (b == null) {
        b = a;
        a = "m";
      }
      if (c[a] !== b) {
        c[a] = b;
        dev("s", "iot.set", c);
      }
      return;
    case "s":
      // Storage.write that says so when the flash is full (the device keeps running on RAM values)
      try {
        t = require("Storage").write(a, b);
      } catch (e) {}
      if (!t) dev("E", "Storage full: " + a + " not saved");
      return t;
    case "b":
      dev("I", "rebooting");
      return setTimeout(E.reboot, 300); // after the log line is out
    case "o":
    case MqttEvent.Log: // (the client has printed it)
      return ",reboot,blink,set-config,";
    case "r":
      // run a job operation (a = its document); b(problem) fails it, b() succeeds
      if (a.operation == "blink") {
        t = a.count;
        return led("b", typeof t == "number" && t >= 1 && t <= 20 ? t : 5, b); // (a long string would throw)
      }
      // set-config: check everything first, then apply all and report
      t = "";
      c = {};
      for (op in a) {
        if (op == "operation") continue;
        const e = op == "reboot" ? "unknown key" : shadowDo("c", op, a[op]); // on, refresh
        if (e) t += "; " + op + " " + e;
        c[op] = a[op];
      }
      if (!t) {
        for (op in c) dev("a", op, c[op]); // (plain objects from JSON: for-in lists their keys only)
        shadowDo("r", c);
      }
      return b(t.substr(2));
    case MqttEvent.Message:
      // one of our shadow or jobs topics (the only ones subscribed); the pure modules check the
      // message's shape
      t = a.topic.substr(P.length);
      try {
        c = JSON.parse(a.payload);
      } catch (e) {
        return dev("W", "bad JSON on " + a.topic);
      }
      if (t[0] == "s") {
        shadowDo("m", t.substr(7), c); // after "shadow/"
        if (!getTok && getT) {
          clearTimeout(getT);
          getT = 0;
        }
        return;
      }
      // after "jobs/": <jobId>/update/accepted|rejected, or notify-next and $next/get/accepted
      // (jobsDo ignores a $next/get/rejected: it has no execution)
      t = t.substr(5);
      a = t.indexOf("/update/");
      return a > 0 ? jobsDo(t[a + 8] == "a" ? "a" : "j", t.substr(0, a), c) : jobsDo("n", c); // accepted | rejected
    case MqttEvent.Connected:
      dev("I", "connected to AWS IoT");
      // re-sign and reconnect before SigV4's 24 h connection limit and before STS credentials expire
      c = dev("L");
      t = c.life || 82800;
      if (c.tokenExp) t = Math.min(t, c.tokenExp - 300 - getTime() - corr);
      if (renT) clearTimeout(renT);
      renT = setTimeout(dev, Math.max(t, 10) * 1000, "n");
      shadowDo("l", 1);
      return jobsDo("c");
    case MqttEvent.Offline:
      // the client has logged "[W] mqtt: offline: <reason>"
      shadowDo("l", 0);
      if (renT) clearTimeout(renT);
      renT = 0;
      return;
    case MqttEvent.Error:
      // the client has logged "[W] mqtt: <text>"; add what it means for the device
      if (a.status) {
        c = a.body || "";
        try {
          c = JSON.parse(c).message || c;
        } catch (e) {}
        t = Date.parse(a.date) / 1000; // NaN (Node) or 0 (Espruino) when there is none
        b = t - getTime() - corr;
        if (a.status == 403 && t > 1704067200 && Math.abs(b) > 60) {
          // SNTP would set the clock back every 30 s: keep the server's offset and sign with it
          corr = t - getTime();
          dev("W", "clock is " + Math.round(b) + " s off the server's; corrected to " + amzDate(t));
        } else dev("E", "refused (HTTP " + a.status + ": " + (c + "").substr(0, 90) + ")");
      }
      return;
    case MqttEvent.Part:
      // a message over maxPkt, slice by slice: a job document that large is rejected (at its first
      // slice); the rest is ignored
      if (!a.at && a.topic.indexOf("/jobs/") > 0) jobsDo("o");
      return;
    case "w":
      c = dev("L");
      if (!cfgErr) return require("Wifi").connect(c.ssid, { password: c.pass }, dev);
      return setTimeout(dev, 5000, "w");
    case "g":
      getT = 0;
      if (getTok && mq.connected()) {
        dev("W", "shadow get: no answer");
        shadowDo("l", 1);
      }
      return;
    case "n":
      renT = 0;
      return mq.reconnect("renewing the connection"); // logged by the client ("offline: ...")
    case "c":
      // the MQTT client, once WiFi is up and the clock is valid (no signing before it: SNTP,
      // 2024-01-01); a = 1: a later check (repeats are harmless: the first valid one starts it)
      if (mq) return;
      if (getTime() + corr < 1704067200) {
        if (!a) dev("I", "waiting for the clock (SNTP)");
        return setTimeout(dev, 1000, "c", 1);
      }
      c = dev("L");
      // only the options that are set (the client keeps this object for the whole uptime)
      t = { clientId: c.clientId || c.thing, maxPacket: c.maxPkt || 2048, queueMax: 8, open: dev, onEvent: dev };
      for (b of "keepAlive,kaMin,tls,relayHost,relayPort".split(",")) if (c[b]) t[b] = c[b];
      if (c.pingTo) t.pingTimeout = c.pingTo * 1000;
      if (c.boMin) t.backoffMin = c.boMin;
      if (c.boMax) t.backoffMax = c.boMax;
      mq = createMqttClient(t);
      // One SUBSCRIBE of 6 filters (AWS: at most 8 per SUBSCRIBE). Not shadow/# nor shadow/update/+:
      // they would also bring update/documents (two whole documents per update) and the echo of our
      // own requests. jobs/+/+/+ = $next/get/accepted|rejected and <jobId>/update/accepted|rejected:
      // jobs answers go only to the connection that asked, and we ask nothing else of three levels.
      for (t of "shadow/get/+,shadow/update/accepted,shadow/update/rejected,shadow/update/delta,jobs/notify-next,jobs/+/+/+".split(",")) mq.subscribe(P + t, 1);
      return;
    case "B":
      try {
        require("TelnetServer").setOptions({ mode: "off" });
      } catch (e) {}
      c = dev("L");
      if (cfgErr) {
        led("b", 1e9); // the "no valid configuration" pattern (NodeMCU LED)
        setTimeout(dev, 5000, "B"); // read iot.json again: no reset needed once it is written
        return;
      }
      P = "$aws/things/" + c.thing + "/";
      dev("I", "boot " + c.thing);
      // A failed TLS handshake is also thrown by the interpreter from its event loop, where no
      // try/catch reaches; the socket has reported it ("TLS handshake failed"). Other uncaught
      // exceptions are logged in one line. (The simulator has no process.on.)
      if (c.tls && process.on) process.on("uncaughtException", (e: any) => e && !/mbedtls/.test(e) && console.log("[E] " + e));
      require("Wifi").setSNTP(c.sntp || "pool.ntp.org", 0); // sets the clock once WiFi is up (see "c")
      sc = bootCache(); // warm from Storage after a reboot on the same UTC day
      t = dev("R", "iot.set") || {};
      refresh = t.r || c.refresh || 30;
      t = t.o === true;
      led("i", c.ledPin == null ? 2 : c.ledPin, c.ledLow !== false);
      led("s", t);
      shadowDo("i", dev, Math.random().toString(36).substr(2, 4)); // clientToken prefix of this boot
      jobsDo("i", dev, dev("R", "iot.job"));
      shadowDo("r", { on: t, btnCount: 0, refresh: refresh });
      if (c.dhtPin != null) dhtRead(c.dhtPin); // (default 5)
      // button: a press (falling edge, 50 ms debounce, internal pull-up) is a tick() with the event
      pinMode(c.btnPin | 0, "input_pullup");
      setWatch(tick, c.btnPin | 0, { edge: "falling", repeat: true, debounce: 50 });
      require("Wifi").on("disconnected", dev);
      dev("w");
      return tick();
    default:
      // WiFi: the Wifi.connect callback (null, or the reason it failed) and the "disconnected"
      // event ({reason}): the link was lost (the firmware connects again itself)
      t = op && op.reason;
      if (t) {
        if (!wifiUp) return; // from a failing connect(): its callback says why
        op = t;
      }
      if (op) {
        c = dev("L");
        dev("W", "wifi " + (t ? "lost" : c.ssid) + ": " + op.split("_").join(" ") + "; retry in " + wifiD + " s");
        wifiUp = 0;
        setTimeout(dev, wifiD * 1000, "w");
        wifiD = Math.min(wifiD * 2, 60);
        return;
      }
      wifiD = wifiUp = 1;
      dev("I", "wifi connected " + require("Wifi").getIP().ip);
      dev("c");
  }
}

// Test/figures hook: the module state, so the simulator's variable estimate can see it (module scope
// is invisible to it). Unused by main.ts, so esbuild drops it from the device bundle.
export function internals(): any {
  return { mq: mq, sc: sc, P: P };
}
