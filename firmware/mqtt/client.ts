// MQTT client for the device: the session (session.ts) over the WebSocket adapter (../ws/socket.ts)
// with Espruino timers. Stable API, used by the device app:
//
//   const c = createMqttClient({
//     clientId: "my-thing",              // AWS: the thing name
//     open: function (cb) { ... cb(null, "wss://host/mqtt?X-Amz-...") },  // called for EVERY attempt:
//                                        //   sign afresh; cb(err) counts as a failed attempt
//     onEvent: function (event, arg) {}, // event: an MqttEvent (events.ts): Connected (arg: session
//                                        // present; subscriptions in place), Offline (reason), Message
//                                        // (MqttMessage), Part (MqttPart), Error (MqttError: {code,
//                                        // text, ...}), Log (a line, already printed). Errors and
//                                        // Offline are printed too. An exception in it is logged,
//                                        // never breaks the client.
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

import { MqttEvent } from "./events";
import { MqttOptions, MqttSession, mqttSession } from "./session";
import { WsLink, WsOptions } from "../ws/socket";

export interface MqttClientOptions extends MqttOptions, WsOptions {
  open: (cb: (err: any, url?: string) => void) => void;
  onEvent?: (event: MqttEvent, arg: any) => void; // arg: see MqttEvent (events.ts)
}

// createMqttClient(options) is also the device env (session.ts, MqttEnv), one function for all (a
// function costs ~5 Espruino variables + 1 per parameter):
//   (options)                    makes the options object the session and starts it;
//   (session)                    a new WebSocket link for one attempt (a session has its env in `e`);
//   (session, ms)                (re)arms the session's single timer;
//   (undefined, session)         the timer fired: session.onData();
//   (event, arg, session)        an event: lines for the serial console, then o.onEvent.
// One timer at most; never call clearTimeout() without an id (Espruino clears them all).
export function createMqttClient(options: MqttClientOptions): MqttSession;
export function createMqttClient(first: any, second?: any, session?: any): any {
  if (session) {
    // an event: first = the MqttEvent, second = its argument
    if (first == MqttEvent.Log) console.log("[I] " + second);
    else if (first == MqttEvent.Error || first == MqttEvent.Offline) console.log("[W] mqtt: " + (first == MqttEvent.Error ? second.text : "offline: " + second));
    try {
      const onEvent = session.onEvent; // a plain call: a method call would hold 2 more locks on the session
      if (onEvent) onEvent(first, second);
    } catch (e) {
      console.log("[E] mqtt: event " + first + " handler threw: " + e);
    }
    return;
  }
  if (first === undefined) {
    // the timer fired: second = the session
    second.tid = undefined;
    return second.onData();
  }
  if (!first.e) return mqttSession.call(first, createMqttClient); // the options: start
  if (second === undefined) return new WsLink(first, first); // a link for the session's next attempt
  // (session, ms): (re)arm the session's timer
  if (first.tid !== undefined) clearTimeout(first.tid);
  first.tid = setTimeout(createMqttClient as any, second, undefined, first);
}
