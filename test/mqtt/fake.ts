// A fake transport + timer for the session state machine (no sockets, no real time).
import { MqttDecoder } from "../../sim/mqtt/codec-server";
import { MqttPacket } from "../../firmware/mqtt/codec";
import { MqttEnv, MqttOptions, MqttSession, MqttTransport, mqttSession } from "../../firmware/mqtt/session";
import { MqttEvent } from "../../firmware/mqtt/events";

export class FakeLink implements MqttTransport {
  opened = 0;
  closed = 0;
  sent: MqttPacket[] = [];
  raw: string[] = [];
  dec: MqttDecoder;
  constructor() {
    this.dec = new MqttDecoder(1 << 20, (p) => this.sent.push(p));
  }
  open(): void {
    this.opened++;
  }
  write(d: string): void {
    if (this.closed) throw new Error("write after close");
    this.raw.push(d);
    const e = this.dec.feed(d);
    if (e) throw new Error("session wrote a bad packet: " + e);
  }
  close(): void {
    this.closed++;
  }
}

// Math.random is replaced by `rand` while a world exists: call restore() (or jest.restoreAllMocks()).
export class FakeWorld {
  now = 1_000_000; // the test's clock (the session never reads one)
  timerAt = -1;
  wakes = 0;
  rand = 0.5;
  links: FakeLink[] = [];
  events: [MqttEvent, any][] = [];
  s: MqttSession;
  env: MqttEnv;
  constructor(o: Partial<MqttOptions> = {}) {
    jest.spyOn(Math, "random").mockImplementation(() => this.rand);
    this.env = ((a: any, b?: any) => {
      if (typeof a == "object" && b === undefined) {
        const l = new FakeLink();
        this.links.push(l);
        return l;
      }
      if (typeof a == "object") {
        expect(b).toBeGreaterThanOrEqual(0);
        this.wakes++;
        this.timerAt = this.now + b;
        return;
      }
      this.events.push([a, b]);
    }) as MqttEnv;
    this.s = mqttSession.call(Object.assign({ clientId: "dev1" }, o), this.env); // starts the first attempt
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
      this.s.onData();
    }
    this.now = end;
  }
  ev(type: MqttEvent): any[] {
    return this.events.filter((e) => e[0] == type).map((e) => e[1]);
  }
}
