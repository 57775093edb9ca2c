// npm run presign -- --host H --region R --access-key A --secret S [--token T] [--port P] [--expires N] [--date YYYYMMDDTHHMMSSZ]
// Prints the SigV4-presigned AWS IoT WebSocket URL computed by the firmware's own code
// (firmware/aws/sigv4.ts with the TypeScript SHA-256), to compare with what a device sent when
// AWS answers 403. The secret is never printed; the URL holds the access key id and the token.
// --access-key, --secret and --token fall back to AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN, so the secret need not appear in the shell history.
import { presign, signCache, MqttSignConfig } from "../firmware/aws/sigv4";

const USAGE =
  "usage: npm run presign -- --host H --region R --access-key A --secret S [--token T] [--port P] [--expires N] [--date YYYYMMDDTHHMMSSZ]";
const FLAGS = ["host", "region", "access-key", "secret", "token", "port", "expires", "date"];

function fail(msg: string): never {
  process.stderr.write("presign: " + msg + "\n" + USAGE + "\n");
  process.exit(1);
}

export function parseArgs(argv: string[]): Record<string, string> {
  const a: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === "-h" || k === "--help") {
      process.stdout.write(USAGE + "\n");
      process.exit(0);
    }
    if (!k.startsWith("--") || !FLAGS.includes(k.slice(2))) fail("unknown argument " + JSON.stringify(k));
    const v = argv[i + 1];
    if (v === undefined || (v.startsWith("--") && FLAGS.includes(v.slice(2)))) fail(k + " needs a value");
    a[k.slice(2)] = v;
    i++;
  }
  return a;
}

function num(a: Record<string, string>, k: string): number | undefined {
  if (a[k] === undefined) return undefined;
  if (!/^\d+$/.test(a[k])) fail("--" + k + " must be a whole number, got " + JSON.stringify(a[k]));
  return Number(a[k]);
}

function main(): void {
  const a = parseArgs(process.argv.slice(2));
  const cfg: MqttSignConfig = {
    host: a.host,
    region: a.region,
    akid: a["access-key"] ?? process.env.AWS_ACCESS_KEY_ID ?? "",
    secret: a.secret ?? process.env.AWS_SECRET_ACCESS_KEY ?? "",
    token: a.token ?? process.env.AWS_SESSION_TOKEN,
    port: num(a, "port"),
    expires: num(a, "expires"),
  };
  for (const k of ["host", "region"]) if (!a[k]) fail("--" + k + " is required");
  if (!cfg.akid) fail("--access-key is required (or AWS_ACCESS_KEY_ID)");
  if (!cfg.secret) fail("--secret is required (or AWS_SECRET_ACCESS_KEY)");
  if (cfg.port !== undefined && (cfg.port < 1 || cfg.port > 65535)) fail("--port must be 1..65535");
  if (cfg.expires !== undefined && (cfg.expires < 1 || cfg.expires > 604800)) fail("--expires must be 1..604800 seconds");
  if (a.date !== undefined && !/^\d{8}T\d{6}Z$/.test(a.date)) fail("--date must be YYYYMMDDTHHMMSSZ, got " + JSON.stringify(a.date));
  // the firmware's own signer (TypeScript SHA-256); the device's clock guard is not applied
  process.stdout.write(presign(signCache(), cfg, a.date ?? Math.floor(Date.now() / 1000)) + "\n");
}

if (require.main === module) main();
