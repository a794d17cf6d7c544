/**
 * Latency recording: a thin layer over hdr-histogram-js (pure JS build, no
 * WebAssembly). Worker threads record and encode; the main thread decodes
 * and merges. Percentiles are only ever read from merged histograms: an
 * average of per-thread percentiles is not a percentile.
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

/** Values below this are counted in a flat array (one entry per µs) instead of the histogram. */
const DIRECT_LIMIT_US = 65536;

/**
 * The hot-path recorder a worker uses once per message. hdr-histogram-js
 * spends ~120 ns per recordValue (log2, pow, floor); this counts integer µs
 * below 65.536 ms in a flat array (a few ns) and hands only rarer, larger
 * values to the histogram. `histogram()` folds the counts in, value for
 * value, so the result is exactly what recordValue on each would give.
 */
export class FastRecorder {
  private readonly direct = new Float64Array(DIRECT_LIMIT_US);
  private readonly slow: Histogram = createHistogram();
  private pending = 0;

  /** Records one round trip in µs (any finite number; clamped and rounded). */
  record(us: number): void {
    const v = clampUs(us);
    if (v < DIRECT_LIMIT_US) {
      const d = this.direct;
      d[v] = (d[v] as number) + 1;
      this.pending++;
    } else {
      this.slow.recordValue(v);
    }
  }

  /** Values recorded since the last reset. */
  get count(): number {
    return this.pending + this.slow.totalCount;
  }

  /** Forgets everything recorded (start of the measured window). */
  reset(): void {
    this.direct.fill(0);
    this.pending = 0;
    this.slow.reset();
  }

  /** A new histogram holding every value recorded since the last reset. */
  histogram(): Histogram {
    const h = createHistogram();
    h.add(this.slow);
    if (this.pending > 0) {
      const d = this.direct;
      for (let v = 0; v < DIRECT_LIMIT_US; v++) {
        const c = d[v] as number;
        if (c !== 0) h.recordValueWithCount(v, c);
      }
    }
    return h;
  }

  /** The recorded values, encoded for the main thread. */
  encode(): string {
    return encodeHistogram(this.histogram());
  }
}
