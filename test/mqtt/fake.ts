// A fake transport + clock for the session state machine (no sockets, no real time).
import "../../firmware/mqtt/codec-server"; // decoding of CONNECT/SUBSCRIBE/UNSUBSCRIBE
import { MqttDecoder, MqttPacket } from "../../firmware/mqtt/codec";
import { MqttEnv, MqttOptions, MqttSession, MqttTransport } from "../../firmware/mqtt/session";

export class FakeLink implements MqttTransport {
  opened = 0;
  closed = 0;
  sent: MqttPacket[] = [];
  dec: MqttDecoder;
  constructor() {
    this.dec = new MqttDecoder(1 << 20, (p) => this.sent.push(p));
  }
  open(): void {
    this.opened++;
  }
  write(d: string): void {
    if (this.closed) throw new Error("write after close");
    const e = this.dec.feed(d);
    if (e) throw new Error("session wrote a bad packet: " + e);
  }
  close(): void {
    this.closed++;
  }
}

export class FakeWorld {
  now = 1_000_000;
  timerAt = -1;
  wakes = 0;
  rand = 0.5;
  links: FakeLink[] = [];
  events: [string, any][] = [];
  s: MqttSession;
  env: MqttEnv;
  constructor(o: Partial<MqttOptions> = {}) {
    this.env = {
      now: () => this.now,
      connect: () => {
        const l = new FakeLink();
        this.links.push(l);
        return l;
      },
      wake: (ms) => {
        this.wakes++;
        this.timerAt = ms < 0 ? -1 : this.now + ms;
      },
      event: (t, a) => this.events.push([t, a]),
      random: () => this.rand,
    };
    this.s = new MqttSession(Object.assign({ clientId: "dev1" }, o), this.env);
  }
  get link(): FakeLink {
    return this.links[this.links.length - 1];
  }
  // moves time forward, firing the single timer whenever it is due
  advance(ms: number): void {
    const end = this.now + ms;
    for (let guard = 0; guard < 100000; guard++) {
      if (this.timerAt < 0 || this.timerAt > end) break;
      this.now = Math.max(this.now, this.timerAt);
      this.timerAt = -1;
      this.s.onTimer();
    }
    this.now = end;
  }
  ev(type: string): any[] {
    return this.events.filter((e) => e[0] == type).map((e) => e[1]);
  }
}
