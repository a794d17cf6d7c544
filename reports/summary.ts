/**
 * Per-configuration summaries of a sweep, computed from results.json runs
 * alone (pure: no I/O). A configuration is everything a run was asked to do
 * except which repeat it was; its figures are the median over repeats with
 * min–max and the 95 % bootstrap interval of the median (reports/stats.ts).
 *
 * Only runs whose figures are valid count: failed runs and runs whose echoes
 * came back corrupted (MISMATCH) are counted but left out of every figure.
 */
import type { Run, RunConfig, RunFlag, ResultsFile, ThreadsSetting } from "./schema.js";
import { formatWork } from "../contracts/work.js";
import { spread } from "./stats.js";
import type { Spread } from "./stats.js";

/** Fields that differ between repeats of one configuration (a command model's command line holds its port). */
const PER_RUN_FIELDS = new Set(["index", "repeat", "port", "serverPid", "command"]);

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
  serverCpuUsPerMessage: Spread | null;
  contextSwitchesPerMessage: Spread | null;
}

/** The per-message server work of a run as the user wrote it ("block:2ms"), or null for none. */
export function workLabel(config: RunConfig): string | null {
  return config.work === undefined || config.work === null ? null : formatWork(config.work);
}

function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** The configuration a run belongs to (fields added to RunConfig later join the key by themselves). */
export function configKey(config: RunConfig): string {
  const rest = Object.fromEntries(Object.entries(config).filter(([k]) => !PER_RUN_FIELDS.has(k)));
  return sortedJson(rest);
}

/** Short human name of a configuration, e.g. "iocp, 2 threads, 256 conns, 64 B, work block:2ms". */
export function configLabel(s: Pick<ConfigSummary, "model" | "threads" | "connections" | "sizeBytes" | "work">): string {
  const parts = [s.model];
  if (s.threads !== null) parts.push(s.threads === "per-connection" ? "thread per connection" : `${s.threads} threads`);
  parts.push(`${s.connections} conns`, `${s.sizeBytes} B`);
  if (s.work !== null) parts.push(`work ${s.work}`);
  return parts.join(", ");
}

/** A run whose figures count: it completed and no echo came back corrupted. */
export function isValid(run: Run): boolean {
  return run.status === "ok" && !run.figures.flags.includes("MISMATCH");
}

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
  return {
    key,
    model: c.model,
    threads: c.threads,
    connections: c.connections,
    sizeBytes: c.sizeBytes,
    work: workLabel(c),
    runIndexes: runs.map((r) => r.config.index),
    validRuns: valid.length,
    failedRuns: runs.filter((r) => r.status === "failed").length,
    mismatchRuns: runs.filter((r) => r.figures?.flags.includes("MISMATCH")).length,
    unservedRuns: valid.filter((f) => f.flags.includes("SESSIONS-UNSERVED")).length,
    clientSaturatedRuns: valid.filter((f) => f.clientSaturated).length,
    flags: [...flags],
    messagesPerSec: over((f) => f.messagesPerSec),
    sessionsServed: over((f) => f.sessionsServed),
    latencyP50Us: over((f) => f.latencyUs?.p50),
    latencyP99Us: over((f) => f.latencyUs?.p99),
    latencyP99_9Us: over((f) => f.latencyUs?.p99_9),
    connectP50Us: over((f) => f.connectLatencyUs?.p50),
    connectP99Us: over((f) => f.connectLatencyUs?.p99),
    serverCpuUsPerMessage: over((f) => f.serverCpuUsPerMessage),
    contextSwitchesPerMessage: over((f) => f.serverContextSwitchesPerMessage?.total),
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
