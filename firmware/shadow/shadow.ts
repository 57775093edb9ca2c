// Device Shadow sync logic. Pure: no I/O and no Espruino globals; the app (app/device.ts) injects
// publish, apply and reboot hooks and drives the timers. jest tests it with fakes.
// Flat module state (one shadow per device): fewer variables and a smaller bundle than a class.
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
  mark(m?: string): string; // with m: persist the marker before rebooting; returns the stored marker ("" if none)
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

// Reported keys this device owns; get/accepted keeps only these (one flat string: fewer variables).
const OWN = ",temperature,humidity,sensorError,on,btnCount,uptime,ram_free,refresh,errors,";

let h: ShadowHooks;
export let ver = 0; // version of the last applied delta (0 = none yet)
let known: any = {}; // reported values the cloud holds (as far as we know)
let pend: any = {}; // staged reported changes, latest wins
let clr: any = null; // staged desired keys to clear (null)
let fly: any = null; // reported object of the update in flight (for 409/429/5xx re-staging)
let online = false;
export let getTok = ""; // token of the outstanding get ("" when answered; read by the app: no getter function)
let rbTok = ""; // token of the update that must be accepted before rebooting ("*": the next one)
let pre = ""; // clientToken prefix of this boot
let n = 0;

// Loops rather than forEach callbacks and few small functions: on an ESP8266 each function object
// costs about 5 variables.

// (Re)starts the shadow logic with its hooks and this boot's clientToken prefix.
export function shadowInit(hooks: ShadowHooks, prefix: string): void {
  h = hooks;
  ver = n = 0;
  known = {};
  pend = {};
  clr = fly = null;
  online = false;
  getTok = rbTok = "";
  pre = prefix;
}

// up: the subscriptions are done, ask for the whole document (also the retry of an unanswered get).
// !up: the connection is gone.
export function shadowLink(up: boolean): void {
  online = up;
  getTok = up ? pre + ++n : "";
  if (up) return h.pub("shadow/get", { clientToken: getTok });
  if (fly) restage();
  if (rbTok) {
    // the reboot request could not be cleared: reboot anyway, the saved marker prevents a second one
    rbTok = "";
    h.reboot();
  }
}

// Stage reported changes (coalesced while offline or waiting) and send when possible.
export function shadowReport(ch: any): void {
  for (const k of Object.keys(ch)) pend[k] = ch[k];
  flush();
}

function flush(): void {
  if (!online || getTok) return;
  const r: any = {};
  let any = false;
  for (const k of Object.keys(pend)) {
    const v = pend[k];
    const o = known[k];
    // objects (errors) compare by their JSON; null is sent only to delete a key the cloud has
    if (v === null ? o !== undefined && o !== null : v !== o && (typeof v !== "object" || JSON.stringify(v) !== JSON.stringify(o))) {
      r[k] = v;
      if (v === null) delete known[k];
      else known[k] = v;
      any = true;
    }
  }
  pend = {};
  if (!any && !clr) return;
  const st: any = {};
  if (any) st.reported = r;
  if (clr) st.desired = clr;
  clr = null;
  fly = r;
  const t = pre + ++n;
  if (rbTok === "*") rbTok = t;
  h.pub("shadow/update", { state: st, clientToken: t });
}

// Put the in-flight report back (it was rejected or lost) without overriding newer staged values.
function restage(): void {
  for (const k of Object.keys(fly)) if (!(k in pend)) pend[k] = fly[k];
  fly = null;
  known = {};
}

// d: the delta state; v: its version; meta: desired metadata of those keys (may be absent).
function delta(d: any, v: number, meta: any, auth: boolean): void {
  if (!d || typeof d !== "object") return;
  // only a whole version 1..2^31-1 counts (an absurd one must not make every later delta "stale")
  if (!(typeof v === "number" && v >= 1 && v <= 2147483647 && v % 1 === 0)) v = 0;
  if (v) {
    if (!auth && v < ver) {
      // normal when deltas overtake each other; re-read the shadow (one get at a time) so that a
      // wrong version held here cannot block later changes
      h.log("I", "shadow delta v" + v + " is stale (have v" + ver + "), ignored");
      if (online && !getTok) shadowLink(true);
      return;
    }
    ver = v;
  }
  let errs: any = null;
  let reboot = false;
  for (const k of Object.keys(d)) {
    const val = d[k];
    const e = checkDesired(k, val);
    if (e || k === "reboot") {
      if (!clr) clr = {};
      clr[k] = null;
    }
    if (e) {
      if (!errs) errs = {};
      errs[k] = e;
      h.log("W", "shadow desired." + k + " " + e);
    } else if (k === "reboot") {
      if (val) {
        const ts = meta && meta.reboot && meta.reboot.timestamp;
        const m = ts ? "t" + ts : "v" + v;
        if (m === h.mark()) h.log("I", "reboot request already done, clearing it");
        else {
          h.mark(m);
          reboot = true;
        }
      }
    } else {
      delete known[k]; // always report an applied key so the delta clears
      h.apply(k, val);
      pend[k] = val;
    }
  }
  if (errs) pend.errors = errs;
  else if (known.errors) pend.errors = null;
  if (reboot) {
    h.log("I", "reboot requested by shadow");
    rbTok = "*";
    // cannot report now: reboot anyway (the saved marker prevents a second reboot)
    if (!online || getTok) {
      rbTok = "";
      return h.reboot();
    }
  }
  flush();
}

// A message on one of our shadow topics; sub is the suffix after ".../shadow/".
export function shadowMsg(sub: string, m: any): void {
  if (!m || typeof m !== "object") return;
  const t = m.clientToken;
  const mine = typeof t === "string" && t.indexOf(pre) === 0;
  if (sub === "update/delta") {
    delta(m.state, m.version, m.metadata, false);
  } else if (sub === "get/accepted" || sub === "get/rejected") {
    if (!getTok || (t && t !== getTok)) return;
    if (sub === "get/rejected" && m.code !== 404) {
      h.log("W", "shadow get rejected " + m.code + " " + m.message);
      return;
    }
    // 404: no shadow yet, the first report creates it
    getTok = "";
    known = {};
    const rep = m.state && m.state.reported;
    if (rep) {
      for (const k of Object.keys(rep)) if (OWN.indexOf("," + k + ",") >= 0) known[k] = rep[k];
    }
    ver = typeof m.version === "number" && m.version >= 1 && m.version <= 2147483647 ? m.version : 0;
    const d = m.state && m.state.delta;
    if (d) delta(d, m.version, m.metadata && m.metadata.desired, true);
    else flush();
  } else if (mine && (sub === "update/accepted" || sub === "update/rejected")) {
    const c = m.code;
    if (c) {
      h.log("W", "shadow update rejected " + c + " " + m.message);
      if (c === 400 || c === 413) fly = null; // our request is wrong: do not resend it
    }
    if (fly && c) restage();
    fly = null;
    if (rbTok && t === rbTok) {
      rbTok = "";
      h.reboot();
    } else if (c === 409) shadowLink(true); // version conflict: refetch
  }
}
