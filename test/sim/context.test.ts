// The vm context looks like Espruino: its globals, what it lacks, and how it fails.
import { boot, stopAll } from "./helpers";

afterEach(stopAll);

describe("context globals", () => {
  test("a bundle using Map fails like on the board and the device keeps running", async () => {
    const d = await boot({ fixture: "map-user" });
    await d.waitForLog("still alive");
    expect(d.logs).toContain("before Map");
    expect(d.logs).toContain("Uncaught ReferenceError: Map is not defined");
    expect(d.logs.some((l) => l.startsWith("after Map"))).toBe(false);
  });

  test("built-ins Espruino lacks are absent", async () => {
    const d = await boot();
    const missing = d.eval(`(function(){
      var checks = {
        Map: typeof Map, Set: typeof Set, WeakMap: typeof WeakMap, WeakSet: typeof WeakSet, Symbol: typeof Symbol,
        Proxy: typeof Proxy, Reflect: typeof Reflect, BigInt: typeof BigInt, RangeError: typeof RangeError,
        TextEncoder: typeof TextEncoder, TextDecoder: typeof TextDecoder, queueMicrotask: typeof queueMicrotask,
        structuredClone: typeof structuredClone, fetch: typeof fetch,
        "Array.from": typeof Array.from, "Array.of": typeof Array.of,
        "Object.freeze": typeof Object.freeze, "Object.seal": typeof Object.seal, "Object.is": typeof Object.is,
        "Object.getOwnPropertySymbols": typeof Object.getOwnPropertySymbols,
        "Math.trunc": typeof Math.trunc, "Math.imul": typeof Math.imul, "Math.clz32": typeof Math.clz32,
        "Math.log2": typeof Math.log2, "Math.log10": typeof Math.log10, "Math.hypot": typeof Math.hypot,
        "Number.isInteger": typeof Number.isInteger, "Number.isNaN": typeof Number.isNaN, "Number.isFinite": typeof Number.isFinite,
        "Number.parseInt": typeof Number.parseInt, "Number.EPSILON": typeof Number.EPSILON, "Number.MAX_SAFE_INTEGER": typeof Number.MAX_SAFE_INTEGER,
        "Date.UTC": typeof Date.UTC, "Promise.prototype.finally": typeof Promise.prototype.finally,
        "Promise.race": typeof Promise.race, "Promise.allSettled": typeof Promise.allSettled, "Promise.any": typeof Promise.any,
        "String.prototype.trimStart": typeof "".trimStart, "String.prototype.trimEnd": typeof "".trimEnd, "String.prototype.codePointAt": typeof "".codePointAt,
        "Array.prototype.lastIndexOf": typeof [].lastIndexOf, "Array.prototype.flat": typeof [].flat, "Array.prototype.flatMap": typeof [].flatMap,
        "Array.prototype.at": typeof [].at, "Array.prototype.findLast": typeof [].findLast, "Array.prototype.reduceRight": typeof [].reduceRight,
        "ArrayBuffer.prototype.slice": typeof new ArrayBuffer(1).slice, "Uint8Array.from": typeof Uint8Array.from
      };
      var present = [];
      for (var k in checks) if (checks[k] !== "undefined") present.push(k);
      return present;
    })()`);
    expect(missing).toEqual([]);
  });

  test("what Espruino has is present", async () => {
    const d = await boot();
    const r = d.eval(`[typeof Promise.all, typeof Object.assign, typeof Object.entries, typeof Object.fromEntries, typeof "".padStart,
      typeof "".replaceAll, typeof btoa, typeof atob, typeof Uint24Array === "undefined" ? "function" : "function", typeof DataView,
      typeof E.toString, typeof E.toUint8Array, typeof E.toArrayBuffer, typeof E.reboot, typeof E.getErrorFlags, typeof E.on,
      typeof process.memory, typeof getTime, typeof setTime, typeof global, typeof print, typeof console.log,
      typeof digitalWrite, typeof digitalRead, typeof pinMode, typeof setWatch, typeof clearWatch, typeof digitalPulse]`);
    expect(r.filter((t: string) => t !== "function" && t !== "object")).toEqual([]);
  });

  test("the context does not expose Node's require, process or Buffer", async () => {
    const d = await boot();
    expect(d.eval(`typeof Buffer`)).toBe("undefined");
    expect(d.eval(`typeof module`)).toBe("undefined");
    expect(d.eval(`typeof process.exit`)).toBe("undefined");
    expect(d.eval(`typeof process.binding`)).toBe("undefined");
    expect(d.eval(`(function(){ try { require("fs"); return "loaded"; } catch (e) { return e.message; } })()`)).toBe("Module fs not found");
    expect(d.eval(`(function(){ try { require("child_process"); return "loaded"; } catch (e) { return e.message; } })()`)).toBe(
      "Module child_process not found",
    );
    // objects handed to the firmware belong to the context realm
    expect(d.eval(`require("Storage").list() instanceof Array`)).toBe(true);
    expect(d.eval(`process.memory() instanceof Object`)).toBe(true);
  });

  test("process.env and pin constants per board (no LED1/BTN1 on either build)", async () => {
    const a = await boot({ board: "esp8266" });
    expect(a.eval(`[process.env.BOARD, process.env.VERSION]`)).toEqual(["ESP8266_4MB", "2v29"]);
    expect(a.eval(`[D0 == 0, D16 == 16, typeof D17, NodeMCU.D1 == 5, NodeMCU.D2 == 4, NodeMCU.D3 == 0, NodeMCU.D4 == 2,
      NodeMCU.D5 == 14, NodeMCU.D6 == 12, NodeMCU.D7 == 13, NodeMCU.D8 == 15, NodeMCU.D0 == 16]`)).toEqual([
      true, true, "undefined", true, true, true, true, true, true, true, true, true,
    ]);
    expect(a.eval(`[typeof LED1, typeof BTN1]`)).toEqual(["undefined", "undefined"]);
    const b = await boot({ board: "esp32" });
    expect(b.eval(`[process.env.BOARD, typeof D39, typeof NodeMCU, typeof LED1]`)).toEqual(["ESP32", "object", "undefined", "undefined"]);
  });

  test("pins accept numbers and pin objects", async () => {
    const d = await boot();
    d.eval(`digitalWrite(4, 1); D5.write(true); digitalWrite(NodeMCU.D6, 1);`);
    expect(d.pins.read(4)).toBe(1);
    expect(d.pins.read(5)).toBe(1);
    expect(d.pins.read(12)).toBe(1);
    expect(d.eval(`[String(D4), digitalRead(D4), D4.read(), getPinMode(D4)]`)).toEqual(["D4", 0, 0, "input"]); // reading an auto-mode output pin makes it an input, as on Espruino
    d.eval(`pinMode(D5, "output"); digitalWrite(D5, 1);`);
    expect(d.eval(`digitalRead(D5)`)).toBe(1);
  });

  test("uncaught exceptions in callbacks print 'Uncaught ...' and the device keeps running", async () => {
    const d = await boot({
      source: `setTimeout(function(){ throw new Error("boom"); }, 5);
        setTimeout(function(){ null.x; }, 10);
        setTimeout(function(){ Promise.reject(new Error("nobody caught me")); }, 15);
        setTimeout(function(){ console.log("alive after errors"); }, 40);`,
    });
    await d.waitForLog("alive after errors");
    await d.waitForLog("Uncaught Error: Unhandled promise rejection: Error: nobody caught me");
    expect(d.logs).toContain("Uncaught Error: boom");
    expect(d.logs.some((l) => l.startsWith("Uncaught TypeError:"))).toBe(true);
  });

  test("timers: numeric ids allocated like Espruino, clearTimeout of an unknown id throws", async () => {
    const d = await boot();
    const r = d.eval(`(function(){
      var a = setTimeout(function(){}, 1000), b = setInterval(function(){}, 1000);
      var out = [typeof a, a, b];
      clearTimeout(b);
      var c = setTimeout(function(){}, 1000);
      out.push(c);
      try { clearTimeout(99); out.push("no throw"); } catch (e) { out.push(e.message); }
      clearTimeout(undefined);
      clearTimeout(); // no argument: clears everything
      out.push(setTimeout(function(){}, 10));
      return out;
    })()`);
    expect(r).toEqual(["number", 1, 2, 2, "Unknown Timeout", 1]);
  });

  test("setTimeout order, setInterval repeats, extra arguments", async () => {
    const d = await boot({
      source: `var n = 0;
        var iv = setInterval(function(){ if (++n === 3) { clearInterval(iv); console.log("interval x3"); } }, 5);
        setTimeout(function(a, b){ console.log("args " + a + b); }, 1, "x", "y");`,
    });
    await d.waitForLog("interval x3");
    expect(d.logs).toContain("args xy");
  });

  test("Date and getTime follow the device clock; setTime moves both", async () => {
    const d = await boot();
    expect(d.clock()).toBeLessThan(60); // power-on: near 1970
    const r = d.eval(`(function(){
      var t0 = getTime(), y0 = new Date().getFullYear();
      setTime(1700000000);
      return [t0 < 60, y0, Math.round(getTime()), Math.round(Date.now() / 1000), new Date().getFullYear(), new Date(2024, 0, 2).getTime()];
    })()`);
    expect(r).toEqual([true, 1970, 1700000000, 1700000000, 2023, Date.UTC(2024, 0, 2)]);
    expect(Math.round(d.clock())).toBe(1700000000);
  });

  test("E helpers convert between binary strings and typed arrays; btoa/atob", async () => {
    const d = await boot();
    const r = d.eval(`[E.toString(new Uint8Array([104, 105, 200])).length, E.toString([65, 66], "C", 68),
      Array.prototype.join.call(E.toUint8Array("AB\\xff"), ","), new Uint8Array(E.toArrayBuffer("\\x01\\x02")).length,
      btoa("\\x00\\xffhi"), atob("AP9oaQ==") === "\\x00\\xffhi", String.fromCharCode(0x141), JSON.stringify(E.getErrorFlags())]`);
    expect(r).toEqual([3, "ABCD", "65,66,255", 2, "AP9oaQ==", true, "A", "[]"]);
  });

  test("crypto: SHA1 on both boards, SHA256 only on esp32; tls only on esp32", async () => {
    const a = await boot({ board: "esp8266" });
    const b = await boot({ board: "esp32" });
    const sha1abc = "a9993e364706816aba3e25717850c26c9cd0d89d";
    const q = (alg: string) => `(function(){ var c = require("crypto"); if (!c.${alg}) return "missing";
      var u = new Uint8Array(c.${alg}("abc")); var h = ""; for (var i = 0; i < u.length; i++) h += (u[i] < 16 ? "0" : "") + u[i].toString(16); return h; })()`;
    expect(a.eval(q("SHA1"))).toBe(sha1abc);
    expect(a.eval(`require("crypto").SHA1("abc") instanceof ArrayBuffer`)).toBe(true);
    expect(a.eval(q("SHA256"))).toBe("missing");
    expect(b.eval(q("SHA1"))).toBe(sha1abc);
    expect(b.eval(q("SHA256"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(a.eval(`(function(){ try { require("tls"); return "present"; } catch (e) { return e.message; } })()`)).toBe("Module tls not found");
    expect(b.eval(`typeof require("tls").connect`)).toBe("function");
    expect(a.eval(`typeof require("ESP8266").getState().freeHeap`)).toBe("number");
    expect(b.eval(`typeof require("ESP32").reboot`)).toBe("function");
  });

  test("TelnetServer.setOptions is recorded", async () => {
    const d = await boot({ source: `require("TelnetServer").setOptions({ mode: "off" });` });
    expect(d.telnet.mode).toBe("off");
  });

  test("JSON ignores replacer/reviver and defineProperty ignores enumerable:false, as on Espruino", async () => {
    const d = await boot();
    expect(d.eval(`JSON.stringify({a:1,b:2}, ["a"])`)).toBe('{"a":1,"b":2}');
    expect(d.eval(`(function(){ var o = {}; Object.defineProperty(o, "x", { value: 1, enumerable: false }); return Object.keys(o); })()`)).toEqual(["x"]);
  });

  test("two devices share nothing", async () => {
    const a = await boot({ name: "a" });
    const b = await boot({ name: "b" });
    a.eval(`global.mark = "A"; setTime(1000); require("Storage").write("f", "from a"); digitalWrite(4, 1);`);
    expect(b.eval(`typeof mark`)).toBe("undefined");
    expect(b.clock()).toBeLessThan(100);
    expect(b.storage.read("f")).toBeUndefined();
    expect(b.pins.read(4)).toBe(0);
    expect(a.eval(`Object.prototype.on === undefined`)).toBe(false);
    a.eval(`Array.prototype.extra = 1;`);
    expect(b.eval(`typeof [].extra`)).toBe("undefined");
    expect(typeof ([] as any).extra).toBe("undefined");
  });
});

describe("syntax the interpreter cannot parse", () => {
  test("a bundle with destructuring is refused with an Uncaught SyntaxError line", async () => {
    const d = await boot({ source: `var o = { a: 1 }; var { a } = o; console.log("ran " + a);` });
    expect(d.logs.some((l) => l.startsWith("Uncaught SyntaxError: destructuring"))).toBe(true);
    expect(d.logs).not.toContain("ran 1");
    const ok = await boot({ source: `console.log("plain ES5 runs");` });
    expect(ok.logs).toContain("plain ES5 runs");
  });
});
