/** Public types of the stand-in (the API the simulator, tests and tools code against). */
export interface CloudOptions {
  /** persistence directory (state survives restart) */
  dataDir: string;
  /** bind address, default 127.0.0.1 */
  host?: string;
  /** HTTP/WS port, 0 = ephemeral (default 0) */
  port?: number;
  /** optional HTTPS/WSS port (0 = ephemeral) with a generated local certificate */
  httpsPort?: number;
  /** optional plain MQTT TCP port (username = access key id, password = secret access key) */
  mqttPort?: number;
  /** default "us-east-1" */
  region?: string;
  /** host names (no port) this endpoint serves; a URL signed for another name is refused with 403, as AWS
   *  answers only for its own endpoint. Default: any name, because a local stand-in is reached as 127.0.0.1,
   *  localhost, a LAN address or through a relay. */
  endpointHosts?: string[];
  /** allowed SigV4 clock skew, default 300 s */
  clockSkewSeconds?: number;
  /** SigV4 WebSocket connection lifetime, default 86400 s */
  maxConnectionSeconds?: number;
  /** ms clock, default Date.now */
  now?: () => number;
  /** deliver update/accepted and update/delta in random order */
  shuffleShadowResponses?: boolean;
  /** publish update/delta also after reported-only updates when desired != reported (default true) */
  deltaOnReportedOnly?: boolean;
  /** things to pre-create with device credentials */
  things?: string[];
  /** minimum keep-alive (default 30 s, as AWS); lower only for tests */
  keepAliveMinSeconds?: number;
  /** what a subscription refused by policy gets: "disconnect" (default, AWS with MQTT 3.1.1) or "suback-failure" (0x80) */
  deniedSubscribe?: "disconnect" | "suback-failure";
  /** persistent (clean=false) sessions expire this long after the client disconnects, default 3600 s */
  sessionExpirySeconds?: number;
  /** length of a jobs "minute" in ms (step timeouts), default 60000; lower only for tests */
  minuteMs?: number;
  /** artificial shadow processing latency, ms (tests of the in-flight limit), default 0 */
  shadowLatencyMs?: number;
  /** fsync every record before it counts as stored (and before the accepted reply), default true; false
   * keeps the atomic rename but skips fsync: a machine crash may lose the last updates (benchmarks, the lab) */
  durable?: boolean;
  /** extra log sink (also emitted as the "log" event) */
  log?: (line: string) => void;
}

export interface DeviceCredentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
export interface SessionCredentials { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: number }

export interface CreateJobOptions {
  jobId: string;
  /** thing names or thing-group names (or their ARNs) */
  targets: string[];
  document: object;
  stepTimeoutInMinutes?: number;
  description?: string;
  /** "SNAPSHOT" (default) or "CONTINUOUS": whether things added to a target group later get the job */
  targetSelection?: "SNAPSHOT" | "CONTINUOUS";
}

export interface Cloud {
  /** host:port as the device signs it (the signed Host includes the port) */
  endpoint: string;
  wsUrl: string;
  port: number;
  httpsPort?: number;
  mqttPort?: number;
  region: string;
  /** PEM to trust for the HTTPS listener */
  ca?: string;
  admin: { accessKeyId: string; secretAccessKey: string };
  createThing(name: string, opts?: { attributes?: Record<string, string> }): Promise<DeviceCredentials>;
  issueSessionCredentials(thing: string, ttlSeconds: number): SessionCredentials;
  shadows: {
    get(thing: string, name?: string): any;
    update(thing: string, doc: any, name?: string): Promise<any>;
    delete(thing: string, name?: string): Promise<any>;
    list(thing: string): string[];
  };
  jobs: {
    createJob(opts: CreateJobOptions): Promise<any>;
    cancelJob(jobId: string, opts?: { force?: boolean; reasonCode?: string; comment?: string }): Promise<void>;
    describeJob(jobId: string): any;
    describeExecution(jobId: string, thing: string): any;
    listExecutionsForThing(thing: string): any[];
  };
  groups: { create(name: string): void; addThing(group: string, thing: string): void };
  /** the aedes instance (tests/benchmarks); replaced by restart() */
  broker: any;
  on(ev: "connect" | "disconnect" | "publish" | "denied" | "log", cb: (...a: any[]) => void): void;
  off(ev: string, cb: (...a: any[]) => void): void;
  /** stop listeners and start again on the same ports with state reloaded from dataDir */
  restart(): Promise<void>;
  stop(): Promise<void>;
}
