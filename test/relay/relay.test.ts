// The TLS relay (npm run relay): plain WebSocket from the device -> verified TLS to the allowed endpoint.
// Everything listens on 127.0.0.1 with ephemeral ports; certificates come from a local CA the test trusts.
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as tls from "tls";
import WebSocket from "ws";
import * as mqtt from "mqtt";
import { startRelay, Relay, parseRequestHead, parseAllowList, isAllowedHost } from "../../scripts/relay/relay";
import { startCloud } from "../../sim/cloud";
import { presignIotUrl } from "../../sim/cloud/sigv4";
import { startDevice } from "../../sim/board";
import { buildBundle } from "../../scripts/build";
import { until } from "../support/wait";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const selfsigned = require("selfsigned");

async function makeCert(cn: string, dns: string[]): Promise<{ key: string; cert: string }> {
  const now = Date.now();
  const pems = await selfsigned.generate([{ name: "commonName", value: cn }], {
    keyType: "ec",
    curve: "P-256",
    notBeforeDate: new Date(now - 86400000),
    notAfterDate: new Date(now + 7 * 86400000),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: dns.map((value) => ({ type: 2, value })) },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

const ENDPOINT = "abc123test-ats.iot.eu-west-1.amazonaws.com"; // a name only; TCP goes to 127.0.0.1

interface Upstream {
  server: tls.Server;
  port: number;
  conns: tls.TLSSocket[];
  heads: Buffer[];
  snis: string[];
  close(): Promise<void>;
}

// A TLS endpoint that answers a WebSocket-looking upgrade with 101 and then echoes every byte back.
async function startUpstream(cert: { key: string; cert: string }): Promise<Upstream> {
  const conns: tls.TLSSocket[] = [];
  const heads: Buffer[] = [];
  const snis: string[] = [];
  const server = tls.createServer({ key: cert.key, cert: cert.cert }, (s) => {
    conns.push(s);
    snis.push(String((s as any).servername));
    s.on("error", () => undefined);
    let buf = Buffer.alloc(0);
    let upgraded = false;
    s.on("data", (d: Buffer) => {
      if (upgraded) return void s.write(d);
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      heads.push(buf);
      upgraded = true;
      s.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
      const rest = buf.subarray(end + 4);
      if (rest.length) s.write(rest);
    });
  });
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    conns,
    heads,
    snis,
    close: () => new Promise<void>((r) => { conns.forEach((c) => c.destroy()); server.close(() => r()); }),
  };
}

function upgradeHead(host: string, pathAndQuery: string): string {
  return `GET ${pathAndQuery} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n`;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
}

// Reads until the predicate holds on everything received so far (or the socket closes).
function readUntil(s: net.Socket, done: (all: string) => boolean): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    let data = "";
    const check = () => {
      if (done(data)) {
        cleanup();
        resolve({ data, closed: false });
      }
    };
    const onData = (d: Buffer) => { data += d.toString("latin1"); check(); };
    const onClose = () => { cleanup(); resolve({ data, closed: true }); };
    const cleanup = () => { s.removeListener("data", onData); s.removeListener("close", onClose); };
    s.on("data", onData);
    s.on("close", onClose);
    check();
  });
}

const closed = (s: net.Socket): Promise<void> => new Promise((r) => (s.destroyed && s.readyState === "closed" ? r() : s.once("close", () => r())));

let trusted: { key: string; cert: string };
let untrusted: { key: string; cert: string };
let tmp: string;

beforeAll(async () => {
  trusted = await makeCert("local test endpoint", [ENDPOINT, "localhost"]);
  untrusted = await makeCert("someone else", [ENDPOINT]);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "relay-test-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("request head parsing and the allow-list", () => {
  it("takes the host and port from Host and drops the query", () => {
    const r = parseRequestHead(upgradeHead(ENDPOINT + ":8443", "/mqtt?X-Amz-Signature=abc").slice(0, -4));
    expect(r).toEqual({ method: "GET", path: "/mqtt", hasQuery: true, host: ENDPOINT, port: 8443, upgrade: "websocket" });
    expect((parseRequestHead("GET /mqtt HTTP/1.1\r\nHost: " + ENDPOINT.toUpperCase()) as any).port).toBe(443);
  });
  it("refuses heads without exactly one sensible Host", () => {
    expect(parseRequestHead("GET / HTTP/1.1\r\nUpgrade: websocket")).toBe("no Host header");
    expect(parseRequestHead("GET / HTTP/1.1\r\nHost: a.com\r\nHost: b.com")).toBe("more than one Host header");
    expect(parseRequestHead("GET / HTTP/1.1\r\nHost: a b")).toMatch(/not a host name/);
    expect(parseRequestHead("HELLO")).toMatch(/not HTTP/);
  });
  it("matches exact hosts and dot-suffixes only", () => {
    const allow = parseAllowList([ENDPOINT, "*.iot.us-east-1.amazonaws.com"]);
    expect(isAllowedHost(ENDPOINT.toUpperCase(), allow)).toBe(true);
    expect(isAllowedHost("x-ats.iot.us-east-1.amazonaws.com", allow)).toBe(true);
    expect(isAllowedHost("iot.us-east-1.amazonaws.com", allow)).toBe(false);
    expect(isAllowedHost("evil" + ENDPOINT, allow)).toBe(false);
    expect(isAllowedHost(ENDPOINT + ".evil.com", allow)).toBe(false);
    expect(() => parseAllowList([".com"])).toThrow(/too broad/);
    expect(() => parseAllowList([])).toThrow(/empty/);
  });
});

describe("relay against a local TLS endpoint", () => {
  let up: Upstream;
  let relay: Relay;
  const logs: string[] = [];

  beforeAll(async () => {
    up = await startUpstream(trusted);
    relay = await startRelay({
      host: "127.0.0.1", port: 0, allow: [ENDPOINT], ca: trusted.cert, log: (l) => logs.push(l),
      resolve: (_h, p) => ({ host: "127.0.0.1", port: p }),
    });
  });
  afterAll(async () => {
    await relay.close();
    await up.close();
  });

  it("forwards the head unchanged (query included), sends SNI, and relays both ways", async () => {
    const secretQuery = "/mqtt?X-Amz-Credential=AKIAFAKE%2F20261122&X-Amz-Signature=deadbeefcafe&X-Amz-Security-Token=FAKEtoken%2Bxyz";
    const head = upgradeHead(`${ENDPOINT}:${up.port}`, secretQuery);
    const s = await connect(relay.port);
    s.write(head + "early-bytes"); // bytes right after the head, in the same packet, must be forwarded too
    const r1 = await readUntil(s, (d) => d.includes("early-bytes"));
    expect(r1.data.startsWith("HTTP/1.1 101")).toBe(true);
    const binary = Buffer.from([0x10, 0x00, 0xff, 0x80, 0x7f, 0x0d, 0x0a]);
    s.write(binary);
    const r2 = await readUntil(s, (d) => d.length >= binary.length);
    expect(Buffer.from(r2.data, "latin1")).toEqual(binary);
    expect(up.heads[up.heads.length - 1].toString("latin1")).toBe(head + "early-bytes");
    expect(up.snis[up.snis.length - 1]).toBe(ENDPOINT);
    s.end();
    await closed(s);
    const text = logs.join("\n");
    expect(text).toContain(`-> ${ENDPOINT}:${up.port} GET /mqtt?<query hidden>`);
    expect(text).not.toMatch(/deadbeefcafe|FAKEtoken|AKIAFAKE|X-Amz/);
  });

  it("refuses an endpoint that is not on the allow-list with 403, and never connects to it", async () => {
    const before = up.conns.length;
    const s = await connect(relay.port);
    s.write(upgradeHead(`evil.example.com:${up.port}`, "/mqtt?X-Amz-Signature=1"));
    const r = await readUntil(s, () => false);
    expect(r.closed).toBe(true);
    expect(r.data).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(r.data).toContain("evil.example.com is not on this relay's allow-list");
    expect(up.conns.length).toBe(before);
  });

  it("refuses what is not a WebSocket upgrade", async () => {
    const s = await connect(relay.port);
    s.write(`POST /mqtt HTTP/1.1\r\nHost: ${ENDPOINT}\r\n\r\n`);
    const r = await readUntil(s, () => false);
    expect(r.data).toMatch(/^HTTP\/1\.1 400 /);
    expect(r.data).toContain("only WebSocket upgrades");
  });

  it("closes the endpoint side when the device drops", async () => {
    const s = await connect(relay.port);
    s.write(upgradeHead(`${ENDPOINT}:${up.port}`, "/mqtt"));
    await readUntil(s, (d) => d.includes("\r\n\r\n"));
    const upSock = up.conns[up.conns.length - 1];
    const upClosed = closed(upSock);
    s.destroy(); // the device vanishes (reset, power loss)
    await upClosed;
    expect(upSock.destroyed).toBe(true);
  });

  it("closes the device side when the endpoint drops", async () => {
    const s = await connect(relay.port);
    s.write(upgradeHead(`${ENDPOINT}:${up.port}`, "/mqtt"));
    await readUntil(s, (d) => d.includes("\r\n\r\n"));
    const devClosed = closed(s);
    up.conns[up.conns.length - 1].destroy(); // AWS closes the connection
    await devClosed;
    expect(s.destroyed).toBe(true);
  });

  it("refuses with 431 a head that is too long", async () => {
    const s = await connect(relay.port);
    s.write("GET /" + "a".repeat(9000));
    const r = await readUntil(s, () => false);
    expect(r.data).toMatch(/^HTTP\/1\.1 431 /);
  });
});

describe("relay limits and certificate checks", () => {
  it("answers 502 when the endpoint's certificate is not trusted", async () => {
    const bad = await startUpstream(untrusted);
    const logs: string[] = [];
    const relay = await startRelay({ host: "127.0.0.1", port: 0, allow: [ENDPOINT], ca: trusted.cert, log: (l) => logs.push(l), resolve: (_h, p) => ({ host: "127.0.0.1", port: p }) });
    try {
      const s = await connect(relay.port);
      s.write(upgradeHead(`${ENDPOINT}:${bad.port}`, "/mqtt?X-Amz-Signature=x"));
      const r = await readUntil(s, () => false);
      expect(r.data).toMatch(/^HTTP\/1\.1 502 /);
      expect(r.data).toContain("cannot open a verified TLS connection");
      expect(bad.heads.length).toBe(0); // nothing of the request reached the impostor
    } finally {
      await relay.close();
      await bad.close();
    }
  });

  it("answers 503 beyond the per-address limit, and 408 when the head never comes", async () => {
    const relay = await startRelay({ host: "127.0.0.1", port: 0, allow: [ENDPOINT], maxPerAddress: 1, headTimeoutMs: 200, log: () => undefined });
    try {
      const first = await connect(relay.port); // holds this address's only slot (sends nothing yet)
      const firstDone = readUntil(first, () => false);
      const second = await connect(relay.port);
      const r2 = await readUntil(second, () => false);
      expect(r2.data).toMatch(/^HTTP\/1\.1 503 /);
      expect(r2.data).toContain("from one address");
      const r1 = await firstDone;
      expect(r1.data).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      await relay.close();
    }
  });

  it("connections that send nothing cannot lock a device out: the oldest one waiting for its head gives way", async () => {
    const up = await startUpstream(trusted);
    const logs: string[] = [];
    // head timeout far beyond the test: only giving way can free a slot
    const relay = await startRelay({ host: "127.0.0.1", port: 0, allow: [ENDPOINT], ca: trusted.cert, maxConnections: 3, maxPerAddress: 8, headTimeoutMs: 60000, log: (l) => logs.push(l), resolve: (_h, p) => ({ host: "127.0.0.1", port: p }) });
    try {
      const idle = await Promise.all([0, 1, 2].map(() => connect(relay.port)));
      const idleClosed = idle.map((s) => { s.resume(); return closed(s); });
      await until(() => relay.active() === 3, "the three idle connections to hold every slot");
      const device = await connect(relay.port);
      device.write(upgradeHead(`${ENDPOINT}:${up.port}`, "/mqtt?X-Amz-Signature=x"));
      const r = await readUntil(device, (d) => d.includes("\r\n\r\n"));
      expect(r.data).toMatch(/^HTTP\/1\.1 101 /);
      await idleClosed[0]; // the oldest idle connection made room
      expect(relay.active()).toBe(3);
      expect(logs.some((l) => l.includes("gave way to a new connection"))).toBe(true);
      device.destroy();
      idle.forEach((s) => s.destroy());
    } finally {
      await relay.close();
      await up.close();
    }
  });
});

describe("a device through the relay to the local AWS IoT stand-in over TLS", () => {
  it("connects with a URL signed for the endpoint host, publishes and receives; a host off the allow-list is refused", async () => {
    const cloud = await startCloud({ dataDir: path.join(tmp, "cloud"), port: 0, httpsPort: 0 });
    const logs: string[] = [];
    // The stand-in's certificate covers localhost: that is the endpoint name the device signs.
    const relay = await startRelay({
      host: "127.0.0.1", port: 0, allow: ["localhost"], ca: cloud.ca, log: (l) => logs.push(l),
      resolve: (_h, p) => ({ host: "127.0.0.1", port: p }),
    });
    const clients: mqtt.MqttClient[] = [];
    try {
      const creds = await cloud.createThing("relay-dev");
      const endpointHost = "localhost:" + cloud.httpsPort; // signed Host (port included, as it is not 443)
      const url = presignIotUrl({ host: endpointHost, region: cloud.region, accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, protocol: "ws" });
      // TCP goes to the relay; the URL (and so the Host header) names the endpoint, as on the device.
      const viaRelay = (u: string) => (_ignored: string, protocols: string[]) =>
        new WebSocket(u, protocols, { createConnection: () => net.connect(relay.port, "127.0.0.1") } as any) as any;
      const client = mqtt.connect(url, { clientId: "relay-dev", protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10000, createWebsocket: viaRelay(url) } as any);
      clients.push(client);
      await new Promise<void>((resolve, reject) => {
        client.once("connect", () => resolve());
        client.once("error", reject);
      });
      const topic = "devices/relay-dev/events";
      const got = new Promise<string>((resolve) => client.on("message", (t, p) => t === topic && resolve(p.toString())));
      await client.subscribeAsync(topic, { qos: 1 });
      await client.publishAsync(topic, JSON.stringify({ btnCount: 1 }), { qos: 1 });
      expect(JSON.parse(await got)).toEqual({ btnCount: 1 });
      expect(logs.join("\n")).toContain(`-> ${endpointHost} GET /mqtt?<query hidden>`); // it really went through the relay
      expect(logs.join("\n")).not.toMatch(/X-Amz-Signature|X-Amz-Credential/);

      // The same device signing for an endpoint the relay does not allow: HTTP 403 from the relay itself.
      const otherUrl = presignIotUrl({ host: "127.0.0.1:" + cloud.httpsPort, region: cloud.region, accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, protocol: "ws" });
      const refused = new Promise<string>((resolve) => {
        const ws = viaRelay(otherUrl)("", ["mqtt"]) as WebSocket;
        ws.on("unexpected-response", (_req: unknown, res: any) => {
          let body = "";
          res.on("data", (d: Buffer) => (body += d));
          res.on("end", () => resolve(res.statusCode + " " + body));
        });
        ws.on("error", () => undefined);
      });
      expect(await refused).toMatch(/^403 relay: 127\.0\.0\.1 is not on this relay's allow-list/);
    } finally {
      clients.forEach((c) => c.end(true));
      await relay.close();
      await cloud.stop();
    }
  });
});

describe("the simulated ESP8266 running the firmware, through the relay, to the stand-in over TLS", () => {
  it("reaches AWS IoT (stand-in) with ws:// to the relay and a URL signed for the endpoint", async () => {
    const bundlePath = path.join(tmp, "firmware.js");
    await buildBundle({ entry: "firmware/main.ts", outfile: bundlePath, sourcemap: false });
    const cloud = await startCloud({ dataDir: path.join(tmp, "cloud-dev"), port: 0, httpsPort: 0 });
    const logs: string[] = [];
    const relay = await startRelay({
      host: "127.0.0.1", port: 0, allow: ["localhost"], ca: cloud.ca, log: (l) => logs.push(l),
      resolve: (_h, p) => ({ host: "127.0.0.1", port: p }),
    });
    let dev: Awaited<ReturnType<typeof startDevice>> | undefined;
    try {
      const creds = await cloud.createThing("esp-relay");
      dev = await startDevice({
        board: "esp8266",
        bundlePath,
        storageDir: path.join(tmp, "dev-storage"),
        name: "esp-relay",
        config: {
          ssid: "lab", pass: "labpass", thing: "esp-relay", region: cloud.region,
          host: "localhost", port: cloud.httpsPort, // what the device signs: localhost:<port>
          relayHost: "relay.lan", relayPort: relay.port, tls: false, // what it connects to: the relay
          akid: creds.accessKeyId, secret: creds.secretAccessKey,
        },
        hosts: { "relay.lan": "127.0.0.1" },
      });
      await dev.waitForLog(/connected to AWS IoT/, 20000);
      const text = logs.join("\n");
      expect(text).toContain(`-> localhost:${cloud.httpsPort} GET /mqtt?<query hidden>`);
      expect(text).not.toContain(creds.secretAccessKey);
      expect(text).not.toMatch(/X-Amz-Signature/);
      // the device's own traffic reached the stand-in: its shadow got a report
      await until(() => { const s = cloud.shadows.get("esp-relay"); return !!(s && s.state && s.state.reported); }, "a reported shadow for esp-relay", 20000);
    } finally {
      if (dev) await dev.stop();
      await relay.close();
      await cloud.stop();
    }
  });
});

