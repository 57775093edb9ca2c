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

import { MqttErrorCode, MqttEvent } from "./events";
import { LinkState } from "../ws/frame";

declare var E: any; // Espruino's (absent in Node: the watchdog then stays off)
import { MqttOptions, MqttSession, mqttSession } from "./session";
import { WsLink, WsOptions } from "../ws/socket";

export interface MqttClientOptions extends MqttOptions, WsOptions {
  open: (cb: (err: any, url?: string) => void) => void;
  onEvent?: (event: MqttEvent, arg: any) => void; // arg: see MqttEvent (events.ts)
}

// How often the adapter looks for a link that Espruino made deaf (ms): when a socket's data handler
// throws (OUT OF MEMORY), Espruino prints "Error processing ... handler - removing it" and the
// socket stays open with no handler. The client's one timer wakes at least this often to look.
const enum Watch {
  Ms = 2000,
}

// createMqttClient(options) is also the device env (session.ts, MqttEnv), one function for all (a
// function costs ~5 Espruino variables + 1 per parameter):
//   (options)                    makes the options object the session and starts it;
//   (session)                    a new WebSocket link for one attempt (a session has its env in `e`);
//   (session, ms)                (re)arms the session's single timer;
//   (undefined, session)         the timer fired: the watchdog, and session.onData() once ms are over;
//   (event, arg, session)        an event: lines for the serial console, then o.onEvent.
// One timer at most; never call clearTimeout() without an id (Espruino clears them all). The timer
// runs in slices of at most Watch.Ms (session.tl: the ms still to wait), with no clock reading.
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
    first = second;
    first.tid = undefined;
    if ((first.tl -= Watch.Ms) <= 0) return first.onData();
    // the watchdog (on Espruino and in the simulator): a socket without its data handler, or any
    // out-of-memory error flag, drops the link (a clean restart of the connection within seconds)
    const link = first.t;
    if (typeof E != "undefined" && link && link.c && link.t < LinkState.Closed) {
      const why = !link.c["#ondata"] ? "the socket lost its data handler" : E.getErrorFlags().indexOf("MEMORY") >= 0 ? "out of memory" : "";
      if (why) link.write({ code: MqttErrorCode.OutOfMemory, text: "ws: " + why + "; dropping the link" }, 0);
    }
    second = first.tl;
  } else if (!first.e) return mqttSession.call(first, createMqttClient); // the options: start
  else if (second === undefined) return new WsLink(first, first); // a link for the session's next attempt
  else first.tl = second; // (session, ms): (re)arm the session's timer
  if (first.tid !== undefined) clearTimeout(first.tid);
  first.tid = setTimeout(createMqttClient as any, Math.min(second, Watch.Ms), undefined, first);
}
