// An independent SigV4 presign of the AWS IoT URL with node:crypto (contract §1), written plainly
// from the contract: the firmware's URL must equal it byte for byte.
import { createHash, createHmac } from "crypto";
import { SignInput, NativeSha } from "../../firmware/aws/sigv4";

export const bin = (s: string) => Buffer.from(s, "latin1");
export const nodeSha = (s: string) => createHash("sha256").update(bin(s)).digest("hex");
// the board's native SHA-256 as the firmware sees it (binary string in and out), here node:crypto
export const NATIVE: NativeSha = (s) => createHash("sha256").update(bin(s)).digest().toString("latin1");

export const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

export function refUrl(r: SignInput, t: string): string {
  const host = r.port && r.port !== 443 ? r.host + ":" + r.port : r.host;
  const path = r.path ?? "/mqtt";
  const scope = t.slice(0, 8) + "/" + r.region + "/" + (r.service ?? "iotdevicegateway") + "/aws4_request";
  const params: [string, string][] = [["X-Amz-Algorithm", "AWS4-HMAC-SHA256"], ["X-Amz-Credential", r.akid + "/" + scope], ["X-Amz-Date", t]];
  if (r.expires) params.push(["X-Amz-Expires", String(r.expires)]);
  params.push(["X-Amz-SignedHeaders", "host"]);
  const query = params.map(([k, v]) => rfc3986(k) + "=" + rfc3986(v)).join("&");
  const creq = [r.method ?? "GET", path, query, "host:" + host, "", "host", nodeSha("")].join("\n");
  const sts = ["AWS4-HMAC-SHA256", t, scope, nodeSha(creq)].join("\n");
  let key = bin("AWS4" + r.secret);
  for (const part of scope.split("/")) key = createHmac("sha256", key).update(bin(part)).digest();
  const sig = createHmac("sha256", key).update(bin(sts)).digest("hex");
  return "wss://" + host + path + "?" + query + "&X-Amz-Signature=" + sig + (r.token ? "&X-Amz-Security-Token=" + rfc3986(r.token) : "");
}
