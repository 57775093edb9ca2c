// Interoperability: the device's MQTT client runs INSIDE THE BOARD SIMULATOR (fixture firmware
// test/fixtures/mqtt/device.ts) and talks ws:// to aedes and to a real mosquitto; an MQTT.js
// client is the other party. mosquitto is skipped (with a message) only when the binary is
// absent locally; in CI (CI=true) a missing mosquitto fails the suite.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as mqtt from "mqtt";
import { Broker, mosquittoPath, startAedes, startMosquitto } from "./brokers";
import { buildFixture, startFixture, waitEvent } from "./sim-helpers";
import type { DeviceHandle } from "../../sim/board";

jest.setTimeout(60000);

let bundle = "";
let tmp = "";
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mqtt-interop-"));
  bundle = (await buildFixture(tmp)).file;
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

interface Msg {
  topic: string;
  payload: Buffer;
  qos: number;
}
class Peer {
  c: mqtt.MqttClient;
  msgs: Msg[] = [];
  waiters: (() => void)[] = [];
  constructor(url: string, id: string) {
    this.c = mqtt.connect(url, { clientId: id, reconnectPeriod: 200, connectTimeout: 5000 });
    this.c.on("error", () => {});
    this.c.on("message", (topic, payload, p) => {
      this.msgs.push({ topic, payload, qos: p.qos });
      this.waiters.slice().forEach((w) => w());
    });
  }
  async ready(sub: string) {
    if (!this.c.connected) await new Promise((r) => this.c.once("connect", r));
    await this.c.subscribeAsync(sub, { qos: 1 });
  }
  wait(pred: (m: Msg) => boolean, ms = 10000): Promise<Msg> {
    const found = this.msgs.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("MQTT.js peer: no matching message; got " + this.msgs.map((m) => m.topic).join(", "))), ms);
      const w = () => {
        const m = this.msgs.find(pred);
        if (!m) return;
        clearTimeout(t);
        this.waiters.splice(this.waiters.indexOf(w), 1);
        resolve(m);
      };
      this.waiters.push(w);
    });
  }
  pub(topic: string, payload: string | Buffer, qos: 0 | 1) {
    return this.c.publishAsync(topic, payload, { qos });
  }
  end() {
    return this.c.endAsync(true);
  }
}

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

function suite(name: string, start: () => Promise<Broker>) {
  describe(name, () => {
    let broker: Broker;
    let dev: DeviceHandle | null = null;
    let peer: Peer | null = null;
    let n = 0;
    beforeAll(async () => {
      broker = await start();
    });
    afterAll(async () => {
      await broker?.close();
    });
    afterEach(async () => {
      await dev?.stop();
      await peer?.end();
      dev = null;
      peer = null;
    });
    async function setup(extra: object = {}) {
      const thing = `${name}-dev${++n}`;
      peer = new Peer(broker.mqttUrl, `${name}-peer${n}`);
      await peer.ready(`dev/${thing}/out/#`);
      dev = await startFixture(bundle, thing, broker.wsUrl, extra);
      await waitEvent(dev, (e) => e.ev == "connect", 10000, 0); // subscribed
      return { thing, dev, peer, base: `dev/${thing}/` };
    }

    test("subscribe, receive and publish QoS 0 and 1 in both directions (binary payloads)", async () => {
      const { dev, peer, base } = await setup();
      await peer.pub(base + "in/echo", ALL_BYTES, 1);
      const e1 = await peer.wait((m) => m.topic == base + "out/echo");
      expect(e1.payload.equals(ALL_BYTES)).toBe(true);
      expect(e1.qos).toBe(1);
      await peer.pub(base + "in/echo", Buffer.from("q0\x00\xff", "latin1"), 0);
      const e0 = await peer.wait((m) => m.topic == base + "out/echo" && m.qos == 0);
      expect(e0.payload.toString("latin1")).toBe("q0\x00\xff");
      await peer.pub(base + "in/cmd", JSON.stringify({ pub: { t: "out/q1", p: "m", q: 1, n: 5 } }), 1);
      await peer.pub(base + "in/cmd", JSON.stringify({ pub: { t: "out/q0", p: "z", q: 0, n: 3 } }), 0);
      await peer.wait((m) => m.topic == base + "out/q1" && m.payload.toString() == "m4");
      await peer.wait((m) => m.topic == base + "out/q0" && m.payload.toString() == "z2");
      expect(peer.msgs.filter((m) => m.topic == base + "out/q1").map((m) => [m.payload.toString(), m.qos])).toEqual([["m0", 1], ["m1", 1], ["m2", 1], ["m3", 1], ["m4", 1]]);
      expect(peer.msgs.filter((m) => m.topic == base + "out/q0").map((m) => m.payload.toString())).toEqual(["z0", "z1", "z2"]);
      // a message over the device's 4096-byte limit arrives in slices (at most one per TCP segment of
      // 536 bytes), and the link stays usable
      const from = dev.logs.length;
      await peer.pub(base + "in/big", Buffer.alloc(6000, 65), 1);
      await waitEvent(dev, (e) => e.ev == "msg" && e.t == "in/big" && e.len == 6000 && e.part, 10000, from);
      const parts = dev.logs.slice(from).filter((l) => l.includes('"ev":"part"')).map((l) => JSON.parse(l.slice(l.indexOf("{"))));
      expect(parts.reduce((n, p) => (expect(p.at).toBe(n), n + p.n), 0)).toBe(6000);
      expect(Math.max(...parts.map((p) => p.n))).toBeLessThanOrEqual(536);
      await peer.pub(base + "in/small", "ok", 1);
      await waitEvent(dev, (e) => e.ev == "msg" && e.t == "in/small" && e.len == 2, 10000, 0);
      expect(dev.errors).toEqual([]);
    });

    test("QoS 1 published while the link was cut is delivered after reconnect", async () => {
      const { dev, peer, base } = await setup();
      const from = dev.logs.length;
      dev.faults.wifiDown();
      await waitEvent(dev, (e) => e.ev == "offline", 10000, from);
      // the fixture publishes dev/<thing>/out/offline (QoS 1) from its offline handler: queued
      await waitEvent(dev, (e) => e.ev == "error", 10000, from); // at least one failed attempt while down
      expect(peer.msgs.filter((m) => m.topic == base + "out/offline")).toEqual([]);
      dev.faults.wifiUp();
      await waitEvent(dev, (e) => e.ev == "connect", 15000, from);
      const m = await peer.wait((m) => m.topic == base + "out/offline");
      expect(JSON.parse(m.payload.toString())).toEqual({ n: 1 });
      expect(m.qos).toBe(1);
      // and the subscription was restored
      await peer.pub(base + "in/echo", "after", 1);
      await peer.wait((m) => m.topic == base + "out/echo" && m.payload.toString() == "after");
    });

    test("persistent session (clean: false): QoS 1 sent to the device while it was away arrives after reconnect", async () => {
      const { dev, peer, base } = await setup({ clean: false });
      const from = dev.logs.length;
      dev.faults.wifiDown();
      await waitEvent(dev, (e) => e.ev == "offline", 10000, from);
      await peer.pub(base + "in/while-away", "kept", 1);
      dev.faults.wifiUp();
      expect(await waitEvent(dev, (e) => e.ev == "connect", 15000, from)).toEqual({ ev: "connect", sp: true });
      await waitEvent(dev, (e) => e.ev == "msg" && e.t == "in/while-away" && e.len == 4 && e.q == 1, 10000, from);
    });

    test("a broker restart is survived", async () => {
      const { dev, peer, base } = await setup();
      const from = dev.logs.length;
      await broker.restart();
      await waitEvent(dev, (e) => e.ev == "offline", 10000, from);
      await waitEvent(dev, (e) => e.ev == "connect", 15000, from);
      if (!peer.c.connected) await new Promise((r) => peer.c.once("connect", r));
      await peer.c.subscribeAsync(base + "out/#", { qos: 1 });
      await peer.pub(base + "in/echo", "again", 1);
      await peer.wait((m) => m.topic == base + "out/echo" && m.payload.toString() == "again", 15000);
    });

    test("running out of memory in the socket's data handler (Espruino removes it): the link is dropped within seconds and comes back", async () => {
      const { dev, peer, base } = await setup({ keepAlive: 60 }); // no PINGRESP deadline within the test
      const from = dev.logs.length;
      const t0 = Date.now();
      dev.faults.outOfMemoryInSocketData();
      await peer.pub(base + "in/echo", "lost", 1); // the data event that runs out of memory
      await waitEvent(dev, (e) => e.ev == "error" && e.code == 12, 10000, from); // MqttErrorCode.OutOfMemory
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(dev.logs.slice(from).join("\n")).toContain("Error processing Socket data handler - removing it");
      await waitEvent(dev, (e) => e.ev == "connect", 10000, from);
      await peer.pub(base + "in/echo", "after", 1);
      await peer.wait((m) => m.topic == base + "out/echo" && m.payload.toString() == "after", 10000);
    });

    test("a stalled link is declared dead by the PINGRESP deadline, then reconnects; no timer or socket growth", async () => {
      const { dev, peer, base } = await setup();
      const before = dev.stats();
      for (let i = 0; i < 2; i++) {
        const from = dev.logs.length;
        dev.faults.stallSockets(true);
        const off = await waitEvent(dev, (e) => e.ev == "offline", 15000, from);
        expect(off.why).toBe("no PINGRESP in time: the link is dead");
        dev.faults.stallSockets(false);
        await waitEvent(dev, (e) => e.ev == "connect", 15000, from);
        // the QoS 1 message published from the offline handler arrives
        await peer.wait((m) => m.topic == base + "out/offline" && JSON.parse(m.payload.toString()).n == i + 1, 15000);
      }
      const after = dev.stats();
      expect(after.timers).toBeLessThanOrEqual(before.timers);
      expect(after.sockets).toBeLessThanOrEqual(before.sockets);
      expect(after.listeners).toBeLessThanOrEqual(before.listeners);
      expect(dev.errors).toEqual([]);
    });
  });
}

suite("aedes", () => startAedes());

const mosq = mosquittoPath();
if (mosq) suite("mosquitto", () => startMosquitto(mosq));
else if (process.env.CI === "true") {
  test("mosquitto is installed (required in CI)", () => {
    throw new Error("mosquitto binary not found: CI must install it (apt-get install -y mosquitto, see .ci/run)");
  });
} else {
  test.skip("mosquitto interop: SKIPPED because the mosquitto binary is not installed (apt-get install -y mosquitto)", () => {});
  console.warn("mosquitto interop tests skipped: mosquitto binary not found (apt-get install -y mosquitto)");
}
