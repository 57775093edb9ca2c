// Device Shadow sync logic. Pure: no I/O and no Espruino globals; the app (app/device.ts) injects
// ONE hook function (app/hook.ts) and drives the timers. jest tests it with fakes.
// Memory (1600 JS variables on an ESP8266; a retained function costs 5 variables + 1 per
// parameter, an object entry about 2): the whole logic is ONE function, shadowDo(op, a, b), over
// flat module state. The reported state is kept as two short strings, not objects: `pending` (what
// the device has to say and the cloud has not accepted yet) and `cloudHas` (what the cloud holds as
// far as we know), each the JSON of the reported keys in the fixed order of Reported.Keys below,
// separated by "\r" (JSON escapes that character, so it never occurs inside a value): ~5 variables
// each instead of ~20 for an object of 9 keys, and `pending` is emptied once the latest update is
// accepted. A piece is "" when there is nothing to say (pending) or the cloud has no such key or
// we do not know (cloudHas). An update sends the keys whose piece differs; null (delete) only when
// the cloud has it. Tests and Node tools use it through the wrappers in test/fuzz/app-modules.ts.
//
// Rules (docs/architecture.md, Device Shadow in docs/aws-iot-behaviour.md):
// - version: a delta older than the last applied one is stale and ignored; an equal one is applied
//   (applying is idempotent), so update/accepted and update/delta may come in either order.
//   get/accepted is the answer to our own request and is authoritative (also resets the version,
//   so a shadow deleted/recreated with lower numbers is followed).
// - reports: sent as ONE update when online and the initial get has been answered (latest wins);
//   only keys whose value differs from what the cloud holds are sent. A report lost with the link
//   is sent again after the next get/accepted; one rejected (but 400/413) with the next report.
// - messages are read as they stream in (json/scan.ts): the device keeps only the values it uses
//   (ShadowNews below), so a document of any size AWS allows (state 8 KB, with metadata 20 KB and
//   more) costs a few variables, and no more than a small one.
// - desired keys of someone else (any key but on, refresh, reboot) are left alone: not cleared,
//   not reported as errors; their number is logged when it changes. The device's own keys with an
//   invalid value (wrong type, out of range) are reported under reported.errors and cleared
//   (desired.k = null) so the shadow does not keep a delta for them forever.
// - reboot: desired.reboot=true is cleared (desired.reboot = null) and the request's desired
//   timestamp (or version) is remembered in Storage before rebooting, so one request reboots once
//   even when the clearing update is lost; once the clearing update is accepted the marker is
//   erased (a second request within the same second is a second reboot) and the accepted version
//   makes a late copy of the request's delta stale.
import { Hook, HookOp } from "../app/hook";
import { JsonKind } from "../json/scan";

// ---- the AWS messages (as in aws-iot-device-sdk-js-v2's iotshadow model), the parts read here

/** What the device reports; errors: the desired keys it refused and why. */
export interface ReportedState {
  temperature?: number | null;
  humidity?: number | null;
  sensorError?: string | null;
  on?: boolean;
  btnCount?: number;
  uptime?: number;
  ram_free?: number;
  refresh?: number;
  errors?: { [key: string]: string } | null;
}
/** The desired keys this device acts on (any other key belongs to someone else). */
export interface DesiredState {
  on?: boolean;
  refresh?: number;
  reboot?: boolean;
}
/** get/accepted: the whole document; update/delta: state is the delta itself. */
export interface ShadowResponse {
  state?: { desired?: object; reported?: ReportedState; delta?: DesiredState } & DesiredState;
  metadata?: { desired?: { reboot?: { timestamp: number } }; reboot?: { timestamp: number } };
  version?: number;
  clientToken?: string;
  timestamp?: number;
}
/** get/rejected, update/rejected. */
export interface ShadowErrorResponse {
  code: number; // 400, 401, 403, 404 (no shadow yet), 409 (version conflict), 413, 429, 500
  message: string;
  clientToken?: string;
}
export interface ShadowUpdateRequest {
  state: { reported?: ReportedState; desired?: { [key: string]: null } };
  clientToken: string;
}

export const enum ShadowOp {
  /** (hook, clientToken prefix of this boot): (re)start */
  Init = 1,
  /** (up): up: the subscriptions are in place, ask for the whole document (also the retry of an
   * unanswered get); !up: the connection is gone */
  Link = 2,
  /** (changes): reported values (kept while offline or waiting, latest wins), sent when possible */
  Report = 3,
  /** (sub): a message begins on one of our shadow topics; sub is the part after ".../shadow/".
   * Its values go to shadowValue() (the scanner's handler), then End. */
  Begin = 4,
  /** the message is complete and well-formed: act on it */
  End = 5,
  /** (key, value): null when value is valid for that desired key, else the problem in plain words */
  Check = 6,
}

/** What the device takes from one shadow message (a ShadowResponse or ShadowErrorResponse above)
 * while it streams in; everything else is skipped. Short keys, documented here: they survive
 * minification. */
interface ShadowNews {
  s: string; // the topic after ".../shadow/": "get/accepted", "update/delta", "update/accepted"...
  p: string; // path of the delta's members: "state/delta/" (get/accepted), "state/" (update/delta), "" none
  t?: any; // clientToken
  c?: any; // code (rejected)
  e?: any; // message (rejected)
  v?: any; // version
  d?: any; // the delta (DesiredState): the device's own keys; an object, array or over-long value is {}
  r?: string[]; // get/accepted: the reported pieces (JSON of the reported keys this device owns)
  a?: any; // the desired reboot request's timestamp (metadata)
  u: number; // desired keys in the delta that belong to someone else
}

// (const enum: inlined into the code, which stays in flash; a module-level constant takes variables)
const enum Reported {
  /** the reported keys, in the order of the pieces (see above) */
  Keys = "temperature,humidity,sensorError,on,btnCount,uptime,ram_free,refresh,errors",
  ErrorsPiece = 8,
}

let hook: Hook;
export let appliedVersion = 0; // version of the last applied delta (0 = none yet)
let pending: any; // pieces: what the device reports and the cloud has not accepted yet (see above)
let cloudHas: any; // pieces: what the cloud holds
let toClear: any; // desired keys to clear (null), or 0
// 0 offline, "" online and the get answered, else the token of the outstanding get (read by the app:
// no getter function; both 0 and "" mean "no get outstanding")
export let getToken: any = 0;
let rebootClear: any = 0; // the update that clears desired.reboot: 0 none, 1 the next one, then its clientToken
let rebootOnAccept = 0; // 1: reboot once rebootClear is answered (or the link is lost)
let tokenPrefix: any = 0; // clientToken prefix of this boot
let requests = 0;
let incoming: ShadowNews | 0 = 0; // the message being read
let othersKeys = 0; // desired keys of someone else in the last delta (logged when it changes)

// The scanner's handler while a shadow message streams in: keeps what ShadowNews describes, and
// returns true for an object or array it needs nothing from (the scanner skips its contents).
export function shadowValue(path: string, kind: JsonKind, value: string | number | boolean | null): boolean {
  const news = incoming;
  if (!news) return true;
  const at = news.p; // "state/delta/", "state/" or ""
  const get = news.r;
  const scalar = kind < JsonKind.Object ? value : {}; // {}: not a setting's value
  let key: string;
  if (path == "clientToken") news.t = value;
  else if (path == "code") news.c = value;
  else if (path == "message") news.e = kind == JsonKind.String ? value : "(long)";
  else if (path == "version") news.v = value;
  else if (at && path + "/" == at) news.d = kind == JsonKind.Object ? {} : 0; // the delta
  else if (at && news.d && path.substr(0, at.length) == at && (key = path.substr(at.length)).indexOf("/") < 0) {
    if (key == "on" || key == "refresh" || key == "reboot") news.d[key] = scalar;
    else news.u++;
  } else if (get && path.substr(0, 15) == "state/reported/") {
    const i = Reported.Keys.split(",").indexOf(path.substr(15)); // (-1 for a deeper path)
    if (i >= 0) get[i] = JSON.stringify(scalar);
  } else if (path == (get ? "metadata/desired/reboot/timestamp" : "metadata/reboot/timestamp")) news.a = value;
  // the containers that hold something read above (the root, "", is one)
  return !(!path || (at && path == "state") || (get && (path == "state/reported" || path == "state/delta" || path == "metadata" || path == "metadata/desired" || path == "metadata/desired/reboot")) || (at == "state/" && (path == "metadata" || path == "metadata/reboot")));
}

export function shadowDo(op: ShadowOp.Init, hook: Hook, tokenPrefix: string): void;
export function shadowDo(op: ShadowOp.Link, up: boolean | number): void;
export function shadowDo(op: ShadowOp.Report, changes: ReportedState): void;
export function shadowDo(op: ShadowOp.Begin, sub: string): void;
export function shadowDo(op: ShadowOp.End): void;
export function shadowDo(op: ShadowOp.Check, key: string, value: unknown): string | null;
export function shadowDo(op: ShadowOp, a?: any, b?: any): any {
  if (op == ShadowOp.Check) {
    if (a == "on" || a == "reboot") return typeof b == "boolean" ? null : "must be true or false";
    // (b | 0) === b: a whole number (not a string, boolean, NaN or above 2^31)
    if (a == "refresh") return (b | 0) === b && b > 0 && b < 86401 ? null : "must be a whole number 1..86400";
    return "unknown key";
  }
  if (op == ShadowOp.Init) {
    hook = a;
    tokenPrefix = b;
    appliedVersion = requests = rebootClear = rebootOnAccept = getToken = toClear = incoming = othersKeys = 0;
    pending = cloudHas = "";
    return;
  }
  if (op == ShadowOp.Link) {
    if (a) return hook(HookOp.Publish, "shadow/get", { clientToken: (getToken = tokenPrefix + ++requests) });
    getToken = incoming = 0;
    // the reboot request could not be cleared: reboot anyway, the saved marker prevents a second one
    if (rebootOnAccept) hook(HookOp.Reboot);
    rebootClear = rebootOnAccept = 0;
    return;
  }
  if (op == ShadowOp.Begin) {
    incoming = { s: a, p: a == "get/accepted" ? "state/delta/" : a == "update/delta" ? "state/" : "", u: 0 };
    if (a == "get/accepted") incoming.r = [];
    return;
  }
  const keys = Reported.Keys.split(",");
  const ours = pending.split("\r");
  let theirs = cloudHas.split("\r");
  if (op == ShadowOp.Report) for (const k in a) ours[keys.indexOf(k)] = JSON.stringify(a[k]);
  else {
    // ShadowOp.End
    const news = incoming;
    if (!news) return;
    incoming = 0;
    const sub = news.s;
    const token = news.t;
    const code = news.c;
    let version = news.v;
    const isGetAnswer = sub[0] == "g"; // get/accepted or get/rejected
    const refused = code && code != 404;
    if (refused) hook(HookOp.Warn, "shadow " + sub + " " + code + " " + news.e);
    if (isGetAnswer) {
      // only the answer to the outstanding get; 404: no shadow yet, the first report creates it
      if (!getToken || (token && token != getToken) || refused) return;
      getToken = "";
      // the reported keys this device owns, as the cloud has them (null and absent are alike)
      theirs = news.r || [];
    } else if (sub != "update/delta") {
      if (("" + token).substr(0, tokenPrefix.length) != tokenPrefix) return;
      // the answer to our update (update/accepted or update/rejected)
      if (code && code != 400 && code != 413) cloudHas = ""; // all sent again with the next report (400/413: our request is wrong)
      // the latest update accepted: the cloud holds all we had to say (nothing to keep for a resend)
      if (!code && token == tokenPrefix + requests) pending = "";
      if (rebootClear && token == rebootClear) {
        if (!code) {
          // desired.reboot is cleared: a new request, even within the same second, is a new reboot;
          // a copy of an older delta (QoS 1 may deliver one twice) is now stale
          hook(HookOp.RebootMarker, "");
          if ((version | 0) === version && version > appliedVersion) appliedVersion = version;
        }
        rebootClear = 0;
        if (rebootOnAccept) hook(HookOp.Reboot);
        rebootOnAccept = 0;
      } else if (code == 409) shadowDo(ShadowOp.Link, 1); // version conflict: refetch
      return;
    }
    // only a whole version 1..2^31-1 counts (an absurd one must not make every later delta "stale")
    if (!(version >= 1 && (version | 0) === version)) version = 0;
    if (isGetAnswer) appliedVersion = version;
    const delta = news.d;
    if (delta) {
      if (version && version < appliedVersion) {
        // normal when deltas overtake each other; re-read the shadow (one get at a time) so that a
        // wrong version held here cannot block later changes
        hook(HookOp.Info, "shadow stale delta v" + version);
        if (getToken === "") shadowDo(ShadowOp.Link, 1);
        return;
      }
      if (version) appliedVersion = version;
      if (news.u != othersKeys) {
        othersKeys = news.u;
        hook(HookOp.Info, "shadow: " + othersKeys + " desired keys are not this device's (left alone)");
      }
      let errors: any;
      let reboot = 0;
      const own = Object.keys(delta);
      for (const key of own) {
        const value = delta[key];
        const problem = shadowDo(ShadowOp.Check, key, value);
        const i = keys.indexOf(key); // valid and i < 0: reboot (on and refresh are reported keys)
        if (problem || i < 0) (toClear || (toClear = {}))[key] = null;
        if (problem) {
          (errors || (errors = {}))[key] = problem;
          hook(HookOp.Warn, "shadow " + key + " " + problem);
        } else if (i < 0) {
          rebootClear = 1;
          if (value) {
            const marker = news.a ? "t" + news.a : "v" + version;
            if (marker == hook(HookOp.RebootMarker)) hook(HookOp.Info, "reboot done already");
            else {
              hook(HookOp.RebootMarker, marker);
              reboot = 1;
            }
          }
        } else {
          theirs[i] = "?"; // always report an applied key so the delta clears
          hook(HookOp.Apply, key as "on", value);
          ours[i] = JSON.stringify(value);
        }
      }
      // the errors say what was wrong with the device's keys in the last delta that had any (a
      // delta of other apps' keys only says nothing about them)
      if (own.length) ours[Reported.ErrorsPiece] = JSON.stringify(errors || null);
      if (reboot) {
        // cannot report now: reboot at once (the saved marker prevents a second reboot)
        if (getToken !== "") return hook(HookOp.Reboot);
        rebootOnAccept = 1;
      }
    } else if (!isGetAnswer) return;
  }
  pending = ours.join("\r");
  if (getToken !== "") return;
  // send the pieces that differ from what the cloud holds, as one update
  let reported: any;
  for (const i in keys) {
    const piece = ours[i];
    if (piece && piece != (theirs[i] || "null")) {
      (reported || (reported = {}))[keys[i]] = JSON.parse(piece);
      theirs[i] = piece;
    }
  }
  cloudHas = theirs.join("\r");
  if (!reported && !toClear) return;
  const token = tokenPrefix + ++requests;
  if (rebootClear === 1) rebootClear = token;
  // (undefined members are left out by JSON.stringify)
  const update: ShadowUpdateRequest = { state: { reported: reported, desired: toClear || undefined }, clientToken: token };
  hook(HookOp.Publish, "shadow/update", update);
  toClear = 0;
}
