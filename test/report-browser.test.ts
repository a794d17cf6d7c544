/**
 * report.html in a real headless Chromium (the Debian package, driven by
 * playwright-core; no browser is ever downloaded): it must load with no
 * console error and no network request, and every chart canvas must be
 * drawn. The same checks are run on broken pages to prove they can fail.
 */
import { test } from "node:test";
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import type { Browser } from "playwright-core";
import { writeReport } from "../reports/write-report.js";
import { curvesFixture, reportFixture, searchSweepFixture } from "./fixtures/report-fixture.js";

const ENSURE = fileURLToPath(new URL("../../scripts/ensure-chromium.sh", import.meta.url));
const FLAGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** The browser's path, installing it if needed, or why it cannot be had. */
function findChromium(): { path: string } | { why: string } {
  const r = spawnSync("bash", [ENSURE], { encoding: "utf8", timeout: 600_000 });
  if (r.status === 0 && r.stdout.trim() !== "") return { path: r.stdout.trim().split("\n").pop()! };
  return { why: (r.stderr.trim().split("\n").pop() ?? "") || `ensure-chromium.sh exited ${r.status}` };
}

interface PageCheck {
  /** Console errors and uncaught exceptions, in order. */
  errors: string[];
  /** Requests for anything but the file itself (the page must be self-contained). */
  requests: string[];
  /** Per chart canvas: share of its pixels that are drawn (not blank, not the white background). */
  canvases: { id: string; drawn: number }[];
}

/** Runs in the page (as text: this project compiles without the DOM types): each canvas's drawn share. */
const CANVAS_SCAN = `[...document.querySelectorAll("canvas")].map((c) => {
  const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let drawn = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0 && (data[i] < 235 || data[i + 1] < 235 || data[i + 2] < 235)) drawn++;
  }
  return { id: c.id, drawn: drawn / (c.width * c.height) };
})`;

async function check(browser: Browser, file: string): Promise<PageCheck> {
  const page = await browser.newPage();
  const out: PageCheck = { errors: [], requests: [], canvases: [] };
  page.on("console", (m) => {
    if (m.type() === "error") out.errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => out.errors.push(`exception: ${e.message}`));
  await page.route("**/*", async (route) => {
    const url = route.request().url();
    if (url === `file://${file}`) return route.continue();
    out.requests.push(url);
    return route.abort();
  });
  try {
    await page.goto(`file://${file}`, { waitUntil: "load" });
    await page.waitForTimeout(200); // module scripts have run by "load"; a moment for any late error
    out.canvases = await page.evaluate<PageCheck["canvases"]>(CANVAS_SCAN);
  } finally {
    await page.close();
  }
  return out;
}

/** Share of a canvas's pixels that must be drawn: axes, labels and a line are well above this. */
const MIN_DRAWN = 0.01;

function writeHtml(dir: string, name: string, html: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, html);
  return file;
}

test("report.html loads offline in Chromium with no console error and every chart drawn", { timeout: 700_000 }, async (t: TestContext) => {
  const found = findChromium();
  if ("why" in found) {
    t.skip(`chromium not available and could not be installed: ${found.why}`);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-report-browser-"));
  const browser = await chromium.launch({ executablePath: found.path, headless: true, chromiumSandbox: false, args: FLAGS, timeout: 60_000 });
  try {
    const files = writeReport(dir, reportFixture(), { png: false });
    const html = fs.readFileSync(files.html, "utf8");

    await t.test("the real report", async () => {
      const r = await check(browser, files.html);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.requests, []);
      const charts = (html.match(/<canvas id="chart-/g) ?? []).length;
      assert.ok(charts >= 5, `${charts} chart canvases in the page`);
      assert.equal(r.canvases.length, charts);
      for (const c of r.canvases) assert.ok(c.drawn > MIN_DRAWN, `${c.id}: only ${(c.drawn * 100).toFixed(2)}% of its pixels drawn`);
    });

    await t.test("the open-loop report: latency through the sweep", async () => {
      const curvesDir = path.join(dir, "curves");
      fs.mkdirSync(curvesDir);
      const curves = writeReport(curvesDir, curvesFixture(), { png: false });
      const page = fs.readFileSync(curves.html, "utf8");
      const r = await check(browser, curves.html);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.requests, []);
      assert.match(page, /<canvas id="chart-latency-timeline-/);
      assert.equal(r.canvases.length, (page.match(/<canvas id="chart-/g) ?? []).length);
      for (const c of r.canvases) assert.ok(c.drawn > MIN_DRAWN, `${c.id}: only ${(c.drawn * 100).toFixed(2)}% of its pixels drawn`);
    });

    await t.test("the search report: the highest rate at the objective leads, the curves beside it, every one drawn", async () => {
      const searchDir = path.join(dir, "search");
      fs.mkdirSync(searchDir);
      const written = writeReport(searchDir, searchSweepFixture(), { png: false });
      const page = fs.readFileSync(written.html, "utf8");
      const r = await check(browser, written.html);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.requests, []);
      const ids = r.canvases.map((c) => c.id);
      for (const id of ["chart-max-rate-at-slo", "chart-curves-p99", "chart-curve-epoll", "chart-curve-iocp"]) assert.ok(ids.includes(id), `${id} missing from ${ids.join(", ")}`);
      assert.equal(page.indexOf("<canvas id=\"chart-"), page.indexOf("<canvas id=\"chart-max-rate-at-slo\""), "the highest rate at the objective is the first chart of the page");
      for (const c of r.canvases) assert.ok(c.drawn > MIN_DRAWN, `${c.id}: only ${(c.drawn * 100).toFixed(2)}% of its pixels drawn`);
    });

    await t.test("an exception thrown by the page is caught", async () => {
      const broken = writeHtml(dir, "throws.html", html.replace("</body>", `<script>throw new Error("injected failure")</script></body>`));
      const r = await check(browser, broken);
      assert.ok(r.errors.some((e) => e.includes("injected failure")), JSON.stringify(r.errors));
    });

    await t.test("a console.error is caught", async () => {
      const broken = writeHtml(dir, "console.html", html.replace("</body>", `<script>console.error("injected console error")</script></body>`));
      const r = await check(browser, broken);
      assert.ok(r.errors.some((e) => e.includes("injected console error")), JSON.stringify(r.errors));
    });

    await t.test("a page without Chart.js fails both checks: an error and blank canvases", async () => {
      const start = html.indexOf("<script>") + "<script>".length;
      const end = html.indexOf("</script>", start);
      const broken = writeHtml(dir, "nochart.html", html.slice(0, start) + html.slice(end));
      const r = await check(browser, broken);
      assert.ok(r.errors.some((e) => /Chart is not defined/.test(e)), JSON.stringify(r.errors));
      assert.ok(r.canvases.every((c) => c.drawn < MIN_DRAWN), JSON.stringify(r.canvases));
    });

    await t.test("a page that fetches from the network is caught", async () => {
      const broken = writeHtml(dir, "cdn.html", html.replace("</body>", `<img src="https://cdn.example.invalid/x.png"></body>`));
      const r = await check(browser, broken);
      assert.deepEqual(r.requests, ["https://cdn.example.invalid/x.png"]);
    });
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
