// The AWS SDK's Node-version notice (its releases after early 2027 need Node 22) is switched off the documented
// way, with its own environment variable, in the test runner and in the tools that create SDK clients.
import { spawnSync } from "child_process";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");
const NOTICE = "NodeVersionSupportWarning";
const major = Number(process.versions.node.split(".")[0]);

// A fresh Node process that optionally loads `setup` first, then creates an SDK client and makes it resolve its
// configuration (where the SDK emits the notice); prints what went to stderr.
function sdkRun(setup: string): string {
  const env = { ...process.env };
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  const code =
    `${setup}; const { IoTClient, ListThingsCommand } = require("@aws-sdk/client-iot");` +
    `const c = new IoTClient({ region: "us-east-1", endpoint: "http://127.0.0.1:9", credentials: { accessKeyId: "a", secretAccessKey: "b" }, maxAttempts: 1 });` +
    `c.send(new ListThingsCommand({})).catch(() => undefined).then(() => c.destroy());`;
  const r = spawnSync(process.execPath, ["-e", code], { cwd: ROOT, env, encoding: "utf8", timeout: 30000 });
  return r.stderr;
}

test("jest's configuration switches the notice off, for the runner and its workers", () => {
  const withConfig = sdkRun(`require(${JSON.stringify(path.join(ROOT, "jest.config.js"))})`);
  expect(withConfig).not.toContain(NOTICE);
  // the control: without the switch this Node shows it, so the assertion above can fail
  if (major < 22) expect(sdkRun("0")).toContain(NOTICE);
});
// npm run sim:device -- --cloud, which creates a thing through the SDK, is checked in sim-device.test.ts.
