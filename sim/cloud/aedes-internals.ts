/**
 * Every place the stand-in reaches past aedes's public API, in one module, so an aedes upgrade that moves them
 * fails one test (test/cloud/aedes-internals.test.ts) instead of silently switching a rule off:
 * - the client's MQTT parser: bytes are screened before it buffers them, and packets are screened before aedes
 *   handles them (AWS rules aedes has no hook for);
 * - the persistence's retained-message stream: AWS does not deliver retained messages to wildcard subscriptions;
 * - read-only client and broker state aedes's types leave out (subscriptions, who sent DISCONNECT, the client map,
 *   the persistence used to expire sessions).
 */
import type { Readable } from "node:stream";
import type Aedes from "aedes";
import type { Client } from "aedes";

interface PacketParser {
  parse(buf: Buffer): number;
  listeners(event: "packet"): Array<(packet: ParsedPacket) => void>;
  removeListener(event: "packet", listener: (packet: ParsedPacket) => void): void;
  on(event: "packet", listener: (packet: ParsedPacket) => void): void;
}

/** A packet as mqtt-packet parses it: `cmd` names the type, the rest depends on it. */
export interface ParsedPacket { cmd: string; topic?: string; subscriptions?: Array<{ topic: string; qos: number }>; [field: string]: unknown }

interface ClientState { _parser?: PacketParser; subscriptions?: Record<string, { qos: number }>; _disconnected?: boolean }

export interface SessionPersistence {
  createRetainedStreamCombi(patterns: string[]): Readable;
  cleanSubscriptions(client: { id: string }, cb: () => void): void;
  outgoingStream(client: { id: string }): Readable;
  outgoingClearMessageId(client: { id: string }, packet: { messageId: number }, cb: () => void): void;
}

function parserOf(client: Client): PacketParser {
  const parser = (client as unknown as ClientState)._parser;
  if (!parser || typeof parser.parse !== "function" || parser.listeners("packet").length !== 1) {
    throw new Error("aedes internals changed: client._parser with parse() and one 'packet' listener expected");
  }
  return parser;
}

/**
 * Screens every chunk of bytes before the client's parser sees (and buffers) it. `screen` returns true to let the
 * chunk through; on false the chunk is dropped and the caller closes the connection.
 */
export function screenIncomingBytes(client: Client, screen: (chunk: Buffer) => boolean): void {
  const parser = parserOf(client);
  const parse = parser.parse.bind(parser);
  parser.parse = (chunk: Buffer) => (screen(chunk) ? parse(chunk) : 0);
}

/** Runs `screen` on each parsed packet before aedes handles it; a packet it returns false for is dropped. */
export function screenPackets(client: Client, screen: (packet: ParsedPacket) => boolean): void {
  const parser = parserOf(client);
  const handle = parser.listeners("packet")[0];
  parser.removeListener("packet", handle);
  parser.on("packet", function (this: unknown, packet: ParsedPacket) {
    if (screen(packet)) handle.call(this, packet);
  });
}

/** Filters the topic filters whose retained messages a new subscription receives. */
export function filterRetainedDelivery(broker: Aedes, keep: (filter: string) => boolean): void {
  const persistence = persistenceOf(broker);
  const combi = persistence.createRetainedStreamCombi.bind(persistence);
  persistence.createRetainedStreamCombi = (patterns: string[]) => combi(patterns.filter(keep));
}

export function persistenceOf(broker: Aedes): SessionPersistence {
  const persistence = (broker as unknown as { persistence?: SessionPersistence }).persistence;
  if (!persistence || typeof persistence.createRetainedStreamCombi !== "function") {
    throw new Error("aedes internals changed: broker.persistence.createRetainedStreamCombi expected");
  }
  return persistence;
}

/** The client's subscriptions: topic filter -> granted QoS. */
export function subscriptionsOf(client: Client): Record<string, { qos: number }> {
  return (client as unknown as ClientState).subscriptions || {};
}

/** True when the client ended the connection with a DISCONNECT packet. */
export function sentDisconnect(client: Client): boolean {
  return (client as unknown as ClientState)._disconnected === true;
}

/** The connected client with this id, if any. */
export function connectedClient(broker: Aedes, clientId: string): Client | undefined {
  const clients = (broker as unknown as { clients: Record<string, Client> }).clients;
  return Object.prototype.hasOwnProperty.call(clients, clientId) ? clients[clientId] : undefined;
}
