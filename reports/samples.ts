/**
 * What `bench check` compares: the runs of a sweep grouped by configuration,
 * each repeat reduced to the three figures a regression is judged on, plus
 * what makes a repeat untrustworthy. Pure: results.json in, plain data out.
 * The same shape is stored in baselines/NAME.json, so a baseline and a fresh
 * run are compared by the same code.
 */
import type { Run, ThreadsSetting } from "./schema.js";

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

/** What identifies one configuration across two sweeps (server work is not part of it: it may be what changed). */
export interface ConfigKey {
  model: string;
  threads: ThreadsSetting | null;
  connections: number;
  sizeBytes: number;
}

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
}

/** Every repeat of one configuration. */
export interface ConfigSamples {
  key: ConfigKey;
  repeats: Repeat[];
}

/** "epoll t1 c16 64B" */
export function configLabel(key: ConfigKey): string {
  return `${key.model} t${key.threads ?? "?"} c${key.connections} ${key.sizeBytes}B`;
}

export function sameKey(a: ConfigKey, b: ConfigKey): boolean {
  return a.model === b.model && a.threads === b.threads && a.connections === b.connections && a.sizeBytes === b.sizeBytes;
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
  };
}

/** Groups runs by configuration, in order of first appearance. */
export function groupRuns(runs: readonly Run[]): ConfigSamples[] {
  const groups: ConfigSamples[] = [];
  for (const run of runs) {
    const key: ConfigKey = { model: run.config.model, threads: run.config.threads, connections: run.config.connections, sizeBytes: run.config.sizeBytes };
    let group = groups.find((g) => sameKey(g.key, key));
    if (group === undefined) {
      group = { key, repeats: [] };
      groups.push(group);
    }
    group.repeats.push(toRepeat(run));
  }
  return groups;
}
