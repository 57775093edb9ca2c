// Hashes for require("crypto"): binary strings in, binary strings out (the context turns them
// into ArrayBuffers).
import * as nodeCrypto from "crypto";

const ALG: Record<string, string> = { SHA1: "sha1", SHA224: "sha224", SHA256: "sha256", SHA384: "sha384", SHA512: "sha512" };

export function hash(alg: string, data: string): string {
  const a = ALG[alg];
  if (!a) throw new Error("Unknown hash " + alg);
  return nodeCrypto.createHash(a).update(Buffer.from(data, "latin1")).digest().toString("latin1");
}
export function pbkdf2(pass: string, salt: string, iterations: number, keySizeWords: number, hasher: string): string {
  const a = ALG[hasher.toUpperCase()] || "sha1";
  return nodeCrypto.pbkdf2Sync(Buffer.from(pass, "latin1"), Buffer.from(salt, "latin1"), iterations, keySizeWords * 4, a).toString("latin1");
}
