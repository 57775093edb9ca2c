/** Things, thing groups and credentials, kept in <dataDir>/registry.json and <dataDir>/config.json. */
import { CredentialRecord, CredentialStore, newAccessKey, newSessionCredentials } from "./credentials";
import { JsonStore } from "./store";
import { isValidThingName } from "./shadow/document";

export interface ThingInfo { thingName: string; thingId: string; attributes: Record<string, string>; version: number; createdAt: number }
export interface GroupInfo { groupName: string; groupId: string; things: string[]; createdAt: number }

interface ConfigFile { note: string; region: string; admin: { accessKeyId: string; secretAccessKey: string }; credentials: CredentialRecord[] }
interface RegistryFile { things: ThingInfo[]; groups: GroupInfo[] }

export class RegistryError extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) { super(message); }
}

function sameAttributes(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && a[k] === b[k]);
}

const GROUP_RE = /^[a-zA-Z0-9:_-]{1,128}$/;

export class Registry {
  readonly creds = new CredentialStore();
  readonly things = new Map<string, ThingInfo>();
  readonly groups = new Map<string, GroupInfo>();
  admin!: { accessKeyId: string; secretAccessKey: string };
  private seq = 0;

  constructor(private store: JsonStore, private region: string, private now: () => number) {
    const cfg = store.readFile<ConfigFile>("config.json");
    if (cfg && cfg.admin && cfg.admin.accessKeyId) {
      this.admin = cfg.admin;
      this.creds.add({ ...cfg.admin, thing: null });
      for (const c of cfg.credentials || []) this.creds.add(c);
    } else {
      const a = newAccessKey(null);
      this.admin = { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey };
      this.creds.add(a);
      this.saveConfig();
    }
    const reg = store.readFile<RegistryFile>("registry.json");
    if (reg) {
      for (const t of reg.things || []) this.things.set(t.thingName, t);
      for (const g of reg.groups || []) this.groups.set(g.groupName, g);
    }
  }

  saveConfig(): void {
    const cfg: ConfigFile = {
      note: "Local stand-in credentials for the espruino-aws-iot AWS IoT Core stand-in. Not AWS credentials. Never commit.",
      region: this.region,
      admin: this.admin,
      credentials: this.creds.all(this.now()).filter((c) => c.thing !== null),
    };
    this.store.writeFileSync("config.json", cfg, 0o600);
  }

  saveRegistry(): void {
    this.store.writeFileSync("registry.json", { things: [...this.things.values()], groups: [...this.groups.values()] });
  }

  private id(): string { return (this.now().toString(16) + (this.seq++).toString(16)).padStart(16, "0") + "-local"; }

  /**
   * Creates a thing and its device access key. Idempotent for the same configuration; given attributes that differ
   * from the existing thing's are a conflict (ResourceAlreadyExistsException, as AWS). No attributes: no check.
   */
  createThing(name: string, attributes?: Record<string, string>): { thing: ThingInfo; cred: CredentialRecord } {
    if (!isValidThingName(name)) throw new RegistryError("InvalidRequestException", "Invalid thing name: '" + name + "' (1-128 characters from a-z A-Z 0-9 : _ -)");
    let t = this.things.get(name);
    if (t && attributes !== undefined && !sameAttributes(t.attributes, attributes)) {
      throw new RegistryError("ResourceAlreadyExistsException", "Thing " + name + " already exists with a different configuration", 409);
    }
    if (!t) {
      t = { thingName: name, thingId: this.id(), attributes: attributes || {}, version: 1, createdAt: this.now() };
      this.things.set(name, t);
      this.saveRegistry();
    }
    let cred = this.creds.forThing(name);
    if (!cred) {
      cred = newAccessKey(name);
      this.creds.add(cred);
      this.saveConfig();
    }
    return { thing: t, cred };
  }

  issueSession(thing: string | null, ttlSeconds: number): CredentialRecord {
    if (thing !== null && !this.things.has(thing)) throw new RegistryError("ResourceNotFoundException", "Thing " + thing + " does not exist", 404);
    const c = newSessionCredentials(thing, this.now() + ttlSeconds * 1000);
    this.creds.add(c);
    this.saveConfig();
    return c;
  }

  createGroup(name: string): GroupInfo {
    if (!GROUP_RE.test(name)) throw new RegistryError("InvalidRequestException", "Invalid thing group name: '" + name + "'");
    let g = this.groups.get(name);
    if (!g) {
      g = { groupName: name, groupId: this.id(), things: [], createdAt: this.now() };
      this.groups.set(name, g);
      this.saveRegistry();
    }
    return g;
  }

  addThingToGroup(group: string, thing: string): void {
    const g = this.groups.get(group);
    if (!g) throw new RegistryError("ResourceNotFoundException", "Thing group " + group + " does not exist", 404);
    if (!this.things.has(thing)) throw new RegistryError("ResourceNotFoundException", "Thing " + thing + " does not exist", 404);
    if (g.things.indexOf(thing) < 0) { g.things.push(thing); this.saveRegistry(); }
  }
}
