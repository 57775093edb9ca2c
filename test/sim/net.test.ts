// Sockets: real Node sockets underneath, Espruino's string conversion and binary strings on top.
import * as net from "net";
import * as tls from "tls";
import { boot, stopAll, until, sleep } from "./helpers";
import { SOCKET_ERRORS, TLS_SNI } from "../../sim/board";

interface Server {
  port: number;
  received: () => Buffer;
  conns: net.Socket[];
  close: () => Promise<void>;
  onConn?: (s: net.Socket) => void;
}

async function tcpServer(onConn?: (s: net.Socket) => void, secure?: { key: string; cert: string }): Promise<Server & { sni: (string | false)[] }> {
  const chunks: Buffer[] = [];
  const conns: net.Socket[] = [];
  const sni: (string | false)[] = [];
  const handler = (s: net.Socket) => {
    conns.push(s);
    if (secure) sni.push((s as tls.TLSSocket).servername || false);
    s.on("data", (b) => chunks.push(b));
    s.on("error", () => {});
    if (onConn) onConn(s);
  };
  const srv = secure ? tls.createServer({ key: secure.key, cert: secure.cert }, handler) : net.createServer(handler);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    conns,
    sni,
    received: () => Buffer.concat(chunks),
    close: () =>
      new Promise<void>((r) => {
        for (const c of conns) c.destroy();
        srv.close(() => r());
      }),
  };
}

let servers: Server[] = [];
afterEach(async () => {
  await stopAll();
  for (const s of servers) await s.close();
  servers = [];
});

async function clientDevice(port: number, extra: object = {}, board: "esp8266" | "esp32" = "esp8266") {
  // The fixture connects at boot; WiFi must be up first, so Storage gets the target and the
  // fixture is started after connecting.
  const d = await boot({ board, source: "" });
  d.storage.write("sock.json", JSON.stringify({ host: "127.0.0.1", port, ...extra }));
  d.eval(`require("Wifi").connect("lab", { password: "labpass" }, function (err) { console.log("wifi " + err); });`);
  await d.waitForLog("wifi null");
  return d;
}

describe("net sockets", () => {
  test("write(Uint8Array) sends its text form, binary strings pass intact, chars > 255 keep their low byte", async () => {
    const srv = await tcpServer();
    servers.push(srv);
    const { fixture } = await import("./helpers");
    const bundle = await fixture("socket-client");
    const d = await clientDevice(srv.port);
    d.eval(require("fs").readFileSync(bundle, "utf8"));
    await d.waitForLog("write returned boolean true");
    await until(() => srv.received().length >= 13, "server data", 8000);
    expect(srv.received().toString("latin1")).toBe("1,2,250|\x00\x80\xff|A");
  });

  test("data events deliver binary strings with bytes >= 0x80 intact, in chunks of at most 536 bytes on ESP8266", async () => {
    const payload = Buffer.alloc(3000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + 0x80) & 255;
    const srv = await tcpServer((s) => s.write(payload));
    servers.push(srv);
    const { fixture } = await import("./helpers");
    const d = await clientDevice(srv.port);
    d.eval(`var got = ""; var sizes = [];
      var s = require("net").connect({ host: "127.0.0.1", port: ${srv.port} });
      s.on("data", function (d) { if (typeof d !== "string") throw new Error("not a string"); got += d; sizes.push(d.length); });`);
    await until(() => d.eval("got.length") === 3000, "all data", 8000);
    const got = Buffer.from(d.eval("got") as string, "latin1");
    expect(got.equals(payload)).toBe(true);
    expect(Math.max(...(d.eval("sizes") as number[]))).toBeLessThanOrEqual(536);
    void fixture;
  });

  test("server close gives end then close; resetSockets gives error then close", async () => {
    const srv = await tcpServer();
    servers.push(srv);
    const d = await clientDevice(srv.port);
    d.eval(`var ev = [];
      function watch(s, tag) {
        s.on("connect", function () { ev.push(tag + ":connect"); });
        s.on("end", function () { ev.push(tag + ":end"); });
        s.on("error", function (e) { ev.push(tag + ":error:" + e.code + ":" + e.message); });
        s.on("close", function () { ev.push(tag + ":close"); });
      }
      watch(require("net").connect({ host: "127.0.0.1", port: ${srv.port} }), "a");`);
    await until(() => srv.conns.length === 1, "one connection at the server");
    await until(() => (d.eval("ev") as string[]).includes("a:connect"), "event a:connect on the device");
    srv.conns[0].end();
    await until(() => (d.eval("ev") as string[]).includes("a:close"), "event a:close on the device");
    expect(d.eval("ev")).toEqual(["a:connect", "a:end", "a:close"]);
    d.eval(`ev = []; watch(require("net").connect({ host: "127.0.0.1", port: ${srv.port} }), "b");`);
    await until(() => (d.eval("ev") as string[]).includes("b:connect"), "event b:connect on the device");
    expect(d.stats().sockets).toBe(1);
    d.faults.resetSockets();
    await until(() => (d.eval("ev") as string[]).includes("b:close"), "event b:close on the device");
    expect(d.eval("ev")).toEqual(["b:connect", `b:error:${SOCKET_ERRORS.RESET.code}:${SOCKET_ERRORS.RESET.message}`, "b:close"]);
    expect(d.stats().sockets).toBe(0);
  });

  test("a refused connection is an error then close; no WiFi means the connect fails", async () => {
    const srv = await tcpServer();
    const port = srv.port;
    await srv.close(); // nothing listens there now
    const d = await clientDevice(port);
    d.eval(`var ev = []; var s = require("net").connect({ host: "127.0.0.1", port: ${port} });
      s.on("error", function (e) { ev.push("error:" + e.message); }); s.on("close", function () { ev.push("close"); });`);
    await until(() => (d.eval("ev") as string[]).includes("close"), "event close on the device");
    expect(d.eval("ev")).toEqual(["error:connection reset", "close"]);
    const off = await boot();
    off.eval(`var ev = []; var s = require("net").connect({ host: "example.com", port: 80 });
      s.on("error", function (e) { ev.push("error:" + e.message); }); s.on("close", function () { ev.push("close"); });`);
    await until(() => (off.eval("ev") as string[]).includes("close"), "event close on the device");
    expect(off.eval("ev")).toEqual(["error:host not found", "close"]);
  });

  test("stallSockets holds data both ways until released", async () => {
    const srv = await tcpServer();
    servers.push(srv);
    const d = await clientDevice(srv.port);
    d.eval(`var got = ""; var s = require("net").connect({ host: "127.0.0.1", port: ${srv.port} }, function () { console.log("up"); });
      s.on("data", function (x) { got += x; });`);
    await d.waitForLog("up");
    await until(() => srv.conns.length === 1, "one connection at the server");
    d.faults.stallSockets(true);
    d.eval(`s.write("to-server")`);
    srv.conns[0].write("to-device");
    await sleep(100);
    expect(srv.received().length).toBe(0);
    expect(d.eval("got")).toBe("");
    d.faults.stallSockets(false);
    await until(() => d.eval("got") === "to-device" && srv.received().toString() === "to-server", "released data", 8000);
  });

  test("WiFi loss errors and closes every socket", async () => {
    const srv = await tcpServer();
    servers.push(srv);
    const d = await clientDevice(srv.port);
    d.eval(`var ev = []; var s = require("net").connect({ host: "127.0.0.1", port: ${srv.port} }, function () { ev.push("connect"); });
      s.on("error", function (e) { ev.push("error"); }); s.on("close", function () { ev.push("close"); });
      require("Wifi").on("disconnected", function (d) { ev.push("wifi:" + d.reason); });`);
    await until(() => (d.eval("ev") as string[]).includes("connect"), "event connect on the device");
    d.faults.wifiDown();
    await until(() => (d.eval("ev") as string[]).includes("close"), "event close on the device");
    expect(d.eval("ev")).toEqual(["connect", "error", "close", "wifi:beacon_timeout"]);
  });

  test("hosts option maps a name to the loopback server", async () => {
    const srv = await tcpServer((s) => s.write("hello"));
    servers.push(srv);
    const d = await boot({ hosts: { "abc-ats.iot.eu-west-1.amazonaws.com": "127.0.0.1" } });
    d.eval(`require("Wifi").connect("lab", { password: "labpass" }, function () {
      var s = require("net").connect({ host: "abc-ats.iot.eu-west-1.amazonaws.com", port: ${srv.port} });
      s.on("data", function (x) { console.log("got " + x); });
    });`);
    await d.waitForLog("got hello");
  });

  test("tls on esp32 does not verify the certificate and sends no SNI", async () => {
    const selfsigned = require("selfsigned");
    const pems = await selfsigned.generate([{ name: "commonName", value: "localhost" }], { days: 1, keySize: 2048 });
    const srv = await tcpServer((s) => s.write("secure hello \xff"), { key: pems.private, cert: pems.cert });
    servers.push(srv);
    const d = await clientDevice(srv.port, {}, "esp32");
    d.eval(`var got = ""; var s = require("tls").connect({ host: "127.0.0.1", port: ${srv.port} }, function () { s.write("hi"); });
      s.on("data", function (x) { got += x; });`);
    await until(() => (d.eval("got") as string).length > 0, "tls data", 5000);
    expect(d.eval("got")).toBe(Buffer.from("secure hello \xff", "utf8").toString("latin1"));
    expect(srv.sni).toEqual([false]);
    expect(TLS_SNI).toBe("");
    await until(() => srv.received().toString() === "hi", "\"hi\" at the server");
  });
});
