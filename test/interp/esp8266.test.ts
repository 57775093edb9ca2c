// dist/firmware.js on the Espruino 2v29 interpreter built like an ESP8266_4MB (1600 variables of
// 12 bytes, SHA1 only, no TLS), against the local stand-in over ws://. See harness.ts and
// docs/testing.md. Each test waits for a positive event (a log line, a stand-in state); the timeouts
// only bound a failure.
import type { Cloud } from "../../sim/cloud";
import { cloudUp, deviceConfig, reported, until as untilState } from "../support/e2e";
import { Board, disposeAll, interpDescribe, stubCost } from "./harness";
import { GATES, RECONNECT, limit } from "./gates";

const CONNECTED = "connected to AWS IoT";
const MIN = 60000;

interpDescribe("ESP8266 interpreter: the real bundle", () => {
  let cloud: Cloud;
  let stub: number;
  // one board for the connected cases, in order (each starts from where the previous left it)
  let board: Board;
  const thing = "interp-8266";
  const status = (job: string) => (cloud.jobs.describeExecution(job, thing) || ({} as any)).status;
  // the device's own share: the lowest of three readings, the stub subtracted
  // a stand-in state awaited; on a timeout the error carries the board's last console lines
  const until = <T>(cond: () => T, what: string, ms: number) =>
    untilState(cond, what, ms).catch((e) => {
      throw new Error(e.message + "; the board's last lines:\n" + (board ? board.logs.slice(-30).join("\n") : "(no board)"));
    });
  const usage = async (b: Board) => Math.min(await b.usage(), await b.usage(), await b.usage()) - stub;

  beforeAll(async () => {
    cloud = await cloudUp();
    stub = await stubCost("esp8266");
  }, 2 * MIN);
  afterAll(async () => {
    await disposeAll();
    if (cloud) await cloud.stop();
  });

  test("no configuration: a plain-word message, no crash, still answering", async () => {
    const b = await Board.boot("esp8266", null);
    await b.waitLog(/^\[E\] config iot\.json: /);
    expect(b.count(/Uncaught|ASSERT|Error/)).toBe(0);
    expect(await b.usage()).toBeGreaterThan(0); // the console still answers
    await b.dispose();
  }, 2 * MIN);

  test("boots to connected, reports, and stays within the memory gates", async () => {
    board = await Board.boot("esp8266", await deviceConfig(cloud, thing));
    await board.waitLog(CONNECTED, 1, 2 * MIN);
    const peak = (await board.peak(true)) - stub;
    await until(() => reported(cloud, thing).uptime !== undefined, "the first shadow report", MIN);
    expect(reported(cloud, thing)).toMatchObject({ on: false, btnCount: 0, refresh: 2 });
    const used = await usage(board);
    console.log(`ESP8266 interpreter: connected ${used} variables, peak to connected ${peak} (stub ${stub} subtracted)`);
    expect(used).toBeLessThanOrEqual(limit(GATES.connected));
    expect(peak).toBeLessThanOrEqual(limit(GATES.peakColdPresign));
    expect(board.count(/Uncaught|ASSERT/)).toBe(0);
  }, 3 * MIN);

  test("the signing cache is in Storage: a power cycle on the same day connects again", async () => {
    const before = board.count(/^@F/);
    await board.send('print("@F"+require("Storage").read("iot.sc").length)');
    await board.until(() => board.count(/^@F/) > before, "the cache file's size");
    expect(board.logs.filter((l) => /^@F/.test(l)).pop()).toBe("@F172");
    await board.powerCycle();
    await board.waitLog(CONNECTED, 1, 2 * MIN); // (logs restart at the power cycle)
  }, 3 * MIN);

  test("a desired change is applied and reported", async () => {
    await cloud.shadows.update(thing, { state: { desired: { on: true, refresh: 3 } } });
    await until(() => reported(cloud, thing).on === true && reported(cloud, thing).refresh === 3, "on and refresh reported", MIN);
    await board.waitLog("set on=true");
  }, 2 * MIN);

  test("a job runs to SUCCEEDED and an unknown operation is REJECTED", async () => {
    await cloud.jobs.createJob({ jobId: "interp-blink", targets: [thing], document: { operation: "blink", count: 2 } });
    await until(() => status("interp-blink") === "SUCCEEDED", "SUCCEEDED", MIN);
    await cloud.jobs.createJob({ jobId: "interp-bad", targets: [thing], document: { operation: "format-disk" } });
    await until(() => status("interp-bad") === "REJECTED", "REJECTED", MIN);
    expect(board.count(/Uncaught|ASSERT/)).toBe(0);
  }, 2 * MIN);

  test("the stand-in restarts: the device is back by itself and reports again", async () => {
    const n = board.count(CONNECTED);
    await cloud.restart();
    await board.waitLog(CONNECTED, n + 1, 2 * MIN);
    const up = reported(cloud, thing).uptime;
    await until(() => reported(cloud, thing).uptime > up, "a report after the restart", MIN);
  }, 3 * MIN);

  test(`${RECONNECT.cycles} reconnect cycles: usage stays flat (tolerance ${RECONNECT.tolerance} variables)`, async () => {
    let first = 0;
    for (let i = 1; i <= RECONNECT.cycles; i++) {
      const n = board.count(CONNECTED);
      const client = cloud.broker.clients[thing];
      expect(client).toBeDefined();
      client.close();
      await board.waitLog(CONNECTED, n + 1, MIN);
      if (i === RECONNECT.warmup) first = await usage(board);
    }
    const last = await usage(board);
    console.log(`ESP8266 interpreter: after ${RECONNECT.warmup} reconnects ${first} variables, after ${RECONNECT.cycles} ${last}`);
    expect(last - first).toBeLessThanOrEqual(RECONNECT.tolerance);
    expect(board.count(/Uncaught|ASSERT/)).toBe(0);
  }, 10 * MIN);
});
