/**
 * What each model pays in memory to hold a connection (the memory side of
 * "many connections with few threads"): the server's RSS growth per
 * connected session, by connection count. Pure: a ChartSpec drawn from
 * results.json alone.
 */
import type { ChartSpec, SpecSeries } from "./chart-kit.js";
import { median } from "./stats.js";
import { isValid } from "./summary.js";
import type { ResultsFile, Run } from "./schema.js";

const threadsName = (t: Run["config"]["threads"]): string => (t === null ? "?" : String(t));

/**
 * Server KiB per connected session vs connections, a line per model and
 * thread count, the median over repeats. Null when no valid run measured it
 * (an external server without --server-pid, or a file from before).
 */
export function memoryPerConnectionChart(results: ResultsFile, colour: ReadonlyMap<string, number>): ChartSpec | null {
  const runs = results.runs.filter((r) => isValid(r) && typeof r.figures?.serverRssBytesPerSession === "number" && r.config.chat === undefined);
  if (runs.length === 0) return null;
  const connections = [...new Set(runs.map((r) => r.config.connections))].sort((a, b) => a - b);
  const groups = new Map<string, Run[]>();
  for (const r of runs) {
    const key = `${r.config.model} t=${threadsName(r.config.threads)}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const series: SpecSeries[] = [...groups.entries()].map(([label, g]) => ({
    // A model that did not hold every session paid for fewer than were asked: the legend says so.
    label: label + (g.some((r) => r.figures!.flags.includes("SESSIONS-MISSING")) ? " (sessions missing!)" : ""),
    color: colour.get(g[0]!.config.model) ?? 0,
    points: connections.flatMap((c) => {
      const at = g.filter((r) => r.config.connections === c).map((r) => (r.figures!.serverRssBytesPerSession as number) / 1024);
      return at.length === 0 ? [] : [{ x: String(c), y: median(at) }];
    }),
  }));
  return {
    id: "memory-per-connection",
    title: "Server memory per connection",
    caption: "Server RSS growth from idle to the window, per connected session (median over repeats). Lower holds more connections in the same memory.",
    xScale: "category",
    categories: connections.map(String),
    yScale: "log",
    xTitle: "connections",
    yTitle: "KiB per connection (log)",
    series,
  };
}
