/**
 * Latency recording on a client worker's hot path. The histograms, their
 * encoding and merging are contracts/histogram.ts (reports use them too).
 */
import { createHistogram, clampUs, decodeHistogram, encodeHistogram } from "../contracts/histogram.js";
import type { Histogram } from "hdr-histogram-js";

/** Values below this are counted in a flat array (one entry per µs) instead of the histogram. */
const DIRECT_LIMIT_US = 65536;

/** What a FastRecorder held, taken out cheaply: the non-zero direct counts, and the rest encoded (null when none). */
export interface RecorderSnapshot {
  values: Uint32Array;
  counts: Float64Array;
  slow: string | null;
}

const EMPTY_SNAPSHOT: RecorderSnapshot = { values: new Uint32Array(0), counts: new Float64Array(0), slow: null };

/** A new histogram holding a snapshot's values (exactly what recordValue on each would give). */
export function snapshotHistogram(s: RecorderSnapshot): Histogram {
  const h = s.slow === null ? createHistogram() : decodeHistogram(s.slow);
  for (let i = 0; i < s.values.length; i++) h.recordValueWithCount(s.values[i] as number, s.counts[i] as number);
  return h;
}

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

  /**
   * Takes everything recorded out and resets, in about a tenth of what
   * building and encoding a histogram costs (~0.15 ms against ~4 ms): what a
   * worker can afford once a second in its loop without a stall of its own
   * showing in the latencies it measures. Only values past the direct range
   * (65 ms and more, a server already in trouble) are encoded here.
   */
  drain(): RecorderSnapshot {
    if (this.count === 0) return EMPTY_SNAPSHOT;
    const d = this.direct;
    let n = 0;
    if (this.pending > 0) for (let v = 0; v < DIRECT_LIMIT_US; v++) if ((d[v] as number) !== 0) n++;
    const values = new Uint32Array(n);
    const counts = new Float64Array(n);
    for (let v = 0, i = 0; i < n; v++) {
      const c = d[v] as number;
      if (c === 0) continue;
      values[i] = v;
      counts[i++] = c;
      d[v] = 0;
    }
    this.pending = 0;
    let slow: string | null = null;
    if (this.slow.totalCount > 0) {
      slow = encodeHistogram(this.slow);
      this.slow.reset();
    }
    return { values, counts, slow };
  }
}

/**
 * Latency per fixed interval of wall time, counted from an origin shared by
 * every worker (and by every process of one load, which is what makes their
 * intervals merge exactly: contracts/histogram.ts mergeIntervals). A value
 * is filed by the time its message completed: interval k holds completions
 * in [origin + k·width, origin + (k+1)·width); one before the origin counts
 * in interval 0. The hot path is one compare and one FastRecorder.record;
 * at each interval's end the recorder is drained (see drain), and the
 * histograms are built and encoded only at the end.
 */
export class IntervalRecorder {
  private readonly current = new FastRecorder();
  private readonly closed: RecorderSnapshot[] = [];
  private nextAt: number;

  /** `originMs` and every `t` are performance.now() times of this thread, ms. */
  constructor(
    originMs: number,
    readonly intervalMs: number,
  ) {
    this.nextAt = originMs + intervalMs;
  }

  /** Records a latency of `us` for a message that completed at time `t`. */
  record(t: number, us: number): void {
    if (t >= this.nextAt) this.roll(t);
    this.current.record(us);
  }

  /** Closes the current interval and every empty one up to the interval holding t. */
  private roll(t: number): void {
    this.closed.push(this.current.drain());
    this.nextAt += this.intervalMs;
    while (t >= this.nextAt) {
      this.closed.push(EMPTY_SNAPSHOT);
      this.nextAt += this.intervalMs;
    }
  }

  /** One encoded histogram per interval, from the origin to the one holding `t` (the end; that last one partial). */
  finish(t: number): string[] {
    if (t >= this.nextAt) this.roll(t);
    this.closed.push(this.current.drain());
    return this.closed.splice(0).map((s) => encodeHistogram(snapshotHistogram(s)));
  }
}
