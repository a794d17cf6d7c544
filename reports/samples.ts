/**
 * What `bench check` compares: the runs of a sweep grouped by configuration,
 * each repeat reduced to the three figures a regression is judged on, plus
 * what makes a repeat untrustworthy. Pure: results.json in, plain data out.
 * The same shape is stored in baselines/NAME.json, so a baseline and a fresh
 * run are compared by the same code.
 *
 * A configuration is everything a run was asked to do (its config) but the
 * fields that differ from repeat to repeat: two runs are compared only when
 * they ran the same model, threads, sessions, size, work, protocol, load
 * generator and engine, load script, window, pinning, accept style... A
 * field added to RunConfig later joins the key by itself.
 */
import type { Run, RunConfig, ThreadsSetting } from "./schema.js";
import { formatWork } from "../contracts/work.js";

/** The figures a check judges. */
export type FigureName = "rate" | "p99" | "cpu";

/** How a figure is named, shown and read. */
export interface FigureInfo {
  name: FigureName;
  /** Column label, with its unit. */
  label: string;
  /** Which way is better: a rate should rise, a latency or a cost should fall. */
  better: "higher" | "lower";
  /** Default noise threshold: a change smaller than this is never a verdict, fraction. */
  defaultThreshold: number;
}

export const FIGURES: readonly FigureInfo[] = [
  { name: "rate", label: "msg/s", better: "higher", defaultThreshold: 0.1 },
  { name: "p99", label: "p99 µs", better: "lower", defaultThreshold: 0.1 },
  { name: "cpu", label: "cpu µs/msg", better: "lower", defaultThreshold: 0.05 },
];

/** What identifies one configuration across two sweeps. */
export interface ConfigKey {
  model: string;
  threads: ThreadsSetting | null;
  connections: number;
  sizeBytes: number;
  /** Server work per message as written (block:2ms), or null: apart from `setup`, since `check --work` injects it on purpose. */
  work: string | null;
  /** Every other field of the run's config, as sorted JSON (see the file comment). */
  setup: string;
}

/** Fields of a run's config that differ between repeats of one configuration (or are in the key's own fields). */
const NOT_SETUP = new Set(["index", "repeat", "port", "serverPid", "model", "threads", "connections", "sizeBytes", "work"]);

/** One repeat of one configuration, reduced. */
export interface Repeat {
  /** 1-based round the repeat ran in (pairs repeats of interleaved sweeps). */
  round: number;
  /** The run completed its window (status "ok"). */
  ok: boolean;
  /** Why it failed, when it did. */
  error: string | null;
  /** Messages per second; null when not measured. */
  rate: number | null;
  /** p99 round trip, µs; null when no message completed. */
  p99: number | null;
  /** Server CPU µs per message; null when not measured. */
  cpu: number | null;
  messages: number;
  /** Echoes that came back different (whole run). */
  mismatches: number;
  /** Other errors inside the window (timeouts, resets, connect failures). */
  errors: number;
  clientSaturated: boolean;
  /** The run's warning flags, as results.json has them. */
  flags: string[];
  /** 1-based position of the run in its sweep (config.index + 1), to name it. Absent in baselines saved before it existed. */
  run?: number;
}

/** Every repeat of one configuration. */
export interface ConfigSamples {
  key: ConfigKey;
  repeats: Repeat[];
}

/** JSON with object keys sorted: the same data always gives the same text. */
export function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** The configuration a run belongs to. */
export function configKeyOf(config: RunConfig): ConfigKey {
  const setup = Object.fromEntries(Object.entries(config).filter(([k]) => !NOT_SETUP.has(k)));
  return {
    model: config.model,
    threads: config.threads,
    connections: config.connections,
    sizeBytes: config.sizeBytes,
    work: config.work === undefined || config.work === null ? null : formatWork(config.work),
    setup: sortedJson(setup),
  };
}

/** "epoll t1 c16 64B", with the work, the accept style and the load script when they are not the plain ones. */
export function configLabel(key: ConfigKey): string {
  const extra: string[] = [];
  if (key.work !== null) extra.push(key.work);
  const setup = JSON.parse(key.setup) as Partial<RunConfig>;
  if (setup.accept === "ring" && key.model.startsWith("completion-routine")) extra.push("accept=ring");
  if (setup.load?.scenario) extra.push(setup.load.scenario);
  else if ((setup.load?.messagesPerSession ?? 0) > 0) extra.push(`${setup.load!.messagesPerSession} msg/conn`);
  return [`${key.model} t${key.threads ?? "?"} c${key.connections} ${key.sizeBytes}B`, ...extra].join(" ");
}

/** Same configuration; `ignoreWork` when the candidate's work was injected on purpose (check --work). */
export function sameKey(a: ConfigKey, b: ConfigKey, ignoreWork = false): boolean {
  return (
    a.model === b.model &&
    a.threads === b.threads &&
    a.connections === b.connections &&
    a.sizeBytes === b.sizeBytes &&
    a.setup === b.setup &&
    (ignoreWork || a.work === b.work)
  );
}

/** The fields of the setup in which two keys differ, to say why a configuration has no match. */
export function setupDifference(a: ConfigKey, b: ConfigKey): string[] {
  const x = JSON.parse(a.setup) as Record<string, unknown>;
  const y = JSON.parse(b.setup) as Record<string, unknown>;
  const fields = [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((k) => sortedJson(x[k]) !== sortedJson(y[k]));
  if (a.work !== b.work) fields.unshift("work");
  return fields;
}

/** One run as a Repeat. */
export function toRepeat(run: Run, round = run.config.repeat): Repeat {
  const f = run.figures;
  return {
    round,
    ok: run.status === "ok",
    error: run.status === "failed" ? run.error : null,
    rate: f === null ? null : f.messagesPerSec,
    p99: f?.latencyUs?.p99 ?? null,
    cpu: f?.serverCpuUsPerMessage ?? null,
    messages: f?.messages ?? 0,
    mismatches: f?.errorsTotal.mismatch ?? 0,
    errors: f === null ? 0 : f.errors.total - f.errors.mismatch,
    clientSaturated: f?.clientSaturated ?? false,
    flags: f === null ? [] : [...f.flags],
    run: run.config.index + 1,
  };
}

/** Groups runs by configuration, in order of first appearance. */
export function groupRuns(runs: readonly Run[]): ConfigSamples[] {
  const groups: ConfigSamples[] = [];
  for (const run of runs) {
    const key = configKeyOf(run.config);
    let group = groups.find((g) => sameKey(g.key, key));
    if (group === undefined) {
      group = { key, repeats: [] };
      groups.push(group);
    }
    group.repeats.push(toRepeat(run));
  }
  return groups;
}
