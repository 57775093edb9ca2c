import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";
import {
  canonicalQuery, canonicalRequest, canonicalUri, sign, stringToSign, EMPTY_SHA256, verifyPresignedGet, presignIotUrl, verifyAuthorizationHeader, sha256Hex,
} from "../../sim/cloud/sigv4";

const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const base: Array<[string, string]> = [
  ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
  ["X-Amz-Credential", "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"],
  ["X-Amz-Date", "20150830T123600Z"],
  ["X-Amz-Expires", "3600"],
  ["X-Amz-SignedHeaders", "host"],
];

function vector(method: string): string {
  const creq = canonicalRequest(method, "/", canonicalQuery(base), [["host", "example.amazonaws.com"]], "host", EMPTY_SHA256);
  return sign(SECRET, "20150830", "us-east-1", "service", stringToSign("20150830T123600Z", "20150830/us-east-1/service/aws4_request", creq));
}

describe("SigV4 (contract vectors)", () => {
  test("get-vanilla-query", () => {
    expect(vector("GET")).toBe("e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d");
  });
  test("post-sts-header-after: token in the URL but not in the canonical query", () => {
    expect(vector("POST")).toBe("2ce6e6d2e0cf2f9d1b55fafec88cd20574c31dc2e7631979f71ba2310083e95b");
  });
  test("canonical URI encodes each segment again, as the SDKs do", () => {
    expect(canonicalUri("/topics/a%2Fb")).toBe("/topics/a%252Fb");
  });
});

describe("verifyPresignedGet", () => {
  const now = Date.UTC(2026, 0, 2, 3, 4, 5);
  const opts = (o: any = {}) => ({ secretFor: (id: string) => (id === "AKIDLOCAL" ? SECRET : undefined), host: "127.0.0.1:8080", region: "us-east-1", service: "iotdevicegateway", now, clockSkewSeconds: 300, ...o });
  const url = (o: any = {}) => new URL(presignIotUrl({ host: "127.0.0.1:8080", region: "us-east-1", accessKeyId: "AKIDLOCAL", secretAccessKey: SECRET, now, ...o }));

  test("accepts our presigned URL and the SDK's own", async () => {
    const u = url({ sessionToken: "tok/+=en" });
    const r = verifyPresignedGet(u.pathname, u.search.slice(1), opts());
    expect(r).toMatchObject({ ok: true, accessKeyId: "AKIDLOCAL", sessionToken: "tok/+=en" });
    const signer = new SignatureV4({ credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: SECRET }, region: "us-east-1", service: "iotdevicegateway", sha256: Sha256 });
    const s = await signer.presign({ method: "GET", protocol: "wss:", hostname: "127.0.0.1", port: 8080, path: "/mqtt", headers: { host: "127.0.0.1:8080" }, query: {} }, { signingDate: new Date(now), expiresIn: 60 });
    const q = Object.entries(s.query!).map(([k, v]) => encodeURIComponent(k) + "=" + encodeURIComponent(String(v))).join("&");
    expect(verifyPresignedGet("/mqtt", q, opts())).toMatchObject({ ok: true });
  });
  test("refuses skew, wrong host, wrong region, unknown key, expiry", () => {
    const u = url();
    const q = u.search.slice(1);
    expect(verifyPresignedGet("/mqtt", q, opts({ now: now + 301000 }))).toMatchObject({ ok: false, status: 403 });
    expect(verifyPresignedGet("/mqtt", q, opts({ now: now + 299000 }))).toMatchObject({ ok: true });
    expect(verifyPresignedGet("/mqtt", q, opts({ host: "127.0.0.1:8081" }))).toMatchObject({ ok: false });
    expect(verifyPresignedGet("/mqtt", q, opts({ region: "eu-west-1" }))).toMatchObject({ ok: false });
    expect(verifyPresignedGet("/mqtt", q, opts({ secretFor: () => undefined }))).toMatchObject({ ok: false });
    const e = url({ expiresSeconds: 60 });
    expect(verifyPresignedGet("/mqtt", e.search.slice(1), opts({ now: now + 61000 }))).toMatchObject({ ok: false, message: expect.stringMatching(/expired/) });
  });
  test("Authorization header as the SDK signs it", async () => {
    const signer = new SignatureV4({ credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: SECRET }, region: "us-east-1", service: "iotdata", sha256: Sha256 });
    const body = '{"state":{}}';
    const s = await signer.sign({ method: "POST", protocol: "http:", hostname: "127.0.0.1", port: 8080, path: "/topics/a%2Fb", headers: { host: "127.0.0.1:8080", "content-type": "application/json" }, query: { qos: "1" }, body }, { signingDate: new Date(now) });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.headers)) headers[k.toLowerCase()] = String(v);
    expect(verifyAuthorizationHeader("POST", "/topics/a%2Fb", "qos=1", headers, Buffer.from(body), opts({ service: "iotdata" }))).toMatchObject({ ok: true });
    expect(verifyAuthorizationHeader("POST", "/topics/a%2Fb", "qos=0", headers, Buffer.from(body), opts({ service: "iotdata" }))).toMatchObject({ ok: false });
    expect(sha256Hex("")).toBe(EMPTY_SHA256);
  });
});
