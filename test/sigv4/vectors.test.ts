// The official presigned-query vectors through the very code the device uses for /mqtt.
import { presign, signCache, SignInput } from "../../firmware/aws/sigv4";
import { NATIVE } from "./ref";
import V from "../fixtures/sigv4/official-vectors.json";

describe("official SigV4 presigned-query vectors", () => {
  for (const v of V.vectors) for (const [how, nat] of [["TypeScript SHA-256", undefined], ["native SHA-256", NATIVE]] as const) {
    test(v.name + " (" + how + ")", () => {
      const r: SignInput = {
        method: v.method,
        host: V.host,
        path: V.path,
        service: V.service,
        region: V.region,
        akid: V.credentials.akid,
        secret: V.credentials.secret,
        token: (v as { token?: string }).token,
        expires: V.expires,
      };
      const url = presign(signCache(nat), r, V.date);
      const q = new URLSearchParams(url.split("?")[1]);
      expect(q.get("X-Amz-Signature")).toBe(v.signature);
      expect(url.startsWith("wss://example.amazonaws.com/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=")).toBe(true);
      if (r.token) {
        // appended after the signature, RFC 3986 encoded, and the only thing after it
        expect(url.endsWith("&X-Amz-Security-Token=" + encodeURIComponent(r.token))).toBe(true);
        expect(q.get("X-Amz-Security-Token")).toBe(r.token);
      } else expect(url).not.toContain("Security-Token");
    });
  }
});
