/**
 * baselines/NAME.json: a run kept to compare later runs with, meant to be
 * committed next to the code it measured. It holds the configuration (the
 * bench options, so `check --baseline NAME` re-runs exactly that), the
 * machine it ran on, and per configuration a summary (median, min–max and
 * the order-statistic interval of the median of each judged figure, with
 * its confidence) and every repeat's raw figures, which are what a later
 * check compares with. Histograms and timelines are left out:
 * the file stays small enough to review in a diff.
 *
 * Version 2 (the configuration key covers the whole setup: work, load,
 * pinning...). Renaming or removing a field, or changing a unit, bumps
 * BASELINE_VERSION; adding a field does not.
 */
import fs from "node:fs";
import path from "node:path";
import { schemaReference, upgradeOptions, writeFileAtomic } from "./results-file.js";
import { FIGURES, groupRuns } from "./samples.js";
import type { ConfigSamples, FigureName } from "./samples.js";
import { BASELINE_SCHEMA, BASELINE_VERSION, BaselineFileSchema, type BaselineFile, type ResultsFile } from "./schema.js";
import { firstProblem } from "./validate.js";
import { spread, type Spread } from "./stats.js";

export { BASELINE_SCHEMA, BASELINE_VERSION } from "./schema.js";
export type { BaselineConfig, BaselineFile } from "./schema.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Checks a baseline name (it becomes a file name); throws one line. */
export function checkBaselineName(name: string): string {
  if (!NAME.test(name)) throw new Error(`baseline name '${name}' must be letters, digits, '.', '_' or '-' (a file name), up to 100`);
  return name;
}

export function baselinePath(dir: string, name: string): string {
  return path.join(dir, `${checkBaselineName(name)}.json`);
}

/** A baseline made of a finished sweep. */
export function baselineFromResults(name: string, results: ResultsFile): BaselineFile {
  return {
    schema: BASELINE_SCHEMA,
    version: BASELINE_VERSION,
    name,
    createdAt: results.createdAt,
    tool: results.tool,
    environment: results.environment,
    options: results.options,
    configurations: groupRuns(results.runs).map((g) => ({
      key: g.key,
      summary: Object.fromEntries(FIGURES.map((f) => [f.name, spread(g.repeats.map((r) => r[f.name]))])) as Record<FigureName, Spread | null>,
      repeats: g.repeats,
    })),
  };
}

/** The repeats of a baseline, as a check compares them. */
export function baselineSamples(b: BaselineFile): ConfigSamples[] {
  return b.configurations.map((c) => ({ key: c.key, repeats: c.repeats }));
}

/** Writes baselines/NAME.json (directories made as needed), atomically. Returns the path. */
export function writeBaseline(dir: string, baseline: BaselineFile): string {
  const file = baselinePath(dir, baseline.name);
  fs.mkdirSync(dir, { recursive: true });
  const { $schema: _old, ...rest } = baseline;
  writeFileAtomic(file, JSON.stringify({ $schema: schemaReference("baseline", dir), ...rest }, null, 2) + "\n");
  return file;
}

/** Reads and checks baselines/NAME.json; throws one line naming the problem. */
export function readBaseline(dir: string, name: string): BaselineFile {
  const file = baselinePath(dir, name);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === "ENOENT" ? `no baseline '${name}' (${file} does not exist; save one with --save-baseline ${name})` : `cannot read ${file}: ${code}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON`);
  }
  const b = data as Partial<BaselineFile> | null;
  if (b?.schema !== BASELINE_SCHEMA) throw new Error(`${file} is not an iobench baseline (schema ${JSON.stringify(b?.schema)})`);
  if (b.version !== BASELINE_VERSION) throw new Error(`${file} is baseline version ${String(b.version)}; this iobench reads version ${BASELINE_VERSION}: save it again`);
  upgradeOptions(b.options);
  const p = firstProblem(BaselineFileSchema, data, "baseline");
  if (p !== null) throw new Error(`${file}: field "${p.field}" ${p.text}`);
  return data as BaselineFile;
}
