// What the MQTT client tells its owner: onEvent(event, arg). The event and error names are
// `const enum`s, so the build inlines them as small numbers: readable here, free on the device.
// The app acts on `code`; `text` is the plain-words line the client has already printed on the
// serial console (never a secret).

export const enum MqttEvent {
  /** The broker accepted the connection and acknowledged the subscriptions. arg: boolean (session present). */
  Connected = 1,
  /** A connection that had been up went down. arg: string, the reason in plain words. */
  Offline = 2,
  /** A whole PUBLISH on a subscribed topic, within maxPacket. arg: MqttMessage. */
  Message = 3,
  /**
   * A slice of a PUBLISH on a subscribed topic that is larger than maxPacket, handed over as its
   * bytes stream in (never buffered whole). arg: MqttPart. Slices of one message arrive in order,
   * the first with at == 0, the last with at + data.length == size.
   */
  Part = 4,
  /** Something went wrong (the link may or may not have been dropped). arg: MqttError. */
  Error = 5,
  /** An informational line, already printed. arg: string. */
  Log = 6,
}

export const enum MqttErrorCode {
  /** The WebSocket upgrade was answered with an HTTP error. status, body (bounded) and date are set. */
  HttpRefused = 1,
  /** The TCP/TLS connection or the WebSocket failed before or outside MQTT (socket error, closed, timed out). */
  Transport = 2,
  /** The peer broke the protocol (malformed or oversized packet, unexpected packet): the link was dropped. */
  Protocol = 3,
  /** No CONNACK, SUBACK or PINGRESP in time: the link was dropped. */
  Timeout = 4,
  /** The broker refused the connection (CONNACK return code). */
  BrokerRefused = 5,
  /** A subscription was refused (SUBACK 0x80). topic is set. */
  SubscriptionRefused = 6,
  /** A QoS 1 message was given up after 5 sends. */
  GaveUp = 7,
  /** The API was called with a wrong argument (type, QoS, topic); nothing was sent. */
  BadArgument = 8,
  /** The offline queue was full: a message was dropped. */
  QueueFull = 9,
  /** The URL provider failed (for example expired credentials or no configuration). */
  NoUrl = 10,
  /**
   * The device ran out of memory while the link was open (Espruino then removes the socket's data
   * handler and the link would stay deaf): the link was dropped and a new attempt follows.
   */
  OutOfMemory = 12,
}

export interface MqttMessage {
  topic: string;
  payload: string; // binary string (char codes 0..255)
  qos: number;
  retain: number; // 1 when the retain flag is set
}

export interface MqttPart {
  topic: string;
  data: string; // this slice of the payload, binary string
  at: number; // offset of data in the payload
  size: number; // the whole payload's size in bytes
}

export interface MqttError {
  code: MqttErrorCode;
  text: string;
  status?: number; // HttpRefused
  body?: string; // HttpRefused, at most 512 bytes
  date?: string; // HttpRefused: the server's Date header (clock correction)
  topic?: string; // SubscriptionRefused, BadArgument
  size?: number; // Protocol: the declared size of the packet being read, when known (an oversized one)
}
