// dist/firmware.js on the Espruino 2v29 interpreter built like an ESP32 (native SHA-256, mbedTLS),
// over wss:// to the stand-in's TLS port (which serves an RSA certificate, as AWS IoT's ATS
// endpoints do to RSA cipher suites); and the firmware's TLS error path against a server it shares
// no cipher with (ECDSA certificate only).
import * as tls from "tls";
import type { AddressInfo } from "net";
import type { Cloud } from "../../sim/cloud";
import { cloudUp, deviceConfig, reported, until } from "../support/e2e";
import { Board, disposeAll, interpDescribe } from "./harness";

const MIN = 60000;

interpDescribe("ESP32 interpreter: the real bundle over TLS", () => {
  let cloud: Cloud;
  beforeAll(async () => {
    cloud = await cloudUp({ httpsPort: 0 });
  }, MIN);
  afterAll(async () => {
    await disposeAll();
    if (cloud) await cloud.stop();
  });

  test("boots, connects over wss:// with native SHA-256 and reports", async () => {
    const thing = "interp-esp32";
    const b = await Board.boot("esp32", await deviceConfig(cloud, thing, { port: cloud.httpsPort, tls: true }));
    await b.waitLog("connected to AWS IoT", 1, 2 * MIN);
    await until(() => reported(cloud, thing).uptime !== undefined, "the first shadow report", MIN);
    expect(b.count(/Uncaught|mbedtls|socket error/)).toBe(0);
  }, 3 * MIN);

  test("a TLS handshake that fails: one plain-word line per attempt, no uncaught error, retried with backoff", async () => {
    const selfsigned = require("selfsigned") as typeof import("selfsigned");
    const pems = await selfsigned.generate([{ name: "commonName", value: "ecdsa only" }], { keyType: "ec", curve: "P-256" } as any);
    let handshakes = 0;
    const server = tls.createServer({ key: pems.private, cert: pems.cert }, (s) => s.destroy());
    server.on("tlsClientError", () => handshakes++);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    try {
      const port = (server.address() as AddressInfo).port;
      const b = await Board.boot("esp32", await deviceConfig(cloud, "interp-tls-fail", { port, tls: true }));
      await until(() => handshakes >= 3, "three refused handshakes", 2 * MIN);
      await b.waitLog(/^\[W\] mqtt: TLS handshake failed$/, 2, MIN);
      expect(b.count(/Uncaught/)).toBe(0);
      expect(b.count(/unsent data/)).toBe(0);
      expect(b.count("connected to AWS IoT")).toBe(0);
    } finally {
      server.close();
    }
  }, 4 * MIN);
});
