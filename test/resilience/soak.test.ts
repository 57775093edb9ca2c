// Bounded soak in the CI suite: 50 forced reconnect cycles (TCP resets and WiFi drops) and 50 shadow
// reports by the firmware bundle in the simulator against the stand-in; the device context's timers,
// sockets, watches, listeners and memory() estimate must not grow. `npm run soak -- --cycles 1000`
// runs the long version (docs/performance.md).
import { runSoak } from "../../scripts/soak";
import { firmware } from "./harness";

jest.setTimeout(120000);

test("50 reconnect cycles and 50 reports: no growth of timers, sockets, watches, listeners or memory", async () => {
  const lines: string[] = [];
  const r = await runSoak({ cycles: 50, bundlePath: await firmware(), log: (l) => lines.push(l) });
  expect(r.reconnects).toBeGreaterThanOrEqual(50);
  expect(r.reports).toBe(50);
  expect(r.errors).toEqual([]);
  expect({ grew: r.grew, growth: r.growth }).toEqual({ grew: [], growth: expect.any(Object) });
  // a live connection holds exactly one socket after every cycle
  expect(r.samples.every((s) => s.sockets === 1)).toBe(true);
});
