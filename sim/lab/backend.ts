// Where the lab's devices connect, and how the lab reads/changes shadows and jobs there:
// - LocalBackend: the local AWS IoT Core stand-in (sim/cloud), started in-process.
// - AwsBackend: a real AWS IoT endpoint. Devices (still simulated) use the keys from .env through an
//   in-process TLS relay on 127.0.0.1 (as an ESP8266 would); the lab itself uses the laptop's own AWS
//   credentials (default AWS SDK chain: AWS_PROFILE, ~/.aws, ...) for shadow and jobs calls.
// Neither ever logs a secret.
import * as path from "path";
import { startCloud, Cloud } from "../cloud";
import type { DeviceConfig } from "../../firmware/config/config";

export interface ExecutionView {
  jobId: string;
  status: string;
  queuedAt?: number;
  lastUpdatedAt?: number;
  operation?: string;
}

export interface JobRequest {
  jobId: string;
  targets: string[]; // thing names or group names
  document: Record<string, unknown>;
  groupTargets?: boolean;
}

export interface Backend {
  kind: "local" | "aws";
  endpoint: string; // host[:port] as the devices sign it
  region: string;
  /** iot.json for one thing (creates the thing and its keys on the stand-in) */
  deviceConfig(thing: string, extra: Partial<DeviceConfig>): Promise<DeviceConfig>;
  createGroup(group: string, things: string[]): Promise<void>;
  /** latest shadow (get/accepted shape) or undefined */
  shadow(thing: string): Promise<any> | any;
  updateDesired(thing: string, desired: Record<string, unknown>): Promise<number | undefined>;
  createJob(req: JobRequest): Promise<void>;
  executions(thing: string): Promise<ExecutionView[]> | ExecutionView[];
  /** online state pushed by the backend (local only); null when only the device logs tell */
  onPresence(cb: (thing: string, online: boolean) => void): void;
  /** how often shadow/jobs are read (ms) */
  pollMs: number;
  stop(): Promise<void>;
  /** the stand-in itself (local only): tests and the benchmark */
  cloud?: Cloud;
}

// ------------------------------------------------------------------ the local stand-in
export async function localBackend(dataDir: string, opts: { port?: number; log?: (l: string) => void } = {}): Promise<Backend> {
  const cloud = await startCloud({ dataDir: path.join(dataDir, "cloud"), port: opts.port ?? 0, log: opts.log });
  const i = cloud.endpoint.lastIndexOf(":");
  const host = cloud.endpoint.slice(0, i);
  const port = Number(cloud.endpoint.slice(i + 1));
  const opCache = new Map<string, string>();
  return {
    kind: "local",
    endpoint: cloud.endpoint,
    region: cloud.region,
    cloud,
    pollMs: 150,
    async deviceConfig(thing, extra) {
      const cr = await cloud.createThing(thing);
      return {
        ssid: "lab",
        pass: "labpass",
        host,
        port,
        region: cloud.region,
        akid: cr.accessKeyId,
        secret: cr.secretAccessKey,
        thing,
        tls: false,
        dhtPin: 5,
        ledPin: 2,
        ledLow: true,
        btnPin: 0,
        refresh: 5,
        keepAlive: 60,
        sntp: "pool.ntp.org",
        boMin: 500,
        boMax: 5000,
        getTo: 5,
        ...extra,
      } as DeviceConfig;
    },
    async createGroup(group, things) {
      cloud.groups.create(group);
      for (const t of things) cloud.groups.addThing(group, t);
    },
    shadow: (thing) => cloud.shadows.get(thing),
    async updateDesired(thing, desired) {
      const r = await cloud.shadows.update(thing, { state: { desired } });
      return r && typeof r.version === "number" ? r.version : undefined;
    },
    async createJob(req) {
      await cloud.jobs.createJob({ jobId: req.jobId, targets: req.targets, document: req.document });
      opCache.set(req.jobId, String(req.document.operation ?? ""));
    },
    executions(thing) {
      return cloud.jobs.listExecutionsForThing(thing).map((e: any) => {
        let op = opCache.get(e.jobId);
        if (op === undefined) {
          const j: any = cloud.jobs.describeJob(e.jobId);
          op = j && j.document && typeof j.document.operation === "string" ? j.document.operation : "";
          opCache.set(e.jobId, op!);
        }
        return { jobId: e.jobId, status: e.status, queuedAt: e.queuedAt, lastUpdatedAt: e.lastUpdatedAt, operation: op };
      });
    },
    onPresence(cb) {
      cloud.on("connect", (id: string) => cb(id, true));
      cloud.on("disconnect", (id: string) => cb(id, false));
    },
    stop: () => cloud.stop(),
  };
}

// ------------------------------------------------------------------ a real AWS IoT endpoint
export async function awsBackend(config: DeviceConfig, log: (l: string) => void): Promise<Backend> {
  const { startRelay } = await import("../../scripts/relay/relay");
  const relay = await startRelay({ host: "127.0.0.1", port: 0, allow: [config.host], log });
  // The SDK's once-per-process notice that its releases after early 2027 need Node 22 is about upgrading
  // package-lock.json, not about this run: the SDK's documented switch keeps it out of the lab's console.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const { IoTDataPlaneClient, GetThingShadowCommand, UpdateThingShadowCommand } = await import("@aws-sdk/client-iot-data-plane");
  const { IoTClient, CreateJobCommand, ListJobExecutionsForThingCommand, DescribeThingCommand, DescribeThingGroupCommand } = await import("@aws-sdk/client-iot");
  const region = config.region;
  const data = new IoTDataPlaneClient({ region, endpoint: "https://" + config.host });
  const iot = new IoTClient({ region });
  const arns = new Map<string, string>();
  const shadows = new Map<string, any>();
  const execs = new Map<string, ExecutionView[]>();
  const ops = new Map<string, string>();
  const warned = new Set<string>();
  const warn = (what: string, e: any) => {
    const m = what + ": " + (e && e.name ? e.name + " " : "") + (e && e.message ? e.message : String(e));
    if (!warned.has(m)) log(m + " (the lab uses your own AWS credentials for shadow and jobs calls)");
    warned.add(m);
  };
  const thingArn = async (thing: string) => {
    if (!arns.has(thing)) arns.set(thing, (await iot.send(new DescribeThingCommand({ thingName: thing }))).thingArn!);
    return arns.get(thing)!;
  };
  const groupArn = async (group: string) => {
    const k = "group:" + group;
    if (!arns.has(k)) arns.set(k, (await iot.send(new DescribeThingGroupCommand({ thingGroupName: group }))).thingGroupArn!);
    return arns.get(k)!;
  };
  const refreshThing = async (thing: string) => {
    try {
      const r = await data.send(new GetThingShadowCommand({ thingName: thing }));
      shadows.set(thing, JSON.parse(Buffer.from(r.payload as Uint8Array).toString("utf8")));
    } catch (e: any) {
      if (e && e.name === "ResourceNotFoundException") shadows.delete(thing);
      else warn("reading the shadow of " + thing, e);
    }
    try {
      const r = await iot.send(new ListJobExecutionsForThingCommand({ thingName: thing, maxResults: 10 }));
      execs.set(
        thing,
        (r.executionSummaries || []).map((s) => ({
          jobId: s.jobId!,
          status: String(s.jobExecutionSummary?.status ?? ""),
          queuedAt: s.jobExecutionSummary?.queuedAt ? s.jobExecutionSummary.queuedAt.getTime() / 1000 : undefined,
          lastUpdatedAt: s.jobExecutionSummary?.lastUpdatedAt ? s.jobExecutionSummary.lastUpdatedAt.getTime() / 1000 : undefined,
          operation: ops.get(s.jobId!),
        })),
      );
    } catch (e) {
      warn("listing the jobs of " + thing, e);
    }
  };
  const things = new Set<string>();
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    Promise.all([...things].map(refreshThing)).finally(() => (polling = false));
  }, 3000);
  return {
    kind: "aws",
    endpoint: config.host + (config.port && config.port !== 443 ? ":" + config.port : ""),
    region,
    pollMs: 500,
    async deviceConfig(thing, extra) {
      things.add(thing);
      void refreshThing(thing);
      // plain WebSocket to the in-process relay, which holds the verified TLS connection to AWS
      return { ...config, thing, tls: false, relayHost: "127.0.0.1", relayPort: relay.port, ...extra } as DeviceConfig;
    },
    async createGroup() {
      // nothing is created in your account: `job --group NAME` targets an existing thing group
    },
    shadow: (thing) => shadows.get(thing),
    async updateDesired(thing, desired) {
      const r = await data.send(new UpdateThingShadowCommand({ thingName: thing, payload: Buffer.from(JSON.stringify({ state: { desired } })) }));
      const body = JSON.parse(Buffer.from(r.payload as Uint8Array).toString("utf8"));
      setTimeout(() => void refreshThing(thing), 1000);
      return body.version;
    },
    async createJob(req) {
      const targets: string[] = [];
      for (const t of req.targets) targets.push(req.groupTargets ? await groupArn(t) : await thingArn(t));
      await iot.send(new CreateJobCommand({ jobId: req.jobId, targets, document: JSON.stringify(req.document), targetSelection: "SNAPSHOT" }));
      ops.set(req.jobId, String(req.document.operation ?? ""));
    },
    executions: (thing) => execs.get(thing) || [],
    onPresence() {
      /* AWS presence events would need a subscription: the device's own log tells instead */
    },
    async stop() {
      clearInterval(timer);
      data.destroy();
      iot.destroy();
      await relay.close();
    },
  };
}
