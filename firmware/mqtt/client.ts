// MQTT client for the device: the session (session.ts) over the WebSocket adapter (../ws/socket.ts)
// with Espruino timers. Stable API (issue 5), used by the device app:
//
//   const c = createMqttClient({
//     clientId: "my-thing",              // AWS: the thing name
//     open: function (cb) { ... cb(null, "wss://host/mqtt?X-Amz-...") },  // called for EVERY attempt:
//                                        //   sign afresh; cb(err) counts as a failed attempt
//     onEvent: function (type, arg) {},  // "connect" (arg: session present; subscriptions in place),
//                                        // "offline" (reason), "message" ({topic, payload, qos, retain};
//                                        //   payload is a binary string), "error" ({msg, status?, body?,
//                                        //   date?}: an HTTP refusal of the upgrade carries status, body
//                                        //   (<= 512 bytes) and the server's Date), "log" (a line, already
//                                        //   printed). An exception in it is logged, never breaks the client.
//     keepAlive: 60,                     // s, clamped to 30..1200 (kaMin lowers the 30, for tests)
//     maxPacket: 4096,                   // incoming packets over this are skipped and reported
//     queueMax: 20,                      // outbound messages kept while offline (+ QoS 1 in flight)
//     tls: false, relayHost, relayPort,  // TCP target; Host header/URL stay what was signed
//     pingTimeout: 10000, backoffMin: 1000, backoffMax: 120000, clean: true, username, password
//   });
//   c.subscribe(filter, qos);        // remembered, restored on every reconnect
//   c.publish(topic, payload, qos);  // payload: binary string; QoS 0 or 1
//   c.connected();
//   c.reconnect("renewing the signed connection");  // DISCONNECT, then reconnect (re-signed)
// It connects at once and reconnects forever (backoff 1 s doubling to 2 min, full jitter). The
// options object itself becomes the client (it is returned).

import { MqttOptions, MqttSession, mqttSession } from "./session";
import { WsLink, WsOptions } from "../ws/socket";

export interface MqttClientOptions extends MqttOptions, WsOptions {
  open: (cb: (err: any, url?: string) => void) => void;
  onEvent?: (type: string, arg?: any) => void;
}

// createMqttClient(options) is also the device env, one function for all (the session passes
// itself as the last argument; a function costs ~5 Espruino variables + 1 per parameter):
//   (options)                makes the options object the session and starts it;
//   (session)                a new WebSocket link for one attempt (a session has its env in `e`);
//   (type, arg, session)     an event: log lines for the serial console, then o.onEvent;
//   (ms, session)            (re)arms the session's single timer;
//   (undefined, session)     the timer fired: session.onData().
// One timer at most; never call clearTimeout() without an id (Espruino clears them all).
export function createMqttClient(o: MqttClientOptions): MqttSession;
export function createMqttClient(a: any, b?: any, c?: any): any {
  if (typeof a == "object") {
    if (a.e) return new WsLink(a, a);
    return mqttSession.call(a, createMqttClient);
  }
  if (typeof a == "string") {
    if (a == "log") console.log("[I] " + b);
    else if (a == "error" || a == "offline") console.log("[W] mqtt: " + (a == "error" ? b.msg : "offline: " + b));
    try {
      const f = c.onEvent; // a plain call: a method call would hold 2 more locks on the session
      if (f) f(a, b);
    } catch (e) {
      console.log("[E] mqtt: " + a + " handler threw: " + e);
    }
    return;
  }
  if (a === undefined) {
    b.tid = undefined;
    return b.onData();
  }
  if (b.tid !== undefined) clearTimeout(b.tid);
  b.tid = setTimeout(createMqttClient as any, a, undefined, b);
}
