// Runs INSIDE the device's vm context (never in the host realm). It builds the Espruino-like
// globals on top of a bridge `N` of host functions that only exchange primitives (strings,
// numbers, booleans), so every object the firmware ever sees is created in the context realm
// with the context's (trimmed) built-ins. Returns `D`, the table the host calls to deliver
// events (timers, pin edges, sockets, WiFi). Plain ES5-ish JS on purpose.
(function (N, P) {
  "use strict";
  var G = globalThis;
  // Built-ins captured before they are removed or replaced below.
  var OD = Date;
  var ODproto = Date.prototype;
  var utcGetters = {};
  ["FullYear", "Month", "Date", "Day", "Hours", "Minutes", "Seconds", "Milliseconds"].forEach(function (k) {
    utcGetters[k] = ODproto["getUTC" + k];
  });
  var ODgetTime = ODproto.getTime;
  var ODUTC = Date.UTC;
  var jsonStringify = JSON.stringify;
  var jsonParse = JSON.parse;
  var defineProp = Object.defineProperty;
  var fromCharCode = String.fromCharCode;
  var ObjectKeys = Object.keys;

  function hidden(obj, name, value) {
    defineProp(obj, name, { value: value, writable: true, configurable: true, enumerable: false });
  }

  // ------------------------------------------------------------------ console / errors
  var ASCII_SAFE = true;
  function fmt(v, depth) {
    if (typeof v === "string") return depth ? jsonStringify(v) : v;
    if (v === undefined) return "undefined";
    if (v === null) return "null";
    if (typeof v === "function") return "function () { ... }";
    if (typeof v !== "object") return String(v);
    if (v instanceof Error) return v.name + ": " + v.message;
    if (depth > 3) return "{ ... }";
    if (v instanceof ArrayBuffer) return "new ArrayBuffer(" + v.byteLength + ")";
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      var parts = [];
      for (var i = 0; i < v.length && i < 64; i++) parts.push(String(v[i]));
      return "new " + v.constructor.name + "([" + parts.join(", ") + (v.length > 64 ? ", ..." : "") + "])";
    }
    if (Array.isArray(v)) {
      var a = [];
      for (var j = 0; j < v.length; j++) a.push(fmt(v[j], (depth || 0) + 1));
      return a.length ? "[ " + a.join(", ") + " ]" : "[ ]";
    }
    if (v instanceof Pin) return v.toString();
    if (v instanceof OD) return v.toString();
    var keys = ObjectKeys(v);
    if (!keys.length) return "{ }";
    return "{ " + keys.map(function (k) { return jsonStringify(k) + ": " + fmt(v[k], (depth || 0) + 1); }).join(", ") + " }";
  }
  function out(args) {
    var s = [];
    for (var i = 0; i < args.length; i++) s.push(fmt(args[i], 0));
    N.log(s.join(" "));
  }
  function reportUncaught(e) {
    var msg;
    try {
      if (e && typeof e === "object" && typeof e.message === "string") msg = (e.name || "Error") + ": " + e.message;
      else if (typeof e === "string") msg = jsonStringify(e);
      else msg = fmt(e, 1);
    } catch (x) {
      msg = "(unprintable exception)";
    }
    N.uncaught("Uncaught " + msg, e && e.stack ? String(e.stack) : "");
  }
  // Run a firmware callback the way Espruino's event loop does: an exception is printed and the
  // device carries on.
  function call(fn, thisArg, args) {
    if (typeof fn !== "function") return;
    try {
      fn.apply(thisArg, args || []);
    } catch (e) {
      reportUncaught(e);
    }
  }

  var consoleObj = {};
  hidden(consoleObj, "log", function () { out(arguments); });
  ["info", "warn", "error", "debug"].forEach(function (k) { hidden(consoleObj, k, function () { out(arguments); }); });
  hidden(consoleObj, "trace", function () { out(arguments); });
  G.console = consoleObj;
  G.print = function () { out(arguments); };

  // ------------------------------------------------------------------ events (Object.prototype.on)
  // Espruino puts on/emit/removeListener/removeAllListeners on every object and stores handlers in
  // "#on<event>" properties (hidden here, visible to for..in on the real device).
  function evKey(ev) { return "#on" + ev; }
  hidden(Object.prototype, "on", function (ev, fn) {
    var k = evKey(ev);
    var cur = this[k];
    if (cur === undefined) hidden(this, k, fn);
    else if (Array.isArray(cur)) cur.push(fn);
    else hidden(this, k, [cur, fn]);
    return this;
  });
  hidden(Object.prototype, "addListener", Object.prototype.on);
  hidden(Object.prototype, "prependListener", function (ev, fn) {
    var k = evKey(ev);
    var cur = this[k];
    if (cur === undefined) hidden(this, k, fn);
    else if (Array.isArray(cur)) cur.unshift(fn);
    else hidden(this, k, [fn, cur]);
    return this;
  });
  hidden(Object.prototype, "emit", function (ev) {
    var k = evKey(ev);
    var cur = this[k];
    if (cur === undefined) return false;
    var args = [];
    for (var i = 1; i < arguments.length; i++) args.push(arguments[i]);
    var list = Array.isArray(cur) ? cur.slice() : [cur];
    for (var j = 0; j < list.length; j++) list[j].apply(this, args);
    return true;
  });
  hidden(Object.prototype, "removeListener", function (ev, fn) {
    var k = evKey(ev);
    var cur = this[k];
    if (cur === fn) delete this[k];
    else if (Array.isArray(cur)) {
      var i = cur.indexOf(fn);
      if (i >= 0) cur.splice(i, 1);
      if (cur.length === 1) hidden(this, k, cur[0]);
      else if (!cur.length) delete this[k];
    }
    return this;
  });
  hidden(Object.prototype, "removeAllListeners", function (ev) {
    if (ev !== undefined) delete this[evKey(ev)];
    else {
      var self = this;
      Object.getOwnPropertyNames(this).forEach(function (k) { if (k.indexOf("#on") === 0) delete self[k]; });
    }
    return this;
  });
  // Emit an event from the "system" (host): each listener runs isolated, errors are printed.
  function sysEmit(obj, ev, args) {
    var cur = obj[evKey(ev)];
    if (cur === undefined) return false;
    var list = Array.isArray(cur) ? cur.slice() : [cur];
    for (var j = 0; j < list.length; j++) call(list[j], obj, args);
    return true;
  }
  function listenerCount(obj) {
    var n = 0;
    Object.getOwnPropertyNames(obj).forEach(function (k) {
      if (k.indexOf("#on") === 0) n += Array.isArray(obj[k]) ? obj[k].length : 1;
    });
    return n;
  }

  // ------------------------------------------------------------------ binary strings
  function toStr(v) { return v === undefined ? "undefined" : String(v); }
  // Espruino strings are 8-bit: every char keeps its low byte only.
  function to8bit(s) {
    var r = "";
    var dirty = false;
    for (var i = 0; i < s.length; i++) if (s.charCodeAt(i) > 255) { dirty = true; break; }
    if (!dirty) return s;
    for (var j = 0; j < s.length; j++) r += fromCharCode(s.charCodeAt(j) & 255);
    return r;
  }
  function bytesOf(v, acc) {
    if (typeof v === "string") { for (var i = 0; i < v.length; i++) acc.push(v.charCodeAt(i) & 255); }
    else if (typeof v === "number") acc.push(v & 255);
    else if (v instanceof ArrayBuffer) bytesOf(new Uint8Array(v), acc);
    else if (v && typeof v === "object" && v.data !== undefined && typeof v.count === "number") {
      for (var c = 0; c < v.count; c++) bytesOf(v.data, acc);
    } else if (v && typeof v === "object" && typeof v.length === "number") {
      for (var k = 0; k < v.length; k++) bytesOf(v[k], acc);
    } else if (typeof v === "boolean") acc.push(v ? 1 : 0);
    return acc;
  }
  function bytesToStr(arr) {
    var s = "";
    for (var i = 0; i < arr.length; i += 4096) s += fromCharCode.apply(null, Array.prototype.slice.call(arr, i, i + 4096));
    return s;
  }
  function strToU8(s) {
    var u = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) u[i] = s.charCodeAt(i) & 255;
    return u;
  }

  // ------------------------------------------------------------------ Promise
  // Espruino's Promise: then, catch, resolve, reject, all. Callbacks run after the current
  // execution (microtask timing); a rejection nobody handles is reported as
  // "Uncaught Error: Unhandled promise rejection: ..." and the device carries on.
  var NativeP = Promise;
  function micro(fn) {
    NativeP.resolve().then(function () {
      try { fn(); } catch (e) { reportUncaught(e); }
    });
  }
  var unhandled = {};
  var pSeq = 0;
  function EPromise(executor) {
    if (!(this instanceof EPromise)) throw new TypeError("Promise must be called with new");
    if (typeof executor !== "function") throw new TypeError("Executor function required in promise constructor");
    hidden(this, "_s", 0);
    hidden(this, "_v", undefined);
    hidden(this, "_h", []);
    hidden(this, "_handled", false);
    var self = this;
    var done = false;
    try {
      executor(function (v) { if (!done) { done = true; resolveP(self, v); } },
        function (e) { if (!done) { done = true; settleP(self, 2, e); } });
    } catch (e) {
      if (!done) { done = true; settleP(self, 2, e); }
    }
  }
  function resolveP(p, v) {
    if (v === p) return settleP(p, 2, new TypeError("Promise resolved with itself"));
    if (v && (typeof v === "object" || typeof v === "function")) {
      var then;
      try { then = v.then; } catch (e) { return settleP(p, 2, e); }
      if (typeof then === "function") {
        var called = false;
        try {
          then.call(v, function (x) { if (!called) { called = true; resolveP(p, x); } },
            function (e) { if (!called) { called = true; settleP(p, 2, e); } });
        } catch (e) {
          if (!called) { called = true; settleP(p, 2, e); }
        }
        return;
      }
    }
    settleP(p, 1, v);
  }
  function settleP(p, s, v) {
    if (p._s) return;
    p._s = s;
    p._v = v;
    var hs = p._h;
    p._h = [];
    for (var i = 0; i < hs.length; i++) runHandler(p, hs[i]);
    if (s === 2 && !p._handled) {
      var id = "p" + (++pSeq);
      unhandled[id] = p;
      N.schedule(id, 0);
    }
  }
  function runHandler(p, h) {
    micro(function () {
      var cb = p._s === 1 ? h.f : h.r;
      if (typeof cb !== "function") {
        if (p._s === 1) resolveP(h.p, p._v);
        else settleP(h.p, 2, p._v);
        return;
      }
      var x;
      try { x = cb(p._v); } catch (e) { settleP(h.p, 2, e); return; }
      resolveP(h.p, x);
    });
  }
  hidden(EPromise.prototype, "then", function (f, r) {
    var np = new EPromise(function () {});
    this._handled = true;
    var h = { f: f, r: r, p: np };
    if (this._s) runHandler(this, h);
    else this._h.push(h);
    return np;
  });
  hidden(EPromise.prototype, "catch", function (r) { return this.then(undefined, r); });
  EPromise.resolve = function (v) {
    if (v instanceof EPromise) return v;
    return new EPromise(function (res) { res(v); });
  };
  EPromise.reject = function (e) { return new EPromise(function (res, rej) { rej(e); }); };
  EPromise.all = function (arr) {
    return new EPromise(function (res, rej) {
      var n = arr.length, out = [], left = n;
      if (!n) return res(out);
      for (var i = 0; i < n; i++) (function (i) {
        EPromise.resolve(arr[i]).then(function (v) { out[i] = v; if (--left === 0) res(out); }, rej);
      })(i);
    });
  };
  function unhandledCheck(id) {
    var p = unhandled[id];
    delete unhandled[id];
    if (!p || p._handled) return;
    var v = p._v, msg;
    if (v && typeof v === "object" && typeof v.message === "string") msg = (v.name || "Error") + ": " + v.message;
    else msg = fmt(v, 1);
    N.uncaught("Uncaught Error: Unhandled promise rejection: " + msg, v && v.stack ? String(v.stack) : "");
  }
  G.Promise = EPromise;

  // ------------------------------------------------------------------ timers
  // Ids are allocated like Espruino's timer array: highest live id + 1, or 1 when empty, so a
  // stale id can point at a newer timer (as on the board).
  var timers = {}; // id -> {fn, args, interval}
  function newId(table) {
    var max = 0;
    for (var k in table) if (+k > max) max = +k;
    return max + 1;
  }
  function addTimer(fn, ms, args, repeat) {
    if (typeof fn === "string") { var code = fn; fn = function () { (0, eval)(code); }; }
    if (typeof fn !== "function") throw new Error("Function or String not supplied!");
    ms = +ms;
    if (!(ms >= 0)) ms = 0;
    var id = newId(timers);
    timers[id] = { fn: fn, args: args, interval: repeat ? Math.max(ms, 1) : 0 };
    N.schedule("t" + id, ms);
    return id;
  }
  G.setTimeout = function (fn, ms) {
    var args = [];
    for (var i = 2; i < arguments.length; i++) args.push(arguments[i]);
    return addTimer(fn, ms, args, false);
  };
  G.setInterval = function (fn, ms) {
    var args = [];
    for (var i = 2; i < arguments.length; i++) args.push(arguments[i]);
    return addTimer(fn, ms, args, true);
  };
  function clearTimer() {
    if (arguments.length === 0) { // Espruino: no argument clears every timeout and interval
      for (var k in timers) { N.unschedule("t" + k); delete timers[k]; }
      return;
    }
    var id = arguments[0];
    if (id === undefined || id === null) return;
    if (!timers[id]) throw new Error("Unknown Timeout");
    N.unschedule("t" + id);
    delete timers[id];
  }
  G.clearTimeout = clearTimer;
  G.clearInterval = clearTimer;
  G.changeInterval = function (id, ms) {
    var t = timers[id];
    if (!t) throw new Error("Unknown Interval");
    if (t.interval) t.interval = Math.max(+ms || 0, 1);
    N.schedule("t" + id, +ms || 0);
  };

  // ------------------------------------------------------------------ clock and Date
  G.getTime = function () { return N.now() / 1000; };
  G.setTime = function (s) { N.setTime(+s); };
  var tzHours = 0;
  function DateShim(a, b, c, d, e, f, g) {
    var n = arguments.length;
    if (!(this instanceof DateShim)) return new DateShim(N.now()).toString();
    var dt;
    if (n === 0) dt = new OD(N.now());
    else if (n === 1) {
      if (typeof a === "string") {
        var p = OD.parse(/Z$|[+-]\d\d:?\d\d$|GMT|UTC/.test(a) || /^\d\d\d\d-\d\d-\d\d$/.test(a) ? a : a + "Z");
        if (p !== p) p = OD.parse(a);
        dt = new OD(p);
      } else dt = new OD(+a);
    } else {
      dt = new OD(ODUTC(a, b, n > 2 ? c : 1, n > 3 ? d : 0, n > 4 ? e : 0, n > 5 ? f : 0, n > 6 ? g : 0) - tzHours * 3600000);
    }
    return dt;
  }
  DateShim.prototype = ODproto;
  hidden(ODproto, "constructor", DateShim);
  DateShim.now = function () { return N.now(); };
  DateShim.parse = function (s) { return new DateShim(String(s)).getTime(); };
  // Espruino 2v29: local time = UTC + E.setTimeZone offset (default 0); no getUTC* methods.
  ["FullYear", "Month", "Date", "Day", "Hours", "Minutes", "Seconds", "Milliseconds"].forEach(function (k) {
    hidden(ODproto, "get" + k, function () {
      return utcGetters[k].call(new OD(ODgetTime.call(this) + tzHours * 3600000));
    });
    delete ODproto["getUTC" + k];
    delete ODproto["setUTC" + k];
  });
  hidden(ODproto, "getTimezoneOffset", function () { return -tzHours * 60; });
  var DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function p2(x) { return (x < 10 ? "0" : "") + x; }
  hidden(ODproto, "toString", function () {
    var off = tzHours * 60;
    var sign = off < 0 ? "-" : "+";
    off = Math.abs(off);
    return DAYS[this.getDay()] + " " + MONTHS[this.getMonth()] + " " + this.getDate() + " " + this.getFullYear() + " " +
      p2(this.getHours()) + ":" + p2(this.getMinutes()) + ":" + p2(this.getSeconds()) + " GMT" + sign + p2(Math.floor(off / 60)) + p2(off % 60);
  });
  G.Date = DateShim;

  // ------------------------------------------------------------------ pins
  function Pin(n) {
    if (!(this instanceof Pin)) return pinObj(+n);
    this._n = +n;
  }
  var pinCache = {};
  function pinObj(n) {
    if (!pinCache[n]) pinCache[n] = new Pin(n);
    return pinCache[n];
  }
  function pinNum(p) {
    if (p instanceof Pin) return p._n;
    if (typeof p === "string" && /^D\d+$/.test(p)) return +p.substr(1);
    var n = +p;
    if (typeof p === "number" || (p !== null && p !== undefined && n === n)) return n;
    throw new Error("Invalid pin: " + p);
  }
  function checkPin(p) {
    var n = pinNum(p);
    if (!N.pinValid(n)) throw new Error("Invalid pin " + String(p));
    return n;
  }
  hidden(Pin.prototype, "valueOf", function () { return this._n; });
  hidden(Pin.prototype, "toString", function () { return "D" + this._n; });
  hidden(Pin.prototype, "toJSON", function () { return "D" + this._n; });
  hidden(Pin.prototype, "read", function () { return G.digitalRead(this); });
  hidden(Pin.prototype, "write", function (v) { G.digitalWrite(this, v); });
  hidden(Pin.prototype, "writeAtomic", function (v) { G.digitalWrite(this, v); });
  hidden(Pin.prototype, "set", function () { G.digitalWrite(this, 1); });
  hidden(Pin.prototype, "reset", function () { G.digitalWrite(this, 0); });
  hidden(Pin.prototype, "toggle", function () { var v = !N.pinRead(this._n, false); G.digitalWrite(this, v); return v; });
  hidden(Pin.prototype, "mode", function (m) { G.pinMode(this, m); });
  hidden(Pin.prototype, "getMode", function () { return N.pinGetMode(this._n); });
  hidden(Pin.prototype, "getInfo", function () { return { port: "D", num: this._n, channel: undefined }; });
  G.Pin = Pin;
  var pinCount = N.pinCount();
  for (var pi = 0; pi < pinCount; pi++) if (N.pinValid(pi)) G["D" + pi] = pinObj(pi);
  if (P.hasA0) G.A0 = pinObj(17);
  if (P.nodemcu) {
    G.NodeMCU = {
      A0: pinObj(17), D0: pinObj(16), D1: pinObj(5), D2: pinObj(4), D3: pinObj(0), D4: pinObj(2),
      D5: pinObj(14), D6: pinObj(12), D7: pinObj(13), D8: pinObj(15), D9: pinObj(3), D10: pinObj(1)
    };
  }
  function bitVal(v) { return (typeof v === "boolean" ? v : +v) ? 1 : 0; }
  G.digitalWrite = function (pin, value) {
    if (Array.isArray(pin)) { // Espruino: array of pins, value's bits, first pin = MSB
      var v = +value;
      for (var i = pin.length - 1; i >= 0; i--) { N.pinWrite(checkPin(pin[i]), v & 1); v >>= 1; }
      return;
    }
    N.pinWrite(checkPin(pin), bitVal(value));
  };
  G.digitalRead = function (pin) {
    if (Array.isArray(pin)) {
      var r = 0;
      for (var i = 0; i < pin.length; i++) r = (r << 1) | N.pinRead(checkPin(pin[i]), true);
      return r;
    }
    return N.pinRead(checkPin(pin), true);
  };
  var MODES = ["analog", "input", "input_pulldown", "input_pullup", "output", "opendrain", "af_output", "af_opendrain", "opendrain_pullup", "auto"];
  G.pinMode = function (pin, mode, automatic) {
    var n = checkPin(pin);
    if (mode === undefined || mode === "auto") { N.pinMode(n, "auto", false); return; }
    if (MODES.indexOf(mode) < 0) throw new Error("Unknown pin mode '" + mode + "'");
    N.pinMode(n, mode, !automatic);
  };
  G.getPinMode = function (pin) { return N.pinGetMode(checkPin(pin)); };
  G.digitalPulse = function (pin, value, time) {
    var n = checkPin(pin);
    var times = [];
    if (typeof time === "number") times.push(time);
    else if (time && typeof time.length === "number") for (var i = 0; i < time.length; i++) times.push(+time[i]);
    else throw new Error("Expecting a number or array, got " + typeof time);
    N.pulse(n, bitVal(value), times.join(","));
  };
  G.analogRead = function (pin) { checkPin(pin); return 0.5; };

  // setWatch / clearWatch with Espruino's edge, repeat and debounce semantics (jsinteractive.c).
  var watches = {}; // id -> {fn, pin, edge, repeat, debounce, state, lastTime, timeout, data}
  G.setWatch = function (fn, pin, opts) {
    if (typeof fn === "string") { var code = fn; fn = function () { (0, eval)(code); }; }
    if (typeof fn !== "function") throw new Error("Function or String not supplied!");
    var n = checkPin(pin);
    var edge = 0, repeat = false, debounce = 0;
    if (typeof opts === "boolean") repeat = opts;
    else if (opts && typeof opts === "object") {
      repeat = !!opts.repeat;
      if (opts.edge === "rising" || opts.edge === 1) edge = 1;
      else if (opts.edge === "falling" || opts.edge === -1) edge = -1;
      else if (opts.edge === undefined || opts.edge === "both" || opts.edge === 0) edge = 0;
      else throw new Error("'edge' in setWatch should be 1, -1, 0, 'rising', 'falling' or 'both'");
      debounce = +opts.debounce || 0;
      if (debounce < 0) debounce = 0;
    }
    var id = newId(watches);
    watches[id] = { fn: fn, pin: n, edge: edge, repeat: repeat, debounce: debounce, state: !!N.pinRead(n, false), lastTime: undefined, timeout: null };
    N.watch(n, true);
    return id;
  };
  function removeWatch(id) {
    var w = watches[id];
    if (!w) return;
    if (w.timeout) N.unschedule("w" + id);
    delete watches[id];
    var still = false;
    for (var k in watches) if (watches[k].pin === w.pin) still = true;
    if (!still) N.watch(w.pin, false);
  }
  G.clearWatch = function () {
    if (arguments.length === 0) { for (var k in watches) removeWatch(k); return; }
    var id = arguments[0];
    if (id === undefined || id === null) return;
    if (!watches[id]) throw new Error("Unknown Watch");
    removeWatch(id);
  };
  function shouldExec(w, high) { return w.edge === 0 || (high && w.edge > 0) || (!high && w.edge < 0); }
  function fireWatch(id, w, high, t) {
    var data = { state: high, lastTime: w.lastTime, time: t, pin: pinObj(w.pin) };
    if (!w.repeat) removeWatch(id);
    call(w.fn, G, [data]);
  }
  function pinEdge(pin, high, t) {
    var ids = ObjectKeys(watches);
    for (var i = 0; i < ids.length; i++) {
      var id = ids[i];
      var w = watches[id];
      if (!w || w.pin !== pin) continue;
      if (w.debounce <= 0) {
        if (shouldExec(w, high)) fireWatch(id, w, high, t);
        w.lastTime = t;
      } else if (w.timeout) {
        w.timeout.time = t + w.debounce / 1000;
        w.timeout.state = high;
        N.schedule("w" + id, Math.max(0, w.timeout.time * 1000 - N.now()));
      } else if (high !== w.state) {
        w.timeout = { time: t + w.debounce / 1000, state: high };
        N.schedule("w" + id, Math.max(0, w.timeout.time * 1000 - N.now()));
      }
    }
  }
  function debounceFired(id) {
    var w = watches[id];
    if (!w || !w.timeout) return;
    var to = w.timeout;
    w.timeout = null;
    var old = w.state;
    w.state = to.state;
    if (old !== to.state) {
      var t = to.time - w.debounce / 1000;
      if (shouldExec(w, to.state)) fireWatch(id, w, to.state, t);
      w.lastTime = t;
    }
  }

  // ------------------------------------------------------------------ E
  var E = {};
  var errorFlags = [];
  E.toString = function () {
    var acc = [];
    for (var i = 0; i < arguments.length; i++) bytesOf(arguments[i], acc);
    return bytesToStr(acc);
  };
  E.toUint8Array = function () {
    var acc = [];
    for (var i = 0; i < arguments.length; i++) bytesOf(arguments[i], acc);
    return new Uint8Array(acc);
  };
  E.toArrayBuffer = function (s) { return strToU8(toStr(s)).buffer; };
  E.toJS = function (v) { return jsonStringify(v); };
  E.reboot = function () { N.reboot(); };
  E.getErrorFlags = function () { return jsonParse(N.errorFlags()); };
  E.setTimeZone = function (h) { tzHours = +h || 0; };
  E.getTimeZone = function () { return tzHours; };
  E.hwRand = function () { return (Math.random() * 4294967296) | 0; };
  E.getSizeOf = function (v) { return N.sizeOf(v); };
  E.kickWatchdog = function () {};
  E.enableWatchdog = function () {};
  E.getTemperature = function () { return 25; };
  E.CRC32 = function (v) {
    var b = bytesOf(v, []);
    var c = -1;
    for (var i = 0; i < b.length; i++) {
      c ^= b[i];
      for (var k = 0; k < 8; k++) c = (c >>> 1) ^ (0xEDB88320 & -(c & 1));
    }
    return (~c) >>> 0;
  };
  E.sum = function (arr) { var s = 0; for (var i = 0; i < arr.length; i++) s += +arr[i]; return s; };
  E.clip = function (x, a, b) { return x < a ? a : x > b ? b : x; };
  G.E = E;

  // ------------------------------------------------------------------ process
  G.process = {
    version: P.version,
    env: { VERSION: P.version, BOARD: P.boardName, MODULES: P.modules, EXPTR: 0, CONSOLE: "Serial1" },
    memory: function () { return jsonParse(N.memory()); }
  };

  // ------------------------------------------------------------------ btoa / atob
  var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  G.btoa = function (s) {
    s = toStr(s);
    var r = "";
    for (var i = 0; i < s.length; i += 3) {
      var a = s.charCodeAt(i) & 255, b = s.charCodeAt(i + 1) & 255, c = s.charCodeAt(i + 2) & 255;
      var n = (a << 16) | ((i + 1 < s.length ? b : 0) << 8) | (i + 2 < s.length ? c : 0);
      r += B64.charAt(n >> 18) + B64.charAt((n >> 12) & 63) + (i + 1 < s.length ? B64.charAt((n >> 6) & 63) : "=") + (i + 2 < s.length ? B64.charAt(n & 63) : "=");
    }
    return r;
  };
  G.atob = function (s) {
    s = toStr(s).replace(/[^A-Za-z0-9+/]/g, "");
    var r = "", bits = 0, acc = 0;
    for (var i = 0; i < s.length; i++) {
      acc = (acc << 6) | B64.indexOf(s.charAt(i));
      bits += 6;
      if (bits >= 8) { bits -= 8; r += fromCharCode((acc >> bits) & 255); }
    }
    return r;
  };

  // ------------------------------------------------------------------ modules
  var modules = {};
  var moduleCache = {};

  // Storage
  modules.Storage = function () {
    var S = {};
    function nm(n) { return toStr(n); }
    function dataOf(d) {
      if (typeof d === "string") return to8bit(d);
      if (d instanceof ArrayBuffer || (ArrayBuffer.isView(d))) return E.toString(d);
      if (d !== null && typeof d === "object") return jsonStringify(d);
      return toStr(d);
    }
    S.write = function (name, data, offset, size) {
      var r = N.stWrite(nm(name), dataOf(data), offset === undefined ? -1 : +offset, size === undefined ? -1 : +size);
      if (typeof r === "string") throw new Error(r);
      return r;
    };
    S.read = function (name, offset, length) {
      var s = N.stRead(nm(name));
      if (s === undefined) return undefined;
      offset = +offset || 0;
      return length === undefined ? s.substr(offset) : s.substr(offset, +length);
    };
    S.readJSON = function (name, noExceptions) {
      var s = N.stRead(nm(name));
      if (s === undefined) return undefined;
      try {
        return jsonParse(s);
      } catch (e) {
        if (noExceptions) return undefined;
        throw new SyntaxError("Got " + (s.length ? "'" + s.charAt(0) + "'" : "EOF") + " expected JSON");
      }
    };
    S.readArrayBuffer = function (name) {
      var s = N.stRead(nm(name));
      return s === undefined ? undefined : strToU8(s).buffer;
    };
    S.erase = function (name) { N.stErase(nm(name)); };
    S.list = function (re, filter) {
      var names = jsonParse(N.stList());
      if (re !== undefined && re !== null) {
        if (!(re instanceof RegExp)) re = new RegExp(toStr(re));
        names = names.filter(function (n) { return re.test(n); });
      }
      return names;
    };
    S.getFree = function () { return N.stFree(); };
    S.getStats = function () { return jsonParse(N.stStats()); };
    S.compact = function () { N.stCompact(); };
    S.eraseAll = function () { N.stEraseAll(); };
    S.hash = function (re) { return E.CRC32(S.list(re).join(",")); };
    return S;
  };

  // Wifi
  var wifiCbs = {};
  var wifiCbSeq = 0;
  var Wifi = {};
  modules.Wifi = function () {
    Wifi.connect = function (ssid, opts, cb) {
      if (typeof opts === "function") { cb = opts; opts = {}; }
      opts = opts || {};
      var key = "";
      if (typeof cb === "function") { key = "c" + (++wifiCbSeq); wifiCbs[key] = cb; }
      N.wifiConnect(toStr(ssid), opts.password === undefined ? "" : toStr(opts.password), key);
    };
    Wifi.disconnect = function (cb) {
      var key = "";
      if (typeof cb === "function") { key = "c" + (++wifiCbSeq); wifiCbs[key] = cb; }
      N.wifiDisconnect(key);
    };
    Wifi.getStatus = function (cb) { var s = jsonParse(N.wifiStatus()); if (typeof cb === "function") setTimeout(cb, 0, s); return s; };
    Wifi.getIP = function (cb) { var s = jsonParse(N.wifiIP()); if (typeof cb === "function") setTimeout(cb, 0, null, s); return s; };
    Wifi.getDetails = function (cb) { var s = jsonParse(N.wifiDetails()); if (typeof cb === "function") setTimeout(cb, 0, s); return s; };
    Wifi.setHostname = function (h, cb) { N.wifiHostname(toStr(h)); if (typeof cb === "function") setTimeout(cb, 0); };
    Wifi.getHostname = function (cb) { var h = N.wifiGetHostname(); if (typeof cb === "function") setTimeout(cb, 0, h); return h; };
    Wifi.save = function (what) { N.wifiSave(what === undefined ? "" : toStr(what)); };
    Wifi.restore = function () {};
    Wifi.setSNTP = function (server, zone) { N.wifiSNTP(toStr(server), toStr(zone)); };
    Wifi.stopAP = function (cb) { if (typeof cb === "function") setTimeout(cb, 0); };
    Wifi.scan = function (cb) { var s = jsonParse(N.wifiScan()); if (typeof cb === "function") setTimeout(cb, 0, s); };
    Wifi.ping = function (host, cb) { if (typeof cb === "function") setTimeout(cb, 5, { totalCount: 1, totalBytes: 32, totalTime: 5, respTime: 5, seqNo: 1, timeoutCount: 0 }); };
    return Wifi;
  };

  // net / tls sockets (host side: real Node sockets)
  var sockets = {}; // sid -> socket object
  var sockSeq = 0;
  function Socket(sid) { hidden(this, "_sid", sid); }
  hidden(Socket.prototype, "write", function (data) {
    // Espruino converts with string conversion: a Uint8Array becomes "1,2,3".
    var s = to8bit(toStr(data));
    return N.sockWrite(this._sid, s);
  });
  hidden(Socket.prototype, "end", function (data) {
    if (data !== undefined) this.write(data);
    N.sockEnd(this._sid);
  });
  hidden(Socket.prototype, "destroy", function () { N.sockEnd(this._sid); });
  hidden(Socket.prototype, "available", function () { return 0; });
  hidden(Socket.prototype, "pipe", function (dest) {
    var self = this;
    self.on("data", function (d) { dest.write(d); });
    return dest;
  });
  function connect(tls, opts, cb) {
    if (typeof opts === "string") {
      var m = /^(\w+:\/\/)?([^:/]+)(:(\d+))?/.exec(opts);
      opts = { host: m ? m[2] : opts, port: m && m[4] ? +m[4] : (tls ? 443 : 80) };
    }
    if (!opts || typeof opts !== "object") throw new Error("Expecting Options to be an Object but it was " + typeof opts);
    var sid = ++sockSeq;
    var s = new Socket(sid);
    sockets[sid] = s;
    if (typeof cb === "function") s.on("connect", cb);
    var extra = {};
    ["ca", "key", "cert"].forEach(function (k) { if (typeof opts[k] === "string") extra[k] = opts[k]; });
    N.sockConnect(sid, toStr(opts.host), +(opts.port || (tls ? 443 : 80)), tls, jsonStringify(extra));
    return s;
  }
  modules.net = function () {
    return {
      connect: function (opts, cb) { return connect(false, opts, cb); },
      createServer: function () { throw new Error("net.createServer is not modelled by the simulator"); }
    };
  };
  if (P.tls) modules.tls = function () { return { connect: function (opts, cb) { return connect(true, opts, cb); } }; };

  // crypto
  modules.crypto = function () {
    var C = {};
    P.hashes.forEach(function (alg) {
      C[alg] = function (data) {
        var s = typeof data === "string" ? to8bit(data) : E.toString(data);
        return strToU8(N.hash(alg, s)).buffer;
      };
    });
    if (P.pbkdf2) {
      C.PBKDF2 = function (pass, salt, opts) {
        opts = opts || {};
        var s = N.pbkdf2(E.toString(pass), E.toString(salt), +(opts.iterations || 1), +(opts.keySize || 4), toStr(opts.hasher || "SHA1"));
        return strToU8(s).buffer;
      };
    }
    return C;
  };

  modules.TelnetServer = function () {
    return { setOptions: function (o) { N.telnet(jsonStringify(o || {})); } };
  };
  if (P.family === "ESP8266") {
    modules.ESP8266 = function () {
      return {
        reboot: function () { N.reboot(); },
        getResetInfo: function () { return jsonParse(N.resetInfo()); },
        getState: function () { return jsonParse(N.espState()); },
        getFreeFlash: function () { return []; },
        setCPUFreq: function () {},
        logDebug: function () {},
        setLog: function () {},
        printLog: function () {},
        deepSleep: function () { throw new Error("deepSleep is not modelled by the simulator"); }
      };
    };
  } else {
    modules.ESP32 = function () {
      return {
        reboot: function () { N.reboot(); },
        getState: function () { return jsonParse(N.espState()); },
        setBLE_Debug: function () {},
        enableWifi: function () {},
        enableBLE: function () {},
        deepSleep: function () { throw new Error("deepSleep is not modelled by the simulator"); }
      };
    };
  }
  G.require = function (name) {
    name = toStr(name);
    if (moduleCache[name]) return moduleCache[name];
    if (!modules[name]) throw new Error("Module " + name + " not found");
    moduleCache[name] = modules[name]();
    return moduleCache[name];
  };

  G.global = G;

  // ------------------------------------------------------------------ built-ins Espruino lacks
  var TA = Object.getPrototypeOf(Uint8Array);
  [
    [G, ["Map", "Set", "WeakMap", "WeakSet", "Symbol", "Proxy", "Reflect", "BigInt", "BigInt64Array", "BigUint64Array",
      "RangeError", "AggregateError", "WeakRef", "FinalizationRegistry", "SharedArrayBuffer", "Atomics", "WebAssembly",
      "Intl", "queueMicrotask", "structuredClone", "fetch", "TextEncoder", "TextDecoder"]],
    [Array, ["from", "of"]],
    [Array.prototype, ["lastIndexOf", "flat", "flatMap", "at", "findLast", "findLastIndex", "reduceRight", "copyWithin",
      "toReversed", "toSorted", "toSpliced", "with", "group", "groupToMap"]],
    [Object, ["freeze", "seal", "is", "isFrozen", "isSealed", "getOwnPropertySymbols", "hasOwn", "groupBy"]],
    [Math, ["trunc", "imul", "clz32", "log2", "log10", "hypot"]],
    [Number, ["isInteger", "isSafeInteger", "isNaN", "isFinite", "parseInt", "parseFloat", "EPSILON", "MAX_SAFE_INTEGER", "MIN_SAFE_INTEGER"]],
    [OD, ["UTC"]],
    [String.prototype, ["trimStart", "trimEnd", "trimLeft", "trimRight", "codePointAt", "at", "isWellFormed", "toWellFormed", "matchAll"]],
    [String, ["fromCodePoint", "raw"]],
    [TA, ["from", "of"]],
    [TA.prototype, ["lastIndexOf", "reduceRight", "at", "findLast", "findLastIndex", "toReversed", "toSorted", "with", "copyWithin"]],
    [ArrayBuffer.prototype, ["slice", "resize", "transfer", "transferToFixedLength"]],
    [Error, ["captureStackTrace", "stackTraceLimit"]],
    [JSON, ["rawJSON", "isRawJSON"]]
  ].forEach(function (row) {
    row[1].forEach(function (k) { try { delete row[0][k]; } catch (e) { /* ignore */ } });
  });
  // Number.EPSILON / MAX_SAFE_INTEGER / MIN_SAFE_INTEGER cannot be deleted (non-configurable):
  // replace the Number constructor by one without them.
  var ONumber = Number;
  var NumberShim = function Number(v) {
    var n = arguments.length ? ONumber(v) : 0;
    return this instanceof NumberShim ? new ONumber(n) : n;
  };
  NumberShim.prototype = ONumber.prototype;
  hidden(ONumber.prototype, "constructor", NumberShim);
  ["MAX_VALUE", "MIN_VALUE", "NaN", "POSITIVE_INFINITY", "NEGATIVE_INFINITY"].forEach(function (k) { NumberShim[k] = ONumber[k]; });
  G.Number = NumberShim;
  // Strings are 8-bit on the board.
  String.fromCharCode = function () {
    var s = "";
    for (var i = 0; i < arguments.length; i++) s += fromCharCode(arguments[i] & 255);
    return s;
  };
  // JSON: replacer and reviver are ignored by Espruino.
  JSON.stringify = function (v, replacer, indent) { return jsonStringify(v, undefined, indent); };
  JSON.parse = function (s) { return jsonParse(s); };
  // Object.defineProperty ignores enumerable:false on Espruino.
  Object.defineProperty = function (o, k, d) {
    var c = {};
    for (var x in d) c[x] = d[x];
    c.enumerable = true;
    if (!("get" in c) && !("set" in c) && !("writable" in c)) c.writable = true;
    if (!("configurable" in c)) c.configurable = true;
    return defineProp(o, k, c);
  };

  // ------------------------------------------------------------------ host -> device dispatch
  return {
    fire: function (key) {
      if (key.charAt(0) === "t") {
        var id = +key.substr(1);
        var t = timers[id];
        if (!t) return;
        if (t.interval) N.schedule(key, t.interval);
        else delete timers[id];
        call(t.fn, G, t.args);
      } else if (key.charAt(0) === "w") debounceFired(key.substr(1));
      else if (key.charAt(0) === "p") unhandledCheck(key);
    },
    edges: function (list) { // "pin,state,time;pin,state,time;..."
      var items = list.split(";");
      for (var i = 0; i < items.length; i++) {
        if (!items[i]) continue;
        var f = items[i].split(",");
        pinEdge(+f[0], f[1] === "1", +f[2]);
      }
    },
    wifiEvent: function (ev, details) { sysEmit(Wifi, ev, [jsonParse(details)]); },
    wifiCallback: function (key, err, details) {
      var cb = wifiCbs[key];
      delete wifiCbs[key];
      if (cb) call(cb, G, details ? [err === "" ? null : err, jsonParse(details)] : [err === "" ? null : err]);
    },
    sock: function (sid, ev, arg) {
      var s = sockets[sid];
      if (!s) return;
      if (ev === "data") {
        // faults.outOfMemoryInSocketData: Espruino removes a data handler that ran out of memory
        if (N.oomOnSocketData()) delete s[evKey("data")];
        else sysEmit(s, "data", [arg]);
      }
      else if (ev === "error") sysEmit(s, "error", [jsonParse(arg)]);
      else if (ev === "close") { delete sockets[sid]; sysEmit(s, "close", [arg === "1"]); }
      else sysEmit(s, ev, []);
    },
    emitE: function (ev) { sysEmit(E, ev, []); },
    run: function (code, name) {
      // The bundle is saved code: run it at global scope, like Espruino's load of .bootcde.
      try {
        N.runScript(code, name);
      } catch (e) {
        reportUncaught(e);
      }
    },
    report: reportUncaught,
    internals: function () { return { timers: timers, watches: watches, sockets: sockets, wifiCbs: wifiCbs, E: E, Wifi: Wifi, moduleCache: moduleCache }; },
    promises: function () { return ObjectKeys(unhandled).length; },
    counts: function () {
      return ObjectKeys(timers).length + "," + ObjectKeys(watches).length + "," + ObjectKeys(sockets).length + "," +
        (listenerCount(E) + listenerCount(Wifi) + ObjectKeys(sockets).reduce(function (n, k) { return n + listenerCount(sockets[k]); }, 0));
    }
  };
});
