// MQTT codec: byte-exact vectors against mqtt-packet (the reference), and fast-check properties
// for the streaming decoder (random splits, garbage, PUBLISH over the limit streamed as parts).
import * as fc from "fast-check";
import * as mp from "mqtt-packet";
import {
  CONNACK, CONNECT, DISCONNECT, MqttPacket, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL,
  MqttLimit, PART, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE, mqtt as mqttEnc, mqtt as mqttSay, mqtt as mqttFeed,
} from "../../firmware/mqtt/codec";
import {
  MqttDecoder, MQTT_DISCONNECT, MQTT_PINGREQ, MQTT_PINGRESP,
  connackWords, encodeLength, mqttAck, mqttConnack, mqttConnect, mqttPublish, mqttSuback, mqttSubscribe, mqttUnsubscribe,
} from "../../sim/mqtt/codec-server";

const bin = (b: Buffer) => b.toString("latin1");
const ref = (o: any) => bin(mp.generate(o as any));

function decodeAll(s: string, max = 1 << 20, splits?: number[]): { pk: MqttPacket[]; err: string } {
  const pk: MqttPacket[] = [];
  const d = new MqttDecoder(max, (p) => pk.push(p));
  let err = "";
  let last = 0;
  for (const at of (splits || []).concat([s.length])) {
    if (err) break;
    err = d.feed(s.substring(last, at));
    last = at;
    expect((d.body || "").length).toBeLessThanOrEqual(max);
  }
  return { pk, err };
}
// consecutive PART slices of one message glued back: {type: PART, topic, qos, id, payload, slices, size};
// checks that they are in order (at), the first at 0 and the last ending at size
function glued(pk: MqttPacket[]): any[] {
  const out: any[] = [];
  for (const p of pk) {
    const last = out[out.length - 1];
    if (p.type != PART) out.push(p);
    else if (p.at == 0) out.push({ type: PART, topic: p.topic, qos: p.qos, id: p.id, payload: p.data, slices: 1, size: p.size, open: p.data!.length < p.size! });
    else {
      expect(last && last.type == PART && last.open && last.topic == p.topic && last.size == p.size).toBe(true);
      expect(p.at).toBe(last.payload.length);
      last.payload += p.data;
      last.slices++;
      last.open = last.payload.length < p.size!;
    }
  }
  for (const m of out) if (m.type == PART) {
    expect(m.open).toBe(false);
    delete m.open;
  }
  return out;
}
function one(s: string): MqttPacket {
  const r = decodeAll(s);
  expect(r.err).toBe("");
  expect(r.pk.length).toBe(1);
  return r.pk[0];
}
// parse with mqtt-packet, to check our encoder's output is read back identically by the reference
function refParse(s: string): any[] {
  const out: any[] = [];
  const p = mp.parser({ protocolVersion: 4 });
  p.on("packet", (x: any) => out.push(x));
  p.on("error", (e: any) => out.push({ error: e.message }));
  p.parse(Buffer.from(s, "latin1"));
  return out;
}

describe("encoders are byte-exact with mqtt-packet", () => {
  test("CONNECT: clean/persistent, keep-alive, user name and password", () => {
    expect(mqttConnect("thing-1", 60, true)).toBe(ref({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId: "thing-1", keepalive: 60 }));
    expect(mqttConnect("t", 1200, false, "user", "p\x00\xff")).toBe(
      ref({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: false, clientId: "t", keepalive: 1200, username: "user", password: Buffer.from("p\x00\xff", "latin1") })
    );
    expect(mqttConnect("", 30, true, "u")).toBe(ref({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId: "", keepalive: 30, username: "u" }));
  });
  test("PUBLISH QoS 0/1, dup, retain, binary payload, 2- and 3-byte lengths", () => {
    const big = "x".repeat(20000);
    const bytes = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    for (const [topic, payload, qos, retain, dup, id] of [
      ["a/b", "hello", 0, false, false, 0],
      ["a/b", bytes, 1, true, true, 65535],
      ["$aws/things/x/shadow/update", big, 1, false, false, 7],
      ["t", "", 0, true, false, 0],
    ] as [string, string, number, boolean, boolean, number][]) {
      const o: any = { cmd: "publish", topic, payload: Buffer.from(payload, "latin1"), qos, retain, dup };
      if (qos) o.messageId = id;
      expect(mqttPublish(topic, payload, qos, retain, dup, id)).toBe(ref(o));
    }
  });
  test("acks: PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK", () => {
    expect(mqttAck(PUBACK, 1)).toBe(ref({ cmd: "puback", messageId: 1 }));
    expect(mqttAck(PUBREC, 258)).toBe(ref({ cmd: "pubrec", messageId: 258 }));
    expect(mqttAck(PUBREL, 65535)).toBe(ref({ cmd: "pubrel", messageId: 65535 }));
    expect(mqttAck(PUBCOMP, 9)).toBe(ref({ cmd: "pubcomp", messageId: 9 }));
    expect(mqttAck(UNSUBACK, 10)).toBe(ref({ cmd: "unsuback", messageId: 10 }));
  });
  test("SUBSCRIBE with several filters, UNSUBSCRIBE", () => {
    expect(mqttSubscribe(5, ["a/+", "b/#", "$aws/things/t/shadow/update/delta"], [0, 1, 1])).toBe(
      ref({ cmd: "subscribe", messageId: 5, subscriptions: [{ topic: "a/+", qos: 0 }, { topic: "b/#", qos: 1 }, { topic: "$aws/things/t/shadow/update/delta", qos: 1 }] })
    );
    expect(mqttUnsubscribe(6, ["a/+", "b/#"])).toBe(ref({ cmd: "unsubscribe", messageId: 6, unsubscriptions: ["a/+", "b/#"] }));
  });
  test("PINGREQ, PINGRESP, DISCONNECT, CONNACK, SUBACK", () => {
    expect(MQTT_PINGREQ).toBe(ref({ cmd: "pingreq" }));
    expect(MQTT_PINGRESP).toBe(ref({ cmd: "pingresp" }));
    expect(MQTT_DISCONNECT).toBe(ref({ cmd: "disconnect" }));
    expect(mqttConnack(true, 0)).toBe(ref({ cmd: "connack", sessionPresent: true, returnCode: 0 }));
    expect(mqttConnack(false, 5)).toBe(ref({ cmd: "connack", sessionPresent: false, returnCode: 5 }));
    expect(mqttSuback(3, [0, 1, 0x80])).toBe(ref({ cmd: "suback", messageId: 3, granted: [0, 1, 128] }));
  });
  test("remaining length boundaries", () => {
    const cases: [number, number[]][] = [[0, [0]], [127, [0x7f]], [128, [0x80, 1]], [16383, [0xff, 0x7f]], [16384, [0x80, 0x80, 1]], [2097151, [0xff, 0xff, 0x7f]], [2097152, [0x80, 0x80, 0x80, 1]], [268435455, [0xff, 0xff, 0xff, 0x7f]]];
    for (const [n, b] of cases) expect(encodeLength(n)).toBe(String.fromCharCode(...b));
  });
  test("the reference parser reads our packets back", () => {
    const [c] = refParse(mqttConnect("dev", 45, false, "u", "pw"));
    expect(c).toMatchObject({ cmd: "connect", clientId: "dev", keepalive: 45, clean: false, username: "u" });
    expect(c.password.toString()).toBe("pw");
    const [p] = refParse(mqttPublish("x/y", "\x00\x01\xfe", 1, true, true, 300));
    expect(p).toMatchObject({ cmd: "publish", topic: "x/y", qos: 1, retain: true, dup: true, messageId: 300 });
    expect(bin(p.payload)).toBe("\x00\x01\xfe");
  });
});

describe("decoder reads every packet type (bytes from mqtt-packet)", () => {
  test("CONNACK with return codes in plain words", () => {
    expect(one(ref({ cmd: "connack", sessionPresent: true, returnCode: 0 }))).toEqual({ type: CONNACK, sp: true, rc: 0 });
    const p = one(ref({ cmd: "connack", sessionPresent: false, returnCode: 5 }));
    expect(p.rc).toBe(5);
    expect(connackWords(5)).toBe("not authorized");
    expect(connackWords(4)).toBe("bad user name or password");
    expect(connackWords(9)).toBe("code 9");
  });
  test("PUBLISH QoS 0 and 1 with dup, retain and binary payload", () => {
    const payload = Buffer.from([0, 1, 2, 250, 255]);
    expect(one(ref({ cmd: "publish", topic: "a/b", payload, qos: 1, messageId: 42, dup: true, retain: true }))).toEqual({
      type: PUBLISH, topic: "a/b", payload: "\x00\x01\x02\xfa\xff", qos: 1, id: 42, retain: 1,
    });
    expect(one(ref({ cmd: "publish", topic: "t", payload: Buffer.from("{}"), qos: 0 }))).toEqual({ type: PUBLISH, topic: "t", payload: "{}", qos: 0, retain: 0 });
  });
  test("acks, SUBACK with a failure code, pings, disconnect", () => {
    expect(one(ref({ cmd: "puback", messageId: 7 }))).toEqual({ type: PUBACK, id: 7 });
    expect(one(ref({ cmd: "pubrec", messageId: 8 }))).toEqual({ type: PUBREC, id: 8 });
    expect(one(ref({ cmd: "pubrel", messageId: 9 }))).toEqual({ type: PUBREL, id: 9 });
    expect(one(ref({ cmd: "pubcomp", messageId: 10 }))).toEqual({ type: PUBCOMP, id: 10 });
    expect(one(ref({ cmd: "unsuback", messageId: 11 }))).toEqual({ type: UNSUBACK, id: 11 });
    expect(one(ref({ cmd: "suback", messageId: 12, granted: [1, 128, 0] }))).toEqual({ type: SUBACK, id: 12, codes: "\x01\x80\x00" });
    expect(one(ref({ cmd: "pingreq" }))).toEqual({ type: PINGREQ });
    expect(one(ref({ cmd: "pingresp" }))).toEqual({ type: PINGRESP });
    expect(one(ref({ cmd: "disconnect" }))).toEqual({ type: DISCONNECT });
  });
  test("CONNECT, SUBSCRIBE, UNSUBSCRIBE (server side)", () => {
    expect(one(ref({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId: "c1", keepalive: 30, username: "u", password: Buffer.from("p"), will: { topic: "w", payload: Buffer.from("bye"), qos: 1, retain: true } }))).toEqual({
      type: CONNECT, clean: true, keepAlive: 30, clientId: "c1", username: "u", password: "p", willTopic: "w", willPayload: "bye", willQos: 1, willRetain: true,
    });
    expect(one(ref({ cmd: "subscribe", messageId: 3, subscriptions: [{ topic: "a/#", qos: 1 }, { topic: "+", qos: 0 }] }))).toEqual({ type: SUBSCRIBE, id: 3, filters: ["a/#", "+"], qoss: [1, 0] });
    expect(one(ref({ cmd: "unsubscribe", messageId: 4, unsubscriptions: ["a/#"] }))).toEqual({ type: UNSUBSCRIBE, id: 4, filters: ["a/#"] });
  });
});

describe("decoder rejects malformed input with a clear error", () => {
  const bad: [string, string, RegExp][] = [
    ["reserved type 0", "\x00\x00", /^bad packet header 0$/],
    ["reserved type 15", "\xf0\x00", /^bad packet header 240$/],
    ["remaining length over 4 bytes", "\x30\xff\xff\xff\xff\x01", /^bad remaining length$/],
    ["PUBLISH QoS 3", "\x36\x00", /^bad packet header 54$/],
    ["PUBLISH QoS 2 (not supported)", "\x34\x05\x00\x01a\x00\x01", /^bad packet header 52$/],
    ["SUBSCRIBE without flag 2", "\x80\x00", /^bad packet header 128$/],
    ["PUBACK with flags", "\x41\x02\x00\x01", /^bad packet header 65$/],
    ["CONNACK too long", "\x20\x03\x00\x00\x00", /^bad CONNACK \(3 bytes\)$/],
    ["CONNACK reserved flags", "\x20\x02\x02\x00", /^bad CONNACK \(2 bytes\)$/],
    ["PUBLISH topic longer than packet", "\x30\x03\x00\x05a", /^bad PUBLISH \(3 bytes\)$/],
    ["PUBLISH QoS 1 missing id", "\x32\x03\x00\x01a", /^bad PUBLISH \(3 bytes\)$/],
    ["PUBLISH id 0", "\x32\x05\x00\x01a\x00\x00", /^bad PUBLISH \(5 bytes\)$/],
    ["PUBLISH empty topic", "\x30\x02\x00\x00", /^bad PUBLISH \(2 bytes\)$/],
    ["PUBLISH one byte", "\x30\x01\x00", /^bad PUBLISH \(1 bytes\)$/],
    ["SUBACK bad code", "\x90\x03\x00\x01\x03", /^bad SUBACK \(3 bytes\)$/],
    ["SUBACK without codes", "\x90\x02\x00\x01", /^bad SUBACK \(2 bytes\)$/],
    ["PUBACK too short", "\x40\x01\x00", /^bad PUBACK \(1 bytes\)$/],
    ["PINGRESP with body", "\xd0\x01\x00", /^bad PINGRESP \(1 bytes\)$/],
    ["SUBSCRIBE without filters", "\x82\x02\x00\x01", /no topic filter/],
    ["SUBSCRIBE filter without QoS", "\x82\x05\x00\x01\x00\x01a", /SUBSCRIBE is truncated/],
    ["CONNECT wrong protocol", "\x10\x0c\x00\x04MQTT\x03\x02\x00\x3c\x00\x00", /not MQTT 3.1.1/],
  ];
  test.each(bad)("%s", (_n, bytes, re) => {
    const r = decodeAll(bytes);
    expect(r.err).toMatch(re);
    expect(r.pk).toEqual([]);
  });
  test("after an error the decoder stays failed until reset()", () => {
    const pk: MqttPacket[] = [];
    const d = new MqttDecoder(1000, (p) => pk.push(p));
    expect(d.feed("\x00")).toBe("bad packet header 0");
    expect(d.feed(MQTT_PINGRESP)).toMatch(/after a protocol error: bad packet header 0/);
    d.reset();
    expect(d.feed(MQTT_PINGRESP)).toBe("");
    expect(pk).toEqual([{ type: PINGRESP }]);
  });
});

describe("a PUBLISH over maxPacket streams as parts; anything else over it is a protocol error", () => {
  test("a big QoS 1 PUBLISH comes out as slices, one per chunk, with topic, id and size; the next packet decodes", () => {
    const big = mqttPublish("big/topic", "z".repeat(4990) + "end\x00\xff", 1, false, false, 77);
    const s = big + MQTT_PINGRESP;
    for (const splits of [[], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 100, 4000], Array.from({ length: 5003 }, (_, i) => i + 1)]) {
      const r = decodeAll(s, 1024, splits);
      expect(r.err).toBe("");
      const chunksWithPayload = splits.concat([s.length]).filter((at, k, a) => at > 2 + 2 + 9 + 2 && (k == 0 || a[k - 1] < big.length)).length;
      expect(r.pk.filter((p) => p.type == PART).length).toBeLessThanOrEqual(chunksWithPayload);
      expect(glued(r.pk)).toEqual([{ type: PART, topic: "big/topic", qos: 1, id: 77, payload: "z".repeat(4990) + "end\x00\xff", size: 4995, slices: expect.any(Number) }, { type: PINGRESP }]);
    }
  });
  test("QoS 0, and an empty payload (one empty slice)", () => {
    expect(glued(decodeAll(mqttPublish("t", "q".repeat(300), 0, false, false, 0), 100, [50, 150]).pk)).toEqual([{ type: PART, topic: "t", qos: 0, id: undefined, payload: "q".repeat(300), size: 300, slices: 3 }]);
    // 14 bytes: over a 12-byte limit, while its topic (2 + 10 bytes) fits
    const r = decodeAll(mqttPublish("0123456789", "", 0, false, false, 0), 12);
    expect(r).toEqual({ err: "", pk: [{ type: PART, topic: "0123456789", qos: 0, data: "", at: 0, size: 0 }] });
  });
  test("the topic of a streamed PUBLISH must fit within maxPacket; a QoS 1 one needs a packet id", () => {
    expect(decodeAll(mqttPublish("t".repeat(300), "p".repeat(100), 1, false, false, 5), 200).err).toBe("bad PUBLISH (topic length 300)");
    expect(decodeAll("\x32" + encodeLength(2 + 1 + 2 + 300) + "\x00\x01t\x00\x00" + "p".repeat(300), 200).err).toBe("bad PUBLISH (packet id 0)");
    expect(decodeAll("\x30" + encodeLength(300) + "\x00\x00" + "p".repeat(298), 200).err).toBe("bad PUBLISH (topic length 0)");
  });
  test("any other packet over maxPacket is a protocol error", () => {
    expect(decodeAll(mqttSuback(7, new Array(300).fill(1)), 100)).toEqual({ pk: [], err: "a 305-byte SUBACK (limit 100)" });
  });
  test("a PUBLISH declared longer than AWS IoT can send (128 KB payload, 256-byte topic) is a protocol error at once", () => {
    expect(MqttLimit.AwsPublishBody).toBe(131332);
    const head = (n: number) => "\x32" + encodeLength(n);
    expect(decodeAll(head(131333), 4096).err).toBe("a " + (131333 + 4) + "-byte PUBLISH (AWS IoT sends at most 128 KB)");
    expect(decodeAll(head(268435455), 4096).err).toMatch(/^a 268435460-byte PUBLISH/);
    // the largest AWS can send is streamed
    const r = decodeAll(mqttPublish("a".repeat(256), "x".repeat(131072), 1, false, false, 1), 4096, [4000, 70000]);
    expect(r.err).toBe("");
    expect(glued(r.pk)).toEqual([expect.objectContaining({ type: PART, size: 131072, slices: 3 })]);
  });
});

// ---------------------------------------------------------------- properties

const topicArb = fc.string({ minLength: 1, maxLength: 20, unit: fc.constantFrom("a", "b", "/", "$", "x", "\xc3\xa9") });
const binArb = (max: number) => fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: max }).map((a) => String.fromCharCode(...a));
const packetArb: fc.Arbitrary<string> = fc.oneof(
  fc.record({ t: topicArb, p: binArb(300), q: fc.integer({ min: 0, max: 1 }), r: fc.boolean(), d: fc.boolean(), i: fc.integer({ min: 1, max: 65535 }) }).map((x) =>
    mqttPublish(x.t, x.p, x.q, x.r, x.q ? x.d : false, x.i)
  ),
  fc.integer({ min: 1, max: 65535 }).map((i) => mqttAck(PUBACK, i)),
  fc.integer({ min: 1, max: 65535 }).map((i) => mqttAck(UNSUBACK, i)),
  fc.record({ i: fc.integer({ min: 1, max: 65535 }), c: fc.array(fc.constantFrom(0, 1, 2, 0x80), { minLength: 1, maxLength: 8 }) }).map((x) => mqttSuback(x.i, x.c)),
  fc.record({ sp: fc.boolean(), rc: fc.integer({ min: 0, max: 5 }) }).map((x) => mqttConnack(x.sp, x.rc)),
  fc.constant(MQTT_PINGRESP)
);
const splitsArb = (len: number) => fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, len - 1) }), { maxLength: 30 }).map((a) => a.filter((x) => x < len).sort((x, y) => x - y));

describe("decoder properties", () => {
  test("valid streams split at random points decode to the same packets as the reference", () => {
    fc.assert(
      fc.property(fc.array(packetArb, { minLength: 1, maxLength: 15 }).chain((ps) => fc.tuple(fc.constant(ps), splitsArb(ps.join("").length))), ([ps, splits]) => {
        const s = ps.join("");
        const whole = decodeAll(s);
        const split = decodeAll(s, 1 << 20, splits);
        expect(whole.err).toBe("");
        expect(split.err).toBe("");
        expect(split.pk).toEqual(whole.pk);
        expect(split.pk.length).toBe(ps.length);
        const r = refParse(s);
        expect(r.length).toBe(ps.length);
        r.forEach((x, k) => {
          const p = split.pk[k];
          if (x.cmd == "publish") {
            expect([p.type, p.topic, p.qos, !!p.retain]).toEqual([PUBLISH, bin(Buffer.from(x.topic, "utf8")), x.qos, x.retain]);
            expect(p.payload).toBe(bin(x.payload));
            if (x.qos) expect(p.id).toBe(x.messageId);
          } else if (x.messageId !== undefined) expect(p.id).toBe(x.messageId);
        });
      }),
      { numRuns: 300 }
    );
  });
  test("random garbage yields whole packets or a clear error, never a throw or a hang", () => {
    fc.assert(
      fc.property(binArb(400).chain((g) => fc.tuple(fc.constant(g), splitsArb(g.length))), ([g, splits]) => {
        const r = decodeAll(g, 256, splits);
        expect(typeof r.err).toBe("string");
        if (r.err) expect(r.err.length).toBeGreaterThan(5);
        for (const p of r.pk) expect(typeof p.type).toBe("number");
      }),
      { numRuns: 1000 }
    );
  });
  test("garbage after valid packets: the valid ones come out first", () => {
    fc.assert(
      fc.property(fc.array(packetArb, { maxLength: 5 }), binArb(50), (ps, g) => {
        const r = decodeAll(ps.join("") + g);
        expect(r.pk.slice(0, ps.length)).toEqual(decodeAll(ps.join("")).pk);
      }),
      { numRuns: 200 }
    );
  });
  test("a PUBLISH over the limit streams as parts across any split, the rest decodes, nothing over the limit is held", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(packetArb, fc.record({ n: fc.integer({ min: 200, max: 3000 }), i: fc.integer({ min: 1, max: 65535 }) }).map((x) => mqttPublish("big", "B".repeat(x.n), 1, false, false, x.i))), { minLength: 1, maxLength: 8 })
          .chain((ps) => fc.tuple(fc.constant(ps), splitsArb(ps.join("").length))),
        ([ps, splits]) => {
          const max = 180;
          const r = decodeAll(ps.join(""), max, splits);
          expect(r.err).toBe("");
          const g = glued(r.pk);
          expect(g.length).toBe(ps.length);
          ps.forEach((raw, k) => {
            const whole = one(raw);
            if (raw.length > max) expect(g[k]).toEqual({ type: PART, topic: whole.topic, qos: whole.qos, id: whole.id, payload: whole.payload, size: whole.payload!.length, slices: expect.any(Number) });
            else expect(g[k]).toEqual(whole);
          });
        }
      ),
      { numRuns: 200 }
    );
  });
});

describe("the device's own entry points", () => {
  test("mqttEnc: SUBSCRIBE entries carry their QoS digit; PINGREQ, DISCONNECT", () => {
    expect(mqttEnc(SUBSCRIBE, 0x8001, ["1a/+", "0b"])).toBe(ref({ cmd: "subscribe", messageId: 0x8001, subscriptions: [{ topic: "a/+", qos: 1 }, { topic: "b", qos: 0 }] }));
    expect(mqttEnc(PINGREQ, 0)).toBe(MQTT_PINGREQ);
    expect(mqttEnc(DISCONNECT, 0)).toBe(MQTT_DISCONNECT);
    expect(mqttEnc(UNSUBSCRIBE, 9, ["x"])).toBe(mqttUnsubscribe(9, ["x"]));
  });
  test("mqttSay: packet names, CONNACK codes, topic and filter problems in one family", () => {
    expect([CONNECT, PUBLISH, SUBACK, DISCONNECT, 0, 15].map((t) => mqttSay(t))).toEqual(["CONNECT", "PUBLISH", "SUBACK", "DISCONNECT", "reserved", "reserved"]);
    expect(mqttSay(CONNACK, 1)).toBe("bad protocol version");
    expect(mqttSay("a/b")).toBe("");
    expect(mqttSay("a/+/#", true)).toBe("");
    expect(mqttSay("a/+")).toBe('bad topic "a/+"');
    expect(mqttSay("x".repeat(65536))).toMatch(/^bad topic "x/);
    expect(mqttSay("a/#/b", true)).toBe('bad topic filter "a/#/b"');
  });
  test("the server-bound packets come out raw from mqttFeed (parsed by codec-server only)", () => {
    const got: any[] = [];
    const d: any = { maxPacket: 100, h: 0, t: "T", onData: (t: any, p: any) => got.push([t, p]) };
    expect(mqttFeed(d, mqttSubscribe(3, ["a"], [1]) + MQTT_PINGRESP)).toBe("");
    expect(got).toEqual([["T", { type: SUBSCRIBE, id: 3, body: "\x00\x03\x00\x01a\x01" }], ["T", { type: PINGRESP }]]);
    expect(d.body).toBe(""); // nothing kept between packets
  });
});
