// WiFi station model against one simulated access point.
// - connect(ssid, {password}, cb): ~30 ms 'associated', ~60 ms 'connected' {ip,netmask,gw} then
//   cb(null). Failures after ~150 ms: unknown SSID or AP down -> 'disconnected'
//   {reason:"no_ap_found"} then cb("no_ap_found"); wrong password -> reason "auth_fail",
//   cb("wrong_password").
// - Link loss (faults.wifiDown): 'disconnected' {reason:"beacon_timeout"}; every socket gets
//   'error' then 'close'. By default the station does NOT re-associate on its own when the AP
//   comes back (option wifiAutoReconnect: true models the ESP8266 SDK's auto-reconnect): the
//   firmware must call connect() again.
// - Wifi.save() stores the current credentials in the device's directory (not in Storage, like
//   the ESP8266's separate WiFi flash page); at boot a saved station config connects by itself.
// - setSNTP: once connected (and sntpDelayMs later) the clock is set to real time + skew, then
//   again every 30 s while connected.
import * as fs from "fs";
import * as path from "path";

export interface ApConfig {
  ssid: string;
  password: string;
  ip: string;
}

export interface WifiHooks {
  emit(ev: string, details: object): void;
  callback(key: string, err: string, details?: object): void;
  onLinkDown(reason: string): void;
  setClock(seconds: number): void;
}

export class WifiModel {
  apUp = true;
  station: "off" | "connecting" | "connected" | "wrong_password" | "no_ap_found" | "connect_failed" = "off";
  hostname = "espruino";
  private creds: { ssid: string; password: string } | null = null;
  private timers = new Set<NodeJS.Timeout>();
  private sntp: { server: string; zone: number } | null = null;
  private sntpTimer: NodeJS.Timeout | null = null;
  hooks: WifiHooks | null = null;
  sntpSkewSeconds: number;
  readonly mac: string;

  constructor(
    public ap: ApConfig,
    private dir: string,
    sntpSkew: number,
    private sntpDelayMs: number,
    public autoReconnect: boolean,
    macSeed: number,
  ) {
    this.sntpSkewSeconds = sntpSkew;
    const b = (n: number) => ((macSeed >> n) & 255).toString(16).padStart(2, "0");
    this.mac = "5c:cf:7f:" + b(16) + ":" + b(8) + ":" + b(0);
  }
  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.sntpTimer) clearTimeout(this.sntpTimer);
    this.sntpTimer = null;
  }
  ip(): string {
    return this.station === "connected" ? this.ap.ip : "0.0.0.0";
  }
  getIP() {
    const up = this.station === "connected";
    return { ip: this.ip(), netmask: up ? "255.255.255.0" : "0.0.0.0", gw: up ? this.ap.ip.replace(/\d+$/, "1") : "0.0.0.0", mac: this.mac };
  }
  getStatus() {
    return { mode: this.station === "off" ? "off" : "sta", station: this.station, ap: "disabled", phy: "11n", powersave: "ps-poll", savedMode: this.savedFile() ? "sta" : "off" };
  }
  getDetails() {
    return { status: this.station, rssi: this.station === "connected" ? -55 : 0, ssid: this.creds?.ssid ?? "", password: "", authMode: "wpa2", savedSsid: this.savedFile()?.ssid ?? null };
  }
  private savedPath(): string {
    return path.join(this.dir, "#wifi.json");
  }
  private savedFile(): { ssid: string; password: string } | null {
    try {
      return JSON.parse(fs.readFileSync(this.savedPath(), "utf8"));
    } catch {
      return null;
    }
  }
  save(what: string): void {
    if (what === "clear") {
      try {
        fs.unlinkSync(this.savedPath());
      } catch {
        /* none */
      }
      return;
    }
    if (this.creds) fs.writeFileSync(this.savedPath(), JSON.stringify(this.creds));
  }
  connect(ssid: string, password: string, key: string): void {
    if (!this.hooks) return;
    if (this.station === "connected") this.linkDown("assoc_leave");
    this.clearTimers();
    this.creds = { ssid, password };
    this.station = "connecting";
    const h = this.hooks;
    if (!this.apUp || ssid !== this.ap.ssid) {
      this.later(150, () => {
        this.station = "no_ap_found";
        h.emit("disconnected", { ssid, mac: this.mac, reason: "no_ap_found" });
        if (key) h.callback(key, "no_ap_found");
      });
      return;
    }
    if (password !== this.ap.password) {
      this.later(150, () => {
        this.station = "wrong_password";
        h.emit("disconnected", { ssid, mac: this.mac, reason: "auth_fail" });
        if (key) h.callback(key, "wrong_password");
      });
      return;
    }
    this.later(30, () => {
      h.emit("associated", { ssid, mac: this.mac, channel: 6 });
      this.later(30, () => {
        if (!this.apUp) {
          this.station = "connect_failed";
          h.emit("disconnected", { ssid, mac: this.mac, reason: "no_ap_found" });
          if (key) h.callback(key, "connect_fail");
          return;
        }
        this.station = "connected";
        const ipInfo = this.getIP();
        h.emit("connected", { ip: ipInfo.ip, netmask: ipInfo.netmask, gw: ipInfo.gw });
        if (key) h.callback(key, "");
        this.startSntp();
      });
    });
  }
  disconnect(key: string): void {
    this.clearTimers();
    const was = this.station === "connected";
    this.station = "off";
    if (was && this.hooks) this.linkDown("assoc_leave", true);
    if (key && this.hooks) {
      const h = this.hooks;
      this.later(5, () => h.callback(key, ""));
    }
  }
  private linkDown(reason: string, alreadyOff = false): void {
    if (!alreadyOff) this.station = "connecting";
    if (this.sntpTimer) clearTimeout(this.sntpTimer);
    this.sntpTimer = null;
    this.hooks?.onLinkDown(reason);
    this.hooks?.emit("disconnected", { ssid: this.creds?.ssid ?? "", mac: this.mac, reason });
  }
  setSNTP(server: string, zone: string): void {
    const z = parseFloat(zone);
    this.sntp = { server, zone: isNaN(z) ? 0 : z }; // ESP32 POSIX TZ strings are not applied
    if (this.station === "connected") this.startSntp();
  }
  private startSntp(): void {
    if (!this.sntp || this.station !== "connected") return;
    if (this.sntpTimer) clearTimeout(this.sntpTimer);
    const poll = (delay: number) => {
      this.sntpTimer = setTimeout(() => {
        this.sntpTimer = null;
        if (this.station !== "connected" || !this.sntp || !this.hooks) return;
        this.hooks.setClock(Date.now() / 1000 + this.sntpSkewSeconds + this.sntp.zone * 3600);
        poll(30000);
      }, delay);
    };
    poll(this.sntpDelayMs);
  }
  // ---- faults
  down(): void {
    this.apUp = false;
    if (this.station === "connected") {
      this.station = this.autoReconnect ? "connecting" : "no_ap_found";
      this.linkDown("beacon_timeout", true);
    }
  }
  up(): void {
    this.apUp = true;
    if (this.autoReconnect && this.creds && this.station !== "connected" && this.station !== "off") {
      this.connect(this.creds.ssid, this.creds.password, "");
    }
  }
  // ---- boot lifecycle
  boot(hooks: WifiHooks): void {
    this.hooks = hooks;
    this.station = "off";
    this.sntp = null;
    const saved = this.savedFile();
    if (saved) this.later(10, () => this.connect(saved.ssid, saved.password, ""));
  }
  teardown(): void {
    this.clearTimers();
    this.hooks = null;
    this.station = "off";
  }
}
