/**
 * The CI smoke sweep (.ci/run): every model, a few seconds each, through the
 * real CLI. Fails (exit 1) unless every model completed its run, exchanged
 * messages and counted no mismatch. bench's own exit status already says
 * so (1 for a failed run, a MISMATCH or NO-MESSAGES); this reads
 * results.json and checks each model by name, so a model missing from the
 * sweep, or a change to that exit status, cannot pass unnoticed.
 *
 *   npm run smoke -- [--seconds 2]
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ResultsFile } from "../reports/schema.js";
import { MODELS } from "../servers/models.js";
import { ROOT, arg } from "./lib.js";

const seconds = arg("seconds", 2);
const out = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-smoke-"));
try {
  const bench = spawnSync(
    process.execPath,
    [path.join(ROOT, "dist/cli/main.js"), "bench", "--model", "all", "--threads", "2", "--connections", "32", "--duration", String(seconds), "--warmup", "0.5", "--json", "--out", out],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 256 << 20, timeout: 60_000 + MODELS.length * seconds * 3000 },
  );
  let results: ResultsFile | null = null;
  try {
    results = JSON.parse(bench.stdout) as ResultsFile;
  } catch {
    results = null;
  }
  const failures: string[] = [];
  if (results === null) failures.push(`bench printed no results (exit ${bench.status ?? bench.signal})`);
  for (const model of MODELS) {
    const run = results?.runs.find((r) => r.config.model === model.name);
    if (run === undefined) {
      if (results !== null) failures.push(`${model.name}: no run`);
      continue;
    }
    const f = run.figures;
    if (run.status !== "ok") failures.push(`${model.name}: run failed: ${run.error}`);
    if (f === null || f.messages === 0) failures.push(`${model.name}: exchanged no message`);
    if (f !== null && f.errorsTotal.mismatch > 0) failures.push(`${model.name}: ${f.errorsTotal.mismatch} mismatched echo(es)`);
    if (f !== null) console.log(`smoke: ${model.name.padEnd(20)} ${f.messages} messages, ${f.errorsTotal.mismatch} mismatches`);
  }
  if (results !== null && bench.status !== 0 && failures.length === 0) failures.push(`bench exited ${bench.status} though every run looks fine`);
  if (failures.length > 0) {
    for (const f of failures) console.error(`smoke: FAIL ${f}`);
    process.exitCode = 1;
  } else {
    console.log(`smoke: ok, every model exchanged messages with no mismatch (${seconds} s each)`);
  }
} finally {
  fs.rmSync(out, { recursive: true, force: true });
}
