// Clock helpers. Pure: no Espruino globals.
// Espruino has no Date.UTC (and getUTC* only after 2v29), so civil dates are converted by hand.

export const CLOCK_VALID = 1704067200; // 2024-01-01T00:00:00Z: no signing before this

const MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec";

// "Sun, 06 Nov 1994 08:49:37 GMT" -> epoch seconds, or NaN when it is not an RFC 1123 date.
export function parseHttpDate(s: string): number {
  if (typeof s !== "string") return NaN;
  const p = s.trim().split(" ");
  if (p.length < 5) return NaN;
  const d = parseInt(p[1], 10);
  const mi = MONTHS.indexOf(p[2]);
  const y = parseInt(p[3], 10);
  const hms = p[4].split(":");
  if (mi < 0 || mi % 3 || hms.length !== 3 || !(d >= 1 && d <= 31) || !(y >= 1970)) return NaN;
  const h = parseInt(hms[0], 10);
  const mn = parseInt(hms[1], 10);
  const sec = parseInt(hms[2], 10);
  if (!(h >= 0 && h < 24 && mn >= 0 && mn < 60 && sec >= 0 && sec <= 60)) return NaN;
  // days since 1970-01-01 of the proleptic Gregorian date (inlined: a function costs variables)
  const m = mi / 3 + 1;
  const yy = y - (m <= 2 ? 1 : 0);
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const days = era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
  return days * 86400 + h * 3600 + mn * 60 + sec;
}
