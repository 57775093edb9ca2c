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

import { MqttOptions, MqttSession, MqttTransport } from "./session";
import { WsLink, WsOptions } from "../ws/socket";
import { logInfo, logWarn } from "../util/log";

export interface MqttClientOptions extends MqttOptions, WsOptions {
  open: (cb: (err: any, url?: string) => void) => void;
  onEvent?: (type: string, arg?: any) => void;
}

export function createMqttClient(o: MqttClientOptions): MqttSession {
  let tid: any;
  let s: MqttSession;
  const fire = function () {
    tid = undefined;
    s.onTimer();
  };
  s = new MqttSession(o, {
    now: function () {
      return Date.now();
    },
    connect: function (): MqttTransport {
      return new WsLink(s, o);
    },
    // one timer at most; never call clearTimeout() without an id (Espruino clears them all)
    wake: function (ms: number) {
      if (tid !== undefined) clearTimeout(tid);
      tid = ms < 0 ? undefined : setTimeout(fire, ms);
    },
    event: function (type: string, arg?: any) {
      if (type == "log") logInfo(arg);
      else if (type == "error") logWarn("mqtt: " + arg.msg);
      else if (type == "offline") logWarn("mqtt: offline: " + arg);
      if (o.onEvent) o.onEvent(type, arg);
    },
  });
  s.start();
  return s;
}
