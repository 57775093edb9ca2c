// Running out of memory on the Espruino 2v29 interpreter built like an ESP8266_4MB, as a field device
// does: once connected, a dummy array typed at the console leaves STARVED_FREE variables free and
// keeps them taken; then a desired change too large for the socket's data handler at that level
// arrives. Espruino prints OUT OF MEMORY and removes the handler; the firmware's watchdog must say so
// in plain words, drop the link, connect again within RECONNECT_MS, and apply and report a desired
// change made afterwards, with no Uncaught error and no interpreter ASSERT.
//
// The level: with the firmware connected, at about 510 free a 3 KB desired value streams through
// the JSON scanner without running out; at about 300 free the interpreter asserts inside the data
// handler itself (jsvar.c, jsvIsString) before any JS can react. 420 sits in the middle of the range
// where the data handler fails cleanly (measured 450 and 495).
import type { Cloud } from "../../sim/cloud";
import { cloudUp, deviceConfig, reported, until } from "../support/e2e";
import { Board, disposeAll, interpDescribe } from "./harness";

const MIN = 60000;
const CONNECTED = "connected to AWS IoT";
const STARVED_FREE = 420;
const RECONNECT_MS = 15000; // from the drop line to connected again (qemu: 3-10x slower than the chip)
const DROPPED = /^\[W\] mqtt: ws: (the socket lost its data handler|out of memory); dropping the link$/;

interpDescribe("ESP8266 interpreter: running out of memory is survivable", () => {
  let cloud: Cloud;
  const thing = "interp-oom";

  beforeAll(async () => {
    cloud = await cloudUp();
  }, MIN);
  afterAll(async () => {
    await disposeAll();
    if (cloud) await cloud.stop();
  });

  test(`starved to ${STARVED_FREE} free variables, a large desired change: dropped, back within ${RECONNECT_MS / 1000} s, in sync`, async () => {
    const board = await Board.boot("esp8266", await deviceConfig(cloud, thing));
    await board.waitLog(CONNECTED, 1, 3 * MIN);
    await until(() => reported(cloud, thing).uptime !== undefined, "the first report", MIN);

    await board.send(`var D=[];while(process.memory().free>${STARVED_FREE})D.push("0123456789abcdef0123456789abcdef"+D.length);print("@S"+process.memory().free)`);
    await board.waitLog(/^@S\d+$/);
    const free = +board.logs.filter((l) => /^@S\d+$/.test(l)).pop()!.slice(2);
    expect(free).toBeLessThanOrEqual(STARVED_FREE);

    const connects = board.count(CONNECTED);
    await cloud.shadows.update(thing, { state: { desired: { note: "x".repeat(3000) } } });
    await board.waitLog("OUT OF MEMORY", 1, MIN);
    await board.waitLog(DROPPED, 1, MIN);
    const droppedAt = Date.now();
    await board.waitLog(CONNECTED, connects + 1, RECONNECT_MS);
    const backMs = Date.now() - droppedAt;

    await cloud.shadows.update(thing, { state: { desired: { on: true, refresh: 3 } } });
    await until(() => reported(cloud, thing).on === true && reported(cloud, thing).refresh === 3, "on and refresh reported after the recovery", MIN);
    console.log(`ESP8266 interpreter: starved to ${free} free, link dropped, connected again ${backMs} ms after the drop line`);
    expect(board.count(/Uncaught|ASSERT/)).toBe(0);
  }, 5 * MIN);
});
