// The device application: boot sequence, WiFi and clock, the connection (presign -> WebSocket ->
// MQTT), and the wiring of the pure shadow and jobs logic to topics, Storage, LED, button and DHT11.
// Memory first (1600 JS variables on an ESP8266; a retained function costs 5 variables + 1 per
// parameter whatever its length, an object entry about 2): flat module state, two functions, and
// no configuration object in RAM: iot.json is read where a value is needed (AppOp.ReadConfig), so
// new credentials or a corrected WiFi password written to it are used at the next attempt.
// dev(op, a, b) is the one callback of everything that calls the app back: the hook of the pure
// shadow and jobs modules (HookOp), the MQTT client's event handler (MqttEvent) and URL provider,
// the WiFi callbacks and the app's timers (AppOp). Op numbers are `const enum`s: free at run time.
// onTick() is the report timer, the DHT11 callback and the button handler.
// Storage files: "iot.json" the configuration (config/config.ts), "iot.set" the persisted settings
// (SavedSettings), "iot.job" the job record (jobs/jobs.ts).
import { checkConfig, DeviceConfig, fixConfig } from "../config/config";
import { getToken, ReportedState, shadowDo, ShadowOp, shadowValue } from "../shadow/shadow";
import { JobDocument, jobsDo, JobsOp, JobRecord, jobsValue } from "../jobs/jobs";
import { jsonScanFeed, jsonScanStart, JsonScanState } from "../json/scan";
import { HookOp, LogOp, SettingKey } from "./hook";
import { MqttSession } from "../mqtt/session";
import { createMqttClient, MqttClientOptions } from "../mqtt/client";
import { MqttError, MqttErrorCode, MqttEvent, MqttMessage, MqttPart } from "../mqtt/events";
import { amzDate, SignCache } from "../aws/sigv4";
import { bootCache, signUrl } from "../crypto/select";
import { led, LedOp } from "../io/led";
import { dhtRead, DhtReading } from "../sensors/dht11";

/** The app's own ops (after HookOp's numbers): timers and internal steps. */
export const enum AppOp {
  /** timer: connect to the WiFi network of iot.json */
  ConnectWifi = 32,
  /** (later?): start the MQTT client once WiFi is up and the clock is valid; later: a repeated check */
  StartMqtt = 33,
  /** timer: the shadow get was not answered in time: ask again */
  GetTimeout = 34,
  /** timer: re-sign and renew the connection (SigV4's 24 h limit, STS expiry) */
  Renew = 35,
  /** boot (again, while iot.json is unusable) */
  Boot = 36,
  /** (file): Storage.readJSON, undefined when missing or not JSON */
  ReadFile = 37,
  /** read iot.json: the configuration ({} when there is none); configProblem says what is wrong */
  ReadConfig = 38,
  /** (key, value): keep a value in iot.set */
  Save = 39,
}

/** "iot.set": what the device keeps across reboots (short keys: a small object in RAM and flash). */
interface SavedSettings {
  r?: number; // refresh, seconds
  o?: boolean; // on
  m?: string; // marker of the last executed shadow reboot request
}

// Constants as const enum members: inlined into the code, which stays in flash on the device (a
// module-level constant would take variables).
const enum Device {
  Operations = ",reboot,blink,set-config,",
  ClockValid = 1704067200, // 2024-01-01: before it SNTP has not set the clock
}

// (values that boot sets are left undefined here: each initial value would cost a variable)
let mqtt: MqttSession; // set once the clock is valid
let signingCache: SignCache;
let thingTopic: string; // "$aws/things/<thing>/"
let reportInterval: number; // seconds
let presses = 0;
let temperature: number | null = null;
let humidity: number | null = null;
let uptime = 0; // seconds (clock jumps are not counted)
let lastTick = 0;
// timers: an id while pending, 0 otherwise (never clearTimeout a stale id)
let reportTimer: any = 0;
let getTimer: any = 0;
let renewTimer: any = 0;
let wifiRetryDelay = 1; // seconds
let wifiUp = 0;
let configProblem: any = 0; // the last configuration problem logged
let configFixed: any = 0; // the last values out of range logged
let clockCorrection = 0; // seconds to add to getTime() for signing, learned from a 403's Date (SNTP may be off)
let scanner: JsonScanState | 0 = 0; // the incoming message being read, 0 between messages
let readingShadow = false; // it is on a shadow topic (else a jobs topic)

// onTick(): the report timer: read the sensor; the reading comes back here (DhtReading or an
// error string). onTick(press): the button (setWatch calls it with the event).
function onTick(reading?: DhtReading | string | EspruinoWatchEvent): void {
  let now = getTime();
  const elapsed = now - lastTick;
  lastTick = now;
  if (elapsed > 0 && elapsed < 9e4) uptime += elapsed; // a jump (SNTP) is not uptime
  now = Math.round(uptime);
  if (reading == null) {
    reportTimer = 0;
    return dhtRead(onTick); // ignored while a reading is under way: its end schedules the next report
  }
  if ((reading as EspruinoWatchEvent).time) {
    // button press (falling edge, debounced)
    dev(HookOp.Info, "button " + ++presses);
    shadowDo(ShadowOp.Report, { btnCount: presses, uptime: now });
    // QoS 1: queued by the client while offline (not before the first connection attempt)
    if (mqtt) mqtt.publish("devices/" + thingTopic.substr(12) + "events", JSON.stringify({ btnCount: presses, uptime: now, temperature: temperature, humidity: humidity }), 1);
    return;
  }
  let sensorError = null;
  if (typeof reading == "string") {
    dev(HookOp.Warn, "dht11: " + reading);
    sensorError = reading;
    temperature = humidity = null; // never a made-up number
  } else {
    temperature = (reading as DhtReading).t;
    humidity = (reading as DhtReading).h;
  }
  const report: ReportedState = { temperature: temperature, humidity: humidity, sensorError: sensorError, uptime: now, ram_free: process.memory().free };
  shadowDo(ShadowOp.Report, report);
  if (!reportTimer) reportTimer = setTimeout(onTick, reportInterval * 1000);
}

// ---- the app's one function: each op with what it takes and returns
// hook of the shadow and jobs modules (app/hook.ts)
export function dev(op: LogOp, line: string): void;
export function dev(op: HookOp.Publish, topic: string, msg: object): void;
export function dev(op: HookOp.Apply, key: SettingKey, value: boolean | number): void;
export function dev(op: HookOp.Reboot): void;
export function dev(op: HookOp.RebootMarker): string;
export function dev(op: HookOp.RebootMarker, marker: string): void;
export function dev(op: HookOp.Store, file: string, data: object): boolean;
export function dev(op: HookOp.JobOperations): string;
export function dev(op: HookOp.RunJob, doc: JobDocument, done: (problem?: string) => void): void;
// the MQTT client (mqtt/events.ts) and its URL provider (called for every connection attempt)
export function dev(event: MqttEvent.Connected, sessionPresent: boolean): void;
export function dev(event: MqttEvent.Offline | MqttEvent.Log, text: string): void;
export function dev(event: MqttEvent.Message, msg: MqttMessage): void;
export function dev(event: MqttEvent.Part, part: MqttPart): void;
export function dev(event: MqttEvent.Error, err: MqttError): void;
export function dev(open: (err: string | null, url?: string) => void): void;
// the app's steps
export function dev(op: AppOp.ReadFile, file: string): any;
export function dev(op: AppOp.ReadConfig): DeviceConfig;
export function dev(op: AppOp.Save, key: keyof SavedSettings, value: SavedSettings[keyof SavedSettings]): void;
// WiFi: the connect callback (null, or why it failed) and the "disconnected" event
export function dev(wifiResult: string | null): void;
export function dev(wifiLost: WifiDisconnectedDetails): void;
// the app's timers (last: a callback's type is taken from the last signature): ConnectWifi,
// GetTimeout, Renew, Boot; StartMqtt with later = 1 for a repeated check
export function dev(op: AppOp, later?: number): void;
export function dev(op: any, a?: any, b?: any): any {
  let config: any; // (read where it is needed)
  let value: any;
  let reader: JsonScanState;
  if (typeof op == "function") {
    // URL provider: each attempt is signed afresh (with no valid iot.json the signer says what is missing)
    config = dev(AppOp.ReadConfig);
    value = getTime() + clockCorrection;
    if (config.tokenExp < value) {
      dev(HookOp.Error, "credentials expired at " + amzDate(config.tokenExp));
      return op("expired");
    }
    return signUrl(signingCache, config, value, op);
  }
  switch (op) {
    case HookOp.Info:
    case HookOp.Warn:
    case HookOp.Error:
      return console.log("[" + "IWE"[op - HookOp.Info] + "] " + a);
    case AppOp.ReadFile:
      return require("Storage").readJSON(a, true);
    case AppOp.ReadConfig:
      config = dev(AppOp.ReadFile, "iot.json");
      value = checkConfig(config);
      if (value && value !== configProblem) dev(HookOp.Error, "config iot.json: " + value); // (Espruino: a long string compared to a number throws)
      configProblem = value;
      if (!config) return {};
      value = fixConfig(config); // values out of range: used clamped, said once
      if (value && value !== configFixed) dev(HookOp.Warn, "config iot.json: " + value);
      configFixed = value;
      return config;
    case HookOp.Publish:
      if (mqtt.connected()) mqtt.publish(thingTopic + a, JSON.stringify(b), 0);
      if (a == "shadow/get") {
        // bound the wait for get/accepted: ask again after getTo (10) s
        if (getTimer) clearTimeout(getTimer);
        getTimer = setTimeout(dev, (dev(AppOp.ReadConfig).getTo || 10) * 1000, AppOp.GetTimeout);
      }
      return;
    case HookOp.Apply:
      dev(HookOp.Info, "set " + a + "=" + b);
      if (a == "on") led(LedOp.Steady, b);
      else {
        reportInterval = b;
        if (reportTimer) clearTimeout(reportTimer);
        reportTimer = setTimeout(onTick, b * 1000); // the new interval starts now
      }
      return dev(AppOp.Save, a[0] as "o" | "r", b);
    case HookOp.RebootMarker:
      if (a === undefined) return (dev(AppOp.ReadFile, "iot.set") || {}).m || "";
      return dev(AppOp.Save, "m", a);
    case AppOp.Save:
      config = dev(AppOp.ReadFile, "iot.set") || {}; // (the settings, not the configuration)
      if (config[a] !== b) {
        config[a] = b;
        dev(HookOp.Store, "iot.set", config);
      }
      return;
    case HookOp.Store:
      // Storage.write that says so when the flash is full (the device keeps running on RAM values)
      try {
        value = require("Storage").write(a, b);
      } catch (e) {}
      if (!value) dev(HookOp.Error, "Storage full: " + a + " not saved");
      return value;
    case HookOp.Reboot:
      dev(HookOp.Info, "rebooting");
      return setTimeout(E.reboot, 300); // after the log line is out
    case HookOp.JobOperations:
      return Device.Operations;
    case HookOp.RunJob:
      if (a.operation == "blink") {
        value = a.count;
        return led(LedOp.Blink, typeof value == "number" && value >= 1 && value <= 20 ? value : 5, b); // (a long string would throw)
      }
      // set-config: check everything first, then apply all and report
      value = "";
      config = {}; // (the settings to apply)
      for (op in a) {
        if (op == "operation") continue;
        const problem = op == "reboot" ? "unknown key" : shadowDo(ShadowOp.Check, op, a[op]); // on, refresh
        if (problem) value += "; " + op + " " + problem;
        config[op] = a[op];
      }
      if (!value) {
        for (op in config) dev(HookOp.Apply, op, config[op]); // (plain objects from JSON: for-in lists their keys only)
        shadowDo(ShadowOp.Report, config);
      }
      return b(value.substr(2));
    case MqttEvent.Message:
    case MqttEvent.Part:
      // a message on one of our shadow or jobs topics, whole (Message) or in slices as it streams in
      // (Part: a message over maxPacket); either way it is read by the streaming scanner, and the
      // pure modules keep only the values they use: never a copy of a large document in RAM
      if (op == MqttEvent.Message) a = { topic: a.topic, data: a.payload, at: 0, size: a.payload.length };
      if (!a.at) {
        value = a.topic.substr(thingTopic.length); // after "$aws/things/<thing>/"
        readingShadow = value[0] == "s";
        if (readingShadow) shadowDo(ShadowOp.Begin, value.substr(7)); // after "shadow/"
        else jobsDo(JobsOp.Begin, value.substr(5)); // after "jobs/"
        scanner = jsonScanStart(readingShadow ? shadowValue : jobsValue);
      }
      if (!scanner) return; // the rest of a message that could not be read
      reader = scanner;
      scanner = 0; // (kept below while all is well: a handler that throws leaves the rest unread)
      value = jsonScanFeed(reader, a.data);
      if (!value && a.at + a.data.length < a.size) {
        scanner = reader; // more slices to come
        return;
      }
      if (!value) value = jsonScanFeed(reader, null); // the end of the document
      if (value) return dev(HookOp.Warn, "bad JSON on " + a.topic + ": " + value); // (the message is dropped)
      if (!readingShadow) return jobsDo(JobsOp.End);
      shadowDo(ShadowOp.End);
      if (!getToken && getTimer) {
        clearTimeout(getTimer);
        getTimer = 0;
      }
      return;
    case MqttEvent.Connected:
      dev(HookOp.Info, "connected to AWS IoT");
      // re-sign and reconnect before SigV4's 24 h connection limit and before STS credentials expire
      config = dev(AppOp.ReadConfig);
      value = config.life || 82800;
      if (config.tokenExp) value = Math.min(value, config.tokenExp - 300 - getTime() - clockCorrection);
      if (renewTimer) clearTimeout(renewTimer);
      renewTimer = setTimeout(dev, Math.max(value, 10) * 1000, AppOp.Renew);
      shadowDo(ShadowOp.Link, 1);
      return jobsDo(JobsOp.Connected);
    case MqttEvent.Offline:
      // the client has logged "[W] mqtt: offline: <reason>"; a message cut short is dropped
      scanner = 0;
      shadowDo(ShadowOp.Link, 0);
      if (renewTimer) clearTimeout(renewTimer);
      renewTimer = 0;
      return;
    case MqttEvent.Error:
      // the client has logged "[W] mqtt: <text>"; add what it means for the device
      if (a.code == MqttErrorCode.HttpRefused) {
        config = a.body || ""; // (the server's message)
        try {
          config = JSON.parse(config).message || config;
        } catch (e) {}
        value = Date.parse(a.date) / 1000; // NaN (Node) or 0 (Espruino) when there is none
        b = value - getTime() - clockCorrection;
        if (a.status == 403 && value > Device.ClockValid && Math.abs(b) > 60) {
          // SNTP would set the clock back every 30 s: keep the server's offset and sign with it
          clockCorrection = value - getTime();
          dev(HookOp.Warn, "clock is " + Math.round(b) + " s off the server's; corrected to " + amzDate(value));
        } else {
          // a line for a serial console: the first sentence, or the text cut at a word
          config += "";
          value = config.indexOf(". ") + 1; // the end of the first sentence
          if (!value && config.length <= 100) value = config.length;
          if (!value || value > 100) value = config.lastIndexOf(" ", 100) + 1 || 100; // the words that fit
          b = value < config.length ? " [cut; the whole text is in the server's log]" : "";
          dev(HookOp.Error, "refused (HTTP " + a.status + "): " + config.substr(0, value).trim() + b);
        }
      }
      return;
    case MqttEvent.Log: // (the client has printed it)
      return;
    case AppOp.ConnectWifi:
      config = dev(AppOp.ReadConfig);
      if (!configProblem) return require("Wifi").connect(config.ssid, { password: config.pass }, dev);
      return setTimeout(dev, 5000, AppOp.ConnectWifi);
    case AppOp.GetTimeout:
      getTimer = 0;
      // a shadow message still streaming in (a get/accepted of 20 KB takes a while on a board): wait
      // for its end, or a new get would make the answer being read a stale one, again and again
      if (scanner && readingShadow) getTimer = setTimeout(dev, (dev(AppOp.ReadConfig).getTo || 10) * 1000, AppOp.GetTimeout);
      else if (getToken && mqtt.connected()) {
        dev(HookOp.Warn, "shadow get: no answer");
        shadowDo(ShadowOp.Link, 1);
      }
      return;
    case AppOp.Renew:
      renewTimer = 0;
      return mqtt.reconnect("renewing the connection"); // logged by the client ("offline: ...")
    case AppOp.StartMqtt:
      // once WiFi is up and the clock is valid (no signing before it); repeats are harmless: the
      // first valid one starts it
      if (mqtt) return;
      if (getTime() + clockCorrection < Device.ClockValid) {
        if (!a) dev(HookOp.Info, "waiting for the clock (SNTP)");
        return setTimeout(dev, 1000, AppOp.StartMqtt, 1);
      }
      config = dev(AppOp.ReadConfig);
      // only the options that are set (the client keeps this object for the whole uptime)
      const options: MqttClientOptions = { clientId: config.clientId || config.thing, maxPacket: config.maxPkt || 2048, queueMax: 8, open: dev, onEvent: dev as any };
      for (value of "keepAlive,kaMin,tls,relayHost,relayPort".split(",")) if (config[value]) (options as any)[value] = config[value];
      if (config.pingTo) options.pingTimeout = config.pingTo * 1000;
      if (config.boMin) options.backoffMin = config.boMin;
      if (config.boMax) options.backoffMax = config.boMax;
      mqtt = createMqttClient(options);
      // One SUBSCRIBE of 6 filters (AWS: at most 8 per SUBSCRIBE). Not shadow/# nor shadow/update/+:
      // they would also bring update/documents (two whole documents per update) and the echo of our
      // own requests. jobs/+/+/+ = $next/get/accepted|rejected and <jobId>/update/accepted|rejected:
      // jobs answers go only to the connection that asked, and we ask nothing else of three levels.
      for (value of "shadow/get/+,shadow/update/accepted,shadow/update/rejected,shadow/update/delta,jobs/notify-next,jobs/+/+/+".split(",")) mqtt.subscribe(thingTopic + value, 1);
      return;
    case AppOp.Boot:
      try {
        require("TelnetServer").setOptions({ mode: "off" });
      } catch (e) {}
      config = dev(AppOp.ReadConfig);
      if (configProblem) {
        led(LedOp.Blink, 1e9); // the "no valid configuration" pattern (NodeMCU LED)
        setTimeout(dev, 5000, AppOp.Boot); // read iot.json again: no reset needed once it is written
        return;
      }
      thingTopic = "$aws/things/" + config.thing + "/";
      dev(HookOp.Info, "boot " + config.thing);
      // A failed TLS handshake is also thrown by the interpreter from its event loop, where no
      // try/catch reaches; the socket has reported it ("TLS handshake failed"). Other uncaught
      // exceptions are logged in one line. (The simulator has no process.on.)
      if (config.tls && process.on) process.on("uncaughtException", (e: any) => e && !/mbedtls/.test(e) && console.log("[E] " + e));
      require("Wifi").setSNTP(config.sntp || "pool.ntp.org", 0); // sets the clock once WiFi is up (see StartMqtt)
      signingCache = bootCache(); // warm from Storage after a reboot on the same UTC day
      value = dev(AppOp.ReadFile, "iot.set") || {}; // SavedSettings
      reportInterval = value.r || config.refresh || 30;
      value = value.o === true;
      led(LedOp.Init, config.ledPin == null ? 2 : config.ledPin, config.ledLow !== false);
      led(LedOp.Steady, value);
      shadowDo(ShadowOp.Init, dev, Math.random().toString(36).substr(2, 4)); // clientToken prefix of this boot
      jobsDo(JobsOp.Init, dev, dev(AppOp.ReadFile, "iot.job") as JobRecord | null);
      shadowDo(ShadowOp.Report, { on: value, btnCount: 0, refresh: reportInterval });
      if (config.dhtPin != null) dhtRead(config.dhtPin); // (default 5)
      // button: a press (falling edge, 50 ms debounce, internal pull-up) is an onTick() with the event
      pinMode(config.btnPin | 0, "input_pullup");
      setWatch(onTick, config.btnPin | 0, { edge: "falling", repeat: true, debounce: 50 });
      require("Wifi").on("disconnected", dev);
      dev(AppOp.ConnectWifi);
      return onTick();
    default:
      // WiFi: the connect callback (null, or the reason it failed) and the "disconnected" event
      // ({reason}): the link was lost (the firmware connects again itself)
      value = op && op.reason;
      if (value) {
        if (!wifiUp) return; // from a failing connect(): its callback says why
        op = value;
      }
      if (op) {
        config = dev(AppOp.ReadConfig);
        dev(HookOp.Warn, "wifi " + (value ? "lost" : config.ssid) + ": " + op.split("_").join(" ") + "; retry in " + wifiRetryDelay + " s");
        wifiUp = 0;
        setTimeout(dev, wifiRetryDelay * 1000, AppOp.ConnectWifi);
        wifiRetryDelay = Math.min(wifiRetryDelay * 2, 60);
        return;
      }
      wifiRetryDelay = wifiUp = 1;
      dev(HookOp.Info, "wifi connected " + require("Wifi").getIP().ip);
      dev(AppOp.StartMqtt);
  }
}

// Test/figures hook: the module state, so the simulator's variable estimate can see it (module scope
// is invisible to it). Unused by main.ts, so esbuild drops it from the device bundle.
export function internals(): any {
  return { mqtt: mqtt, signingCache: signingCache, thingTopic: thingTopic, scanner: scanner };
}
