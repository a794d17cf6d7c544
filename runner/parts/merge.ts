/**
 * The exact merge of a split load: the parts' figures back into one
 * client measurement, as if one client had run every session. Counts add
 * up; histograms are decoded and added bucket by bucket (the parts' encoded
 * HdrHistograms), never their percentiles averaged; timelines line up on
 * the interval where each part's window opened (the parts opened them at
 * one instant, give or take their clock offsets).
 */
import { NO_ERRORS, type ClientMeasurement, type ErrorCounts } from "../../contracts/client.js";
import { mergeEncoded, mergeIntervals } from "../../contracts/histogram.js";
import type { ErrorFigures, Figures } from "../../reports/schema.js";

function addErrors(parts: readonly ErrorFigures[]): ErrorCounts {
  const sum: ErrorCounts = { ...NO_ERRORS };
  for (const e of parts) {
    sum.connect += e.connect;
    sum.reset += e.reset;
    sum.timeout += e.timeout;
    sum.mismatch += e.mismatch;
    sum.closedEarly += e.closedEarly;
  }
  return sum;
}

/** Per-interval counts of every part, shifted so their windows open on one index. */
function mergeTimelines(parts: readonly Figures[]): ClientMeasurement["timeline"] {
  const intervalMs = parts[0]?.timeline.intervalMs ?? 0;
  if (parts.some((p) => p.timeline.intervalMs !== intervalMs)) throw new Error("parts measured with different timeline intervals");
  const start = Math.max(0, ...parts.map((p) => p.timeline.measureStartIndex));
  const messages: number[] = [];
  for (const p of parts) {
    const shift = start - p.timeline.measureStartIndex;
    p.timeline.messages.forEach((m, i) => (messages[i + shift] = (messages[i + shift] ?? 0) + m));
  }
  for (let i = 0; i < messages.length; i++) messages[i] ??= 0;
  return { intervalMs, messages, measureStartIndex: start };
}

/**
 * The window the merged rates are over. The parts' windows cover one span
 * but not to the millisecond (a part whose client took long to start opens
 * its window a little late): the merged message rate must be the sum of
 * the parts' rates, so the window is total messages / that sum. Without a
 * message, the longest window.
 */
function effectiveWindowMs(parts: readonly Figures[]): number {
  const messages = sum(parts, (p) => p.messages);
  const rate = sum(parts, (p) => (p.durationSec > 0 ? p.messages / p.durationSec : 0));
  return messages > 0 && rate > 0 ? (messages / rate) * 1000 : Math.max(...parts.map((p) => p.durationSec * 1000));
}

const sum = (parts: readonly Figures[], pick: (f: Figures) => number): number => parts.reduce((a, f) => a + pick(f), 0);

/**
 * The parts' per-second latency histograms added interval by interval
 * (they share one origin: the common start, on the reference clock), with
 * the origin put on this machine's clock; absent when a part has none.
 */
function mergeLatencyTimelines(parts: readonly Figures[], originEpochMs: number): ClientMeasurement["latencyTimeline"] {
  const timelines = parts.map((p) => p.latencyTimeline);
  if (timelines.some((t) => t === undefined)) return undefined;
  const all = timelines as NonNullable<Figures["latencyTimeline"]>[];
  const merged = mergeIntervals(all.map((t) => ({ originEpochMs: t.originEpochMs, intervalMs: t.intervalMs, histograms: t.intervals.map((i) => i.data) })));
  return { ...merged, originEpochMs, measureStartIndex: Math.max(...all.map((t) => t.measureStartIndex)) };
}

/** One client measurement from the parts that measured (at least one); `originEpochMs`: the common start on this machine's clock. */
export function mergeParts(parts: readonly Figures[], originEpochMs: number): ClientMeasurement {
  if (parts.length === 0) throw new Error("no part measured anything");
  const uncorrected = parts.map((p) => p.latencyUncorrectedHistogram).filter((h) => h !== null);
  const firstEcho = parts.map((p) => p.firstEchoLatencyHistogram).filter((h) => h !== null && h !== undefined);
  const latencyTimeline = mergeLatencyTimelines(parts, originEpochMs);
  return {
    durationMs: effectiveWindowMs(parts),
    messages: sum(parts, (p) => p.messages),
    bytes: sum(parts, (p) => p.bytes),
    latencyUs: mergeEncoded(parts.map((p) => p.latencyHistogram.data)),
    uncorrectedLatencyUs: uncorrected.length > 0 ? mergeEncoded(uncorrected.map((h) => h.data)) : null,
    connectLatencyUs: mergeEncoded(parts.map((p) => p.connectLatencyHistogram.data)),
    firstEchoUs: firstEcho.length > 0 ? mergeEncoded(firstEcho.map((h) => h.data)) : null,
    errors: addErrors(parts.map((p) => p.errors)),
    errorsTotal: addErrors(parts.map((p) => p.errorsTotal)),
    sessionsConnected: sum(parts, (p) => p.sessionsConnected),
    sessionsServed: sum(parts, (p) => p.sessionsServed),
    sessionsTimedOut: sum(parts, (p) => p.sessionsTimedOut),
    connects: sum(parts, (p) => p.connects),
    connectsTotal: sum(parts, (p) => p.connectsTotal),
    timeline: mergeTimelines(parts),
    ...(latencyTimeline !== undefined ? { latencyTimeline } : {}),
    // Not this process's threads: the parts judged their own (reports/parts.ts takes their verdicts).
    threadIds: [],
  };
}
