// Differential test against the AWS SDK signer (@smithy/signature-v4 + @aws-crypto/sha256-js):
// >= 200 deterministic random inputs; the session token is left out of the SDK's signing and
// appended afterwards (the AWS IoT rule), exactly as the firmware does.
import { SignatureV4, getCanonicalQuery } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";
import { presign, signCache, SignCache, MqttSignConfig, NativeSha } from "../../firmware/aws/sigv4";
import { NATIVE } from "./ref";
import { prng, pick, randStr } from "./prng";

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const LABEL = "abcdefghijklmnopqrstuvwxyz0123456789";
const REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "eu-central-1", "us-gov-west-1", "cn-north-1", "sa-east-1"];
const EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// The generic request form: the Host (with its port) as the host, method, path and service explicit.
function generic(cfg: MqttSignConfig): MqttSignConfig {
  return { ...cfg, host: cfg.port && cfg.port != 443 ? cfg.host + ":" + cfg.port : cfg.host, port: undefined, method: "GET", path: "/mqtt", service: "iotdevicegateway" };
}

// Exposes the SDK's own canonical-request and string-to-sign builders (protected).
class SdkSigner extends SignatureV4 {
  canonical(req: never, headers: Record<string, string>, payloadHash: string): string {
    return this.createCanonicalRequest(req, headers, payloadHash);
  }
  stringToSign(longDate: string, scope: string, creq: string): Promise<string> {
    return this.createStringToSign(longDate, scope, creq, "AWS4-HMAC-SHA256");
  }
}

// What the SDK produces for the same request, as a URL with the query in the contract's order.
async function sdkPathQuery(cfg: MqttSignConfig, t: number): Promise<string> {
  const req = generic(cfg);
  const signer = new SdkSigner({
    service: "iotdevicegateway",
    region: cfg.region,
    credentials: { accessKeyId: cfg.akid, secretAccessKey: cfg.secret },
    sha256: Sha256,
  });
  const http = { method: "GET", protocol: "wss:", hostname: cfg.host, port: cfg.port, path: "/mqtt", query: {}, headers: { host: req.host } };
  const date = new Date(t * 1000);
  let query: Record<string, string>;
  if (cfg.expires !== undefined) {
    const signed = await signer.presign(http, { signingDate: date, expiresIn: cfg.expires });
    query = signed.query as Record<string, string>;
  } else {
    // presign() always adds X-Amz-Expires; without expiry build the query and let the SDK do
    // the canonical request, string to sign and key derivation.
    const d = date.toISOString();
    const longDate = d.slice(0, 4) + d.slice(5, 7) + d.slice(8, 13) + d.slice(14, 16) + d.slice(17, 19) + "Z";
    const scope = longDate.slice(0, 8) + "/" + cfg.region + "/iotdevicegateway/aws4_request";
    query = {
      "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
      "X-Amz-Credential": cfg.akid + "/" + scope,
      "X-Amz-Date": longDate,
      "X-Amz-SignedHeaders": "host",
    };
    const creq = signer.canonical({ ...http, query } as never, { host: req.host }, EMPTY);
    const sts = await signer.stringToSign(longDate, scope, creq);
    query["X-Amz-Signature"] = await signer.sign(sts, { signingDate: date });
  }
  const sig = query["X-Amz-Signature"];
  const rest = { ...query };
  delete rest["X-Amz-Signature"];
  let out = "wss://" + req.host + "/mqtt?" + getCanonicalQuery({ query: rest } as never) + "&X-Amz-Signature=" + sig;
  if (cfg.token) out += "&X-Amz-Security-Token=" + encodeURIComponent(cfg.token).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
  return out;
}

function randomCase(r: () => number): { cfg: MqttSignConfig; t: number } {
  const region = r() < 0.8 ? pick(r, REGIONS) : randStr(r, 2, "abcdefghij") + "-" + randStr(r, 5, "abcdefghij") + "-" + Math.floor(r() * 9 + 1);
  const host = r() < 0.6
    ? randStr(r, 14, LABEL) + "-ats.iot." + region + ".amazonaws.com"
    : pick(r, ["localhost", "127.0.0.1", "relay.lan", "iot-" + randStr(r, 6, LABEL) + ".example.org"]);
  const port = r() < 0.4 ? undefined : pick(r, [443, 8443, 8080, 1 + Math.floor(r() * 65535)]);
  const cfg: MqttSignConfig = {
    host,
    port,
    region,
    akid: pick(r, ["AKIA", "ASIA"]) + randStr(r, 12 + Math.floor(r() * 9), UPPER),
    secret: randStr(r, 40, B64) + (r() < 0.3 ? "/+=" : ""),
  };
  if (r() < 0.5) cfg.token = randStr(r, Math.floor(r() * 600) + 1, B64) + (r() < 0.2 ? "!*'()~_-." : "");
  if (r() < 0.5) cfg.expires = pick(r, [1, 60, 300, 3600, 86400, 604800, 1 + Math.floor(r() * 604800)]);
  // 2024-01-01 .. ~2036, whole seconds
  const t = 1704067200 + Math.floor(r() * 380000000);
  return { cfg, t };
}

async function run(seed: number, nat: NativeSha | undefined, n: number) {
  const r = prng(seed);
  let cache: SignCache = signCache(nat);
  const seen = { token: 0, expires: 0, port: 0, noPort: 0, slashPlusEq: 0 };
  for (let i = 0; i < n; i++) {
    const c = randomCase(r);
    if (c.cfg.token) seen.token++;
    if (c.cfg.expires !== undefined) seen.expires++;
    if (c.cfg.port && c.cfg.port !== 443) seen.port++;
    else seen.noPort++;
    if (/[/+=]/.test(c.cfg.secret)) seen.slashPlusEq++;
    // mostly a fresh cache; sometimes keep it to exercise reuse and invalidation across inputs
    if (r() < 0.6) cache = signCache(nat);
    // the device config as is (port separate, defaults) ...
    const ours = presign(cache, c.cfg, c.t);
    const sdk = await sdkPathQuery(c.cfg, c.t);
    if (ours !== sdk) throw new Error("mismatch for " + JSON.stringify({ ...c.cfg, secret: "<redacted>" }) + " t=" + c.t + "\nours " + ours + "\nsdk  " + sdk);
    // ... and the generic request form (Host with the port, explicit method/path/service)
    expect(presign(cache, generic(c.cfg), c.t)).toBe(ours);
  }
  // every kind of input really occurred
  for (const k of Object.keys(seen)) expect(seen[k as keyof typeof seen]).toBeGreaterThan(n / 6);
}

describe("differential against @smithy/signature-v4", () => {
  test("250 random inputs, TypeScript SHA-256", async () => {
    await run(42, undefined, 250);
  });
  test("60 random inputs, native-style provider (whole-message SHA-256)", async () => {
    await run(7, NATIVE, 60);
  });
  test("same day reconnects with one cache agree with the SDK", async () => {
    const r = prng(9);
    const c = randomCase(r);
    const cache = signCache();
    const day0 = Math.floor(c.t / 86400) * 86400;
    for (let k = 0; k < 20; k++) {
      const t = day0 + Math.floor(r() * 86400);
      expect(presign(cache, c.cfg, t)).toBe(await sdkPathQuery(c.cfg, t));
    }
  });
});
