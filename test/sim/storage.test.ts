// Storage: files on disk per device, kept across reboot, 28-character names, capacity.
import * as fs from "fs";
import { boot, stopAll, storageDir } from "./helpers";
import { CONFIG_FILE } from "../../firmware/config/config";
import { PROFILES } from "../../sim/board";
import { SimStorage } from "../../sim/board/storage";

afterEach(stopAll);

describe("Storage", () => {
  test("config is written before first boot; the bundle is saved as .bootcde", async () => {
    const d = await boot({ config: { ssid: "lab", thing: "t1" }, source: `console.log("cfg " + require("Storage").read("${CONFIG_FILE}"));` });
    expect(d.storage.readJSON(CONFIG_FILE)).toEqual({ ssid: "lab", thing: "t1" });
    expect(d.logs).toContain('cfg {"ssid":"lab","thing":"t1"}');
    expect(d.storage.list()).toEqual(expect.arrayContaining([".bootcde", CONFIG_FILE]));
  });

  test("files survive reboot and a new device on the same directory", async () => {
    const dir = storageDir();
    const d = await boot({ storageDir: dir });
    d.eval(`var S = require("Storage"); S.write("state", { n: 1, s: "x" }); S.write("bin", "\\x00\\x80\\xff");`);
    await d.reboot();
    expect(d.bootCount).toBe(2);
    expect(d.eval(`require("Storage").readJSON("state")`)).toEqual({ n: 1, s: "x" });
    expect(d.eval(`require("Storage").read("bin") === "\\x00\\x80\\xff"`)).toBe(true);
    await d.stop();
    const again = await boot({ storageDir: dir });
    expect(again.storage.readJSON("state")).toEqual({ n: 1, s: "x" });
  });

  test("names are truncated to 28 characters silently; odd characters are safe on disk", async () => {
    const d = await boot();
    const long = "abcdefghijklmnopqrstuvwxyz0123456789";
    d.eval(`var S = require("Storage"); S.write("${long}", "v"); S.write("../x y/.z", "w");`);
    expect(d.eval(`require("Storage").read("${long.slice(0, 28)}")`)).toBe("v");
    expect(d.eval(`require("Storage").read("${long.slice(0, 28)}-anything-else")`)).toBe("v");
    expect(d.storage.list()).toEqual(expect.arrayContaining([long.slice(0, 28), "../x y/.z"]));
    expect(d.eval(`require("Storage").list(/^abc/)`)).toEqual([long.slice(0, 28)]);
  });

  test("read, readJSON with and without noExceptions, erase, typed arrays stored as bytes", async () => {
    const d = await boot();
    const r = d.eval(`(function(){
      var S = require("Storage"), out = [];
      S.write("bad", "{not json");
      out.push(S.read("missing") === undefined, S.readJSON("missing") === undefined, S.readJSON("bad", true) === undefined);
      try { S.readJSON("bad"); out.push("no throw"); } catch (e) { out.push("threw"); }
      S.write("u8", new Uint8Array([1, 2, 255]));
      out.push(S.read("u8").length, S.read("u8").charCodeAt(2));
      out.push(S.read("bad", 1, 3));
      S.erase("bad");
      out.push(S.read("bad") === undefined);
      return out;
    })()`);
    expect(r).toEqual([true, true, true, "threw", 3, 255, "not", true]);
  });

  test("writing at an offset: fills a pre-sized file; rewriting with different data throws", async () => {
    const d = await boot();
    const r = d.eval(`(function(){
      var S = require("Storage"), out = [];
      out.push(S.write("f", "AB", 0, 6));
      out.push(S.write("f", "CD", 2));
      out.push(S.write("f", "CD", 2)); // same data again is fine
      try { S.write("f", "XY", 2); out.push("no throw"); } catch (e) { out.push("threw"); }
      out.push(S.read("f").substr(0, 4));
      out.push(S.write("f", "whole new content")); // whole-file rewrite always works
      out.push(S.read("f"));
      return out;
    })()`);
    expect(r).toEqual([true, true, true, "threw", "ABCD", true, "whole new content"]);
  });

  test("capacity: ESP8266 has 48 pages of 4 KB; a write that does not fit returns false", async () => {
    const d = await boot();
    expect(PROFILES.esp8266.storageBytes).toBe(48 * 4096);
    const r = d.eval(`(function(){
      var S = require("Storage"), out = [];
      var chunk = new Array(40001).join("x"); // 40000 bytes
      var ok = 0;
      for (var i = 0; i < 6; i++) if (S.write("big" + i, chunk)) ok++;
      out.push(ok, S.getFree() < 40000);
      S.erase("big0");
      out.push(S.write("again", chunk)); // fits after the automatic compaction
      return out;
    })()`);
    expect(r).toEqual([4, true, true]);
  });

  test("handle.storage reads and writes the same files the firmware sees", async () => {
    const dir = storageDir();
    const d = await boot({ storageDir: dir });
    d.storage.write("from-test", "hello");
    expect(d.eval(`require("Storage").read("from-test")`)).toBe("hello");
    expect(fs.readdirSync(dir)).toContain("from-test");
  });
  test("the in-memory index (files, sizes, garbage) matches what a fresh SimStorage reads back from the directory", () => {
    const dir = storageDir("index");
    const cap = 4096;
    const a = new SimStorage(dir, cap);
    expect(a.write("one", "x".repeat(100))).toBe(true);
    expect(a.write("two", "y".repeat(10))).toBe(true);
    expect(a.write("one", "z".repeat(50))).toBe(true); // the old 100 bytes become garbage
    a.erase("two"); // and so do these
    expect(a.write("pre", "AB", 0, 8)).toBe(true);
    expect(a.write("pre", "CD", 2)).toBe(true);
    const s1 = a.stats();
    expect(s1).toMatchObject({ fileCount: 2, fileBytes: 32 + 52 + 32 + 8, trashBytes: 32 + 100 + 32 + 12 });
    const b = new SimStorage(dir, cap);
    expect(b.stats()).toEqual(s1);
    expect(b.list()).toEqual(["one", "pre"]);
    expect(b.read("pre")).toBe("ABCD\xff\xff\xff\xff");
    // a write that only fits after compaction compacts, and the new instance sees the compaction too
    expect(b.write("big", "q".repeat(cap - 32 * 3 - 52 - 8 - 100))).toBe(true);
    expect(b.stats().trashBytes).toBe(0);
    expect(new SimStorage(dir, cap).stats()).toEqual(b.stats());
    expect(b.write("toobig", "q".repeat(cap))).toBe(false);
    expect(b.list()).toEqual(["big", "one", "pre"]);
    b.eraseAll();
    expect(b.list()).toEqual([]);
    expect(new SimStorage(dir, cap).stats()).toMatchObject({ fileCount: 0, fileBytes: 0, trashBytes: 0, freeBytes: cap });
  });
});
