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

export const DHT_ONE_US = 48; // widths above this are a 1 (0 ~ 27 us, 1 ~ 70 us)
const MIN_US = 8; // shorter than this: noise
const MAX_US = 110; // longer than this inside the 40 bits: not a bit

export function decodeDht(w: ArrayLike<number>, n: number): DhtReading | string {
  if (n <= 0) return "no response";
  if (n < 40) return "incomplete (" + n + " of 40 bits)";
  const b = [0, 0, 0, 0, 0];
  const s = n - 40;
  for (let i = 0; i < 40; i++) {
    const us = w[s + i];
    if (!(us >= MIN_US && us <= MAX_US)) return "bad bit timing";
    b[i >> 3] = (b[i >> 3] << 1) | (us > DHT_ONE_US ? 1 : 0);
  }
  if (((b[0] + b[1] + b[2] + b[3]) & 255) !== b[4]) return "checksum error";
  const h = b[0] + b[1] / 10;
  let t = b[2] + (b[3] & 127) / 10;
  if (b[3] & 128) t = -t;
  if (h > 100 || t > 80 || t < -40) return "value out of range";
  return { t: t, h: h };
}

// Builds the width list a healthy sensor produces for the given bytes (tests and the simulator docs).
export function encodeDhtWidths(bytes: number[], zeroUs: number, oneUs: number): number[] {
  const out: number[] = [30, 80]; // release high, preamble high
  for (let i = 0; i < 40; i++) out.push((bytes[i >> 3] >> (7 - (i & 7))) & 1 ? oneUs : zeroUs);
  return out;
}
