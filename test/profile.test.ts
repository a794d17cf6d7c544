/**
 * --profile doctor end to end: the iocp model under load runs inside clinic
 * doctor, and results.json links the HTML clinic produced.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { unlessInstalled } from "./fixtures/optional.js";

const MAIN = fileURLToPath(new URL("../cli/main.js", import.meta.url));

test("bench --profile doctor: a clinic doctor profile of iocp under load, linked from results.json", { timeout: 180_000, skip: unlessInstalled("clinic") }, async () => {
  const out = mkdtempSync(path.join(tmpdir(), "iobench-profile-"));
  try {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [
        MAIN, "bench", "--model", "iocp", "--threads", "1", "--protocol", "http", "--profile", "doctor",
        "--connections", "8", "--duration", "1", "--warmup", "0.5", "--client-threads", "1", "--json", "--out", out,
      ], { timeout: 170_000, maxBuffer: 64 << 20 }, (err, so, se) => (err ? reject(new Error(`${err.message}\n${se}`)) : resolve(so)));
    });
    const results = JSON.parse(stdout) as { runs: { status: string; figures: { messages: number }; profile?: { tool: string; html: string | null; error?: string } }[] };
    const run = results.runs[0]!;
    assert.equal(run.status, "ok");
    assert.ok(run.figures.messages > 0, "no load reached the profiled server");
    assert.equal(run.profile?.tool, "doctor");
    assert.notEqual(run.profile?.html ?? null, null, `no HTML: ${run.profile?.error}`);
    const resultsDir = path.join(out, readdirSync(out)[0]!); // <out>/<timestamp>/
    const html = path.join(resultsDir, run.profile!.html!);
    assert.ok(statSync(html).size > 10_000, "the HTML is too small to be a report");
    assert.match(readFileSync(html, "utf8").slice(0, 2000), /<html/i);
    // The sweep's HTML report links it too.
    assert.ok(readFileSync(path.join(resultsDir, "report.html"), "utf8").includes(`href="${run.profile!.html!}"`), "report.html does not link the profile");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
