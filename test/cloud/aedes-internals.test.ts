/** Fails when an aedes upgrade moves what sim/cloud/aedes-internals.ts relies on. */
import { PassThrough, Duplex } from "node:stream";
import { createBroker } from "aedes";
import type Aedes from "aedes";
import { screenIncomingBytes, screenPackets, filterRetainedDelivery, subscriptionsOf, sentDisconnect, connectedClient, persistenceOf } from "../../sim/cloud/aedes-internals";
import { connectPacket, packet, mqttString } from "./raw";

function pipePair(): { serverSide: Duplex; clientIn: PassThrough; clientOut: PassThrough } {
  const clientIn = new PassThrough(); // bytes the client sends
  const clientOut = new PassThrough(); // bytes the broker sends
  const serverSide = Duplex.from({ readable: clientIn, writable: clientOut });
  return { serverSide, clientIn, clientOut };
}

/** Everything the broker wrote so far; `upTo(n)` waits until n bytes came and returns bytes [0, n). */
function collector(s: PassThrough): { upTo(n: number): Promise<Buffer> } {
  let got = Buffer.alloc(0);
  const waiters: Array<() => void> = [];
  s.on("data", (d: Buffer) => { got = Buffer.concat([got, d]); waiters.splice(0).forEach((w) => w()); });
  return {
    async upTo(n: number) {
      while (got.length < n) await new Promise<void>((r) => waiters.push(r));
      return got.subarray(0, n);
    },
  };
}

let broker: Aedes;
beforeEach(() => { broker = createBroker(); });
afterEach(async () => { await new Promise<void>((r) => broker.close(() => r())); });

test("bytes are screened before the parser, packets before aedes handles them", async () => {
  const { serverSide, clientIn, clientOut } = pipePair();
  const client = broker.handle(serverSide);
  const chunks: number[] = [];
  const cmds: string[] = [];
  screenIncomingBytes(client, (chunk) => { chunks.push(chunk.length); return true; });
  screenPackets(client, (p) => { cmds.push(p.cmd); return p.cmd !== "subscribe"; });
  const out = collector(clientOut);
  clientIn.write(connectPacket({ clientId: "c1" }));
  expect([...(await out.upTo(4))]).toEqual([0x20, 2, 0, 0]);
  expect(connectedClient(broker, "c1")).toBe(client);
  // a SUBSCRIBE the screen drops gets no SUBACK; the PINGREQ after it is answered
  clientIn.write(Buffer.concat([packet(0x82, Buffer.concat([Buffer.from([0, 1]), mqttString("a/b"), Buffer.from([0])])), Buffer.from([0xc0, 0])]));
  expect([...(await out.upTo(6)).subarray(4)]).toEqual([0xd0, 0]);
  expect(cmds).toEqual(["connect", "subscribe", "pingreq"]);
  expect(chunks.length).toBeGreaterThanOrEqual(2);
  expect(subscriptionsOf(client)).toEqual({});
  const gone = new Promise<void>((r) => broker.once("clientDisconnect", () => r()));
  clientIn.write(Buffer.from([0xe0, 0]));
  await gone;
  expect(sentDisconnect(client)).toBe(true);
});

test("a refused chunk never reaches the parser", async () => {
  const { serverSide, clientIn, clientOut } = pipePair();
  const client = broker.handle(serverSide);
  screenIncomingBytes(client, () => false);
  let answered = false;
  clientOut.on("data", () => { answered = true; });
  clientIn.write(connectPacket({ clientId: "c2" }));
  clientIn.write(Buffer.from([0xc0, 0]));
  await new Promise<void>((r) => setImmediate(r));
  await new Promise<void>((r) => setTimeout(r, 0));
  expect(connectedClient(broker, "c2")).toBeUndefined();
  expect(answered).toBe(false);
  client.close();
});

test("the retained-message stream is the one new subscriptions read", async () => {
  const seen: string[][] = [];
  const persistence = persistenceOf(broker);
  const combi = persistence.createRetainedStreamCombi.bind(persistence);
  persistence.createRetainedStreamCombi = (patterns: string[]) => { seen.push(patterns); return combi(patterns); };
  filterRetainedDelivery(broker, (f) => f !== "skip/#");
  const { serverSide, clientIn, clientOut } = pipePair();
  broker.handle(serverSide);
  const out = collector(clientOut);
  clientIn.write(connectPacket({ clientId: "c3" }));
  await out.upTo(4);
  clientIn.write(packet(0x82, Buffer.concat([Buffer.from([0, 2]), mqttString("keep/x"), Buffer.from([0]), mqttString("skip/#"), Buffer.from([0])])));
  await out.upTo(4 + 6); // SUBACK
  expect(seen).toEqual([["keep/x"]]);
});
