/**
 * Latency histograms: one range and precision for every histogram iobench
 * makes, and the encoding (HdrHistogram V2, compressed base64) in which
 * they cross from worker threads to the main thread and into results.json.
 * Percentiles are only ever read from merged histograms: an average of
 * per-thread percentiles is not a percentile.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from "hdr-histogram-js";
import type { Histogram } from "hdr-histogram-js";

/** Smallest distinguishable value, µs. */
export const LOWEST_US = 1;
/** Largest trackable value, µs (one minute); larger values are clamped to it. */
export const HIGHEST_US = 60_000_000;
/** Value precision: 3 significant digits (0.1 % error). */
export const SIGNIFICANT_DIGITS = 3;

/** An empty µs histogram with the shared range and precision (64-bit counts: a merge never overflows). */
export function createHistogram(): Histogram {
  return build({
    bitBucketSize: 64,
    autoResize: false,
    lowestDiscernibleValue: LOWEST_US,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    useWebAssembly: false,
  });
}

/** Rounds a µs value to the recorded integer range: the library silently misfiles values past its range. */
export function clampUs(us: number): number {
  if (!(us >= LOWEST_US)) return LOWEST_US; // also catches NaN
  if (us >= HIGHEST_US) return HIGHEST_US;
  return Math.round(us);
}

/** Records one µs value into a histogram (clamped to the range). */
export function recordUs(h: Histogram, us: number): void {
  h.recordValue(clampUs(us));
}

/** Compressed base64 (HdrHistogram V2 format), to post a worker's histogram to the main thread. */
export function encodeHistogram(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}

/** Decodes one encoded histogram. */
export function decodeHistogram(encoded: string): Histogram {
  return decodeFromCompressedBase64(encoded, 64, false);
}

/** Decodes and adds up encoded worker histograms into one new histogram. */
export function mergeEncoded(encoded: readonly string[]): Histogram {
  const merged = createHistogram();
  for (const e of encoded) merged.add(decodeHistogram(e));
  return merged;
}

/**
 * Latency per fixed interval of wall time (the latency timeline): one
 * encoded histogram per interval, interval k covering completions in
 * [originEpochMs + k·intervalMs, originEpochMs + (k+1)·intervalMs).
 * Two of them with the same origin and width (worker threads of one client,
 * or client processes and agents given one origin) merge exactly, interval
 * by interval: mergeIntervals.
 */
export interface LatencyIntervals {
  /** Start of interval 0, epoch ms. */
  originEpochMs: number;
  intervalMs: number;
  /** Encoded µs histograms (encodeHistogram), one per interval from the origin. */
  histograms: string[];
}

/** Adds up latency timelines interval by interval (a shorter one ends early); throws if their origins or widths differ, which would not merge exactly. */
export function mergeIntervals(parts: readonly LatencyIntervals[]): LatencyIntervals {
  const first = parts[0];
  if (first === undefined) throw new Error("mergeIntervals: nothing to merge");
  for (const p of parts) {
    if (p.originEpochMs !== first.originEpochMs || p.intervalMs !== first.intervalMs) {
      throw new Error(
        `mergeIntervals: intervals differ (origin ${p.originEpochMs} vs ${first.originEpochMs} ms, width ${p.intervalMs} vs ${first.intervalMs} ms): give every client one origin`,
      );
    }
  }
  const length = Math.max(...parts.map((p) => p.histograms.length));
  const histograms = Array.from({ length }, (_, k) => {
    const here = parts.flatMap((p) => (k < p.histograms.length ? [p.histograms[k]!] : []));
    return here.length === 1 ? here[0]! : encodeHistogram(mergeEncoded(here));
  });
  return { originEpochMs: first.originEpochMs, intervalMs: first.intervalMs, histograms };
}
