/**
 * Load–latency curves of every model at 1 and 2 server threads on this
 * machine, server and client pinned apart (server CPU 1, client CPU 0), in
 * one bench sweep: each configuration's closed-loop maximum first, then the
 * open loop at shares of it, every model at one rate before the next, two
 * rounds (about 4.5 minutes: 140 runs of 0.5 s warm-up + 1 s). With
 * --search, instead, the highest rate meeting p99 = 5 ms per model and
 * thread count (--find-max-rate), the report's headline chart.
 *
 *   npm run bench:curves [-- --search] [-- --docs]
 *
 * Prints each curve's knee and saturation point (or each search's result)
 * and where the report is; --docs copies the charts docs/load-latency.md
 * shows into docs/load-latency/.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { curveTable, maxRateTable } from "../reports/curve-tables.js";
import { curves, maxRates } from "../reports/curves.js";
import { markdownTable } from "../reports/markdown.js";
import type { ResultsFile } from "../reports/schema.js";
import { ROOT } from "./lib.js";

const search = process.argv.includes("--search");
const docs = process.argv.includes("--docs");
const SHARES = "10%,30%,50%,70%,90%,110%";
/** Two repeats for the curves (each point the median of two short runs); one search per configuration. */
const REPEATS = search ? "1" : "2";
const OBJECTIVE = "p99=5ms";

const out = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-curves-"));
const args = [
  path.join(ROOT, "dist/cli/main.js"),
  "bench",
  ...["--model", "all", "--threads", "1,2", "--server-cpus", "1", "--client-cpus", "0"],
  ...["--duration", "1", "--warmup", "0.5", "--repeats", REPEATS, "--slo", OBJECTIVE, "--out", out],
  ...(search ? ["--find-max-rate"] : ["--rate", SHARES]),
];
const started = performance.now();
const r = spawnSync(process.execPath, args, { stdio: ["ignore", "ignore", "inherit"], timeout: 600_000 });
const seconds = (performance.now() - started) / 1000;
const dir = path.join(out, fs.readdirSync(out)[0] ?? "");
const results = JSON.parse(fs.readFileSync(path.join(dir, "results.json"), "utf8")) as ResultsFile;

const table = search ? maxRateTable(maxRates(results)) : curveTable(curves(results));
console.log(`\n${markdownTable(table.header, table.rows)}\n`);
console.log(`${results.runs.length} runs in ${seconds.toFixed(0)} s (exit ${r.status}); report: ${path.join(dir, "report.html")}`);
if (docs) {
  const into = path.join(ROOT, "docs/load-latency");
  fs.mkdirSync(into, { recursive: true });
  const charts = search ? ["max-rate-at-slo"] : ["curves-p99", ...results.options.models.map((m) => `curve-${m}`)];
  for (const id of charts) fs.copyFileSync(path.join(dir, "charts", `${id}.png`), path.join(into, `${id}.png`));
  console.log(`copied ${charts.length} chart(s) into ${into}`);
}
process.exitCode = r.status ?? 1;
