/** Local stand-in credentials: admin, per-thing device keys and STS-like session credentials. */
import { randomBytes } from "node:crypto";

export interface CredentialRecord {
  accessKeyId: string;
  secretAccessKey: string;
  /** thing the key is bound to; null = admin */
  thing: string | null;
  sessionToken?: string;
  /** ms epoch; session credentials only */
  expiration?: number;
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function randomId(prefix: string): string {
  const b = randomBytes(16);
  let s = prefix;
  for (let i = 0; i < 16; i++) s += ALNUM[b[i] % 32];
  return s;
}

export function newAccessKey(thing: string | null): CredentialRecord {
  return { accessKeyId: randomId("AKIA"), secretAccessKey: randomBytes(30).toString("base64"), thing };
}

export function newSessionCredentials(thing: string | null, expiration: number): CredentialRecord {
  // the token deliberately contains '/', '+' and '=' so URL encoding mistakes show up
  return {
    accessKeyId: randomId("ASIA"),
    secretAccessKey: randomBytes(30).toString("base64"),
    thing,
    sessionToken: "IQoJb3JpZ2luX2VjE/local+" + randomBytes(96).toString("base64"),
    expiration,
  };
}

export class CredentialStore {
  private byId = new Map<string, CredentialRecord>();

  add(rec: CredentialRecord): void { this.byId.set(rec.accessKeyId, rec); }
  get(accessKeyId: string): CredentialRecord | undefined { return this.byId.get(accessKeyId); }
  forThing(thing: string): CredentialRecord | undefined {
    for (const r of this.byId.values()) if (r.thing === thing && !r.sessionToken) return r;
    return undefined;
  }
  /** Long-term and unexpired session records, for persistence. */
  all(now: number): CredentialRecord[] {
    return [...this.byId.values()].filter((r) => r.expiration === undefined || r.expiration > now);
  }
}
