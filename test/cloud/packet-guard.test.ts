/** PacketGuard (pure): vectors fed whole and one byte at a time, so a packet split anywhere is judged the same. */
import { PacketGuard } from "../../sim/cloud/packet-guard";
import { connectPacket, publishPacket, remainingLength } from "./raw";

const LIMIT = 1000;

function whole(bytes: Buffer): string | null { return new PacketGuard(LIMIT).check(bytes); }
function byteByByte(bytes: Buffer): string | null {
  const g = new PacketGuard(LIMIT);
  for (let i = 0; i < bytes.length; i++) { const r = g.check(bytes.subarray(i, i + 1)); if (r) return r; }
  return null;
}

const login = connectPacket({ clientId: "dev", username: "AKID", password: "secret" });
const ping = Buffer.from([0xc0, 0]);

test.each([
  ["CONNECT, PUBLISH QoS 0 and 1, PINGREQ", Buffer.concat([login, publishPacket("a/b", "x"), publishPacket("devices/d/caf\u00e9", "y".repeat(900), 1), ping])],
  ["a PUBLISH with an empty payload", Buffer.concat([login, publishPacket("t", "")])],
  ["a packet of exactly the limit", Buffer.concat([login, publishPacket("t", "z".repeat(LIMIT - 3))])],
])("accepts %s, whole or split anywhere", (_what, stream) => {
  expect(whole(stream)).toBeNull();
  expect(byteByByte(stream)).toBeNull();
});

test.each([
  ["a first packet that is not CONNECT", ping, /first packet must be CONNECT/],
  ["one byte over the limit", Buffer.concat([login, publishPacket("t", "z".repeat(LIMIT - 2))]), /declares at least 1001 bytes, over the limit of 1000/],
  ["a Remaining Length of 5 bytes", Buffer.concat([login, Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01])]), /more than 4 bytes/],
  ["a topic length past the packet's end", Buffer.concat([login, Buffer.from([0x30, 4, 0, 9, 0x61, 0x62])]), /runs past the end/],
  ["a topic that is not UTF-8", Buffer.concat([login, publishPacket(Buffer.from([0x61, 0xc3]), "x")]), /not valid UTF-8/],
  ["a topic with U+0000", Buffer.concat([login, publishPacket("a\u0000", "x")]), /U\+0000/],
  ["MQTT 5 AUTH", Buffer.concat([login, Buffer.from([0xf0, 0])]), /packet type 15/],
])("refuses %s, whole or split anywhere", (_what, stream, why) => {
  expect(whole(stream)).toMatch(why);
  expect(byteByByte(stream)).toMatch(why);
});

test("a 256 MB declaration is refused from its first length bytes, before any payload", () => {
  const g = new PacketGuard(LIMIT);
  expect(g.check(login)).toBeNull();
  expect(g.check(Buffer.concat([Buffer.from([0x30]), remainingLength(256 * 1024 * 1024 - 1).subarray(0, 2)]))).toMatch(/over the limit/);
});
