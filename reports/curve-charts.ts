/**
 * The charts of open-loop load: latency through the sweep, second by
 * second. Pure: ChartSpecs drawn from results.json alone.
 */
import { idPart, type ChartSpec, type SpecPoint, type SpecSeries } from "./chart-kit.js";
import type { ResultsFile, Run } from "./schema.js";

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
