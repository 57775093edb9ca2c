/**
 * startCloud: aedes broker + SigV4 WebSocket endpoint (+ optional WSS and plain MQTT/TCP) + shadow, jobs and
 * HTTP API, all state persisted under dataDir. AWS broker rules are enforced in the aedes hooks.
 */
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import { EventEmitter } from "node:events";
import { randomUUID } from "node:crypto";
import type { Duplex } from "node:stream";
import { WebSocketServer, createWebSocketStream } from "ws";
import { createBroker } from "aedes";
import type Aedes from "aedes";
import type { AedesOptions, Client } from "aedes";
import { Cloud, CloudOptions, CreateJobOptions, DeviceCredentials, SessionCredentials } from "./types";
import { JsonStore } from "./store";
import { Registry, RegistryError } from "./registry";
import { CredentialRecord } from "./credentials";
import { verifyPresignedGet, SigV4Result, toAmzDate } from "./sigv4";
import { isAllowed } from "./policy";
import { BROKER_LIMITS, checkPublish, checkSubscription, clampKeepAlive, connectedEvent, disconnectedEvent, isWildcard, topicMatches } from "./broker-rules";
import { ShadowService } from "./shadow/service";
import { JsonObject, isFailure } from "./shadow/document";
import { JobsService } from "./jobs/service";
import { loadOrCreateCert, LocalCert } from "./tls-cert";
import { createHttpApi } from "./http-api";
import { PacketGuard } from "./packet-guard";
import { connectedClient, filterRetainedDelivery, persistenceOf, screenIncomingBytes, screenPackets, sentDisconnect, subscriptionsOf, ParsedPacket } from "./aedes-internals";

/** MQTT protocol levels the stand-in speaks: 3.1 (3) and 3.1.1 (4). */
const MQTT_LEVELS = [3, 4];

export interface ConnInfo {
  principal: CredentialRecord | null;
  transport: "ws" | "wss" | "tcp";
  ip: string;
  sessionId: string;
  reason?: string;
  clientInitiated?: boolean;
  timer?: NodeJS.Timeout;
  connected?: boolean;
}

class LocalCloud extends EventEmitter implements Cloud {
  endpoint = "";
  wsUrl = "";
  port = 0;
  httpsPort?: number;
  mqttPort?: number;
  region: string;
  ca?: string;
  admin!: { accessKeyId: string; secretAccessKey: string };
  broker!: Aedes;

  private o: CloudOptions;
  private now: () => number;
  private store!: JsonStore;
  registry!: Registry;
  shadowService!: ShadowService;
  jobsService!: JobsService;
  private conns = new WeakMap<object, ConnInfo>();
  private servers: Array<http.Server | https.Server | net.Server> = [];
  private sockets = new Set<Duplex | net.Socket>();
  private cert?: LocalCert;
  private versions = new Map<string, number>();
  private sessionTimers = new Map<string, NodeJS.Timeout>();
  private stopped = true;

  constructor(opts: CloudOptions) {
    super();
    this.o = { ...opts };
    this.region = opts.region || "us-east-1";
    this.now = opts.now || Date.now;
    this.on("error", () => undefined);
  }

  log(line: string): void {
    if (this.o.log) this.o.log(line);
    if (this.listenerCount("log")) this.emit("log", line);
  }

  // ------------------------------------------------------------------ lifecycle
  async boot(): Promise<void> {
    try {
      await this.bootInner();
    } catch (e) {
      // undo what started so a failed start leaves no timers or listeners behind
      if (this.jobsService) this.jobsService.stop();
      for (const s of this.servers) s.close();
      this.servers = [];
      if (this.broker && !this.broker.closed) await new Promise<void>((r) => this.broker.close(() => r()));
      this.stopped = true;
      throw e;
    }
  }

  private async bootInner(): Promise<void> {
    this.store = new JsonStore(this.o.dataDir, { durable: this.o.durable !== false });
    this.registry = new Registry(this.store, this.region, this.now);
    this.admin = this.registry.admin;
    for (const t of this.o.things || []) this.registry.createThing(t);
    this.shadowService = new ShadowService({
      store: this.store, now: this.now, publish: (t, b) => this.publishJson(t, b),
      shuffleResponses: this.o.shuffleShadowResponses, deltaOnReportedOnly: this.o.deltaOnReportedOnly !== false,
      latencyMs: this.o.shadowLatencyMs, log: (m) => this.log(m),
    });
    this.jobsService = new JobsService({
      store: this.store, now: this.now, registry: this.registry, minuteMs: this.o.minuteMs || 60000,
      publish: (t, b) => this.publishJson(t, b), log: (m) => this.log(m),
    });
    this.broker = this.createBroker();
    const host = this.o.host || "127.0.0.1";
    const api = createHttpApi(this, { region: this.region, now: this.now, clockSkewSeconds: this.o.clockSkewSeconds ?? 300 });
    const httpServer = http.createServer(api);
    httpServer.on("upgrade", (req, socket, head) => this.upgradeSafely(req, socket as net.Socket, head, "ws"));
    this.port = await listen(httpServer, this.port || this.o.port || 0, host);
    this.servers.push(httpServer);
    if (this.o.httpsPort !== undefined) {
      this.cert = this.cert || await loadOrCreateCert(this.o.dataDir, [host]);
      this.ca = this.cert.ca;
      const s = https.createServer({ key: this.cert.key, cert: this.cert.cert }, api);
      s.on("upgrade", (req, socket, head) => this.upgradeSafely(req, socket as net.Socket, head, "wss"));
      this.httpsPort = await listen(s, this.httpsPort || this.o.httpsPort, host);
      this.servers.push(s);
    }
    if (this.o.mqttPort !== undefined) {
      const s = net.createServer((sock) => this.handleStream(sock, undefined, { principal: null, transport: "tcp", ip: sock.remoteAddress || "", sessionId: randomUUID() }));
      this.mqttPort = await listen(s, this.mqttPort || this.o.mqttPort, host);
      this.servers.push(s);
    }
    const shownHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
    this.endpoint = shownHost + ":" + this.port;
    this.wsUrl = "ws://" + this.endpoint + "/mqtt";
    this.stopped = false;
    this.jobsService.start();
    this.log("stand-in listening: ws://" + this.endpoint + "/mqtt" + (this.httpsPort ? ", wss://" + shownHost + ":" + this.httpsPort + "/mqtt" : "") + (this.mqttPort ? ", mqtt://" + shownHost + ":" + this.mqttPort : ""));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.jobsService.stop();
    for (const t of this.sessionTimers.values()) clearTimeout(t);
    this.sessionTimers.clear();
    for (const s of this.servers) s.close();
    for (const sock of this.sockets) sock.destroy();
    this.sockets.clear();
    await new Promise<void>((r) => this.broker.close(() => r()));
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => { (s as any).closeAllConnections?.(); s.close(() => r()); if (!s.listening) r(); })));
    this.servers = [];
    await this.store.flush();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.boot();
  }

  // ------------------------------------------------------------------ transport
  /** A request the code did not foresee closes its own socket, never the process. */
  private upgradeSafely(req: http.IncomingMessage, socket: net.Socket, head: Buffer, transport: "ws" | "wss"): void {
    socket.on("error", () => undefined);
    try {
      this.onUpgrade(req, socket, head, transport);
    } catch (e) {
      this.log("upgrade failed: " + ((e as Error).stack || e));
      socket.destroy();
    }
  }

  private onUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer, transport: "ws" | "wss"): void {
    const url = req.url || "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? "" : url.slice(q + 1);
    const deny = (status: number, code: string, message: string) => {
      const body = JSON.stringify({ message, code, traceId: randomUUID() });
      this.log("upgrade refused (" + status + " " + code + "): " + message);
      this.emit("denied", { action: "connect", transport, reason: message, code });
      socket.end("HTTP/1.1 " + status + " " + (status === 404 ? "Not Found" : "Forbidden") + "\r\n" +
        "Date: " + new Date(this.now()).toUTCString() + "\r\n" +
        "Content-Type: application/json\r\nContent-Length: " + Buffer.byteLength(body) + "\r\nConnection: close\r\n\r\n" + body);
    };
    if (path !== "/mqtt") return deny(404, "NotFound", "WebSocket endpoint is /mqtt, not " + path);
    const r = this.verifyUpgrade(path, rawQuery, req.headers.host || "", req.headers);
    if (!r.ok) return deny(r.status, r.code, r.message);
    const cred = this.registry.creds.get(r.accessKeyId)!;
    const info: ConnInfo = { principal: cred, transport, ip: req.socket.remoteAddress || "", sessionId: randomUUID() };
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on("error", () => undefined);
      let lifetime = (this.o.maxConnectionSeconds ?? 86400) * 1000;
      if (cred.expiration !== undefined) lifetime = Math.min(lifetime, cred.expiration - this.now());
      this.handleStream(stream, req, info, Math.max(lifetime, 0));
    });
  }

  private wss = new WebSocketServer({
    noServer: true,
    // checked against each frame's declared length before its payload is buffered
    maxPayload: BROKER_LIMITS.webSocketMessageMaxBytes,
    perMessageDeflate: false,
    handleProtocols: (protocols: Set<string>) => (protocols.has("mqtt") ? "mqtt" : protocols.has("mqttv3.1") ? "mqttv3.1" : false),
  });

  verifyUpgrade(path: string, rawQuery: string, host: string, headers: http.IncomingHttpHeaders = {}): SigV4Result {
    const names = this.o.endpointHosts;
    const hostname = host.replace(/:\d+$/, "").toLowerCase();
    if (names && names.map((n) => n.toLowerCase()).indexOf(hostname) < 0) {
      return { ok: false, status: 403, code: "ForbiddenException", message: "This endpoint does not serve host '" + hostname + "'" };
    }
    const r = verifyPresignedGet(path, rawQuery, {
      secretFor: (id) => this.registry.creds.get(id)?.secretAccessKey,
      host, headers, region: this.region, service: "iotdevicegateway", now: this.now(), clockSkewSeconds: this.o.clockSkewSeconds ?? 300,
    });
    if (!r.ok) return r;
    const cred = this.registry.creds.get(r.accessKeyId)!;
    if (cred.sessionToken !== undefined) {
      if (r.sessionToken === undefined) return { ok: false, status: 403, code: "MissingAuthenticationToken", message: "Temporary credentials need X-Amz-Security-Token (appended after signing)" };
      if (r.sessionToken !== cred.sessionToken) return { ok: false, status: 403, code: "UnrecognizedClientException", message: "The security token included in the request is invalid" };
      if (cred.expiration! <= this.now()) return { ok: false, status: 403, code: "ExpiredTokenException", message: "The security token included in the request is expired" };
    } else if (r.sessionToken !== undefined) {
      return { ok: false, status: 403, code: "UnrecognizedClientException", message: "The security token included in the request is invalid (long-term access keys take no token)" };
    }
    return r;
  }

  private handleStream(stream: Duplex, req: http.IncomingMessage | undefined, info: ConnInfo, lifetimeMs?: number): void {
    this.sockets.add(stream);
    const client = this.broker.handle(stream, req);
    this.conns.set(client, info);
    const closeFor = (action: string, resource: string, reason: string) => {
      info.reason = "CLIENT_ERROR";
      this.refuse(client, action, resource, reason);
      client.close();
      stream.destroy();
    };
    // bytes: no packet beyond the size limit is buffered, whether or not the client has authenticated
    const guard = new PacketGuard(BROKER_LIMITS.packetMaxBytes);
    let refused = false;
    screenIncomingBytes(client, (chunk) => {
      if (refused) return false;
      const why = guard.check(chunk);
      if (why === null) return true;
      refused = true;
      closeFor("packet", info.ip, why);
      return false;
    });
    // packets: rules aedes has no hook for, before aedes handles the packet
    screenPackets(client, (packet) => {
      const why = packetViolation(packet);
      if (why === null) return true;
      closeFor(packet.cmd, packet.topic || (packet.subscriptions || []).map((sub) => sub.topic).join(","), why);
      return false;
    });
    if (lifetimeMs !== undefined) {
      info.timer = setTimeout(() => {
        info.reason = "WEBSOCKET_TTL_EXPIRATION";
        this.log("connection lifetime reached, closing " + (client.id || "(no client id)"));
        client.close();
      }, Math.min(lifetimeMs, 2 ** 31 - 1));
      info.timer.unref();
    }
    stream.on("close", () => { this.sockets.delete(stream); if (info.timer) clearTimeout(info.timer); });
  }

  private refuse(client: Client, action: string, resource: string, reason: string): void {
    this.log("refused " + action + " by " + (client.id || "?") + ": " + reason);
    if (this.listenerCount("denied")) this.emit("denied", { clientId: client.id, action, resource, reason });
  }

  connInfo(client: Client): ConnInfo | undefined { return this.conns.get(client); }

  private thingOf(client: Client): string | null {
    const i = this.conns.get(client);
    return i && i.principal ? i.principal.thing : null;
  }

  // ------------------------------------------------------------------ broker
  private createBroker(): Aedes {
    const keepMin = this.o.keepAliveMinSeconds ?? BROKER_LIMITS.keepAliveMin;
    const options: AedesOptions = {
      maxClientsIdLength: BROKER_LIMITS.clientIdMaxBytes,
      preConnect: (client, packet, cb) => {
        const info = this.conns.get(client);
        if (!info) return cb(new Error("unknown connection"), false);
        // aedes answers any other protocol level with CONNACK 0x01 (unacceptable protocol version) and closes
        if (MQTT_LEVELS.indexOf(packet.protocolVersion ?? 4) < 0) {
          info.reason = "CLIENT_ERROR";
          this.refuse(client, "connect", packet.clientId || "", "MQTT protocol level " + packet.protocolVersion + " is not supported (3.1.1 only)");
          return cb(null, true);
        }
        const id: string = packet.clientId || "";
        const deny = (why: string) => { info.reason = "AUTH_ERROR"; this.refuse(client, "connect", id, why); cb(new Error(why), false); };
        if (info.transport === "tcp") {
          const cred = packet.username ? this.registry.creds.get(String(packet.username)) : undefined;
          if (!cred || !packet.password || packet.password.toString() !== cred.secretAccessKey) return deny("plain MQTT needs username = access key id and password = secret access key");
          if (cred.expiration !== undefined && cred.expiration <= this.now()) return deny("credentials expired");
          info.principal = cred;
        }
        if (Buffer.byteLength(id) > BROKER_LIMITS.clientIdMaxBytes) return deny("client id longer than " + BROKER_LIMITS.clientIdMaxBytes + " bytes");
        const thing = info.principal ? info.principal.thing : null;
        if (!isAllowed("connect", thing, id)) return deny("credentials of thing '" + thing + "' may only connect with client id '" + thing + "', not '" + id + "'");
        packet.keepalive = clampKeepAlive(packet.keepalive ?? 0, keepMin);
        const st = this.sessionTimers.get(id);
        if (st) { clearTimeout(st); this.sessionTimers.delete(id); }
        const old = id ? connectedClient(this.broker, id) : undefined;
        if (old) { const oi = this.conns.get(old); if (oi) oi.reason = "DUPLICATE_CLIENTID"; }
        cb(null, true);
      },
      authorizePublish: (client, packet, cb) => {
        if (!client) return cb(null);
        const v = checkPublish(packet);
        const info = this.conns.get(client);
        if (v) { if (info) info.reason = v.disconnectReason; this.refuse(client, "publish", packet.topic, v.reason); return cb(new Error(v.reason)); }
        const thing = info && info.principal ? info.principal.thing : null;
        if (thing !== null && !isAllowed("publish", thing, packet.topic)) {
          if (info) info.reason = "FORBIDDEN_ACCESS";
          this.refuse(client, "publish", packet.topic, "not authorized to publish to " + packet.topic);
          return cb(new Error("not authorized"));
        }
        cb(null);
      },
      authorizeSubscribe: (client, sub, cb) => {
        const info = this.conns.get(client);
        const v = checkSubscription(sub);
        if (v) { if (info) info.reason = v.disconnectReason; this.refuse(client, "subscribe", sub.topic, v.reason); return cb(new Error(v.reason)); }
        const thing = info && info.principal ? info.principal.thing : null;
        if (thing !== null && !isAllowed("subscribe", thing, sub.topic)) {
          this.refuse(client, "subscribe", sub.topic, "not authorized to subscribe to " + sub.topic);
          if (this.o.deniedSubscribe === "suback-failure") return cb(null, null);
          if (info) info.reason = "FORBIDDEN_ACCESS";
          return cb(new Error("not authorized"));
        }
        const subscriptions = subscriptionsOf(client);
        if (!subscriptions[sub.topic] && Object.keys(subscriptions).length >= BROKER_LIMITS.subscriptionsPerConnection) {
          this.refuse(client, "subscribe", sub.topic, "more than " + BROKER_LIMITS.subscriptionsPerConnection + " subscriptions on one connection");
          return cb(null, null);
        }
        cb(null, sub);
      },
      authorizeForward: (client, packet) => {
        const thing = this.thingOf(client);
        if (thing !== null && !isAllowed("receive", thing, packet.topic)) return null;
        return packet;
      },
      published: (packet, client, cb) => {
        if (client) {
          const topic: string = packet.topic;
          if (topic.charCodeAt(0) === 36 && topic.startsWith("$aws/things/")) this.route(topic, packet.payload as Buffer, client);
          if (this.listenerCount("publish")) this.emit("publish", topic, packet.payload, client.id);
        }
        cb();
      },
    };
    const broker = createBroker(options);
    // retained messages are not delivered to wildcard subscriptions (AWS)
    filterRetainedDelivery(broker, (filter) => !isWildcard(filter));
    broker.on("clientReady", (client) => this.onClientReady(client));
    broker.on("clientDisconnect", (client) => this.onClientGone(client));
    broker.on("keepaliveTimeout", (client) => { const i = this.conns.get(client); if (i) i.reason = "MQTT_KEEP_ALIVE_TIMEOUT"; });
    broker.on("clientError", (client, err) => { this.log("client " + (client && client.id) + ": " + err.message); });
    broker.on("connectionError", (_client, err) => { this.log("connection error: " + err.message); });
    return broker;
  }

  private onClientReady(client: Client): void {
    const info = this.conns.get(client);
    if (!info) return;
    info.connected = true;
    const v = (this.versions.get(client.id) || 0) + 1;
    this.versions.set(client.id, v);
    const principal = info.principal ? info.principal.accessKeyId : "anonymous";
    this.publishJson("$aws/events/presence/connected/" + client.id, connectedEvent({
      clientId: client.id, timestamp: this.now(), sessionIdentifier: info.sessionId, principalIdentifier: principal,
      ipAddress: info.ip, versionNumber: v,
    }) as JsonObject, 1);
    this.emit("connect", client.id, { transport: info.transport, thing: info.principal ? info.principal.thing : null });
  }

  private onClientGone(client: Client): void {
    const info = this.conns.get(client);
    if (!info || !info.connected) return;
    info.connected = false;
    if (info.timer) clearTimeout(info.timer);
    const clientInitiated = sentDisconnect(client);
    const reason = clientInitiated ? "CLIENT_INITIATED_DISCONNECT" : info.reason || "CONNECTION_LOST";
    this.jobsService.forgetConnection(client);
    if (!client.clean && client.id) this.scheduleSessionExpiry(client.id);
    if (!this.broker.closed) {
      this.publishJson("$aws/events/presence/disconnected/" + client.id, disconnectedEvent({
        clientId: client.id, timestamp: this.now(), sessionIdentifier: info.sessionId,
        principalIdentifier: info.principal ? info.principal.accessKeyId : "anonymous",
        clientInitiatedDisconnect: clientInitiated, disconnectReason: reason, versionNumber: this.versions.get(client.id) || 0,
      }) as JsonObject, 1);
    }
    this.emit("disconnect", client.id, reason);
  }

  /** Persistent sessions expire sessionExpirySeconds after the disconnect: subscriptions and queued messages go. */
  private scheduleSessionExpiry(clientId: string): void {
    const old = this.sessionTimers.get(clientId);
    if (old) clearTimeout(old);
    const broker = this.broker;
    const t = setTimeout(() => {
      this.sessionTimers.delete(clientId);
      if (broker.closed || connectedClient(broker, clientId)) return;
      const p = persistenceOf(broker);
      p.cleanSubscriptions({ id: clientId }, () => undefined);
      const queued: Array<{ messageId: number }> = [];
      const s = p.outgoingStream({ id: clientId });
      s.on("data", (pk: { messageId: number }) => queued.push(pk));
      s.on("end", () => { for (const pk of queued) p.outgoingClearMessageId({ id: clientId }, { messageId: pk.messageId }, () => undefined); });
      this.log("persistent session of " + clientId + " expired");
    }, (this.o.sessionExpirySeconds ?? 3600) * 1000);
    t.unref();
    this.sessionTimers.set(clientId, t);
  }

  private credentialExpired(client: Client): boolean {
    const i = this.conns.get(client);
    return !!(i && i.principal && i.principal.expiration !== undefined && i.principal.expiration <= this.now());
  }

  private route(topic: string, payload: Buffer, client: Client): void {
    if (this.shadowService.handleMqtt(topic, payload, { conn: client, expired: this.credentialExpired(client) })) return;
    this.jobsService.handleMqtt(topic, payload, client, (t: string, body: JsonObject) => this.sendTo(client, t, body));
  }

  /** Publishes a JSON body through the broker (every authorised subscriber gets it). */
  publishJson(topic: string, body: JsonObject, qos: 0 | 1 = 1): void {
    if (!this.broker || this.broker.closed) return;
    this.broker.publish({ cmd: "publish", topic, payload: Buffer.from(JSON.stringify(body)), qos, retain: false, dup: false }, (err?: Error) => {
      if (err) this.log("publish to " + topic + " failed: " + err.message);
    });
  }

  /** Sends a message to one connection only (jobs responses), if it has a matching subscription. */
  sendTo(client: Client, topic: string, body: JsonObject): void {
    if (client.closed || !client.connected) return;
    let qos = -1;
    const subscriptions = subscriptionsOf(client);
    for (const f in subscriptions) {
      if (topicMatches(f, topic)) qos = Math.max(qos, subscriptions[f].qos);
    }
    if (qos < 0) return;
    const payload = Buffer.from(JSON.stringify(body));
    client.publish({ cmd: "publish", topic, payload, qos: qos as 0 | 1, retain: false, dup: false }, () => undefined);
  }

  // ------------------------------------------------------------------ API
  async createThing(name: string, opts?: { attributes?: Record<string, string> }): Promise<DeviceCredentials> {
    const { cred } = this.registry.createThing(name, opts && opts.attributes);
    return { accessKeyId: cred.accessKeyId, secretAccessKey: cred.secretAccessKey };
  }

  issueSessionCredentials(thing: string, ttlSeconds: number): SessionCredentials {
    const c = this.registry.issueSession(thing, ttlSeconds);
    return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken!, expiration: c.expiration! };
  }

  shadows = {
    get: (thing: string, name?: string) => this.shadowService.get(thing, name),
    // a call that fails answers only its caller (as AWS's REST API): no */rejected message is published
    update: async (thing: string, doc: object | string | Buffer, name?: string) => {
      const payload = typeof doc === "string" || Buffer.isBuffer(doc) ? doc : JSON.stringify(doc);
      const r = await this.shadowService.request("update", thing, name, payload);
      if (!r.ok) throw shadowError(r.body);
      for (const [s, b] of r.messages) this.publishJson(shadowTopic(thing, name, "update/" + s), b);
      return r.body;
    },
    delete: async (thing: string, name?: string) => {
      const r = await this.shadowService.request("delete", thing, name, "");
      if (!r.ok) throw shadowError(r.body);
      for (const [s, b] of r.messages) this.publishJson(shadowTopic(thing, name, "delete/" + s), b);
      return r.body;
    },
    list: (thing: string) => this.shadowService.listNamed(thing),
  };

  jobs = {
    createJob: async (o: CreateJobOptions) => this.jobsService.createJob(o),
    cancelJob: async (jobId: string, o?: { force?: boolean; reasonCode?: string; comment?: string }) => { await this.jobsService.cancelJob(jobId, o || {}); },
    describeJob: (jobId: string) => this.jobsService.describeJob(jobId),
    describeExecution: (jobId: string, thing: string) => this.jobsService.describeExecution(jobId, thing),
    listExecutionsForThing: (thing: string) => this.jobsService.listExecutionsForThing(thing),
  };

  groups = {
    create: (name: string) => { this.registry.createGroup(name); },
    addThing: (group: string, thing: string) => { this.registry.addThingToGroup(group, thing); this.jobsService.onThingAddedToGroup(group, thing); },
  };
}

/** Packet rules aedes has no hook for; null when the packet may go on. */
function packetViolation(packet: ParsedPacket): string | null {
  if (packet.cmd !== "subscribe" && packet.cmd !== "unsubscribe") return null;
  const filters = packet.cmd === "subscribe" ? (packet.subscriptions || []).map((sub) => sub.topic) : (packet.unsubscriptions as string[] || []);
  if (packet.cmd === "subscribe" && filters.length > BROKER_LIMITS.filtersPerSubscribe) {
    return "more than " + BROKER_LIMITS.filtersPerSubscribe + " topic filters in one SUBSCRIBE (" + filters.length + ")";
  }
  for (const filter of filters) if (filter.indexOf("\u0000") >= 0) return "topic filter contains U+0000";
  return null;
}

function shadowTopic(thing: string, name: string | undefined, suffix: string): string {
  return "$aws/things/" + thing + "/shadow" + (name ? "/name/" + name : "") + "/" + suffix;
}

function shadowError(body: JsonObject): Error {
  const e = new Error(String(body.message)) as Error & { code?: number; body?: JsonObject };
  e.code = body.code as number;
  e.body = body;
  return e;
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => { server.off("error", reject); resolve((server.address() as net.AddressInfo).port); });
  });
}

export type { LocalCloud };
export { RegistryError, isFailure, toAmzDate };

export async function startCloud(opts: CloudOptions): Promise<Cloud> {
  if (!opts || !opts.dataDir) throw new Error("startCloud: dataDir is required (the directory where state is kept)");
  const c = new LocalCloud(opts);
  await c.boot();
  return c;
}
