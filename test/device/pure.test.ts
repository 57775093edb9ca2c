// Unit tests (vectors) for the device's pure modules: the DHT11 decoder and the compact
// configuration check. (The 403's Date is read with Date.parse, which Espruino 2v29 has: the
// clock-skew correction is covered end to end in e2e-faults and resilience/faults-cloud.)
import { decodeDht, encodeDhtWidths } from "../../firmware/sensors/dht11-decode";
import { checkConfig, fixConfig } from "../../firmware/config/config";

describe("DHT11 bit decoder", () => {
  const dec = (w: number[]) => decodeDht(w, w.length);

  test("decodes 40 bits after the release and preamble pulses", () => {
    // 55 % RH, 23.4 C: 55, 0, 23, 4, checksum 82
    expect(dec(encodeDhtWidths([55, 0, 23, 4, 82], 27, 70))).toEqual({ t: 23.4, h: 55 });
    // only the 40 bits (the watch missed the first edges)
    expect(dec(encodeDhtWidths([40, 0, 21, 0, 61], 26, 72).slice(2))).toEqual({ t: 21, h: 40 });
  });

  test("tolerates timing jitter around 27/70 us", () => {
    const w = encodeDhtWidths([30, 0, 25, 0, 55], 20, 60);
    w[10] += 10; // a zero at 30 us
    expect(dec(w)).toEqual({ t: 25, h: 30 });
  });

  test("negative temperatures (sign bit of the decimal byte)", () => {
    expect(dec(encodeDhtWidths([20, 0, 5, 0x83, (20 + 5 + 0x83) & 255], 27, 70))).toEqual({ t: -5.3, h: 20 });
  });

  test("missing sensor: no edges at all", () => {
    expect(dec([])).toBe("no response");
  });

  test("checksum error", () => {
    expect(dec(encodeDhtWidths([55, 0, 23, 4, 83], 27, 70))).toBe("checksum error");
  });

  test("incomplete and noisy frames", () => {
    expect(dec(encodeDhtWidths([55, 0, 23, 4, 82], 27, 70).slice(0, 20))).toBe("incomplete (20 of 40 bits)");
    const w = encodeDhtWidths([55, 0, 23, 4, 82], 27, 70);
    w[20] = 400;
    expect(dec(w)).toBe("bad bit timing");
    w[20] = 2;
    expect(dec(w)).toBe("bad bit timing");
  });

  test("implausible values are refused", () => {
    expect(dec(encodeDhtWidths([200, 0, 23, 0, 223], 27, 70))).toBe("value out of range");
  });

  test("accepts a typed array and a count smaller than its length", () => {
    const src = encodeDhtWidths([55, 0, 23, 4, 82], 27, 70);
    const u = new Uint8Array(60);
    src.forEach((v, i) => (u[i] = v));
    expect(decodeDht(u, src.length)).toEqual({ t: 23.4, h: 55 });
  });
});

describe("device configuration check (iot.json)", () => {
  const good = { ssid: "lab", pass: "", host: "h.example", region: "eu-west-1", akid: "AKIA", secret: "s", thing: "dev-1" };

  test("a minimal file is usable: every other key has a default on the device", () => {
    expect(checkConfig(good)).toBe("");
    expect(checkConfig({ ...good, port: 8883, tls: true, ledLow: false, refresh: 5, token: "t", relayHost: "r", relayPort: 1 })).toBe("");
  });

  test("missing file, missing keys, a bad thing name: all said in plain words at once", () => {
    expect(checkConfig(undefined)).toBe("missing or not JSON");
    expect(checkConfig(null)).toBe("missing or not JSON"); // what readJSON gives for a file that is not JSON
    expect(checkConfig({ ssid: "lab", thing: "bad name!", host: "", akid: "" }).split("; ")).toEqual([
      "host is required",
      "region is required",
      "akid is required",
      "secret is required",
      "thing may contain only A-Z a-z 0-9 : _ -",
    ]);
    expect(checkConfig({ ...good, thing: undefined })).toBe("thing is required");
  });
});

describe("configuration values that bypassed the host tools (fixConfig)", () => {
  test("out of range: clamped, not a number: the default (or dropped), each said in plain words", () => {
    const c: any = { boMin: -1000, life: "abc", keepAlive: "abc", refresh: 0, maxPkt: 1e9, pingTo: NaN, tokenExp: "soon", relayPort: {}, tls: "yes", ledLow: 0, dhtPin: 99 };
    const said = fixConfig(c).split("; ");
    expect(c).toEqual({ boMin: 100, life: 82800, keepAlive: 60, refresh: 1, maxPkt: 65536, pingTo: 10, tokenExp: undefined, relayPort: undefined, tls: false, ledLow: true, dhtPin: 39 });
    expect(said).toEqual([
      "relayPort must be a number 1..65535: using none",
      "dhtPin must be a number 0..39: using 39",
      "refresh must be a number 1..86400: using 1",
      "keepAlive must be a number 1..1200: using 60",
      "boMin must be a number 100..60000: using 100",
      "life must be a number 10..86400: using 82800",
      "maxPkt must be a number 512..65536: using 65536",
      "pingTo must be a number 1..600: using 10",
      "tokenExp must be a number 0..10000000000: using none",
      "tls must be true or false: using false",
      "ledLow must be true or false: using true",
    ]);
  });

  test("a valid file is left as it is", () => {
    const c = { ssid: "lab", pass: "", host: "h", region: "r", akid: "a", secret: "s", thing: "t", port: 8883, refresh: 5, keepAlive: 30, boMin: 100, boMax: 1000, life: 3600, tls: true, ledLow: false, tokenExp: 1800000000 };
    const copy = { ...c };
    expect(fixConfig(c)).toBe("");
    expect(c).toEqual(copy);
  });

  test("required keys must be text", () => {
    expect(checkConfig({ ssid: 5, host: "h", region: "r", akid: "a", secret: ["s"], thing: "t" })).toBe("ssid must be text; secret must be text");
  });
});
