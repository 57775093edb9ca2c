// The test proxy itself: a cut must put exactly half of the chosen packet's frame on the wire and
// then the end of the link, whatever else the broker sends in the same chunk or right after it. (Bytes
// forwarded after the half frame make the device read payload bytes as a frame header and fail
// with "ws: bad frame" instead of a socket error: a fault the test did not ask for.)
import * as net from "net";
import { MqttProxy, publishPacket } from "./mqtt-proxy";
import { until } from "../support/wait";

const HEAD = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";

function serverFrame(packet: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x82, packet.length]), packet]); // unmasked binary, < 126 bytes
}

let broker: net.Server;
let proxy: MqttProxy;
let brokerSocket: net.Socket | undefined;
afterEach(async () => {
  brokerSocket?.destroy();
  await proxy?.close();
  await new Promise<void>((r) => broker.close(() => r()));
});

test("cutMidPacket: half of the chosen frame, then a reset; later frames of the same chunk never reach the device", async () => {
  const first = publishPacket("t/cut", "x".repeat(40));
  const later = [publishPacket("t/after", "data after the cut"), publishPacket("t/after2", "more data")];
  broker = net.createServer((s) => {
    brokerSocket = s;
    s.on("error", () => undefined);
    s.once("data", () => {
      // the answer head and three frames in one write: one TCP chunk at the proxy
      s.write(Buffer.concat([Buffer.from(HEAD, "latin1"), serverFrame(first), ...later.map(serverFrame)]));
      // and one more chunk while the half frame may still be in flight
      setImmediate(() => s.writable && s.write(serverFrame(publishPacket("t/next-chunk", "late"))));
    });
  });
  await new Promise<void>((r) => broker.listen(0, "127.0.0.1", () => r()));
  const brokerPort = (broker.address() as net.AddressInfo).port;
  proxy = await MqttProxy.start(() => ({ host: "127.0.0.1", port: brokerPort }));
  proxy.cutMidPacket((p) => p.topic === "t/cut");

  const device = net.connect(proxy.port, "127.0.0.1");
  const received: Buffer[] = [];
  let ended = "";
  device.on("data", (b) => received.push(b));
  device.on("error", (e: NodeJS.ErrnoException) => (ended = e.code || e.message));
  device.on("close", () => (ended = ended || "closed"));
  device.write("GET /mqtt HTTP/1.1\r\nHost: x\r\n\r\n");
  await until(() => ended, "the device's socket to end");

  const wholeFrame = serverFrame(first);
  const expected = Buffer.concat([Buffer.from(HEAD, "latin1"), wholeFrame.subarray(0, wholeFrame.length >> 1)]);
  expect(Buffer.concat(received).toString("latin1")).toBe(expected.toString("latin1"));
  // Node's resetAndDestroy on an accepted socket shows up as a reset or as a plain end, depending on
  // timing; either way the device sees its socket end (the device's log says "socket error" or
  // "socket closed"), never a frame built from bytes behind the cut
  expect(["ECONNRESET", "closed"]).toContain(ended);
});
