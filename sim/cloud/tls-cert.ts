/**
 * Local TLS certificates for the optional HTTPS/WSS listener: two self-signed ones (each its own CA),
 * for localhost and 127.0.0.1, generated once into <dataDir>/tls/ (key files mode 0600) and reused.
 * An RSA 2048 one, as AWS IoT's ATS endpoints serve to RSA cipher suites (Espruino's mbedTLS offers
 * only RSA key exchange and signatures, so it has no cipher in common with an ECDSA-only server),
 * and an ECDSA P-256 one that modern clients choose (ECDHE-ECDSA). Node serves both from one
 * listener and picks by what the client offers. `ca` holds both certificates.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";

export interface LocalCert {
  /** the key and certificate PEMs, in the same order: ECDSA P-256, RSA 2048 */
  key: string[];
  cert: string[];
  /** PEMs to trust (the certificates themselves) */
  ca: string;
  certFile: string;
}

const KINDS = [
  { file: "server", name: "ECDSA", opts: { keyType: "ec", curve: "P-256" } },
  { file: "server-rsa", name: "RSA", opts: { keyType: "rsa", keySize: 2048 } },
] as const;

export async function loadOrCreateCert(dataDir: string, hosts: string[] = []): Promise<LocalCert> {
  const dir = path.join(dataDir, "tls");
  const key: string[] = [];
  const cert: string[] = [];
  for (const k of KINDS) {
    const pair = readPair(dir, k.file) || (await createPair(dir, k.file, k.name, k.opts, hosts));
    key.push(pair.key);
    cert.push(pair.cert);
  }
  return { key, cert, ca: cert.map((p) => p.trim() + "\n").join(""), certFile: path.join(dir, "server-cert.pem") };
}

function readPair(dir: string, name: string): { key: string; cert: string } | undefined {
  try {
    const key = fs.readFileSync(path.join(dir, name + "-key.pem"), "utf8");
    const cert = fs.readFileSync(path.join(dir, name + "-cert.pem"), "utf8");
    if (Date.parse(new X509Certificate(cert).validTo) > Date.now() + 86400000) return { key, cert };
  } catch { /* generate */ }
  return undefined;
}

async function createPair(dir: string, name: string, kind: string, keyOpts: Record<string, unknown>, hosts: string[]): Promise<{ key: string; cert: string }> {
  const selfsigned = require("selfsigned") as typeof import("selfsigned");
  const names = ["localhost", ...hosts.filter((h) => !/^[\d.]+$/.test(h) && h !== "localhost")];
  const ips = ["127.0.0.1", ...hosts.filter((h) => /^[\d.]+$/.test(h) && h !== "127.0.0.1")];
  const now = new Date();
  const pems = await selfsigned.generate([{ name: "commonName", value: "espruino-aws-iot local stand-in " + kind }] /* distinct subjects: a client trusting both finds the right issuer */, {
    ...(keyOpts as any),
    notBeforeDate: new Date(now.getTime() - 86400000),
    notAfterDate: new Date(now.getTime() + 825 * 86400000),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [...names.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))] },
    ],
  });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, name + "-key.pem"), pems.private, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, name + "-cert.pem"), pems.cert);
  return { key: pems.private, cert: pems.cert };
}
