// Unit tests (vectors) for the device's pure modules: DHT11 decoder, HTTP date parser.
import { decodeDht, encodeDhtWidths } from "../../firmware/sensors/dht11-decode";
import { parseHttpDate } from "../../firmware/app/time";

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

describe("HTTP date parser (no Date.UTC on Espruino)", () => {
  test("RFC 1123 vectors", () => {
    expect(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT")).toBe(784111777);
    expect(parseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT")).toBe(0);
    expect(parseHttpDate("Sun, 22 Nov 2026 00:15:51 GMT")).toBe(Date.UTC(2026, 10, 22, 0, 15, 51) / 1000);
    expect(parseHttpDate("Tue, 29 Feb 2028 23:59:59 GMT")).toBe(Date.UTC(2028, 1, 29, 23, 59, 59) / 1000);
  });
  test("matches Date.UTC over many days", () => {
    for (let t = 0; t < 4102444800; t += 86400 * 37 + 3671) {
      expect(parseHttpDate(new Date(t * 1000).toUTCString())).toBe(t);
    }
    expect(parseHttpDate("Wed, 01 Mar 2000 00:00:00 GMT")).toBe(11017 * 86400);
  });
  test("garbage gives NaN", () => {
    ["", "yesterday", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49 GMT", "Sun, 32 Nov 1994 08:49:37 GMT"].forEach((s) =>
      expect(parseHttpDate(s)).toBeNaN(),
    );
    expect(parseHttpDate(undefined as any)).toBeNaN();
  });
});
