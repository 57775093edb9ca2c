// The acceptance "the bundle for a small firmware entry runs under the simulator": build a tiny entry
// (boot log line + LED blink with digitalWrite) with buildBundle and run the bundle on the simulated
// ESP8266 (sim/board), which executes the file itself in a vm context shaped like Espruino.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildBundle } from "../../scripts/build";
import { until } from "../support/wait";
import { DeviceHandle, startDevice } from "../../sim/board";

let tmp: string;
let dev: DeviceHandle | null = null;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bundle-sim-"));
});
afterAll(async () => {
  if (dev) await dev.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});


test("the blink fixture boots on the simulated ESP8266: log line, then the LED on D2 (GPIO2, the on-board LED) toggles", async () => {
  const bundlePath = path.join(tmp, "blink.js");
  await buildBundle({ entry: "test/fixtures/build/blink.ts", outfile: bundlePath });
  dev = await startDevice({ board: "esp8266", storageDir: path.join(tmp, "storage"), bundlePath });
  await dev.waitForLog("[I] boot blink fixture", 5000);
  const led = () => dev!.led(2).history.map((h) => h.level);
  await until(() => led().length >= 3, "three LED changes", 10000);
  const levels = led();
  // every write flips the level: 1, 0, 1, ...
  for (let i = 1; i < levels.length; i++) expect(levels[i]).not.toBe(levels[i - 1]);
  expect(dev.errors).toEqual([]);
});
