/**
 * Load–latency curves and the searches' outcomes, computed from
 * results.json alone (pure): the analysis the curve charts, the report's
 * tables and the claims draw from.
 *
 * A curve is one configuration (model, threads, connections, size, work...)
 * at every open-loop rate it ran at, from a rate sweep or a search's probes:
 * per rate, the medians over its valid runs of the achieved rate and the
 * corrected p50, p99 and p99.9.
 *
 * The knee, defined. Going up the offered rates, the floor is the lowest
 * p99 seen so far; the knee is the last point before the first whose p99
 * exceeds KNEE_FACTOR × that floor: the highest load at which the tail had
 * not yet left its floor. A curve whose p99 never leaves it has no knee in
 * the range measured. The saturation point is the first rate the server did
 * not keep up with: achieved below 90 % of offered (BELOW-TARGET-RATE).
 */
import type { ResultsFile, Run, RunConfig, SearchResult, Slo, ThreadsSetting } from "./schema.js";
import { median } from "./stats.js";
import { compareThreads, configKey, isValid, workLabel } from "./summary.js";
import type { ConfigSummary } from "./summary.js";
import { CLIENT_LIMIT_FLAGS, judgeRun } from "./slo.js";

/** The knee: the tail has left its floor once p99 exceeds this many times the lowest p99 at lower rates. */
export const KNEE_FACTOR = 2;

/** One rate of a curve, medians over its valid runs. */
export interface CurvePoint {
  offeredPerSec: number;
  achievedPerSec: number;
  p50Us: number;
  p99Us: number;
  p99_9Us: number;
  /** Indexes of the runs behind it. */
  runs: number[];
  /** Some run of it was limited by the client (CLIENT-SATURATED, CLIENT-STARVED, CLIENT-BEHIND): its latency may be the client's. */
  clientLimited: boolean;
  /** The server did not keep up: achieved below 90 % of offered in some run. */
  belowTarget: boolean;
  /** Some session was never served in some run (SESSIONS-UNSERVED): the latency is of the sessions served only. */
  unserved: boolean;
  /** With an objective (options.slo): every run of the point met it (reports/slo.ts); undefined without one. */
  met?: boolean;
}

/** What names a configuration in a curve or a search (as in a summary). */
export type ConfigIdentity = Pick<ConfigSummary, "model" | "threads" | "connections" | "sizeBytes" | "work">;

/** The identity of a run's configuration. */
export function configIdentity(c: RunConfig): ConfigIdentity {
  return { model: c.model, threads: c.threads, connections: c.connections, sizeBytes: c.sizeBytes, work: workLabel(c) };
}

/** One configuration's curve. */
export interface Curve extends ConfigIdentity {
  key: string;
  /** Median msg/s of its closed-loop runs (the maximum a sweep in shares and a search start from), or null without one. */
  closedLoopPerSec: number | null;
  /** Ascending offered rate. */
  points: CurvePoint[];
  /** Index into points of the knee (see the file comment), or null when the tail never left its floor. */
  knee: number | null;
  /** Index into points of the first rate not kept up with, or null. */
  saturation: number | null;
  /** With an objective: the highest offered rate up to which every point met it (null: not even the first), and the first one above that missed it (null: none did). */
  objective?: { metUpToPerSec: number | null; firstMissedPerSec: number | null };
}

/** A run at one rate of a curve (a rate sweep's or a search's probe), not a closed-loop run: the per-thread-count charts and the claims' closed-loop figures leave these out. */
export function isCurvePoint(run: Run): boolean {
  const role = run.config.loadPoint?.role;
  return role === "rate" || role === "probe";
}

/** Summaries of configurations that are not curve points (see isCurvePoint). */
export function withoutCurvePoints<S extends { runIndexes: readonly number[] }>(summaries: readonly S[], runs: readonly Run[]): S[] {
  const points = new Set(runs.filter(isCurvePoint).map((r) => r.config.index));
  return points.size === 0 ? [...summaries] : summaries.filter((s) => !s.runIndexes.some((i) => points.has(i)));
}

/** The configuration a run is a point of: its config without the rate and its part in the sweep. */
function curveKey(run: Run): string {
  const c = run.config;
  return configKey({ ...c, load: c.load === undefined ? c.load : { ...c.load, loop: "open", targetRatePerSessionPerSec: null, targetRateTotalPerSec: null }, loadPoint: undefined, repeat: 0 });
}

/** The knee of p99 values in ascending offered rate (see the file comment). */
export function kneeIndex(p99: readonly number[]): number | null {
  let floor = Infinity;
  for (let i = 0; i < p99.length; i++) {
    floor = Math.min(floor, p99[i]!);
    if (i > 0 && p99[i]! > KNEE_FACTOR * floor) return i - 1;
  }
  return null;
}

/** Every curve of a sweep: configurations that ran at some open-loop rate of a rate sweep or a search, in first-run order. */
export function curves(results: Pick<ResultsFile, "runs"> & { options?: { slo?: Slo | undefined } }): Curve[] {
  const slo = results.options?.slo;
  const groups = new Map<string, { points: Map<number, Run[]>; closed: Run[] }>();
  const group = (run: Run): { points: Map<number, Run[]>; closed: Run[] } => {
    const key = curveKey(run);
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { points: new Map(), closed: [] }));
    return g;
  };
  for (const run of results.runs) {
    const role = run.config.loadPoint?.role;
    if (role === undefined || !isValid(run)) continue;
    if (role === "closed-loop-max") group(run).closed.push(run);
    else {
      const offered = Number((run.config.load?.targetRateTotalPerSec ?? 0).toPrecision(4));
      const points = group(run).points;
      points.set(offered, [...(points.get(offered) ?? []), run]);
    }
  }
  const out: Curve[] = [];
  for (const [key, g] of groups) {
    if (g.points.size === 0) continue;
    const points = [...g.points]
      .sort(([a], [b]) => a - b)
      .map(([offered, runs]): CurvePoint => {
        const f = runs.map((r) => r.figures!);
        const at = (pick: (x: (typeof f)[number]) => number | undefined): number => median(f.map((x) => pick(x) ?? 0));
        return {
          offeredPerSec: offered,
          achievedPerSec: at((x) => x.messagesPerSec),
          p50Us: at((x) => x.latencyUs?.p50),
          p99Us: at((x) => x.latencyUs?.p99),
          p99_9Us: at((x) => x.latencyUs?.p99_9),
          runs: runs.map((r) => r.config.index),
          clientLimited: f.some((x) => CLIENT_LIMIT_FLAGS.some((flag) => x.flags.includes(flag))),
          belowTarget: f.some((x) => x.flags.includes("BELOW-TARGET-RATE")),
          unserved: f.some((x) => x.flags.includes("SESSIONS-UNSERVED")),
          ...(slo !== undefined ? { met: runs.every((r) => judgeRun(r, slo.conditions).outcome === "met") } : {}),
        };
      });
    const missed = points.findIndex((p) => p.met === false);
    const c = (g.points.values().next().value as Run[])[0]!.config;
    const saturation = points.findIndex((p) => p.belowTarget);
    out.push({
      key,
      ...configIdentity(c),
      closedLoopPerSec: g.closed.length === 0 ? null : median(g.closed.map((r) => r.figures!.messagesPerSec)),
      points,
      knee: kneeIndex(points.map((p) => p.p99Us)),
      saturation: saturation < 0 ? null : saturation,
      ...(slo !== undefined
        ? {
            objective: {
              metUpToPerSec: missed === 0 ? null : points[(missed < 0 ? points.length : missed) - 1]!.offeredPerSec,
              firstMissedPerSec: missed < 0 ? null : points[missed]!.offeredPerSec,
            },
          }
        : {}),
    });
  }
  return out;
}

/** The searches of one configuration, over repeats. */
export interface MaxRate extends ConfigIdentity {
  searches: SearchResult[];
  /** Median rate found over the searches that found one (a floor for client-limited and disturbed ones), msg/s; null when none did. */
  foundPerSec: number | null;
  /** The interval the limit lies in over every search: the lowest rate found and the highest rate missed (null: none missed). */
  lowPerSec: number | null;
  highPerSec: number | null;
  /** Why some search stopped short of the server's limit, in words (the rate is a floor), or null when none did. */
  floor: string | null;
  /** Median closed-loop maximum the searches started from. */
  closedLoopPerSec: number | null;
}

/** The statuses of a search that stopped short of the server's limit (its rate found is a floor), in words. */
const FLOOR_WORDS: Partial<Record<SearchResult["status"], string>> = {
  "client-limited": "client-limited: a floor",
  disturbed: "disturbed: other processes took the CPUs; a floor",
};

/** Why some of these searches stopped short of the server's limit, in words, or null when none did. */
export function floorNote(searches: readonly SearchResult[]): string | null {
  const words = [...new Set(searches.flatMap((s) => FLOOR_WORDS[s.status] ?? []))];
  return words.length === 0 ? null : words.join("; ");
}

/** The searches grouped by configuration (repeats together), in first-search order. */
export function maxRates(results: Pick<ResultsFile, "searches">): MaxRate[] {
  const groups = new Map<string, SearchResult[]>();
  for (const s of results.searches ?? []) {
    const key = JSON.stringify([s.model, s.threads, s.connections, s.sizeBytes, s.work]);
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return [...groups.values()].map((searches) => {
    const s = searches[0]!;
    const found = searches.flatMap((x) => (x.foundPerSec === null ? [] : [x.foundPerSec]));
    const highs = searches.flatMap((x) => (x.highPerSec === null ? [] : [x.highPerSec]));
    const closed = searches.flatMap((x) => (x.closedLoopMessagesPerSec === null ? [] : [x.closedLoopMessagesPerSec]));
    const { model, threads, connections, sizeBytes, work } = s;
    return {
      model,
      threads,
      connections,
      sizeBytes,
      work,
      searches,
      foundPerSec: found.length === 0 ? null : median(found),
      lowPerSec: found.length === 0 ? null : Math.min(...found),
      highPerSec: highs.length === 0 ? null : Math.max(...highs),
      floor: floorNote(searches),
      closedLoopPerSec: closed.length === 0 ? null : median(closed),
    };
  });
}

/** Thread settings in axis order, as labels. */
export function threadCategories(items: readonly { threads: ThreadsSetting | null }[]): string[] {
  return [...new Set(items.map((i) => i.threads))].sort(compareThreads).map((t) => (t === null ? "?" : String(t)));
}
