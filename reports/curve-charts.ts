/**
 * The charts of open-loop load: latency through the sweep, second by
 * second; each model's load–latency curves; the highest rate meeting an
 * objective against threads. Pure: ChartSpecs drawn from results.json
 * alone (through reports/curves.ts).
 */
import { idPart, type ChartSpec, type SpecPoint, type SpecSeries } from "./chart-kit.js";
import { KNEE_FACTOR, floorNote, threadCategories } from "./curves.js";
import type { Curve, CurvePoint, MaxRate } from "./curves.js";
import type { ResultsFile, Run, Slo } from "./schema.js";
import { formatCondition } from "./slo.js";

/** The charts of curves and searches: the report shows them with the curves' tables, near the top (the highest rate at the objective leads when a search ran). */
export function isOpenLoopChart(spec: Pick<ChartSpec, "id">): boolean {
  return spec.id === "max-rate-at-slo" || spec.id === "curves-p99" || spec.id.startsWith("curve-");
}

type Mark = NonNullable<SpecSeries["marks"]>[number];

const threadsName = (t: Run["config"]["threads"]): string => (t === null ? "? threads" : t === 1 ? "1 thread" : `${t} threads`);

/**
 * p99 round trip per second through the whole sweep for one model: every
 * run's latency timeline placed at the time it ran, a line per thread
 * count broken between runs, so a stall shows in the run and the second it
 * happened. Null when no run of the model has a latency timeline.
 */
export function latencyTimelineChart(model: string, results: ResultsFile): ChartSpec | null {
  const runs = results.runs.filter((r) => r.config.model === model && r.figures?.latencyTimeline !== undefined && r.config.chat === undefined);
  if (runs.length === 0) return null;
  const start = Date.parse(results.createdAt);
  const threads = [...new Set(runs.map((r) => threadsName(r.config.threads)))];
  const series: SpecSeries[] = threads.map((name, colour) => ({
    label: name,
    color: colour,
    gaps: true,
    points: runs
      .filter((r) => threadsName(r.config.threads) === name)
      .flatMap((r): SpecPoint[] => {
        const t = r.figures!.latencyTimeline!;
        const at = (k: number): number => Number(((t.originEpochMs + k * t.intervalMs - start) / 1000).toFixed(3));
        // Each second's p99 drawn at its middle; a null after the run's last second breaks the line.
        return [...t.intervals.map((i, k) => ({ x: at(k + 0.5), y: i.p99Us })), { x: at(t.intervals.length), y: null }];
      }),
  }));
  return {
    id: `latency-timeline-${idPart(model)}`,
    title: `${model}: p99 latency per second through the sweep`,
    caption:
      "p99 round trip of the messages completed in each second of every run (warm-up included; open loop: corrected for coordinated omission), drawn at the time the run ran; a gap separates runs. A spike is a stall, where and when it happened.",
    xScale: "linear",
    yScale: "log",
    xTitle: "seconds since the sweep started",
    yTitle: "p99 latency per second, µs (log)",
    series,
  };
}

/** A series label's load part, when the curves of one chart differ in load. */
function loadText(c: { connections: number; sizeBytes: number; work: string | null }): string {
  return `${c.connections} conns, ${c.sizeBytes} B${c.work !== null ? `, ${c.work}` : ""}`;
}

const PERCENTILES = [
  { name: "p50", pick: (p: CurvePoint) => p.p50Us, style: { dotted: true } },
  { name: "p99", pick: (p: CurvePoint) => p.p99Us, style: {} },
  { name: "p99.9", pick: (p: CurvePoint) => p.p99_9Us, style: { dash: true } },
] as const;

/** Rings on the p99 line at the rates the client may have set (CLIENT-SATURATED, CLIENT-STARVED, CLIENT-BEHIND): not the server's figures. */
function clientMarks(c: Curve, label: string): Mark[] {
  return c.points.filter((p) => p.clientLimited).map((p) => ({ x: p.achievedPerSec, y: p.p99Us, label }));
}

/** A series' marks, absent when there are none. */
function marked(...groups: Mark[][]): { marks?: Mark[] } {
  const marks = groups.flat();
  return marks.length === 0 ? {} : { marks };
}

/**
 * One model's load–latency curves: corrected p50 (dotted), p99 (solid) and
 * p99.9 (dashed) against the rate achieved, a colour per thread count
 * (and load), the knee ringed on the p99 line (reports/curves.ts defines
 * it), the objective's latency bound as a red line when there is one.
 */
export function curveChart(model: string, all: readonly Curve[], slo: Slo | undefined): ChartSpec | null {
  const mine = all.filter((c) => c.model === model);
  if (mine.length === 0) return null;
  const loads = new Set(mine.map(loadText));
  const series: SpecSeries[] = mine.flatMap((c, colour) =>
    PERCENTILES.map(({ name, pick, style }) => {
      const knee = c.knee === null ? undefined : c.points[c.knee]!;
      return {
        label: `${threadsName(c.threads)}${loads.size > 1 ? ` (${loadText(c)})` : ""} ${name}${c.points.some((p) => p.unserved) ? " (sessions unserved!)" : ""}`,
        color: colour,
        ...style,
        dots: true,
        points: c.points.map((p) => ({ x: p.achievedPerSec, y: pick(p) })),
        ...(name === "p99" ? marked(knee === undefined ? [] : [{ x: knee.achievedPerSec, y: knee.p99Us, label: "knee" }], clientMarks(c, "client-limited")) : {}),
      };
    }),
  );
  const bound = slo?.conditions.find((k) => k.kind === "latency");
  return {
    id: `curve-${idPart(model)}`,
    title: `${model}: latency vs throughput (open loop)`,
    caption:
      `Each point one offered rate (medians over repeats): the corrected p50 (dotted), p99 (solid) and p99.9 (dashed) against the rate achieved, a colour per thread count. ` +
      `Ring: the knee, the last rate before p99 exceeds ${KNEE_FACTOR}× the lowest p99 below it; rings labelled client-limited: rates where the client itself was a limit, not the server's figures. Where a line stops moving right, the server no longer kept up.`,
    xScale: "linear",
    yScale: "log",
    xTitle: "achieved messages/s",
    yTitle: "round-trip latency, µs (log)",
    series,
    ...(bound?.kind === "latency" ? { hline: { y: bound.boundUs, label: `objective ${formatCondition(bound)}` } } : {}),
  };
}

/**
 * Every curve's p99 on one chart, to compare the models: a colour per model,
 * solid at the fewest threads, dashed at the next, dotted beyond; the knees
 * ringed. Null with fewer than two curves (the per-model chart says it all).
 */
export function allCurvesChart(all: readonly Curve[], colour: ReadonlyMap<string, number>, slo: Slo | undefined): ChartSpec | null {
  if (all.length < 2) return null;
  const threads = threadCategories(all);
  const loads = new Set(all.map(loadText));
  const series: SpecSeries[] = all.map((c) => {
    const rank = threads.indexOf(c.threads === null ? "?" : String(c.threads));
    const knee = c.knee === null ? undefined : c.points[c.knee]!;
    return {
      label: `${c.model} ${threadsName(c.threads)}${loads.size > 1 ? ` (${loadText(c)})` : ""}${c.points.some((p) => p.unserved) ? " (sessions unserved!)" : ""}`,
      color: colour.get(c.model) ?? 0,
      ...(rank === 1 ? { dash: true } : rank > 1 ? { dotted: true } : {}),
      dots: true,
      points: c.points.map((p) => ({ x: p.achievedPerSec, y: p.p99Us })),
      ...marked(knee === undefined ? [] : [{ x: knee.achievedPerSec, y: knee.p99Us, label: "" }], clientMarks(c, "client")),
    };
  });
  const bound = slo?.conditions.find((k) => k.kind === "latency");
  return {
    id: "curves-p99",
    title: "p99 latency vs throughput, every model (open loop)",
    caption: `Corrected p99 against the rate achieved, one line per model and thread count (solid: ${threads[0]} thread${threads[0] === "1" ? "" : "s"}${threads[1] !== undefined ? `, dashed: ${threads[1]}` : ""}); rings: the knees, and "client" where the client itself was a limit. Lower and further right is better.`,
    xScale: "linear",
    yScale: "log",
    xTitle: "achieved messages/s",
    yTitle: "p99 round-trip latency, µs (log)",
    series,
    ...(bound?.kind === "latency" ? { hline: { y: bound.boundUs, label: `objective ${formatCondition(bound)}` } } : {}),
  };
}

/**
 * The headline of a search: per model, the highest rate found that meets
 * the objective against the server's thread count; bars: the interval the
 * limit lies in (the rate met and the rate missed, over every repeat).
 */
export function maxRateChart(rates: readonly MaxRate[], colour: ReadonlyMap<string, number>, slo: Slo): ChartSpec | null {
  const found = rates.filter((r) => r.foundPerSec !== null);
  if (found.length === 0) return null;
  const loads = new Set(found.map(loadText));
  const groups = new Map<string, MaxRate[]>();
  for (const r of found) {
    const key = JSON.stringify([r.model, loadText(r)]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const series: SpecSeries[] = [...groups.values()].map((g) => {
    const floor = floorNote(g.flatMap((r) => r.searches));
    return {
      label: `${g[0]!.model}${loads.size > 1 ? ` (${loadText(g[0]!)})` : ""}${floor === null ? "" : ` (${floor})`}`,
      color: colour.get(g[0]!.model) ?? 0,
      points: g.map((r) => ({ x: r.threads === null ? "?" : String(r.threads), y: r.foundPerSec, low: r.lowPerSec ?? r.foundPerSec!, high: r.highPerSec ?? r.foundPerSec! })),
    };
  });
  return {
    id: "max-rate-at-slo",
    title: `Highest rate meeting ${slo.text} vs server threads`,
    caption:
      "Per model and thread count, the highest open-loop rate that met the objective (median over the searches' repeats); bars: from the lowest rate found to the highest rate missed, the interval the limit lies in. Higher is better.",
    xScale: "category",
    categories: threadCategories(found),
    yScale: "linear",
    xTitle: "server threads",
    yTitle: "messages/s at the objective",
    series,
  };
}
