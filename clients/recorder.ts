/**
 * Latency recording on a client worker's hot path. The histograms, their
 * encoding and merging are contracts/histogram.ts (reports use them too).
 */
import { createHistogram, clampUs, encodeHistogram } from "../contracts/histogram.js";
import type { Histogram } from "hdr-histogram-js";

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
