/**
 * Which charts a report has, as plain ChartSpecs drawn from results.json
 * (pure: no I/O). The HTML page and the PNG renderer draw the same specs.
 */
import { mergeEncoded } from "../contracts/histogram.js";
import { idPart, type ChartSpec, type SpecPoint, type SpecSeries } from "./chart-kit.js";
import { allCurvesChart, curveChart, latencyTimelineChart, maxRateChart } from "./curve-charts.js";
import { curves, isCurvePoint, maxRates, withoutCurvePoints } from "./curves.js";
import { memoryPerConnectionChart } from "./memory-charts.js";
import type { ResultsFile, Run, ThreadsSetting } from "./schema.js";
import { medianInterval, percent } from "./stats.js";
import type { Spread } from "./stats.js";
import { compareThreads, isValid, serverCores, workLabel } from "./summary.js";
import type { ConfigSummary } from "./summary.js";

/** Every model's palette index, so a model keeps its colour on every chart. */
function colours(results: ResultsFile): Map<string, number> {
  const models = [...new Set([...results.options.models, ...results.runs.map((r) => r.config.model)])];
  return new Map(models.map((m, i) => [m, i]));
}

const threadLabel = (t: ThreadsSetting | null): string => (t === null ? "?" : String(t));

/** Series of a "figure vs threads" chart: one per model and load (connections, size, work), in first-run order. */
function seriesKey(s: ConfigSummary): string {
  return JSON.stringify([s.model, s.connections, s.sizeBytes, s.work]);
}

function loadSuffix(s: ConfigSummary, varies: boolean): string {
  if (!varies) return "";
  return ` (${s.connections} conns, ${s.sizeBytes} B${s.work !== null ? `, ${s.work}` : ""})`;
}

interface VsThreads {
  id: string;
  title: string;
  caption: string;
  yTitle: string;
  pick: (s: ConfigSummary) => Spread | null;
  yScale?: "linear" | "log";
}

/** A figure vs thread count, a line per model (and load), error bars = the median's interval (stats.medianInterval). */
function vsThreads(summaries: readonly ConfigSummary[], colour: Map<string, number>, c: VsThreads): ChartSpec {
  const categories = [...new Set(summaries.map((s) => s.threads))].sort(compareThreads).map(threadLabel);
  const groups = new Map<string, ConfigSummary[]>();
  for (const s of summaries) groups.set(seriesKey(s), [...(groups.get(seriesKey(s)) ?? []), s]);
  const varies = new Set([...groups.values()].map((g) => JSON.stringify([g[0]!.connections, g[0]!.sizeBytes, g[0]!.work]))).size > 1;
  const series: SpecSeries[] = [...groups.values()].map((g) => ({
    // A model that left sessions unserved measured only those it served: the legend says so.
    label: g[0]!.model + loadSuffix(g[0]!, varies) + (g.some((s) => s.unservedRuns > 0) ? " (sessions unserved!)" : ""),
    color: colour.get(g[0]!.model) ?? 0,
    dash: g[0]!.work !== null,
    points: g.flatMap((s): SpecPoint[] => {
      const v = c.pick(s);
      return v === null ? [] : [{ x: threadLabel(s.threads), y: v.median, low: v.ciLow, high: v.ciHigh }];
    }),
  }));
  return { id: c.id, title: c.title, caption: c.caption, xScale: "category", categories, yScale: c.yScale ?? "linear", xTitle: "server threads", yTitle: c.yTitle, series };
}

/** Latency percentiles vs threads for one model: p50, p99, p99.9 (log y). */
function latencyChart(model: string, summaries: readonly ConfigSummary[], barsText: string): ChartSpec {
  const mine = summaries.filter((s) => s.model === model);
  const categories = [...new Set(mine.map((s) => s.threads))].sort(compareThreads).map(threadLabel);
  const base = mine[0]!;
  const same = mine.filter((s) => seriesKey(s) === seriesKey(base));
  const lines: [string, (s: ConfigSummary) => Spread | null, number][] = [
    ["p50", (s) => s.latencyP50Us, 0],
    ["p99", (s) => s.latencyP99Us, 1],
    ["p99.9", (s) => s.latencyP99_9Us, 4],
  ];
  const series = lines.map(([label, pick, colourIndex]) => ({
    label,
    color: colourIndex,
    points: same.flatMap((s): SpecPoint[] => {
      const v = pick(s);
      return v === null ? [] : [{ x: threadLabel(s.threads), y: v.median, low: v.ciLow, high: v.ciHigh }];
    }),
  }));
  return {
    id: `latency-${idPart(model)}`,
    title: `${model}: round-trip latency vs threads`,
    caption: `Median over repeats of each run's p50, p99 and p99.9 (${base.connections} conns, ${base.sizeBytes} B${base.work !== null ? `, work ${base.work}` : ""}); ${barsText}.`,
    xScale: "category",
    categories,
    yScale: "log",
    xTitle: "server threads",
    yTitle: "latency, µs (log)",
    series,
  };
}

/** The thread count the distribution chart shows: the server's CPU count when measured, else the nearest below, else the smallest. */
export function chosenThreads(results: ResultsFile): ThreadsSetting | null {
  const cores = serverCores(results);
  const measured = [...new Set(results.runs.filter(isValid).map((r) => r.config.threads))].sort(compareThreads);
  const numeric = measured.filter((t): t is number => typeof t === "number");
  if (numeric.includes(cores)) return cores;
  const below = numeric.filter((t) => t < cores);
  return below.length > 0 ? below[below.length - 1]! : (measured[0] ?? null);
}

/** Points of a percentile curve: x = 1 / (1 - p) on a log axis, ten points per decade, up to what the count supports. */
function percentileCurve(encoded: readonly string[]): SpecPoint[] {
  const h = mergeEncoded(encoded);
  if (h.totalCount === 0) return [];
  const points: SpecPoint[] = [];
  const maxX = Math.min(h.totalCount, 1e6);
  for (let k = 0; ; k++) {
    const x = 10 ** (k / 10);
    if (x > maxX) break;
    points.push({ x: Number(x.toPrecision(6)), y: h.getValueAtPercentile(100 * (1 - 1 / x)) });
  }
  points.push({ x: maxX, y: h.maxValue });
  return points;
}

/** Latency percentile curve per model at the chosen thread count, from the merged histograms of its repeats. */
function distributionChart(results: ResultsFile, colour: Map<string, number>): ChartSpec | null {
  const threads = chosenThreads(results);
  const first = results.runs.find((r) => isValid(r) && r.config.threads === threads);
  if (first === undefined) return null;
  const load = (r: Run): boolean =>
    r.config.threads === threads && r.config.connections === first.config.connections && r.config.sizeBytes === first.config.sizeBytes && workLabel(r.config) === workLabel(first.config);
  const models = [...new Set(results.runs.filter((r) => isValid(r) && load(r)).map((r) => r.config.model))];
  const series = models.map((model) => ({
    label: model,
    color: colour.get(model) ?? 0,
    points: percentileCurve(results.runs.filter((r) => isValid(r) && load(r) && r.config.model === model).map((r) => r.figures!.latencyHistogram.data)),
  }));
  return {
    id: "latency-distribution",
    title: `Latency distribution at ${threadLabel(threads)} server threads`,
    caption: `Round-trip latency at each percentile, repeats merged (${first.config.connections} conns, ${first.config.sizeBytes} B). The tail is on the right.`,
    xScale: "log",
    xPercentile: true,
    yScale: "log",
    xTitle: "percentile",
    yTitle: "latency, µs (log)",
    series,
  };
}

/** Throughput through each run of one model, per timeline interval (warm-up included; the last, partial interval left out). */
function timelineChart(model: string, results: ResultsFile): ChartSpec | null {
  const runs = results.runs.filter((r) => r.config.model === model && r.figures !== null && r.figures.timeline.messages.length > 1);
  if (runs.length === 0) return null;
  const repeats = results.options.repeats > 1;
  const markerAt = runs[0]!.figures!.timeline.measureStartIndex * (runs[0]!.figures!.timeline.intervalMs / 1000);
  const threads = [...new Set(runs.map((r) => threadLabel(r.config.threads)))];
  const series = runs.map((r) => {
    const t = r.figures!.timeline;
    const perSec = 1000 / t.intervalMs;
    return {
      label: `${threadLabel(r.config.threads)} thread${r.config.threads === 1 ? "" : "s"}${repeats ? ` #${r.config.repeat}` : ""}${r.status === "failed" ? " FAILED" : ""}`,
      color: threads.indexOf(threadLabel(r.config.threads)),
      dash: r.config.repeat % 2 === 0,
      // Each rate is drawn at its interval's middle.
      points: t.messages.slice(0, -1).map((m, j) => ({ x: ((j + 0.5) * t.intervalMs) / 1000, y: m * perSec })),
    };
  });
  return {
    id: `timeline-${idPart(model)}`,
    title: `${model}: messages/s through each run`,
    caption: `Messages completed per ${runs[0]!.figures!.timeline.intervalMs} ms interval from the client's start (warm-up included, the last partial interval left out)${repeats ? "; even repeats dashed" : ""}. A dip is a stall.`,
    xScale: "linear",
    yScale: "linear",
    xTitle: "seconds since the client started",
    yTitle: "messages/s",
    series,
    marker: { x: markerAt, label: "measuring" },
  };
}

/** chat-fanout (--protocol chat): fan-out delivery latency vs threads, a line per model, p50 and p99. */
function chatCharts(chat: readonly ConfigSummary[], colour: Map<string, number>, barsText: string): ChartSpec[] {
  if (chat.length === 0) return [];
  const caption = (p: string): string =>
    `chat-fanout: ${p} of the time from a frame's send to its receipt at each room member, median over repeats; ${barsText}. Lower is better.`;
  return [
    vsThreads(chat, colour, { id: "chat-fanout-p50", title: "Chat fan-out latency (p50) vs server threads", caption: caption("p50"), yTitle: "fan-out latency p50, µs (log)", pick: (s) => s.latencyP50Us, yScale: "log" }),
    vsThreads(chat, colour, { id: "chat-fanout-p99", title: "Chat fan-out latency (p99) vs server threads", caption: caption("p99"), yTitle: "fan-out latency p99, µs (log)", pick: (s) => s.latencyP99Us, yScale: "log" }),
  ];
}

/** The sweep's own runs: the claims' parts (config.part) have loads of their own and show in the claims, not in the charts. */
function own(results: ResultsFile): ResultsFile {
  return { ...results, runs: results.runs.filter((r) => r.config.part === undefined) };
}

/** "bars: the median's interval, 75% confidence (min–max of 3 repeats)" */
function bars(results: ResultsFile): string {
  const n = results.options.repeats;
  if (n < 2) return "one repeat: no interval";
  const ci = medianInterval(Array.from({ length: n }, (_, i) => i));
  const range = ci.low === 0 && ci.high === n - 1 ? ` (min–max of ${n} repeats)` : "";
  return `bars: the median's order-statistic interval, ${percent(ci.confidence)} confidence${range}`;
}

/**
 * Every chart of the report, in page order. Chat runs get their own charts:
 * their messages are deliveries and their latency fan-out. The runs of
 * open-loop curves (rate sweeps, search probes) get theirs, first the
 * highest rate at the objective when a search ran; the charts per thread
 * count keep to the other runs (a curve's closed-loop runs among them).
 */
export function chartSpecs(all: ResultsFile, summaries: readonly ConfigSummary[]): ChartSpec[] {
  const colour = colours(all);
  const results = own(all);
  const chatRuns = new Set(results.runs.filter((r) => r.config.chat !== undefined).map((r) => r.config.index));
  const isChat = (s: ConfigSummary): boolean => s.runIndexes.some((i) => chatRuns.has(i));
  const valid = withoutCurvePoints(summaries, results.runs).filter((s) => s.validRuns > 0 && !isChat(s) && s.part === null);
  const plain = { ...results, runs: results.runs.filter((r) => !isCurvePoint(r)) };
  const models = [...new Set(valid.map((s) => s.model))];
  const charts: (ChartSpec | null)[] = [];
  if (results.options.slo !== undefined) charts.push(maxRateChart(maxRates(results), colour, results.options.slo));
  const curveSet = curves(results);
  charts.push(allCurvesChart(curveSet, colour, results.options.slo));
  charts.push(...[...new Set(curveSet.map((c) => c.model))].map((m) => curveChart(m, curveSet, results.options.slo)));
  if (valid.length > 0) {
    charts.push(
      vsThreads(valid, colour, {
        id: "throughput",
        title: "Messages/s vs server threads",
        caption: `Median over repeats; ${bars(results)}. Higher is better.`,
        yTitle: "messages/s",
        pick: (s) => s.messagesPerSec,
      }),
      ...models.map((m) => latencyChart(m, valid, bars(results))),
      vsThreads(valid, colour, {
        id: "cpu-per-message",
        title: "Server CPU per message vs threads",
        caption: "Server process CPU time (user + system) per echoed message. Lower is cheaper.",
        yTitle: "CPU µs/message",
        pick: (s) => s.serverCpuUsPerMessage,
      }),
      vsThreads(valid, colour, {
        id: "context-switches",
        title: "Server context switches per message vs threads",
        caption: "Voluntary + involuntary switches of the server's threads per message (claim 1).",
        yTitle: "context switches/message",
        pick: (s) => s.contextSwitchesPerMessage,
      }),
      distributionChart(plain, colour),
      memoryPerConnectionChart(plain, colour),
    );
  }
  charts.push(...chatCharts(summaries.filter((s) => s.validRuns > 0 && isChat(s)), colour, bars(results)));
  const allModels = [...new Set(results.runs.map((r) => r.config.model))];
  charts.push(...allModels.map((m) => timelineChart(m, plain)));
  charts.push(...allModels.map((m) => latencyTimelineChart(m, results)));
  return charts.filter((c): c is ChartSpec => c !== null);
}
