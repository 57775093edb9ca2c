// npm run policy: valid IAM JSON, and the same decisions as the stand-in's policy enforcement.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as mqtt from "mqtt";
import { devicePolicy } from "../../scripts/policy";
import { isAllowed, PolicyAction } from "../../sim/cloud/policy";
import { startCloud } from "../../sim/cloud";
import { presignIotUrl } from "../../sim/cloud/sigv4";

const ROOT = path.resolve(__dirname, "..", "..");
const TSX = path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const REGION = "eu-west-1";
const ACCOUNT = "123456789012";

// ---- a small IAM evaluator: Allow/Deny statements, Action and Resource with * and ? wildcards,
// explicit Deny wins, no match = implicit deny. (Conditions and NotAction/NotResource are not used.)
type Statement = { Effect: string; Action: string | string[]; Resource: string | string[] };

function glob(pattern: string, value: string): boolean {
  let re = "^";
  for (const ch of pattern) re += ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[.+^${}()|[\]\\/]/g, "\\$&");
  return new RegExp(re + "$", "s").test(value);
}
const list = (x: string | string[]) => (Array.isArray(x) ? x : [x]);

function iamAllows(policy: { Statement: Statement[] }, action: string, resource: string): boolean {
  let allowed = false;
  for (const st of policy.Statement) {
    const a = list(st.Action).some((p) => glob(p.toLowerCase(), action.toLowerCase())); // actions are case-insensitive
    const r = list(st.Resource).some((p) => glob(p, resource)); // resources are case-sensitive
    if (!a || !r) continue;
    if (st.Effect === "Deny") return false;
    if (st.Effect === "Allow") allowed = true;
  }
  return allowed;
}

const KIND: Record<PolicyAction, string> = { connect: "client", publish: "topic", subscribe: "topicfilter", receive: "topic" };
const arnFor = (action: PolicyAction, name: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:${KIND[action]}/${name}`;

describe("npm run policy", () => {
  it("prints valid IAM policy JSON", () => {
    const r = spawnSync(process.execPath, [TSX, path.join(ROOT, "scripts", "policy.ts"), "--thing", "dev-1", "--region", REGION, "--account", ACCOUNT], { encoding: "utf8" });
    expect(r.status).toBe(0);
    const p = JSON.parse(r.stdout);
    expect(Object.keys(p).sort()).toEqual(["Statement", "Version"]);
    expect(p.Version).toBe("2012-10-17");
    expect(Array.isArray(p.Statement)).toBe(true);
    expect(p.Statement.length).toBeGreaterThan(0);
    const sids = new Set<string>();
    for (const st of p.Statement) {
      expect(["Allow", "Deny"]).toContain(st.Effect);
      expect(Object.keys(st).every((k) => ["Sid", "Effect", "Action", "Resource"].includes(k))).toBe(true);
      if (st.Sid !== undefined) {
        expect(st.Sid).toMatch(/^[A-Za-z0-9]+$/); // IAM: Sid is alphanumeric
        expect(sids.has(st.Sid)).toBe(false);
        sids.add(st.Sid);
      }
      for (const a of list(st.Action)) expect(a).toMatch(/^iot:(Connect|Publish|Subscribe|Receive)$/);
      for (const res of list(st.Resource)) expect(res).toMatch(new RegExp(`^arn:aws:iot:${REGION}:${ACCOUNT}:(client|topic|topicfilter)/\\S+$`));
    }
    // least privilege: nothing but the four data-plane actions, no bare wildcard resource
    expect(JSON.stringify(p)).not.toMatch(/"\*"|iot:\*|:\*"/);
  });

  it("refuses a thing name that could widen the resources", () => {
    const r = spawnSync(process.execPath, [TSX, path.join(ROOT, "scripts", "policy.ts"), "--thing", "dev*"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/thing name/);
    expect(() => devicePolicy({ thing: "a?b" })).toThrow();
  });
});

describe("the printed policy and the stand-in's enforcement agree", () => {
  const THING = "dev-1";
  const policy = devicePolicy({ thing: THING, region: REGION, account: ACCOUNT });
  const topics = [
    "$aws/things/dev-1/shadow/get", "$aws/things/dev-1/shadow/get/accepted", "$aws/things/dev-1/shadow/update",
    "$aws/things/dev-1/shadow/update/delta", "$aws/things/dev-1/shadow/name/cfg/update",
    "$aws/things/dev-1/jobs/notify-next", "$aws/things/dev-1/jobs/$next/get", "$aws/things/dev-1/jobs/job-7/update/accepted",
    "devices/dev-1/events", "devices/dev-1/a/b/c",
    // other things, including names that share a prefix with ours
    "$aws/things/dev-2/shadow/update", "$aws/things/dev-10/shadow/update", "$aws/things/dev-1x/jobs/notify-next",
    "devices/dev-2/events", "devices/dev-10/events",
    // neither
    "$aws/things/dev-1", "devices/dev-1", "dev-1/events", "foo/bar", "$aws/events/presence/connected/dev-1",
    "$aws/rules/some-rule", "$aws/things", "",
  ];
  const filters = topics.concat([
    "$aws/things/dev-1/shadow/#", "$aws/things/dev-1/shadow/+/accepted", "$aws/things/+/shadow/update",
    "$aws/things/#", "#", "+/dev-1/events", "devices/+/events", "devices/dev-1/#",
  ]);
  const clientIds = ["dev-1", "dev-2", "dev-10", "dev-1x", "DEV-1", "admin", ""];

  const table: Array<[PolicyAction, string]> = [];
  clientIds.forEach((c) => table.push(["connect", c]));
  topics.forEach((t) => { table.push(["publish", t]); table.push(["receive", t]); });
  filters.forEach((f) => table.push(["subscribe", f]));

  it.each(table)("%s %j", (action, resource) => {
    const ours = iamAllows(policy, "iot:" + action[0].toUpperCase() + action.slice(1), arnFor(action, resource));
    expect(ours).toBe(isAllowed(action, THING, resource));
  });

  it("allows what the device needs and nothing of another thing", () => {
    const can = (a: PolicyAction, r: string) => iamAllows(policy, "iot:" + a[0].toUpperCase() + a.slice(1), arnFor(a, r));
    expect(can("connect", "dev-1")).toBe(true);
    expect(can("publish", "$aws/things/dev-1/shadow/update")).toBe(true);
    expect(can("subscribe", "$aws/things/dev-1/jobs/notify-next")).toBe(true);
    expect(can("receive", "$aws/things/dev-1/shadow/update/delta")).toBe(true);
    expect(can("publish", "devices/dev-1/events")).toBe(true);
    expect(can("connect", "dev-2")).toBe(false);
    expect(can("subscribe", "$aws/things/+/shadow/update")).toBe(false);
    expect(can("receive", "$aws/things/dev-10/shadow/update/delta")).toBe(false);
  });
});

describe("live: the stand-in refuses exactly what the policy refuses", () => {
  it("connect with another client id, and subscriptions outside the thing's topics", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "policy-test-"));
    const cloud = await startCloud({ dataDir: tmp, port: 0, deniedSubscribe: "suback-failure" });
    const clients: mqtt.MqttClient[] = [];
    try {
      const creds = await cloud.createThing("dev-1");
      const policy = devicePolicy({ thing: "dev-1", region: REGION, account: ACCOUNT });
      const url = () => presignIotUrl({ host: cloud.endpoint, region: cloud.region, accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey });
      const open = (clientId: string) =>
        new Promise<mqtt.MqttClient | Error>((resolve) => {
          const c = mqtt.connect(url(), { clientId, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
          clients.push(c);
          c.once("connect", () => resolve(c));
          c.once("error", (e) => resolve(e));
          c.once("close", () => resolve(new Error("closed")));
        });
      const other = await open("dev-2");
      expect(other instanceof Error).toBe(!iamAllows(policy, "iot:Connect", arnFor("connect", "dev-2")));
      const c = await open("dev-1");
      expect(c instanceof Error).toBe(false);
      const client = c as mqtt.MqttClient;
      const filters = ["$aws/things/dev-1/shadow/update/accepted", "$aws/things/dev-2/shadow/update/accepted", "devices/dev-1/events", "devices/+/events", "$aws/things/dev-1/jobs/notify-next"];
      for (const f of filters) {
        // MQTT.js rejects when the SUBACK return code is 0x80 (failure)
        const ok = await client.subscribeAsync(f, { qos: 1 }).then(
          (granted) => granted[0].qos !== 128,
          (e: Error) => (/Subscribe error/.test(e.message) ? false : Promise.reject(e)),
        );
        expect({ f, ok }).toEqual({ f, ok: iamAllows(policy, "iot:Subscribe", arnFor("subscribe", f)) });
      }
    } finally {
      clients.forEach((c) => c.end(true));
      await cloud.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
