// Device Shadow sync logic. Pure: no I/O and no Espruino globals; the app (app/device.ts) injects
// ONE hook function and drives the timers. jest tests it with fakes.
// Memory (1600 JS variables on an ESP8266; a retained function costs 5 variables + 1 per
// parameter, whatever its length): the whole logic is ONE function, shadowDo(op, a, b), over flat
// module state. The exported shadowInit/shadowLink/shadowReport/shadowMsg/checkDesired wrappers
// are for tests and Node tools; the firmware calls shadowDo, so esbuild drops the wrappers.
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

// The app's hook, one function for all (see app/device.ts):
//   hook("p", sub, msg)  publish; sub "shadow/get" or "shadow/update" (after $aws/things/<thing>/)
//   hook("a", key, v)    a valid desired value: "on" or "refresh"
//   hook("b")            the reboot request was reported: restart now
//   hook("m", m?)        with m: persist the marker before rebooting; returns the stored marker ("" if none)
//   hook("I"|"W"|"E", line)  log a line at that level
export type Hook = (op: string, a?: any, b?: any) => any;

// Object form of the hooks (tests and older callers); shadowInit adapts it to a Hook.
export interface ShadowHooks {
  pub(sub: string, msg: any): void;
  apply(key: string, v: any): void;
  reboot(): void;
  mark(m?: string): string;
  log(lvl: string, msg: string): void;
}

let h: Hook;
export let ver = 0; // version of the last applied delta (0 = none yet)
let known: any; // reported values the cloud holds (as far as we know)
let pend: any; // staged reported changes, latest wins
let clr: any; // staged desired keys to clear (null), or undefined
let fly: any; // reported object of the update in flight (for 409/429/5xx re-staging), or undefined
// (strings start as 0 and get "" from shadowDo("i"): a small integer costs 1 variable, "" costs 2)
let online = 0;
export let getTok: any = 0; // token of the outstanding get ("" when answered; read by the app: no getter function)
let rbTok: any = 0; // token of the update that must be accepted before rebooting ("*": the next one)
let pre: any = 0; // clientToken prefix of this boot
let n = 0;

// shadowDo(op, a, b):
//   "i" (hook, prefix)  (re)start with the app's hook and this boot's clientToken prefix
//   "l" (up)            up: the subscriptions are done, ask for the whole document (also the retry of
//                       an unanswered get); !up: the connection is gone
//   "r" (changes?)      stage reported changes (coalesced while offline or waiting), send when possible
//   "m" (sub, msg)      a message on one of our shadow topics; sub is the suffix after ".../shadow/"
//   "c" (key, v)        null when v is a valid desired value for key, else the problem in plain words
export function shadowDo(op: string, a?: any, b?: any): any {
  if (op === "c") {
    if (a === "on" || a === "reboot") return typeof b === "boolean" ? null : "must be true or false";
    if (a === "refresh") {
      if (typeof b !== "number" || b !== b) return "must be a number";
      if (b < 1 || b > 86400 || Math.floor(b) !== b) return "must be a whole number 1..86400";
      return null;
    }
    return "unknown key";
  }
  if (op === "i") {
    h = a;
    ver = n = online = 0;
    known = {};
    pend = {};
    clr = fly = undefined;
    getTok = rbTok = "";
    pre = b;
    return;
  }
  if (op === "l") {
    online = a ? 1 : 0;
    getTok = a ? pre + ++n : "";
    if (a) return h("p", "shadow/get", { clientToken: getTok });
    if (fly) shadowDo("m", "", { code: 1 }); // put the in-flight report back
    if (rbTok) {
      // the reboot request could not be cleared: reboot anyway, the saved marker prevents a second one
      rbTok = "";
      h("b");
    }
    return;
  }
  if (op === "m") {
    const m = b;
    if (!m || typeof m !== "object") return;
    const t = m.clientToken;
    let d: any; // a delta to apply, its version, the desired metadata, and whether it is authoritative
    let v: any;
    let meta: any;
    let auth = false;
    if (a === "update/delta") {
      d = m.state;
      v = m.version;
      meta = m.metadata;
    } else if (a === "get/accepted" || a === "get/rejected") {
      if (!getTok || (t && t !== getTok)) return;
      if (a === "get/rejected" && m.code !== 404) return h("W", "shadow get rejected " + m.code + " " + m.message);
      // 404: no shadow yet, the first report creates it
      getTok = "";
      known = {};
      const rep = m.state && m.state.reported;
      // keep only the reported keys this device owns
      if (rep) for (const k of Object.keys(rep)) if (",temperature,humidity,sensorError,on,btnCount,uptime,ram_free,refresh,errors,".indexOf("," + k + ",") >= 0) known[k] = rep[k];
      v = m.version;
      ver = typeof v === "number" && v >= 1 && v <= 2147483647 ? v : 0;
      d = m.state && m.state.delta;
      meta = m.metadata && m.metadata.desired;
      auth = true;
    } else if (a === "" || (typeof t === "string" && t.indexOf(pre) === 0 && (a === "update/accepted" || a === "update/rejected"))) {
      // our update's answer ("": the link is gone, code 1 = put the report back silently)
      const c = m.code;
      if (c && a) {
        h("W", "shadow update rejected " + c + " " + m.message);
        if (c === 400 || c === 413) fly = undefined; // our request is wrong: do not resend it
      }
      if (fly && c) {
        // put the in-flight report back (rejected or lost) without overriding newer staged values
        for (const k of Object.keys(fly)) if (!(k in pend)) pend[k] = fly[k];
        known = {};
      }
      fly = undefined;
      if (!a) return;
      if (rbTok && t === rbTok) {
        rbTok = "";
        h("b");
      } else if (c === 409) shadowDo("l", 1); // version conflict: refetch
      return;
    }
    if (d && typeof d === "object") {
      // only a whole version 1..2^31-1 counts (an absurd one must not make every later delta "stale")
      if (!(typeof v === "number" && v >= 1 && v <= 2147483647 && v % 1 === 0)) v = 0;
      if (v && !auth && v < ver) {
        // normal when deltas overtake each other; re-read the shadow (one get at a time) so that a
        // wrong version held here cannot block later changes
        h("I", "shadow delta v" + v + " is stale (have v" + ver + "), ignored");
        if (online && !getTok) shadowDo("l", 1);
        return;
      }
      if (v) ver = v;
      let errs: any;
      let reboot = false;
      for (const k of Object.keys(d)) {
        const val = d[k];
        const e = shadowDo("c", k, val);
        if (e || k === "reboot") {
          if (!clr) clr = {};
          clr[k] = null;
        }
        if (e) {
          if (!errs) errs = {};
          errs[k] = e;
          h("W", "shadow desired." + k + " " + e);
        } else if (k === "reboot") {
          if (val) {
            const ts = meta && meta.reboot && meta.reboot.timestamp;
            const mk = ts ? "t" + ts : "v" + v;
            if (mk === h("m")) h("I", "reboot request already done, clearing it");
            else {
              h("m", mk);
              reboot = true;
            }
          }
        } else {
          delete known[k]; // always report an applied key so the delta clears
          h("a", k, val);
          pend[k] = val;
        }
      }
      if (errs) pend.errors = errs;
      else if (known.errors) pend.errors = null;
      if (reboot) {
        h("I", "reboot requested by shadow");
        rbTok = "*";
        // cannot report now: reboot anyway (the saved marker prevents a second reboot)
        if (!online || getTok) {
          rbTok = "";
          return h("b");
        }
      }
    } else if (!auth) return;
  } else if (a) for (const k of Object.keys(a)) pend[k] = a[k]; // "r"
  // flush: send the staged changes that differ from what the cloud holds, as one update
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
  clr = undefined;
  fly = r;
  const tok = pre + ++n;
  if (rbTok === "*") rbTok = tok;
  h("p", "shadow/update", { state: st, clientToken: tok });
}

// ---- wrappers (tests, sim/lab); unused by the firmware, so not in the bundle
export function checkDesired(k: string, v: any): string | null {
  return shadowDo("c", k, v);
}
export function hookOf(o: any): Hook {
  if (typeof o === "function") return o;
  return (op: string, a?: any, b?: any) => {
    if (op === "p") return o.pub(a, b);
    if (op === "a") return o.apply(a, b);
    if (op === "b") return o.reboot();
    if (op === "m") return a === undefined ? o.mark() : o.mark(a);
    if (op === "s") return o.store(a, b);
    if (op === "r") return o.run(a, b);
    if (op === "o") return o.ops;
    return o.log(op, a);
  };
}
export function shadowInit(hooks: ShadowHooks, prefix: string): void {
  shadowDo("i", hookOf(hooks), prefix);
}
export function shadowLink(up: boolean): void {
  shadowDo("l", up);
}
export function shadowReport(ch: any): void {
  shadowDo("r", ch);
}
export function shadowMsg(sub: string, m: any): void {
  shadowDo("m", sub, m);
}
