// Device Shadow sync logic. Pure: no I/O and no Espruino globals; the app (app/device.ts) injects
// ONE hook function and drives the timers. jest tests it with fakes.
// Memory (1600 JS variables on an ESP8266; a retained function costs 5 variables + 1 per
// parameter, an object entry about 2): the whole logic is ONE function, shadowDo(op, a, b), over
// flat module state. The reported state is kept as two short strings, not objects: `cur` (what the
// device has to say and the cloud has not accepted yet) and `known` (what the cloud holds as far as
// we know), each the JSON of the reported keys in the fixed order of K below, separated by "\r"
// (JSON escapes that character, so it never occurs inside a value): ~5 variables each instead of
// ~20 for an object of 8 keys, and `cur` is emptied once the latest update is accepted.
// A piece is "" when there is nothing to say (cur) or the cloud has no such key or we do not know
// (known). An update sends the keys whose piece differs; null (delete) only when the cloud has it.
// Tests and Node tools use it through the object-form wrappers in test/fuzz/app-modules.ts.
//
// Rules (docs/architecture.md, Device Shadow in docs/aws-iot-behaviour.md):
// - version: a delta older than the last applied one is stale and ignored; an equal one is applied
//   (applying is idempotent), so update/accepted and update/delta may come in either order.
//   get/accepted is the answer to our own request and is authoritative (also resets the version,
//   so a shadow deleted/recreated with lower numbers is followed).
// - reports: sent as ONE update when online and the initial get has been answered (latest wins);
//   only keys whose value differs from what the cloud holds are sent. A report lost with the link
//   is sent again after the next get/accepted; one rejected (but 400/413) with the next report.
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

let h: Hook;
export let ver = 0; // version of the last applied delta (0 = none yet)
let cur: any; // pieces: what the device reports and the cloud has not accepted yet (see above)
let known: any; // pieces: what the cloud holds
let clr: any; // desired keys to clear (null), or 0
// 0 offline, "" online and the get answered, else the token of the outstanding get (read by the app:
// no getter function; both 0 and "" mean "no get outstanding")
export let getTok: any = 0;
let rb: any = 0; // reboot once this update is accepted: 1 = the next one, then its clientToken
let pre: any = 0; // clientToken prefix of this boot
let n = 0;

// shadowDo(op, a, b):
//   "i" (hook, prefix)  (re)start with the app's hook and this boot's clientToken prefix
//   "l" (up)            up: the subscriptions are done, ask for the whole document (also the retry of
//                       an unanswered get); !up: the connection is gone
//   "r" (changes)       reported changes (kept while offline or waiting, latest wins), sent when possible
//   "m" (sub, msg)      a message on one of our shadow topics; sub is the suffix after ".../shadow/"
//   "c" (key, v)        null when v is a valid desired value for key, else the problem in plain words
export function shadowDo(op: string, a?: any, b?: any): any {
  if (op == "c") {
    if (a == "on" || a == "reboot") return typeof b == "boolean" ? null : "must be true or false";
    // (b | 0) === b: a whole number (not a string, boolean, NaN or above 2^31)
    if (a == "refresh") return (b | 0) === b && b > 0 && b < 86401 ? null : "must be a whole number 1..86400";
    return "unknown key";
  }
  if (op == "i") {
    h = a;
    pre = b;
    ver = n = rb = getTok = clr = 0;
    cur = known = "";
    return;
  }
  if (op == "l") {
    if (a) return h("p", "shadow/get", { clientToken: (getTok = pre + ++n) });
    getTok = 0;
    // the reboot request could not be cleared: reboot anyway, the saved marker prevents a second one
    if (rb) h("b");
    rb = 0;
    return;
  }
  const K = "temperature,humidity,sensorError,on,btnCount,uptime,ram_free,refresh,errors".split(",");
  const cp = cur.split("\r");
  let kp = known.split("\r");
  if (op == "r") for (const k in a) cp[K.indexOf(k)] = JSON.stringify(a[k]);
  else {
    // "m"
    if (!b) return;
    const t = b.clientToken;
    const c = b.code;
    // the delta to apply, its version, the desired metadata, and whether it is authoritative
    let d = b.state;
    let v = b.version;
    let meta = b.metadata;
    const auth = a[0] == "g";
    const bad = c && c != 404;
    if (bad) h("W", "shadow " + a + " " + c + " " + b.message);
    if (auth) {
      // get/accepted or get/rejected: only the answer to the outstanding get
      if (!getTok || (t && t != getTok) || bad) return;
      // 404: no shadow yet, the first report creates it
      getTok = "";
      const s = d || 0;
      // (an object: on Espruino x[k] throws when x is a number or a string)
      const rep = (typeof s.reported == "object" && s.reported) || {};
      // keep only the reported keys this device owns (null and absent are alike)
      for (const i in K) kp[i] = JSON.stringify(rep[K[i]]);
      d = s.delta;
      meta = (meta || 0).desired;
    } else if (a != "update/delta") {
      if (("" + t).indexOf(pre)) return;
      // the answer to our update (update/accepted or update/rejected)
      if (c && c != 400 && c != 413) known = ""; // all sent again with the next report (400/413: our request is wrong)
      // the latest update accepted: the cloud holds all we had to say (nothing to keep for a resend)
      if (!c && t == pre + n) cur = "";
      if (rb && t == rb) {
        rb = 0;
        h("b");
      } else if (c == 409) shadowDo("l", 1); // version conflict: refetch
      return;
    }
    // only a whole version 1..2^31-1 counts (an absurd one must not make every later delta "stale")
    if (!(v >= 1 && (v | 0) === v)) v = 0;
    if (auth) ver = v;
    if (d && typeof d == "object") {
      if (v && v < ver) {
        // normal when deltas overtake each other; re-read the shadow (one get at a time) so that a
        // wrong version held here cannot block later changes
        h("I", "shadow stale delta v" + v);
        if (getTok === "") shadowDo("l", 1);
        return;
      }
      if (v) ver = v;
      let errs: any;
      let boot = 0;
      for (const k of Object.keys(d)) {
        const val = d[k];
        const e = shadowDo("c", k, val);
        const i = K.indexOf(k); // valid and i < 0: reboot (on and refresh are reported keys)
        if (e || i < 0) (clr || (clr = {}))[k] = null;
        if (e) {
          (errs || (errs = {}))[k] = e;
          h("W", "shadow " + k + " " + e);
        } else if (i < 0) {
          if (val) {
            const ts = meta && meta.reboot && meta.reboot.timestamp;
            const mk = ts ? "t" + ts : "v" + v;
            if (mk == h("m")) h("I", "reboot done already");
            else {
              h("m", mk);
              boot = 1;
            }
          }
        } else {
          kp[i] = "?"; // always report an applied key so the delta clears
          h("a", k, val);
          cp[i] = JSON.stringify(val);
        }
      }
      cp[8] = JSON.stringify(errs || null);
      if (boot) {
        // cannot report now: reboot at once (the saved marker prevents a second reboot)
        if (getTok !== "") return h("b");
        rb = 1;
      }
    } else if (!auth) return;
  }
  cur = cp.join("\r");
  if (getTok !== "") return;
  // send the pieces that differ from what the cloud holds, as one update
  let r: any;
  for (const i in K) {
    const p = cp[i];
    if (p && p != (kp[i] || "null")) {
      (r || (r = {}))[K[i]] = JSON.parse(p);
      kp[i] = p;
    }
  }
  known = kp.join("\r");
  if (!r && !clr) return;
  const tok = pre + ++n;
  if (rb === 1) rb = tok;
  // (undefined members are left out by JSON.stringify)
  h("p", "shadow/update", { state: { reported: r, desired: clr || undefined }, clientToken: tok });
  clr = 0;
}
