import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createCanvas, loadImage } from "@napi-rs/canvas";
import { CSV_COLUMNS, csvField, renderCsv } from "../reports/csv.js";
import type { Run } from "../reports/schema.js";
import { writeReport } from "../reports/write-report.js";
import { REPORT_FIXTURE, reportFixture } from "./fixtures/report-fixture.js";

const MAIN = fileURLToPath(new URL("../cli/main.js", import.meta.url));

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "iobench-report-test-"));
}

/** Share of a PNG's pixels that are not (near) white. */
async function drawnShare(file: string): Promise<number> {
  const img = await loadImage(fs.readFileSync(file));
  const canvas = createCanvas(img.width, img.height);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.width, img.height).data;
  let drawn = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 0 && (data[i]! < 235 || data[i + 1]! < 235 || data[i + 2]! < 235)) drawn++;
  return drawn / (img.width * img.height);
}

test("the report files: PNG charts drawn, markdown linking them, one CSV row per run", async () => {
  const dir = tmp();
  try {
    const results = reportFixture();
    const files = writeReport(dir, results);
    assert.ok(files.pngs.length >= 5, `${files.pngs.length} charts`);
    const shares = await Promise.all(files.pngs.map(drawnShare));
    shares.forEach((share, i) => assert.ok(share > 0.01, `${files.pngs[i]}: ${(share * 100).toFixed(2)}% drawn`));
    // Different charts, different pictures.
    assert.equal(new Set(files.pngs.map((f) => fs.readFileSync(f).toString("base64"))).size, files.pngs.length);

    const md = fs.readFileSync(files.markdown, "utf8");
    for (const png of files.pngs) assert.ok(md.includes(`](charts/${path.basename(png)})`), `report.md links ${png}`);
    for (const id of [1, 2, 3, 4]) assert.match(md, new RegExp(`\\*\\*Claim ${id}: (✅ supported|❌ not supported|❔ inconclusive|➖ not tested)\\.\\*\\*`));
    assert.match(md, /\| model \| threads \|/);

    const csv = fs.readFileSync(files.csv, "utf8").split("\r\n").filter((l) => l !== "");
    assert.equal(csv.length, results.runs.length + 1);
    assert.equal(csv[0], CSV_COLUMNS.map(([name]) => name).join(","));
    for (const line of csv.slice(1)) assert.equal(line.split(",").length, CSV_COLUMNS.length, line);

    const html = fs.readFileSync(files.html, "utf8");
    assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=/, "nothing loaded from elsewhere");
    assert.match(html, /Chart\.js v4/, "Chart.js inlined");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("warnings come first in the HTML and the markdown, and an incomplete sweep says so", () => {
  const dir = tmp();
  try {
    const results = reportFixture();
    results.complete = false;
    const a = results.runs[0]!;
    results.runs[0] = { status: "failed", config: a.config, error: "server died mid-run (exit code 70)", failure: "server-died", figures: null, startedAt: a.startedAt };
    const b = results.runs[1] as Run & { status: "ok" };
    b.figures.clientSaturated = true;
    b.figures.clientSaturatedReason = "a client thread was busy 97% of a core";
    b.figures.flags.push("CLIENT-SATURATED");
    const files = writeReport(dir, results, { png: false });
    const html = fs.readFileSync(files.html, "utf8");
    const md = fs.readFileSync(files.markdown, "utf8");
    for (const text of [html, md]) {
      const claims = text.indexOf("The chapter");
      for (const w of ["INCOMPLETE sweep", "FAILED run 1", "server died mid-run", "CLIENT-SATURATED run 2", "busy 97% of a core"]) {
        const at = text.indexOf(w);
        assert.ok(at >= 0 && at < claims, `"${w}" before the claims`);
      }
    }
    assert.match(fs.readFileSync(files.csv, "utf8"), /,failed,server-died,/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("CSV fields are quoted when they must be", () => {
  assert.equal(csvField('said "no", twice'), '"said ""no"", twice"');
  assert.equal(csvField(null), "");
  assert.equal(csvField(1.5), "1.5");
  const results = reportFixture();
  const a = results.runs[0]!;
  const failed: Run = { status: "failed", config: a.config, error: "bad, \"very\"\nbad", failure: "internal", figures: null, startedAt: a.startedAt };
  assert.match(renderCsv([failed]), /,"bad, ""very""\nbad",/);
});

test("`iobench report <dir>` rebuilds every report file from results.json alone; bad input is one line, exit 2", { timeout: 60_000 }, () => {
  const dir = tmp();
  try {
    fs.copyFileSync(REPORT_FIXTURE, path.join(dir, "results.json"));
    const ok = spawnSync(process.execPath, [MAIN, "report", dir], { encoding: "utf8" });
    assert.equal(ok.status, 0, ok.stderr);
    for (const f of ["report.html", "report.md", "results.csv"]) assert.ok(fs.existsSync(path.join(dir, f)), f);
    assert.ok(fs.readdirSync(path.join(dir, "charts")).filter((f) => f.endsWith(".png")).length >= 5);
    assert.match(ok.stdout, /report\.html$/m);

    fs.writeFileSync(path.join(dir, "other.json"), JSON.stringify({ hello: 1 }));
    const cases: [string, RegExp][] = [
      [path.join(dir, "missing"), /missing: no such file or directory/],
      [path.join(dir, "other.json"), /is not an iobench results file/],
    ];
    for (const [arg, message] of cases) {
      const bad = spawnSync(process.execPath, [MAIN, "report", arg], { encoding: "utf8" });
      assert.equal(bad.status, 2, bad.stderr);
      assert.match(bad.stderr, message);
      assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
