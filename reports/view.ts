/**
 * Everything a report shows, computed once from results.json (pure): the
 * per-configuration summaries, the claims' verdicts, the chart specs and the
 * warnings. The HTML, markdown and PNG outputs all draw from one ReportView.
 */
import type { ChartSpec } from "./chart-kit.js";
import { chartSpecs } from "./charts.js";
import { judgeClaims } from "./claims.js";
import type { ClaimResult } from "./claims.js";
import { curves, maxRates } from "./curves.js";
import type { Curve, MaxRate } from "./curves.js";
import type { ResultsFile } from "./schema.js";
import { NOISY_DISPERSION } from "./rules.js";
import { percent } from "./stats.js";
import { configLabel, summariseRuns } from "./summary.js";
import type { ConfigSummary } from "./summary.js";
import { renderNotes } from "./table.js";

/** What every report output is drawn from. */
export interface ReportView {
  results: ResultsFile;
  summaries: ConfigSummary[];
  claims: ClaimResult[];
  charts: ChartSpec[];
  /** Open-loop curves (rate sweeps, search probes), and the searches per configuration. */
  curves: Curve[];
  maxRates: MaxRate[];
  /** One line per problem (failed, corrupted, client-saturated, erroneous runs; an incomplete sweep); [] when none. */
  warnings: string[];
}

/** Builds the view of a results file. */
export function reportView(results: ResultsFile): ReportView {
  const summaries = summariseRuns(results);
  const warnings = renderNotes(results.runs);
  if (!results.complete) {
    warnings.unshift(`INCOMPLETE sweep: results.json was last written ${results.updatedAt} and is not marked complete (still running, interrupted or crashed): runs may be missing`);
  }
  if (results.runs.length === 0) warnings.unshift("NO RUNS: the sweep recorded no run yet");
  for (const c of summaries.filter((x) => x.noisy.length > 0)) {
    warnings.push(`NOISY ${configLabel(c)}: the repeats of ${c.noisy.join(", ")} differ by more than ${percent(NOISY_DISPERSION)} (geometric CV); read those medians as rough`);
  }
  return { results, summaries, claims: judgeClaims(results, summaries), charts: chartSpecs(results, summaries), curves: curves(results), maxRates: maxRates(results), warnings };
}

/** "1.23 M", "45.6 k", "789": figures in tables. */
export function compact(x: number): string {
  const abs = Math.abs(x);
  if (abs >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (abs >= 1e4) return `${(x / 1e3).toFixed(1)} k`;
  if (abs >= 100) return Math.round(x).toLocaleString("en-US");
  if (abs >= 1) return x.toFixed(1);
  return x === 0 ? "0" : x.toPrecision(2);
}

/** The environment as label/value pairs. */
export function environmentRows(results: ResultsFile): [string, string][] {
  const e = results.environment;
  const o = results.options;
  const pin = (cpus: number[] | null): string => (cpus === null ? "not pinned" : cpus.join(","));
  const how = { default: "iobench's default split (--no-pin opts out)", given: "--server-cpus / --client-cpus", none: "not pinned" } as const;
  return [
    ["CPU", e.cpuModel],
    ["cores", `${e.cores} (usable by iobench: ${e.usableCores})`],
    ["memory", `${(e.memoryBytes / 2 ** 30).toFixed(1)} GiB`],
    ["kernel", e.kernel],
    ["Node.js", e.node],
    ["platform", e.platform],
    ["server CPUs", pin(o.serverCpus)],
    ["client CPUs", pin(o.clientCpus)],
    ["pinning", o.pinning === undefined ? (o.serverCpus === null && o.clientCpus === null ? "not pinned" : "given") : how[o.pinning]],
    ["git commit", e.gitCommit === null ? "unknown" : `${e.gitCommit}${e.gitDirty === true ? " (uncommitted changes)" : ""}`],
    ["iobench", results.tool.version],
    ["sweep", `${results.runs.length} run(s), ${o.repeats} repeat(s), ${o.warmupSec} s warm-up + ${o.durationSec} s measured each, started ${results.createdAt}${results.complete ? "" : " (INCOMPLETE)"}`],
  ];
}

/** Column titles and cells of the per-configuration summary table. */
export function summaryTable(view: ReportView): { header: string[]; rows: string[][] } {
  const spread = (s: ConfigSummary["messagesPerSec"]): string => {
    if (s === null) return "-";
    if (s.n < 2) return compact(s.median);
    const ci = `${compact(s.ciLow)}–${compact(s.ciHigh)}`;
    const range = `${compact(s.min)}–${compact(s.max)}`;
    // Up to 5 repeats the interval is the range: say it once, with its real confidence.
    return `${compact(s.median)} [${percent(s.ciConfidence)}: ${ci}]${range === ci ? "" : ` (${range})`}`;
  };
  const median = (s: ConfigSummary["messagesPerSec"]): string => (s === null ? "-" : compact(s.median));
  return {
    header: ["model", "threads", "conns", "size B", "work", "n", "served", "msg/s median [CI of the median] (min–max)", "p50 µs", "p99 µs", "p99.9 µs", "cpu µs/msg", "ctx-sw/msg", "flags"],
    rows: view.summaries.map((s) => [
      s.part === null ? s.model : `${s.model} (${s.part})`,
      s.threads === null ? "-" : String(s.threads),
      String(s.connections),
      String(s.sizeBytes),
      s.work ?? "-",
      `${s.validRuns}/${s.runIndexes.length}`,
      s.sessionsServed === null ? "-" : `${Math.round(s.sessionsServed.median)}/${s.connections}`,
      spread(s.messagesPerSec),
      median(s.latencyP50Us),
      median(s.latencyP99Us),
      median(s.latencyP99_9Us),
      median(s.serverCpuUsPerMessage),
      median(s.contextSwitchesPerMessage),
      [...s.flags, ...(s.noisy.length > 0 ? [`NOISY(${s.noisy.join(", ")})`] : [])].join(" "),
    ]),
  };
}
