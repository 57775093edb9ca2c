// Decoding of the client-to-server packets CONNECT, SUBSCRIBE and UNSUBSCRIBE, for tests and
// tools (a broker side). Pure. Importing this module registers it with the codec's decoder; the
// device never imports it, so its bundle does not carry this code.
import { CONNECT, MqttPacket, SUBSCRIBE, packetName, setServerParser } from "./codec";

let B = "";
let P = 0;
function rd(): string | undefined {
  if (P + 2 > B.length) return undefined;
  const l = (B.charCodeAt(P) << 8) | B.charCodeAt(P + 1);
  if (P + 2 + l > B.length) return undefined;
  const s = B.substr(P + 2, l);
  P += 2 + l;
  return s;
}
function rid(): number {
  const v = (B.charCodeAt(P) << 8) | B.charCodeAt(P + 1);
  P += 2;
  return v;
}

export function parseServerBound(t: number, b: string): MqttPacket | string {
  B = b;
  P = 0;
  const n = b.length;
  const short = packetName(t) + " is truncated";
  if (t == CONNECT) {
    const proto = rd();
    if (proto === undefined || P + 4 > n) return short;
    if (proto != "MQTT" || b.charCodeAt(P) != 4) return "CONNECT is not MQTT 3.1.1";
    const f = b.charCodeAt(P + 1);
    P += 2;
    if (f & 1) return "CONNECT has the reserved flag bit set";
    const c: MqttPacket = { type: t, clean: (f & 2) > 0, keepAlive: rid() };
    c.clientId = rd();
    if (c.clientId === undefined) return short;
    if (f & 4) {
      c.willTopic = rd();
      c.willPayload = rd();
      if (c.willPayload === undefined) return short;
      c.willQos = (f >> 3) & 3;
      c.willRetain = (f & 32) > 0;
    }
    if (f & 128) {
      c.username = rd();
      if (c.username === undefined) return short;
    }
    if (f & 64) {
      c.password = rd();
      if (c.password === undefined) return short;
    }
    if (P != n) return "CONNECT has " + (n - P) + " unexpected trailing bytes";
    return c;
  }
  // SUBSCRIBE / UNSUBSCRIBE
  if (n < 2) return short;
  const s: MqttPacket = { type: t, id: rid(), filters: [] };
  if (t == SUBSCRIBE) s.qoss = [];
  while (P < n) {
    const f = rd();
    if (f === undefined || (t == SUBSCRIBE && P >= n)) return short;
    s.filters!.push(f);
    if (t == SUBSCRIBE) {
      const q = b.charCodeAt(P++);
      if (q > 2) return "SUBSCRIBE has an invalid QoS byte " + q;
      s.qoss!.push(q);
    }
  }
  if (!s.filters!.length) return packetName(t) + " has no topic filter";
  return s;
}

setServerParser(parseServerBound);
