/**
 * Local TLS certificate for the optional HTTPS/WSS listener: self-signed (it is its own CA), for localhost and
 * 127.0.0.1, generated once into <dataDir>/tls/ (key file mode 0600) and reused after that.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";

export interface LocalCert { key: string; cert: string; /** PEM to trust (the certificate itself) */ ca: string; certFile: string }

export async function loadOrCreateCert(dataDir: string, hosts: string[] = []): Promise<LocalCert> {
  const dir = path.join(dataDir, "tls");
  const keyFile = path.join(dir, "server-key.pem");
  const certFile = path.join(dir, "server-cert.pem");
  try {
    const key = fs.readFileSync(keyFile, "utf8");
    const cert = fs.readFileSync(certFile, "utf8");
    if (new X509Certificate(cert).validTo && Date.parse(new X509Certificate(cert).validTo) > Date.now() + 86400000) {
      return { key, cert, ca: cert, certFile };
    }
  } catch { /* generate below */ }
  const selfsigned = require("selfsigned") as typeof import("selfsigned");
  const names = ["localhost", ...hosts.filter((h) => !/^[\d.]+$/.test(h) && h !== "localhost")];
  const ips = ["127.0.0.1", ...hosts.filter((h) => /^[\d.]+$/.test(h) && h !== "127.0.0.1")];
  const now = new Date();
  const pems = await selfsigned.generate([{ name: "commonName", value: "espruino-aws-iot local stand-in" }], {
    keyType: "ec",
    curve: "P-256",
    notBeforeDate: new Date(now.getTime() - 86400000),
    notAfterDate: new Date(now.getTime() + 825 * 86400000),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [...names.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))] },
    ],
  });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(keyFile, pems.private, { mode: 0o600 });
  fs.writeFileSync(certFile, pems.cert);
  return { key: pems.private, cert: pems.cert, ca: pems.cert, certFile };
}
