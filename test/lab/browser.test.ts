// The lab's web view in a real headless browser (Debian's chromium driven by playwright-core): the page shows
// the devices live, a click sets desired state, and the device's LED and reported state follow on the page.
// Screenshots of the main states are written to <tmpdir>/espruino-lab-screenshots/ and checked.
// Skipped only when /usr/bin/chromium is missing outside CI; in CI (CI=true) it must run.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { chromium, BrowserContext, Page } from "playwright-core";
import { startLab, Lab } from "../../sim/lab/lab";
import { startLabServer, LabServer } from "../../sim/lab/server";
import { cleanup, dir, firmware, until } from "./helpers";

const CHROMIUM = "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const SHOTS = path.join(os.tmpdir(), "espruino-lab-screenshots");
const haveChromium = fs.existsSync(CHROMIUM);
const inCI = process.env.CI === "true";
const maybe = haveChromium || inCI ? test : test.skip;

let lab: Lab | undefined;
let web: LabServer | undefined;
let ctx: BrowserContext | undefined;

afterAll(async () => {
  if (ctx) await ctx.close().catch(() => undefined);
  if (web) await web.close();
  if (lab) await lab.stop();
  cleanup();
});

// PNG: signature, IHDR width/height, and a size that a blank page would not reach.
function checkPng(file: string, minBytes: number): { width: number; height: number; bytes: number } {
  const b = fs.readFileSync(file);
  expect(b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  expect(b.toString("latin1", 12, 16)).toBe("IHDR");
  const width = b.readUInt32BE(16);
  const height = b.readUInt32BE(20);
  expect(width).toBeGreaterThan(600);
  expect(height).toBeGreaterThan(300);
  expect(b.length).toBeGreaterThan(minBytes);
  return { width, height, bytes: b.length };
}

async function shot(page: Page, name: string): Promise<Buffer> {
  const file = path.join(SHOTS, name);
  await page.screenshot({ path: file, fullPage: true });
  checkPng(file, 20000);
  return fs.readFileSync(file);
}

maybe(
  "web view: device online, a click on 'LED on' lights the LED and the reported state follows, sensor removal shows",
  async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (CI must run this test)`);
    fs.mkdirSync(SHOTS, { recursive: true });
    lab = await startLab({ devices: 2, dataDir: dir("lab"), bundlePath: await firmware(), refresh: 2, sensorDrift: false });
    web = await startLabServer(lab, { port: 0 });
    ctx = await chromium.launchPersistentContext(dir("chromium-profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1280, height: 900 },
    });
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const pageErrors: string[] = [];
    const offsite: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("request", (r) => {
      if (!r.url().startsWith(web!.url) && !r.url().startsWith("data:")) offsite.push(r.url());
    });
    await page.goto(web.url);
    const card = page.locator('[data-device="dev-1"]');

    // 1. both devices online with a shadow; LED off
    await page.waitForSelector('[data-device="dev-1"][data-online="true"]', { timeout: 20000 });
    await page.waitForSelector('[data-device="dev-2"][data-online="true"]', { timeout: 20000 });
    await until(async () => /^\d+$/.test((await card.locator(".version").textContent()) || ""), "a shadow version on the card");
    await until(async () => (await card.locator(".temperature").textContent())?.includes("\u00b0C"), "a temperature on the card");
    expect(await card.locator(".led").getAttribute("data-lit")).toBe("false");
    expect(await card.locator(".reported-on").textContent()).toBe("false");
    expect(await card.locator(".online-badge").textContent()).toBe("online");
    expect(await page.locator("#conn").textContent()).toBe("live");
    await until(async () => (await card.locator(".chart-box path.t").count()) > 0, "a temperature line in the chart");
    const online = await shot(page, "1-online.png");

    // 2. click "LED on": desired -> device -> LED lit -> reported on=true, all on the page
    await card.locator(".do-on").click();
    await page.waitForSelector('[data-device="dev-1"] .led[data-lit="true"]', { timeout: 15000 });
    await until(async () => (await card.locator(".reported-on").textContent()) === "true", "reported on = true on the page");
    expect(await card.locator(".desired-on").textContent()).toBe("true");
    expect(await card.locator(".led-state").textContent()).toBe("on");
    // the page tells the truth: the simulated pin is low (active-low LED lit) and the shadow says on
    expect(lab.device("dev-1").led(2).level).toBe(0);
    expect((lab.backend.cloud!.shadows.get("dev-1") as any).state.reported.on).toBe(true);
    // dev-2 did not change
    expect(await page.locator('[data-device="dev-2"] .led').getAttribute("data-lit")).toBe("false");
    const ledOn = await shot(page, "2-led-on.png");
    expect(ledOn.equals(online)).toBe(false);

    // 3. remove dev-1's sensor: badge, button text and the reported sensor error
    await card.locator(".do-sensor").click();
    await page.waitForSelector('[data-device="dev-1"][data-sensor="false"]', { timeout: 5000 });
    expect(await card.locator(".sensor-badge").textContent()).toBe("no sensor");
    expect(await card.locator(".do-sensor").textContent()).toBe("Restore sensor");
    await until(async () => (await card.locator(".temperature").textContent())?.startsWith("sensor error"), "a sensor error on the card", 15000);
    await shot(page, "3-sensor-removed.png");

    // 4. a job from the page: blink, followed to SUCCEEDED
    await card.locator(".job-op").selectOption("blink");
    await card.locator(".do-job").click();
    await until(async () => (await card.locator(".job").getAttribute("data-status")) === "SUCCEEDED", "the blink job SUCCEEDED on the card", 15000);
    expect(await card.locator(".job").textContent()).toMatch(/^blink SUCCEEDED \(lab-blink-/);

    // 5. bad input from the page: a plain-words message, nothing breaks
    await card.locator(".refresh-input").fill("0");
    await card.locator(".do-refresh").click();
    await until(async () => (await page.locator("#message").textContent())?.includes("refresh must be a whole number"), "the error message");
    expect(await page.locator("#message").getAttribute("class")).toBe("error");

    expect(pageErrors).toEqual([]);
    expect(offsite).toEqual([]);
  },
  90000,
);

maybe(
  "web view: an offline device's readings are stale with their age; when the lab stops, the page says so and every state is unknown",
  async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (CI must run this test)`);
    const stopLab = await startLab({ devices: 2, dataDir: dir("lab-stop"), bundlePath: await firmware(), refresh: 2, sensorDrift: false });
    const stopWeb = await startLabServer(stopLab, { port: 0 });
    let stopped = false;
    try {
      const pctx = await chromium.launchPersistentContext(dir("chromium-profile-stop"), { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 } });
      try {
        const page = pctx.pages()[0] ?? (await pctx.newPage());
        const pageErrors: string[] = [];
        page.on("pageerror", (e) => pageErrors.push(e.message));
        await page.goto(stopWeb.url);
        const card1 = page.locator('[data-device="dev-1"]');
        const card2 = page.locator('[data-device="dev-2"]');
        await page.waitForSelector('[data-device="dev-1"][data-online="true"]', { timeout: 20000 });
        await page.waitForSelector('[data-device="dev-2"][data-online="true"]', { timeout: 20000 });
        for (const card of [card1, card2]) await until(async () => /^\d+ s ago$/.test((await card.locator(".age").textContent()) || ""), "the age of the last report");
        expect(await card1.getAttribute("data-stale")).toBe("false");

        // 1. dev-2 loses WiFi while the lab runs: offline, its readings stale with their age; dev-1 unaffected
        await card2.locator(".do-wifi").click();
        await page.waitForSelector('[data-device="dev-2"][data-online="false"]', { timeout: 60000 });
        await until(async () => /^stale: \d+ (s|min) ago$/.test((await card2.locator(".age").textContent()) || ""), "dev-2's readings marked stale");
        expect(await card2.getAttribute("data-stale")).toBe("true");
        expect(await card1.getAttribute("data-stale")).toBe("false");

        // 2. the lab stops: the page says so, no device is "online", controls are off, readings stale
        await stopWeb.close();
        await stopLab.stop();
        stopped = true;
        await until(async () => (await page.locator("#conn").textContent()) === "lab stopped", "the page to say the lab stopped");
        expect(await page.locator("body").getAttribute("data-lab")).toBe("stopped");
        for (const card of [card1, card2]) {
          expect(await card.getAttribute("data-online")).toBe("unknown");
          expect(await card.locator(".online-badge").textContent()).toBe("unknown");
          expect(await card.getAttribute("data-stale")).toBe("true");
          expect(await card.locator(".age").textContent()).toMatch(/^stale: \d+ (s|min) ago$/);
          expect(await card.locator(".do-on").isDisabled()).toBe(true);
        }
        expect(await page.locator("#group-job").isDisabled()).toBe(true);
        expect(await page.locator("#message").textContent()).toContain("the lab has stopped or cannot be reached");
        expect(await page.locator("#message").textContent()).not.toContain("Failed to fetch");
        expect(await page.locator(".online-badge", { hasText: /^online$/ }).count()).toBe(0);
        await shot(page, "4-lab-stopped.png");
        expect(pageErrors).toEqual([]);
      } finally {
        await pctx.close().catch(() => undefined);
      }
    } finally {
      if (!stopped) {
        await stopWeb.close();
        await stopLab.stop();
      }
    }
  },
  120000,
);
