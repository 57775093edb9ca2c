// A jest test environment that says what keeps a worker alive after a suite ("A worker process has
// failed to exit gracefully"). Use: npx jest <files> --testEnvironment ./test/support/open-handles-env.js
// After each test file's teardown (once right away, then 100 ms and 400 ms later while the process
// is still alive) it appends to $OPEN_HANDLES_LOG (default: <tmp>/open-handles.log) the resources
// that keep the event loop alive and every ref'd timer the suite created, with where it was created.
// A file whose later lines are missing let its worker exit by itself. The baseline is three or four
// PipeWrap (the worker's stdio and IPC channel).
const { TestEnvironment } = require("jest-environment-node");
const fs = require("fs");
const os = require("os");
const path = require("path");

const LOG = process.env.OPEN_HANDLES_LOG || path.join(os.tmpdir(), "open-handles.log");

class OpenHandlesEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.testPath = context.testPath;
    this.timers = new Map(); // timer -> "kind ms creation stack"
  }

  async setup() {
    await super.setup();
    const g = this.global;
    const timers = this.timers;
    const track = (create, kind) =>
      function (fn, ms, ...args) {
        const where = new Error().stack.split("\n").slice(2, 6).map((l) => l.trim()).join(" | ");
        const timer = create.call(this, function (...a) {
          if (kind === "timeout") timers.delete(timer);
          return fn.apply(this, a);
        }, ms, ...args);
        timers.set(timer, kind + " " + ms + " ms, created " + where);
        return timer;
      };
    const clearT = g.clearTimeout;
    const clearI = g.clearInterval;
    g.setTimeout = track(g.setTimeout, "timeout");
    g.setInterval = track(g.setInterval, "interval");
    g.clearTimeout = (t) => (timers.delete(t), clearT(t));
    g.clearInterval = (t) => (timers.delete(t), clearI(t));
  }

  async teardown() {
    await super.teardown();
    const file = this.testPath;
    const timers = this.timers;
    const report = (when) => {
      const live = [...timers].filter(([t]) => t && t.hasRef && t.hasRef()).map(([, s]) => "    " + s);
      const text = `${file} (${when}): ${JSON.stringify(process.getActiveResourcesInfo())}\n` + (live.length ? "  ref'd timers:\n" + live.join("\n") + "\n" : "");
      fs.appendFileSync(LOG, text);
    };
    report("teardown");
    setTimeout(() => report("+100 ms"), 100).unref();
    setTimeout(() => report("+400 ms"), 400).unref();
  }
}

module.exports = OpenHandlesEnvironment;
