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

// Pulse widths in microseconds: a 0 is ~27 us, a 1 ~70 us; outside MinUs..MaxUs a width is not a bit.
const enum Us {
  MinUs = 8,
  OneAbove = 48,
  MaxUs = 110,
}

export function decodeDht(widths: ArrayLike<number>, count: number): DhtReading | string {
  if (count < 40) return count > 0 ? "incomplete (" + count + " of 40 bits)" : "no response";
  // humidity integer and tenths, temperature integer and tenths (bit 7: below zero), checksum
  const bytes = [0, 0, 0, 0, 0];
  for (let bit = 0; bit < 40; bit++) {
    const us = widths[count - 40 + bit];
    if (!(us >= Us.MinUs && us <= Us.MaxUs)) return "bad bit timing";
    bytes[bit >> 3] = bytes[bit >> 3] * 2 + +(us > Us.OneAbove);
  }
  if (((bytes[0] + bytes[1] + bytes[2] + bytes[3]) & 255) != bytes[4]) return "checksum error";
  const humidity = bytes[0] + bytes[1] / 10;
  const temperature = (bytes[3] & 128 ? -1 : 1) * (bytes[2] + (bytes[3] & 127) / 10);
  return humidity > 100 || temperature > 80 || temperature < -40 ? "value out of range" : { t: temperature, h: humidity };
}

// Builds the width list a healthy sensor produces for the given bytes (tests and the simulator docs).
export function encodeDhtWidths(bytes: number[], zeroUs: number, oneUs: number): number[] {
  const out: number[] = [30, 80]; // release high, preamble high
  for (let i = 0; i < 40; i++) out.push((bytes[i >> 3] >> (7 - (i & 7))) & 1 ? oneUs : zeroUs);
  return out;
}
