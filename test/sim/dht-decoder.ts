// Reference DHT11 decoder for the tests (deliberately simple, independent of the firmware's).
// Input: the line's edges as the firmware's setWatch saw them, [level, timeSeconds] in order.
// Each bit is the length of a high period: > 50 us means 1. The last 40 high periods are the
// data bits (before them: the host's release gap and the sensor's 80 us preamble).
export interface DhtDecoded {
  ok: boolean;
  error?: "no response" | "too few edges" | "checksum";
  humidity?: number;
  temperature?: number;
  bytes?: number[];
}

export function decodeDht(edges: number[][]): DhtDecoded {
  if (edges.length === 0) return { ok: false, error: "no response" };
  const highs: number[] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    if (edges[i][0] === 1 && edges[i + 1][0] === 0) highs.push(edges[i + 1][1] - edges[i][1]);
  }
  if (highs.length < 41) return { ok: false, error: edges.length <= 2 ? "no response" : "too few edges" };
  const bits = highs.slice(-40).map((d) => (d > 50e-6 ? 1 : 0));
  const bytes: number[] = [];
  for (let b = 0; b < 5; b++) {
    let v = 0;
    for (let i = 0; i < 8; i++) v = (v << 1) | bits[b * 8 + i];
    bytes.push(v);
  }
  if (((bytes[0] + bytes[1] + bytes[2] + bytes[3]) & 255) !== bytes[4]) return { ok: false, error: "checksum", bytes };
  const neg = (bytes[3] & 0x80) !== 0;
  const t = bytes[2] + (bytes[3] & 0x7f) / 10;
  return { ok: true, humidity: bytes[0] + bytes[1] / 10, temperature: neg ? -t : t, bytes };
}
