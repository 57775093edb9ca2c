// MQTT client for the device: the session (session.ts) over the WebSocket adapter (../ws/socket.ts)
// with Espruino timers. Stable API (issue 5), used by the device app:
//
//   const c = createMqttClient({
//     clientId: "my-thing",              // AWS: the thing name
//     open: function (cb) { ... cb(null, "wss://host/mqtt?X-Amz-...") },  // called for EVERY attempt:
//                                        //   sign afresh; cb(err) counts as a failed attempt
//     onEvent: function (type, arg) {},  // "connect" (arg: session present), "offline" (reason),
//                                        // "message" ({topic, payload, qos, retain, dup}; payload is a
//                                        //   binary string), "error" ({msg, status?, body?, date?}: an
//                                        //   HTTP refusal of the upgrade carries status, body (<= 512
//                                        //   bytes) and the server's Date), "log" (a line, already printed)
//     keepAlive: 60,                     // s, clamped to 30..1200 (kaMin/kaMax override, for tests)
//     maxPacket: 4096,                   // incoming packets over this are skipped and reported
//     queueMax: 20,                      // outbound messages kept while offline (+ QoS 1 in flight)
//     tls: false, relayHost, relayPort,  // TCP target; Host header/URL stay what was signed
//     clean: true, username, password, pingTimeout, connectTimeout, backoffMin, backoffMax, stableMs,
//     maxSends: 5                        // a QoS 1 publish sent this often without PUBACK is given up
//   });
//   c.subscribe(filter, qos, function (err, granted) {});   // remembered, restored on every reconnect
//   c.unsubscribe(filter, function (err) {});
//   c.publish(topic, payload, qos, function (err) {});      // payload: binary string; QoS 0 or 1
//   c.connected();  c.end();
//   c.reconnect("renewing the signed connection");        // DISCONNECT, then reconnect (re-signed)
// It connects at once and reconnects forever (backoff 1 s doubling to 2 min, full jitter).

// Memory diet: one shared env object with one function (the session passes itself to it),
// instead of five closures per client.

import { MqttEnv, MqttOptions, MqttSession } from "./session";
import { WsLink, WsOptions } from "../ws/socket";

export interface MqttClientOptions extends MqttOptions, WsOptions {
  open: (cb: (err: any, url?: string) => void) => void;
  onEvent?: (type: string, arg?: any) => void;
}

// The whole device env in one function (the session passes itself as the last argument):
//   dev(session)             = env.connect: a new WebSocket link for one attempt;
//   dev(type, arg, session)  = env.event: log lines for the serial console, then o.onEvent;
//   dev(ms, session)         = env.wake: (re)arms the session's single timer (ms < 0 cancels it);
//   dev(undefined, session)  = the timer fired: the session's onTimer.
// One timer at most; never call clearTimeout() without an id (Espruino clears them all).
function dev(a: any, b?: any, c?: any): any {
  if (typeof a == "object") return new WsLink(a, a.o);
  if (typeof a == "string") {
    if (a == "log") console.log("[I] " + b);
    else if (a == "error" || a == "offline") console.log("[W] mqtt: " + (a == "error" ? b.msg : "offline: " + b));
    if (c.o.onEvent) c.o.onEvent(a, b);
    return;
  }
  if (a === undefined) {
    b.tid = undefined;
    return b.onTimer();
  }
  if (b.tid !== undefined) clearTimeout(b.tid);
  b.tid = a < 0 ? undefined : setTimeout(dev, a, undefined, b);
}

// now: Date.now() (the session's default)
const ENV: MqttEnv = { connect: dev, wake: dev, event: dev };

export function createMqttClient(o: MqttClientOptions): MqttSession {
  const s = new MqttSession(o, ENV);
  s.start();
  return s;
}
