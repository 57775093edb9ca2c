// Device Shadow sync logic. Pure: no I/O and no Espruino globals; the adapter (shadow/adapter.ts)
// injects publish, apply and reboot hooks and drives the timers. jest tests it with fakes.
//
// Rules (see README issue-7):
// - version: a delta older than the last applied one is stale and ignored; an equal one is applied
//   (applying is idempotent), so update/accepted and update/delta may come in either order.
//   get/accepted is the answer to our own request and is authoritative (also resets the version,
//   so a shadow deleted/recreated with lower numbers is followed).
// - reports: changes are staged in `pend` (latest wins) and sent as ONE update when online and the
//   initial get has been answered; only keys whose value differs from what the cloud holds are sent.
// - invalid desired keys (unknown key, wrong type, out of range): reported under reported.errors and
//   the desired key is cleared (desired.k = null) so the shadow does not keep a delta forever.
// - reboot: desired.reboot=true is cleared (desired.reboot = null) and the request's desired
//   timestamp (or version) is remembered in Storage before rebooting, so one request reboots once.

export const REFRESH_MIN = 1;
export const REFRESH_MAX = 86400;

export interface ShadowHooks {
  pub(sub: string, msg: any): void; // sub: "shadow/get" or "shadow/update" (topic after $aws/things/<thing>/)
  apply(key: string, v: any): void; // a valid desired value: "on" or "refresh"
  reboot(): void; // the reboot request was reported: restart now
  mark(): string; // the stored marker of the last executed reboot request ("" if none)
  setMark(m: string): void; // persist the marker before rebooting
  log(lvl: string, msg: string): void;
}

// Returns null when `v` is a valid value for desired key `k`, else the problem in plain words.
export function checkDesired(k: string, v: any): string | null {
  if (k === "on" || k === "reboot") return typeof v === "boolean" ? null : "must be true or false";
  if (k === "refresh") {
    if (typeof v !== "number" || v !== v) return "must be a number";
    if (v < REFRESH_MIN || v > REFRESH_MAX || Math.floor(v) !== v) return "must be a whole number 1..86400";
    return null;
  }
  return "unknown key";
}

function same(a: any, b: any): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

// Reported keys this device owns; get/accepted keeps only these (one flat string: fewer variables).
const OWN = ",temperature,humidity,sensorError,on,btnCount,uptime,ram_free,refresh,errors,";

export class Shadow {
  h: ShadowHooks;
  ver: number; // version of the last applied delta (0 = none yet)
  known: any; // reported values the cloud holds (as far as we know)
  pend: any; // staged reported changes, latest wins
  clr: any; // staged desired keys to clear (null)
  fly: any; // reported object of the update in flight (for 409/429/5xx re-staging)
  online: boolean;
  getTok: string; // token of the outstanding get ("" when answered)
  rbTok: string; // token of the update that must be accepted before rebooting
  pre: string; // clientToken prefix of this boot
  n: number;

  constructor(h: ShadowHooks, pre: string) {
    this.h = h;
    this.ver = 0;
    this.known = {};
    this.pend = {};
    this.clr = null;
    this.fly = null;
    this.online = false;
    this.getTok = "";
    this.rbTok = "";
    this.pre = pre;
    this.n = 0;
  }

  tok(): string {
    return this.pre + ++this.n;
  }

  // Subscriptions are done: ask for the whole document. Also used to retry a get that timed out.
  connected(): void {
    this.online = true;
    this.getTok = this.tok();
    this.h.pub("shadow/get", { clientToken: this.getTok });
  }

  disconnected(): void {
    this.online = false;
    this.getTok = "";
    if (this.fly) this.restage();
  }

  // Stage reported changes (coalesced while offline or waiting) and send when possible.
  report(ch: any): void {
    const p = this.pend;
    Object.keys(ch).forEach((k) => {
      p[k] = ch[k];
    });
    this.flush();
  }

  flush(): void {
    if (!this.online || this.getTok) return;
    const p = this.pend;
    const kn = this.known;
    const r: any = {};
    let any = false;
    Object.keys(p).forEach((k) => {
      const v = p[k];
      if (v === null ? kn[k] !== undefined && kn[k] !== null : !same(v, kn[k])) {
        r[k] = v;
        if (v === null) delete kn[k];
        else kn[k] = v;
        any = true;
      }
    });
    this.pend = {};
    if (!any && !this.clr) return;
    const st: any = {};
    if (any) st.reported = r;
    if (this.clr) st.desired = this.clr;
    this.clr = null;
    this.fly = r;
    const t = this.tok();
    if (this.rbTok === "*") this.rbTok = t;
    this.h.pub("shadow/update", { state: st, clientToken: t });
  }

  // Put the in-flight report back (it was rejected or lost) without overriding newer staged values.
  restage(): void {
    const f = this.fly;
    const p = this.pend;
    Object.keys(f).forEach((k) => {
      if (!(k in p)) p[k] = f[k];
    });
    this.fly = null;
    this.known = {};
  }

  // d: the delta state; v: its version; meta: desired metadata of those keys (may be absent).
  delta(d: any, v: number, meta: any, auth: boolean): void {
    if (!d || typeof d !== "object") return;
    if (typeof v === "number") {
      if (!auth && v < this.ver) {
        this.h.log("I", "shadow delta v" + v + " is stale (have v" + this.ver + "), ignored");
        return;
      }
      this.ver = v;
    }
    const h = this.h;
    const kn = this.known;
    let errs: any = null;
    let clr: any = this.clr;
    let reboot = false;
    Object.keys(d).forEach((k) => {
      const val = d[k];
      const e = checkDesired(k, val);
      if (e) {
        if (!errs) errs = {};
        errs[k] = e;
        if (!clr) clr = {};
        clr[k] = null;
        h.log("W", "shadow desired." + k + " " + e);
      } else if (k === "reboot") {
        if (!clr) clr = {};
        clr.reboot = null;
        if (val) {
          const ts = meta && meta.reboot && meta.reboot.timestamp;
          const m = ts ? "t" + ts : "v" + v;
          if (m === h.mark()) h.log("I", "reboot request already done, clearing it");
          else {
            h.setMark(m);
            reboot = true;
          }
        }
      } else {
        delete kn[k]; // always report an applied key so the delta clears
        h.apply(k, val);
        this.pend[k] = val;
      }
    });
    if (errs) this.pend.errors = errs;
    else if (kn.errors) this.pend.errors = null;
    this.clr = clr;
    if (reboot) {
      h.log("I", "reboot requested by shadow");
      this.rbTok = "*";
      if (!this.online || this.getTok) {
        // cannot report now: reboot anyway (the marker prevents a second reboot)
        this.rbTok = "";
        h.reboot();
        return;
      }
    }
    this.flush();
  }

  // A message on one of our shadow topics; sub is the suffix after ".../shadow/".
  msg(sub: string, m: any): void {
    if (!m || typeof m !== "object") return;
    const t = m.clientToken;
    const mine = typeof t === "string" && t.indexOf(this.pre) === 0;
    const h = this.h;
    if (sub === "update/delta") {
      this.delta(m.state, m.version, m.metadata, false);
    } else if (sub === "get/accepted") {
      if (!this.getTok || (t && t !== this.getTok)) return;
      this.getTok = "";
      const kn: any = {};
      const rep = m.state && m.state.reported;
      if (rep) {
        Object.keys(rep).forEach((k) => {
          if (OWN.indexOf("," + k + ",") >= 0) kn[k] = rep[k];
        });
      }
      this.known = kn;
      this.ver = 0;
      const d = m.state && m.state.delta;
      if (d) this.delta(d, m.version, m.metadata && m.metadata.desired, true);
      else {
        this.ver = m.version || 0;
        this.flush();
      }
    } else if (sub === "get/rejected") {
      if (!this.getTok || (t && t !== this.getTok)) return;
      if (m.code === 404) {
        // no shadow yet: the first report creates it
        this.getTok = "";
        this.known = {};
        this.flush();
      } else h.log("W", "shadow get rejected " + m.code + " " + m.message);
    } else if (sub === "update/accepted") {
      if (!mine) return;
      this.fly = null;
      if (this.rbTok && t === this.rbTok) this.rebootNow();
    } else if (sub === "update/rejected") {
      if (!mine) return;
      const c = m.code;
      h.log("W", "shadow update rejected " + c + " " + m.message);
      if (c === 400 || c === 413) this.fly = null; // our request is wrong: do not resend it
      else if (this.fly) this.restage();
      if (this.rbTok && t === this.rbTok) this.rebootNow();
      else if (c === 409) this.connected(); // version conflict: refetch
    }
  }

  rebootNow(): void {
    this.rbTok = "";
    this.h.reboot();
  }
}
