// The largest documents AWS accepts, on the Espruino 2v29 interpreter built like an ESP8266_4MB:
// an 8 KB shadow state written by another client (desired + reported: its get/accepted, with
// per-leaf metadata, is about 20 KB) and a 30 KB job document. The device streams both through its
// JSON scanner, keeps applying its own keys, converges after a forced reconnect, and stays within
// the large-documents memory gate (gates.ts).
import type { Cloud } from "../../sim/cloud";
import { cloudUp, delta, deviceConfig, reported, until } from "../support/e2e";
import { Board, disposeAll, interpDescribe, stubCost } from "./harness";
import { GATES, limit } from "./gates";

const MIN = 60000;
const CONNECTED = "connected to AWS IoT";

// 36 keys of 88 characters: about 4 KB per section, 8 KB of state in all
function section(prefix: string): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i < 36; i++) o[prefix + ("0" + i).slice(-2)] = "v".repeat(88);
  return o;
}

interpDescribe("ESP8266 interpreter: the largest shadow and job documents", () => {
  let cloud: Cloud;
  let stub: number;
  const thing = "interp-large";

  beforeAll(async () => {
    cloud = await cloudUp();
    stub = await stubCost("esp8266");
  }, 2 * MIN);
  afterAll(async () => {
    await disposeAll();
    if (cloud) await cloud.stop();
  });

  test("an 8 KB state from another client and a 30 KB job document: in sync, within the gate", async () => {
    const board = await Board.boot("esp8266", await deviceConfig(cloud, thing));
    await board.waitLog(CONNECTED, 1, 3 * MIN);
    await until(() => reported(cloud, thing).uptime !== undefined, "the first report", MIN);
    await board.peak(true);

    await cloud.shadows.update(thing, { state: { desired: section("d"), reported: section("r") } });
    await board.waitLog("shadow: 36 desired keys are not this device's (left alone)", 1, 2 * MIN);
    await cloud.shadows.update(thing, { state: { desired: { on: true, refresh: 3 } } });
    await until(() => reported(cloud, thing).on === true && reported(cloud, thing).refresh === 3, "on and refresh reported", 2 * MIN);

    // a forced reconnect: the get/accepted then carries the whole document
    const n = board.count(CONNECTED);
    cloud.broker.clients[thing].close();
    await board.waitLog(CONNECTED, n + 1, 3 * MIN);
    await cloud.shadows.update(thing, { state: { desired: { on: false } } });
    await until(() => reported(cloud, thing).on === false && !(delta(cloud, thing) || {}).on, "the delta of on cleared", 2 * MIN);
    const peakShadow = (await board.peak(true)) - stub;

    const steps = Array.from({ length: 260 }, (_, i) => ({ step: i, action: "noop", note: "n".repeat(80) }));
    const document = { operation: "blink", count: 1, steps };
    expect(JSON.stringify(document).length).toBeGreaterThan(30000);
    await cloud.jobs.createJob({ jobId: "big-30k", targets: [thing], document });
    await until(() => (cloud.jobs.describeExecution("big-30k", thing) || ({} as any)).status === "SUCCEEDED", "the 30 KB job SUCCEEDED", 3 * MIN);
    const peakJob = (await board.peak(true)) - stub;

    console.log(`ESP8266 interpreter: peak with the 8 KB state and a reconnect ${peakShadow}, with the 30 KB job ${peakJob} (stub ${stub} subtracted)`);
    expect(Math.max(peakShadow, peakJob)).toBeLessThanOrEqual(limit(GATES.largeDocuments));
    expect(board.count(/Uncaught|ASSERT|OUT OF MEMORY/)).toBe(0);
  }, 15 * MIN);
});
