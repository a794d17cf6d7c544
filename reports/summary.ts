/**
 * Per-configuration summaries of a sweep, computed from results.json runs
 * alone (pure: no I/O). A configuration is everything a run was asked to do
 * except which repeat it was; its figures are the median over repeats with
 * min–max and the order-statistic interval of the median, with its true
 * confidence (reports/stats.ts).
 *
 * Only runs whose figures are valid count: failed runs and runs whose echoes
 * came back corrupted (MISMATCH) are counted but left out of every figure.
 * Runs flagged by the noise rules (CLIENT-STARVED, MACHINE-BUSY) stay in the
 * figures shown, counted apart; the claims leave them out (claims.ts).
 */
import type { Figures, Run, RunConfig, RunFlag, ResultsFile, ThreadsSetting } from "./schema.js";
import { formatWork } from "../contracts/work.js";
import { sortedJson } from "./samples.js";
import { NOISE_FLAGS, NOISY_DISPERSION } from "./rules.js";
import { spread } from "./stats.js";
import type { Spread } from "./stats.js";

/** Fields that differ between repeats of one configuration (a command model's command line holds its port). */
const PER_RUN_FIELDS = new Set(["index", "repeat", "port", "serverPid", "command"]);
/** Fields that are not the load: what the claims vary (model, threads, and a model's own settings) or what follows from them. */
const NOT_LOAD_FIELDS = new Set([...PER_RUN_FIELDS, "model", "threads", "accept", "completionPort", "clientThreads", "clientEngine", "part", "warmupSec"]);

/** A valid run of a configuration, for comparisons round by round. */
export interface RoundRun {
  /** config.index */
  index: number;
  /** config.repeat: the round it ran in. */
  round: number;
  figures: Figures;
}

/** One configuration of a sweep and its figures over repeats. */
export interface ConfigSummary {
  /** Stable identity of the configuration (the config minus per-run fields, as sorted JSON). */
  key: string;
  model: string;
  threads: ThreadsSetting | null;
  connections: number;
  sizeBytes: number;
  /** Per-message server work (`--work`), as a label such as "block:2ms"; null when none. */
  work: string | null;
  /** completion-routine accept style (null for an external server). */
  accept: "poll" | "ring" | null;
  /** The load's name (scenario, or a claims part's load such as "connect-storm"), or null. */
  loadName: string | null;
  /** The sweep part the configuration belongs to ("claim 3"), or null for the sweep's own. */
  part: string | null;
  /** The load without what the claims vary (model, threads, accept): configurations with equal loadKey ran the same load. */
  loadKey: string;
  /** The valid runs, in run order, with their rounds. */
  runs: RoundRun[];
  /** Valid runs flagged CLIENT-STARVED or MACHINE-BUSY: shown, but kept out of every claim. */
  noiseFlaggedRuns: number;
  /** Figures whose repeats differ by more than NOISY_DISPERSION (their labels, e.g. "msg/s"); [] when none. */
  noisy: string[];
  /** Indexes (config.index) of every run of this configuration, in run order. */
  runIndexes: number[];
  /** Runs that count towards the figures. */
  validRuns: number;
  failedRuns: number;
  /** Runs left out because their echoes were corrupted. */
  mismatchRuns: number;
  /** Valid runs in which some sessions completed no echo (SESSIONS-UNSERVED): the model did not serve them all. */
  unservedRuns: number;
  /** Valid runs flagged CLIENT-SATURATED: their throughput is a floor, not the server's capacity. */
  clientSaturatedRuns: number;
  /** Every flag any run of the configuration carried ("FAILED" for a failed run). */
  flags: (RunFlag | "FAILED")[];
  messagesPerSec: Spread | null;
  /** Sessions that completed at least one echo in the window (absent from results written before it existed). */
  sessionsServed: Spread | null;
  latencyP50Us: Spread | null;
  latencyP99Us: Spread | null;
  latencyP99_9Us: Spread | null;
  connectP50Us: Spread | null;
  connectP99Us: Spread | null;
  /** connect() to first echo, p50 and p99 of each run (runs that timed it: reconnecting loads). */
  firstEchoP50Us: Spread | null;
  firstEchoP99Us: Spread | null;
  serverCpuUsPerMessage: Spread | null;
  contextSwitchesPerMessage: Spread | null;
}

/** The per-message server work of a run as the user wrote it ("block:2ms"), or null for none. */
export function workLabel(config: RunConfig): string | null {
  return config.work === undefined || config.work === null ? null : formatWork(config.work);
}

/** The load a run ran (see ConfigSummary.loadKey). */
export function loadKey(config: RunConfig): string {
  return sortedJson(Object.fromEntries(Object.entries(config).filter(([k]) => !NOT_LOAD_FIELDS.has(k))));
}

/** The configuration a run belongs to (fields added to RunConfig later join the key by themselves). */
export function configKey(config: RunConfig): string {
  const rest = Object.fromEntries(Object.entries(config).filter(([k]) => !PER_RUN_FIELDS.has(k)));
  return sortedJson(rest);
}

/** Short human name of a configuration, e.g. "iocp, 2 threads, 256 conns, 64 B, work block:2ms". */
export function configLabel(s: Pick<ConfigSummary, "model" | "threads" | "connections" | "sizeBytes" | "work"> & Partial<Pick<ConfigSummary, "accept" | "loadName">>): string {
  const parts = [s.model];
  if (s.threads !== null) parts.push(s.threads === "per-connection" ? "thread per connection" : s.threads === 1 ? "1 thread" : `${s.threads} threads`);
  if (s.model === "completion-routine" && s.accept === "ring") parts.push("ring accept");
  parts.push(`${s.connections} conns`, `${s.sizeBytes} B`);
  if (s.work !== null && s.work !== undefined) parts.push(`work ${s.work}`);
  if (s.loadName !== null && s.loadName !== undefined && s.work === null) parts.push(s.loadName);
  return parts.join(", ");
}

/** A run whose figures count: it completed and no echo came back corrupted. */
export function isValid(run: Run): boolean {
  return run.status === "ok" && !run.figures.flags.includes("MISMATCH");
}

/** How the report names the figures NOISY is judged on. */
const FIGURE_LABELS = {
  messagesPerSec: "msg/s",
  latencyP99Us: "p99 µs",
  serverCpuUsPerMessage: "cpu µs/msg",
  firstEchoP99Us: "first-echo p99 µs",
} as const;

function summariseGroup(key: string, runs: readonly Run[]): ConfigSummary {
  const c = runs[0]!.config;
  const valid = runs.filter(isValid).map((r) => r.figures!);
  const flags = new Set<RunFlag | "FAILED">();
  for (const r of runs) {
    if (r.status === "failed") flags.add("FAILED");
    for (const f of r.figures?.flags ?? []) flags.add(f);
  }
  const over = (pick: (f: (typeof valid)[number]) => number | null | undefined): Spread | null =>
    spread(valid.map((f) => pick(f) ?? null));
  // Judged for NOISY: the figures verdicts rest on. Context switches per message are left out: near zero
  // (an event loop that seldom sleeps), a handful of switches more or less is a large ratio and no noise.
  const figures = {
    messagesPerSec: over((f) => f.messagesPerSec),
    latencyP99Us: over((f) => f.latencyUs?.p99),
    serverCpuUsPerMessage: over((f) => f.serverCpuUsPerMessage),
    firstEchoP99Us: over((f) => f.firstEchoLatencyUs?.p99),
  };
  const noisy = (Object.keys(figures) as (keyof typeof figures)[])
    .filter((k) => (figures[k]?.dispersion ?? 0) > NOISY_DISPERSION)
    .map((k) => FIGURE_LABELS[k]);
  return {
    key,
    model: c.model,
    threads: c.threads,
    connections: c.connections,
    sizeBytes: c.sizeBytes,
    work: workLabel(c),
    accept: c.accept,
    loadName: c.load?.scenario ?? null,
    part: c.part ?? null,
    loadKey: loadKey(c),
    runs: runs.filter(isValid).map((r) => ({ index: r.config.index, round: r.config.repeat, figures: r.figures! })),
    noiseFlaggedRuns: valid.filter((f) => f.flags.some((x) => NOISE_FLAGS.has(x))).length,
    noisy,
    runIndexes: runs.map((r) => r.config.index),
    validRuns: valid.length,
    failedRuns: runs.filter((r) => r.status === "failed").length,
    mismatchRuns: runs.filter((r) => r.figures?.flags.includes("MISMATCH")).length,
    unservedRuns: valid.filter((f) => f.flags.includes("SESSIONS-UNSERVED")).length,
    clientSaturatedRuns: valid.filter((f) => f.clientSaturated).length,
    flags: [...flags],
    ...figures,
    contextSwitchesPerMessage: over((f) => f.serverContextSwitchesPerMessage?.total),
    sessionsServed: over((f) => f.sessionsServed),
    latencyP50Us: over((f) => f.latencyUs?.p50),
    latencyP99_9Us: over((f) => f.latencyUs?.p99_9),
    connectP50Us: over((f) => f.connectLatencyUs?.p50),
    connectP99Us: over((f) => f.connectLatencyUs?.p99),
    firstEchoP50Us: over((f) => f.firstEchoLatencyUs?.p50),
  };
}

/** One summary per configuration, in the order the configurations first ran. */
export function summariseRuns(results: Pick<ResultsFile, "runs">): ConfigSummary[] {
  const groups = new Map<string, Run[]>();
  for (const run of results.runs) {
    const key = configKey(run.config);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [run]);
    else group.push(run);
  }
  return [...groups].map(([key, runs]) => summariseGroup(key, runs));
}

/** CPUs the servers could run on: their pinned set, else every CPU the sweep could use. */
export function serverCores(results: Pick<ResultsFile, "environment" | "options">): number {
  return results.options.serverCpus?.length ?? results.environment.usableCores;
}

/** Thread settings in axis order: counts ascending, then "per-connection". */
export function compareThreads(a: ThreadsSetting | null, b: ThreadsSetting | null): number {
  const rank = (t: ThreadsSetting | null): number => (t === null ? -1 : t === "per-connection" ? Number.MAX_SAFE_INTEGER : t);
  return rank(a) - rank(b);
}
