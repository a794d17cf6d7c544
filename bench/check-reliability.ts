/**
 * How often does `check` cry wolf, and how often does it catch a real
 * regression, on this machine? Saves one baseline with the test's load
 * (CHECK_LOAD_ARGS), then alternates N unchanged re-runs and N re-runs
 * with an injected cost (--work cpu:200us), so both see the same drift of
 * a shared machine over the whole job. Counts:
 *   false alarms: an unchanged re-run that exits 1 (or any figure REGRESSED),
 *   detections:   an injected re-run that exits 1 with cpu µs/msg REGRESSED,
 * with the test's thresholds (CHECK_THRESHOLDS) and, from the same
 * intervals, with the default ones (cpu 5 %, rate and p99 10 %).
 *
 *   npm run bench:check-reliability -- [--trials 20]
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { CheckFile } from "../reports/check-report.js";
import { DEFAULT_THRESHOLDS, verdictOf } from "../reports/verdict.js";
import { FIGURES } from "../reports/samples.js";
import { CHECK_INJECTED_WORK, CHECK_LOAD_ARGS, CHECK_THRESHOLDS, ROOT, arg } from "./lib.js";

const trials = arg("trials", 20);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-reliability-"));
const cli = (args: string[]): { code: number | null; stderr: string; stdout: string } => {
  const r = spawnSync(process.execPath, [path.join(ROOT, "dist/cli/main.js"), ...args], { cwd: dir, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
};
const readCheck = (stderr: string): CheckFile | null => {
  const m = /^iobench check: (.+check\.json) and check\.md$/m.exec(stderr);
  return m === null ? null : (JSON.parse(fs.readFileSync(path.resolve(dir, m[1]!), "utf8")) as CheckFile);
};
/** Figures regressed under the default thresholds, from the intervals check.json holds. */
const regressedAtDefaults = (c: CheckFile): string[] =>
  c.configurations.flatMap((cfg) =>
    cfg.figures.filter((f) => f.changeLow !== null && verdictOf(f.changeLow, f.changeHigh!, DEFAULT_THRESHOLDS[f.figure], FIGURES.find((x) => x.name === f.figure)!.better) === "regressed").map((f) => f.figure),
  );

try {
  const saved = cli(["check", "--save-baseline", "rel", ...CHECK_LOAD_ARGS, "--out", "results"]);
  if (saved.code !== 0) throw new Error(`baseline not saved: ${saved.stderr.trim().split("\n").at(-1)}`);
  const tally = { falseAlarms: 0, invalidUnchanged: 0, detections: 0, invalidInjected: 0, falseAlarmsAtDefaults: 0, detectionsAtDefaults: 0 };
  const alarmsByFigure: Record<string, number> = {};
  for (let t = 1; t <= trials; t++) {
    for (const injected of [false, true]) {
      const o = cli(["check", "--baseline", "rel", "--threshold", CHECK_THRESHOLDS, "--out", "results", ...(injected ? ["--work", CHECK_INJECTED_WORK] : [])]);
      const c = readCheck(o.stderr);
      const regressed = c?.configurations.flatMap((cfg) => cfg.figures.filter((f) => f.verdict === "regressed").map((f) => f.figure)) ?? [];
      const atDefaults = c === null ? [] : regressedAtDefaults(c);
      if (!injected) {
        if (o.code === 1) tally.falseAlarms++;
        if (o.code === 2) tally.invalidUnchanged++;
        if (atDefaults.length > 0) tally.falseAlarmsAtDefaults++;
        for (const f of atDefaults) alarmsByFigure[f] = (alarmsByFigure[f] ?? 0) + 1;
      } else {
        if (o.code === 1 && regressed.includes("cpu")) tally.detections++;
        if (o.code === 2) tally.invalidInjected++;
        if (atDefaults.includes("cpu")) tally.detectionsAtDefaults++;
      }
      process.stderr.write(`trial ${t} ${injected ? "injected " : "unchanged"}: exit ${o.code}, regressed [${regressed.join(",")}], at defaults [${atDefaults.join(",")}]\n`);
    }
  }
  console.log(`check reliability, ${trials} unchanged + ${trials} injected (${CHECK_INJECTED_WORK}) re-runs of one baseline, load: ${CHECK_LOAD_ARGS.join(" ")}`);
  console.log(`  thresholds ${CHECK_THRESHOLDS}: false alarms ${tally.falseAlarms}/${trials}, detections ${tally.detections}/${trials}` +
    ` (cannot judge: ${tally.invalidUnchanged} unchanged, ${tally.invalidInjected} injected)`);
  console.log(`  default thresholds (cpu 5%, rate 10%, p99 10%): false alarms ${tally.falseAlarmsAtDefaults}/${trials}` +
    ` (by figure: ${JSON.stringify(alarmsByFigure)}), detections ${tally.detectionsAtDefaults}/${trials}`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
