/**
 * Statistics over repeated runs: pure functions, no I/O, no clock, no
 * Math.random (a report rebuilt from the same results.json must print the
 * same intervals, so the bootstrap draws from a seeded generator).
 *
 * Summaries are medians with their spread, as Criterion and hyperfine give
 * them: the median because one run disturbed by the machine must not drag
 * the figure, min–max because it is what a reader can check by eye, and a
 * percentile-bootstrap confidence interval because it says how far the
 * median itself might move on another try.
 */

/** A seeded uniform generator on [0, 1) (mulberry32): small, fast, good enough to resample with. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The q-quantile (0..1) of values already sorted ascending, interpolating linearly between ranks. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new RangeError("quantile of no values");
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile ${q} outside 0..1`);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

const ascending = (a: number, b: number): number => a - b;

/** Sorts ascending in place: insertion sort for the few values of a set of repeats (far cheaper than Array.sort's calls), else Array.sort. */
function sortSmall(x: number[]): number[] {
  if (x.length > 32) return x.sort(ascending);
  for (let i = 1; i < x.length; i++) {
    const v = x[i]!;
    let j = i - 1;
    for (; j >= 0 && x[j]! > v; j--) x[j + 1] = x[j]!;
    x[j + 1] = v;
  }
  return x;
}

/** The median (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  return quantileSorted([...values].sort(ascending), 0.5);
}

export interface BootstrapOptions {
  /** Resamples drawn; 10,000 keeps the interval's ends stable to well under 1 % of their width. */
  resamples?: number;
  /** Two-sided confidence level, e.g. 0.95. */
  confidence?: number;
  /** Generator seed: the same data and seed give the same interval. */
  seed?: number;
}

export interface Interval {
  low: number;
  high: number;
}

const DEFAULTS = { resamples: 10_000, confidence: 0.95, seed: 0x10be7c4 };

function resample(values: readonly number[], random: () => number, into: number[]): number[] {
  for (let i = 0; i < values.length; i++) into[i] = values[Math.floor(random() * values.length)]!;
  return into;
}

/** Sorts the resampled statistics (a typed array: its native numeric sort is many times faster than Array.sort with a comparator). */
function percentileInterval(stats: Float64Array, confidence: number): Interval {
  stats.sort();
  const tail = (1 - confidence) / 2;
  return { low: quantileSorted(stats, tail), high: quantileSorted(stats, 1 - tail) };
}

/**
 * Percentile-bootstrap confidence interval of `statistic` (the median by
 * default) over `values`. With one value the interval is that value: there
 * is no spread to resample, which a reader sees as a zero-width interval
 * next to n = 1, not as false confidence.
 */
export function bootstrapInterval(
  values: readonly number[],
  statistic: (sample: readonly number[]) => number = median,
  options: BootstrapOptions = {},
): Interval {
  if (values.length === 0) throw new RangeError("bootstrap of no values");
  // Every resample of identical values (one repeat, say) is the same sample: the interval is exact without drawing.
  if (values.every((v) => v === values[0])) {
    const only = statistic(values);
    return { low: only, high: only };
  }
  const { resamples, confidence, seed } = { ...DEFAULTS, ...options };
  const random = seededRandom(seed);
  const sample = new Array<number>(values.length);
  const stats = new Float64Array(resamples);
  // The resample is scratch space, so the median may sort it in place instead of copying it (the hot loop of every report).
  const stat = statistic === median ? (x: number[]): number => quantileSorted(sortSmall(x), 0.5) : statistic;
  for (let i = 0; i < resamples; i++) stats[i] = stat(resample(values, random, sample));
  return percentileInterval(stats, confidence);
}

/**
 * Bootstrap interval of the relative change of the median from `base` to
 * `candidate`, as a fraction (+0.10 = candidate 10 % higher): each side is
 * resampled on its own, as two independent sets of repeats.
 */
export function bootstrapChangeInterval(
  base: readonly number[],
  candidate: readonly number[],
  options: BootstrapOptions = {},
): Interval {
  if (base.length === 0 || candidate.length === 0) throw new RangeError("bootstrap of no values");
  const { resamples, confidence, seed } = { ...DEFAULTS, ...options };
  const random = seededRandom(seed);
  const a = new Array<number>(base.length);
  const b = new Array<number>(candidate.length);
  const stats = new Float64Array(resamples);
  for (let i = 0; i < resamples; i++) {
    stats[i] = median(resample(candidate, random, b)) / median(resample(base, random, a)) - 1;
  }
  return percentileInterval(stats, confidence);
}

/**
 * Bootstrap interval of the relative change between PAIRED repeats, as a
 * fraction: pair i is (base[i], candidate[i]), measured back to back in
 * one round. The statistic is the median of the per-pair ratios minus 1,
 * and whole pairs are resampled together, so drift of the machine between
 * rounds (which moves both members of a pair) cancels instead of widening
 * the interval. `pairedChange` is its point estimate.
 */
export function bootstrapPairedChangeInterval(
  base: readonly number[],
  candidate: readonly number[],
  options: BootstrapOptions = {},
): Interval {
  return bootstrapInterval(pairChanges(base, candidate), median, options);
}

/** Median of the per-pair ratios candidate[i] / base[i], minus 1. */
export function pairedChange(base: readonly number[], candidate: readonly number[]): number {
  return median(pairChanges(base, candidate));
}

/** Relative change of the median from base to candidate, as a fraction (unpaired). */
export function medianChange(base: readonly number[], candidate: readonly number[]): number {
  return median(candidate) / median(base) - 1;
}

/** candidate[i] / base[i] - 1 for every pair. */
function pairChanges(base: readonly number[], candidate: readonly number[]): number[] {
  if (base.length !== candidate.length) throw new RangeError(`paired samples differ in length (${base.length} and ${candidate.length})`);
  if (base.length === 0) throw new RangeError("bootstrap of no values");
  return base.map((b, i) => candidate[i]! / b - 1);
}

/** One figure over repeats: what every summary table and chart shows. */
export interface Spread {
  /** Repeats the figure was measured in (null figures left out). */
  n: number;
  median: number;
  min: number;
  max: number;
  /** 95 % bootstrap confidence interval of the median. */
  ciLow: number;
  ciHigh: number;
}

/** Median, min–max and the median's bootstrap interval; null when no repeat measured the figure. */
export function spread(values: readonly (number | null)[], options: BootstrapOptions = {}): Spread | null {
  const measured = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (measured.length === 0) return null;
  const sorted = [...measured].sort(ascending);
  const ci = bootstrapInterval(measured, median, options);
  return {
    n: measured.length,
    median: quantileSorted(sorted, 0.5),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    ciLow: ci.low,
    ciHigh: ci.high,
  };
}
