/**
 * AWS IoT Core message-broker rules (contract section 4), as pure checks used by the server's aedes hooks.
 */
export const BROKER_LIMITS = {
  keepAliveMin: 30,
  keepAliveMax: 1200,
  /** keep-alive used when a client asks for 0 (AWS: "0 means the maximum") */
  keepAliveZero: 1200,
  clientIdMaxBytes: 128,
  topicMaxBytes: 256,
  topicMaxSlashes: 7,
  filtersPerSubscribe: 8,
  subscriptionsPerConnection: 50,
  payloadMaxBytes: 128 * 1024,
  /** largest Remaining Length of any packet: a maximal PUBLISH (2 + 256-byte topic + 2 + 128 KB payload) or a
   * CONNECT with credentials and a will, rounded up; refused from the fixed header, before buffering */
  packetMaxBytes: 128 * 1024 + 1024,
  /** largest WebSocket message (checked from the frame header): one maximal packet with its fixed header and
   * room for small packets sent in the same message */
  webSocketMessageMaxBytes: 128 * 1024 + 2048,
};

export type RuleViolation = { reason: string; disconnectReason: string };

/** Keep-alive the broker applies: 0 -> 1200, below the minimum -> the minimum, above 1200 -> 1200. */
export function clampKeepAlive(requested: number, min = BROKER_LIMITS.keepAliveMin): number {
  if (!requested) return BROKER_LIMITS.keepAliveZero;
  if (requested < min) return min;
  if (requested > BROKER_LIMITS.keepAliveMax) return BROKER_LIMITS.keepAliveMax;
  return requested;
}

function slashes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 47) n++;
  return n;
}

/** Topic (publish) or topic filter (subscribe) size and depth. */
export function checkTopic(topic: string): string | null {
  if (Buffer.byteLength(topic, "utf8") > BROKER_LIMITS.topicMaxBytes) return "topic longer than " + BROKER_LIMITS.topicMaxBytes + " bytes: " + topic.slice(0, 40) + "...";
  if (slashes(topic) > BROKER_LIMITS.topicMaxSlashes) return "topic has more than " + BROKER_LIMITS.topicMaxSlashes + " slashes: " + topic;
  return null;
}

export function checkPublish(p: { topic: string; qos: number; retain?: boolean; payload: Buffer | string }): RuleViolation | null {
  if (p.qos > 1) return { reason: "QoS 2 is not supported (publish to " + p.topic + ")", disconnectReason: "CLIENT_ERROR" };
  const t = checkTopic(p.topic);
  if (t) return { reason: t, disconnectReason: "CLIENT_ERROR" };
  const size = typeof p.payload === "string" ? Buffer.byteLength(p.payload) : p.payload.length;
  if (size > BROKER_LIMITS.payloadMaxBytes) return { reason: "payload of " + size + " bytes exceeds " + BROKER_LIMITS.payloadMaxBytes + " bytes (" + p.topic + ")", disconnectReason: "CLIENT_ERROR" };
  if (p.retain && p.topic.charCodeAt(0) === 36 /* $ */ && p.topic.toLowerCase().startsWith("$aws/")) {
    return { reason: "retained messages cannot be published to reserved $aws topics: " + p.topic, disconnectReason: "CLIENT_ERROR" };
  }
  return null;
}

export function checkSubscription(s: { topic: string; qos: number }): RuleViolation | null {
  if (s.qos > 1) return { reason: "QoS 2 is not supported (subscribe to " + s.topic + ")", disconnectReason: "CLIENT_ERROR" };
  const t = checkTopic(s.topic);
  if (t) return { reason: t, disconnectReason: "CLIENT_ERROR" };
  return null;
}

export function isWildcard(filter: string): boolean {
  return filter.indexOf("+") >= 0 || filter.indexOf("#") >= 0;
}

/** MQTT topic filter match (with '$' topics not matched by a leading wildcard). */
export function topicMatches(filter: string, topic: string): boolean {
  if ((filter[0] === "+" || filter[0] === "#") && topic[0] === "$") return false;
  const f = filter.split("/"), t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Lifecycle event bodies (AWS field names and order). */
export function connectedEvent(o: { clientId: string; timestamp: number; sessionIdentifier: string; principalIdentifier: string; ipAddress: string; versionNumber: number }): object {
  return { clientId: o.clientId, timestamp: o.timestamp, eventType: "connected", sessionIdentifier: o.sessionIdentifier, principalIdentifier: o.principalIdentifier, ipAddress: o.ipAddress, versionNumber: o.versionNumber };
}

export function disconnectedEvent(o: { clientId: string; timestamp: number; sessionIdentifier: string; principalIdentifier: string; clientInitiatedDisconnect: boolean; disconnectReason: string; versionNumber: number }): object {
  return { clientId: o.clientId, timestamp: o.timestamp, eventType: "disconnected", clientInitiatedDisconnect: o.clientInitiatedDisconnect, sessionIdentifier: o.sessionIdentifier, principalIdentifier: o.principalIdentifier, disconnectReason: o.disconnectReason, versionNumber: o.versionNumber };
}
