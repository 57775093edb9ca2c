// The TLS relay only forwards to allowed endpoints. Attack-shaped request heads (look-alike hosts,
// suffix tricks, absolute-form targets, duplicate or odd Host headers, IP literals, non-upgrades)
// are refused before any upstream connection is even attempted; only allowed hosts are dialled, and
// only with a certificate valid for that name. Plus a property: for random Host values, the relay
// dials iff the host is on the allow-list. All on 127.0.0.1.
import * as net from "net";
import * as tls from "tls";
import * as fc from "fast-check";
import { startRelay, Relay, isAllowedHost, parseAllowList } from "../../scripts/relay/relay";

jest.setTimeout(30000);
// eslint-disable-next-line @typescript-eslint/no-var-requires
const selfsigned = require("selfsigned");

const ENDPOINT = "abc123sec-ats.iot.eu-west-1.amazonaws.com";
const SUFFIX = ".iot.us-east-1.amazonaws.com";

async function cert(cn: string, dns: string[]): Promise<{ key: string; cert: string }> {
  const now = Date.now();
  const p = await selfsigned.generate([{ name: "commonName", value: cn }], {
    keyType: "ec", curve: "P-256", notBeforeDate: new Date(now - 86400000), notAfterDate: new Date(now + 86400000),
    extensions: [{ name: "basicConstraints", cA: true }, { name: "keyUsage", digitalSignature: true, keyCertSign: true }, { name: "extKeyUsage", serverAuth: true }, { name: "subjectAltName", altNames: dns.map((value) => ({ type: 2, value })) }],
  });
  return { key: p.private, cert: p.cert };
}

let relay: Relay;
let upstream: tls.Server;
let upPort = 0;
const dialled: string[] = []; // every upstream connection the relay attempted (host:port)
const upstreamConns: string[] = []; // SNI of every TLS connection that reached the endpoint
let good: { key: string; cert: string };

beforeAll(async () => {
  good = await cert("endpoint", [ENDPOINT, "*" + SUFFIX]);
  upstream = tls.createServer({ key: good.key, cert: good.cert }, (s) => {
    upstreamConns.push(String((s as any).servername));
    s.on("error", () => undefined);
    s.once("data", () => s.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"));
  });
  upstream.on("tlsClientError", () => undefined);
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  upPort = (upstream.address() as net.AddressInfo).port;
  relay = await startRelay({
    host: "127.0.0.1", port: 0, allow: [ENDPOINT, "*" + SUFFIX], ca: good.cert, log: () => undefined, headTimeoutMs: 2000, connectTimeoutMs: 3000,
    resolve: (host, port) => {
      dialled.push(host + ":" + port);
      return { host: "127.0.0.1", port: upPort };
    },
  });
});
afterAll(async () => {
  await relay.close();
  await new Promise<void>((r) => upstream.close(() => r()));
});

function send(head: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(relay.port, "127.0.0.1");
    let data = "";
    const t = setTimeout(() => s.destroy(), 4000);
    s.on("error", () => undefined);
    s.on("data", (d) => {
      data += d.toString("latin1");
      if (/\r\n\r\n/.test(data) && /^HTTP\/1\.1 101/.test(data)) s.destroy();
    });
    s.on("close", () => {
      clearTimeout(t);
      resolve(data);
    });
    s.write(head);
  });
}
const upgrade = (host: string, target = "/mqtt?X-Amz-Signature=00") =>
  `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;

test("an allowed endpoint is dialled and relayed (the control case)", async () => {
  const n = dialled.length;
  const r = await send(upgrade(ENDPOINT));
  expect(r).toMatch(/^HTTP\/1\.1 101/);
  expect(dialled.slice(n)).toEqual([ENDPOINT + ":443"]);
  expect(upstreamConns[upstreamConns.length - 1]).toBe(ENDPOINT);
});

const refused: [string, string, RegExp][] = [
  ["an unrelated host", upgrade("evil.example.com"), /^HTTP\/1\.1 403/],
  ["the endpoint as a prefix of another domain", upgrade(ENDPOINT + ".evil.com"), /^HTTP\/1\.1 403/],
  ["a look-alike without the dot", upgrade("evil" + ENDPOINT), /^HTTP\/1\.1 403/],
  ["the bare suffix without a subdomain", upgrade(SUFFIX.slice(1)), /^HTTP\/1\.1 403/],
  ["a suffix host followed by another domain", upgrade("x" + SUFFIX + ".evil.com"), /^HTTP\/1\.1 403/],
  ["an IP literal", upgrade("127.0.0.1"), /^HTTP\/1\.1 403/],
  ["localhost", upgrade("localhost:22"), /^HTTP\/1\.1 403/],
  ["user info before the host", upgrade("evil.com@" + ENDPOINT), /^HTTP\/1\.1 400/],
  ["two Host headers", upgrade(ENDPOINT).replace("\r\nUpgrade", "\r\nHost: evil.example.com\r\nUpgrade"), /^HTTP\/1\.1 400/],
  ["two Host headers, the bad one first", upgrade("evil.example.com").replace("\r\nUpgrade", "\r\nHost: " + ENDPOINT + "\r\nUpgrade"), /^HTTP\/1\.1 400/],
  ["a host with a path", upgrade(ENDPOINT + "/x"), /^HTTP\/1\.1 400/],
  ["no Host header", upgrade(ENDPOINT).replace("Host: " + ENDPOINT + "\r\n", ""), /^HTTP\/1\.1 400/],
  ["not a WebSocket upgrade", `GET /mqtt HTTP/1.1\r\nHost: ${ENDPOINT}\r\n\r\n`, /^HTTP\/1\.1 400/],
  ["CONNECT tunnelling", `CONNECT evil.example.com:443 HTTP/1.1\r\nHost: evil.example.com:443\r\n\r\n`, /^HTTP\/1\.1 (400|403)/],
  ["a non-HTTP first line", "SSH-2.0-OpenSSH_9.6\r\n\r\n", /^HTTP\/1\.1 400/],
  ["a head too long", "GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: " + ENDPOINT + "\r\n\r\n", /^HTTP\/1\.1 431/],
];
test.each(refused)("refused before dialling anything: %s", async (_name, head, status) => {
  const n = dialled.length;
  const u = upstreamConns.length;
  const r = await send(head);
  expect(r).toMatch(status);
  expect(r).toMatch(/relay: /);
  expect(dialled.length).toBe(n);
  expect(upstreamConns.length).toBe(u);
});

test("an absolute-form target naming another host still goes only to the (allowed) Host", async () => {
  const n = dialled.length;
  const r = await send(upgrade(ENDPOINT, "http://evil.example.com/mqtt"));
  expect(r).toMatch(/^HTTP\/1\.1 101/);
  expect(dialled.slice(n)).toEqual([ENDPOINT + ":443"]);
});

test("an allowed name whose endpoint presents a certificate for another name is refused (502)", async () => {
  const other = await cert("other", ["other.example.com"]);
  const bad = tls.createServer({ key: other.key, cert: other.cert }, (s) => s.on("error", () => undefined));
  bad.on("tlsClientError", () => undefined);
  await new Promise<void>((r) => bad.listen(0, "127.0.0.1", () => r()));
  const port = (bad.address() as net.AddressInfo).port;
  const r2 = await startRelay({ host: "127.0.0.1", port: 0, allow: [ENDPOINT], ca: [good.cert, other.cert], log: () => undefined, resolve: () => ({ host: "127.0.0.1", port }) });
  try {
    const s = net.connect(r2.port, "127.0.0.1");
    const data = await new Promise<string>((resolve) => {
      let d = "";
      s.on("error", () => undefined);
      s.on("data", (b) => (d += b.toString("latin1")));
      s.on("close", () => resolve(d));
      s.write(upgrade(ENDPOINT));
    });
    expect(data).toMatch(/^HTTP\/1\.1 502/);
  } finally {
    await r2.close();
    await new Promise<void>((r) => bad.close(() => r()));
  }
});

test("property: for any Host value, the relay dials if and only if the host is allowed", async () => {
  const allow = parseAllowList([ENDPOINT, "*" + SUFFIX]);
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
  const hostArb = fc.oneof(
    fc.constant(ENDPOINT),
    fc.constant(ENDPOINT.toUpperCase()),
    label.map((l) => l + SUFFIX),
    label.map((l) => l + "." + ENDPOINT),
    label.map((l) => ENDPOINT + "." + l),
    label.map((l) => l + SUFFIX.slice(1)),
    fc.domain(),
    fc.ipV4(),
    fc.string({ maxLength: 30 })
  );
  await fc.assert(
    fc.asyncProperty(hostArb, async (host) => {
      fc.pre(!/[\r\n]/.test(host));
      const n = dialled.length;
      const r = await send(upgrade(host));
      const bare = host.trim().toLowerCase().replace(/\.$/, "");
      const allowed = /^[a-z0-9.-]+$/.test(bare) && isAllowedHost(bare, allow);
      // the safety property: anything dialled is allowed, and it is the Host that was sent
      if (dialled.length > n) {
        expect(allowed).toBe(true);
        expect(dialled.slice(n)).toEqual([bare + ":443"]);
        expect(r).toMatch(/^HTTP\/1\.1 101/);
      } else expect(r).toMatch(/^HTTP\/1\.1 4\d\d/);
      if (!allowed) expect(dialled.length).toBe(n);
      // and the well-formed allowed names do get through
      if (host === ENDPOINT || (host.endsWith(SUFFIX) && /^[a-z0-9]/.test(host))) expect(r).toMatch(/^HTTP\/1\.1 101/);
    }),
    { seed: 0x10ad, numRuns: 120, interruptAfterTimeLimit: 15000, markInterruptAsFailure: false }
  );
});
