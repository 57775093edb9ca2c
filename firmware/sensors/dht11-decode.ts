// DHT11 bit decoder. Pure: no I/O, no Espruino globals (jest imports it directly).
// Input: the widths in microseconds of the HIGH pulses that precede each FALLING edge, in order
// (setWatch on falling edges: time - lastTime). After the start pulse the sensor answers with an
// 80 us low / 80 us high preamble, then 40 bits, each a 50 us low plus a high of ~26-28 us (0) or
// ~70 us (1). The last 40 widths are the bits; anything before them is the release/preamble.
// Output: {t, h} or a short error string. Never a number made of garbage.

export interface DhtReading {
  t: number; // degrees C
  h: number; // % RH
}

// Widths above 48 us are a 1 (0 ~ 27 us, 1 ~ 70 us); outside 8..110 us a width is not a bit.
export function decodeDht(w: ArrayLike<number>, n: number): DhtReading | string {
  if (n < 40) return n > 0 ? "incomplete (" + n + " of 40 bits)" : "no response";
  const b = [0, 0, 0, 0, 0];
  for (let i = 0; i < 40; i++) {
    const us = w[n - 40 + i];
    if (!(us >= 8 && us <= 110)) return "bad bit timing";
    b[i >> 3] = b[i >> 3] * 2 + +(us > 48);
  }
  if (((b[0] + b[1] + b[2] + b[3]) & 255) != b[4]) return "checksum error";
  const h = b[0] + b[1] / 10;
  const t = (b[3] & 128 ? -1 : 1) * (b[2] + (b[3] & 127) / 10);
  return h > 100 || t > 80 || t < -40 ? "value out of range" : { t: t, h: h };
}

// Builds the width list a healthy sensor produces for the given bytes (tests and the simulator docs).
export function encodeDhtWidths(bytes: number[], zeroUs: number, oneUs: number): number[] {
  const out: number[] = [30, 80]; // release high, preamble high
  for (let i = 0; i < 40; i++) out.push((bytes[i >> 3] >> (7 - (i & 7))) & 1 ? oneUs : zeroUs);
  return out;
}
