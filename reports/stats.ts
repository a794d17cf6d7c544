/**
 * Statistics over repeated runs: pure functions, no I/O, no clock, no
 * Math.random (a report rebuilt from the same results.json must print the
 * same intervals; the simulations draw from a seeded generator).
 *
 * Every interval here has the coverage it claims at the n it is given, and
 * says what that coverage is:
 *
 * - A summary is the median over repeats with min–max and an ORDER-STATISTIC
 *   interval of the median: [x(k), x(n+1-k)] covers the true median with
 *   probability 1 - 2·P(Binomial(n, ½) < k) for any continuous distribution.
 *   k is the largest with coverage >= 95 %; with 5 repeats or fewer no k
 *   reaches it, so the interval is min–max labelled with its TRUE confidence
 *   (50 % at n = 2, 75 % at 3, 87.5 % at 4, 93.75 % at 5), never "95 %".
 *   (A percentile bootstrap of a median from 2–5 values returns min–max
 *   too, and calls it 95 %.)
 * - A change between two configurations is a ratio, judged on logarithms:
 *   run-to-run noise multiplies a figure, so its logarithm adds. Paired
 *   (the same rounds, run back to back): a Student t interval on the mean of
 *   the per-round log ratios, which cancels the machine's drift between
 *   rounds. Unpaired: Welch's t interval on the difference of the mean logs.
 *   Both are exact for log-normal noise and need only n >= 2 per side (their
 *   width then says how little two repeats know).
 */

/** A seeded uniform generator on [0, 1) (mulberry32): small, fast, good enough to simulate with. */
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

/** A seeded standard normal generator (Box–Muller over seededRandom). */
export function seededNormal(seed: number): () => number {
  const u = seededRandom(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const theta = 2 * Math.PI * u();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
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

/** The median (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  return quantileSorted([...values].sort(ascending), 0.5);
}

function mean(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** Sample variance (n - 1 in the denominator). */
function variance(values: readonly number[], m = mean(values)): number {
  let s = 0;
  for (const v of values) s += (v - m) * (v - m);
  return s / (values.length - 1);
}

// ---- Student's t ------------------------------------------------------------------------------

/** ln Γ(x), x > 0 (Lanczos, g = 7, 9 terms: about 15 significant digits). */
function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(x, a, b)) / a : 1 - (front * betaFraction(1 - x, b, a)) / b;
}

/** P(T <= t) for Student's t with df degrees of freedom (df may be fractional, as Welch's is). */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

const tQuantiles = new Map<string, number>();

/** The p-quantile of Student's t with df degrees of freedom, p in (0.5, 1) (bisection on the CDF; memoised). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0.5 && p < 1)) throw new RangeError(`t quantile ${p} outside (0.5, 1)`);
  if (!(df > 0)) throw new RangeError(`t with ${df} degrees of freedom`);
  const key = `${p}/${df}`;
  const known = tQuantiles.get(key);
  if (known !== undefined) return known;
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 100 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  const q = (lo + hi) / 2;
  tQuantiles.set(key, q);
  return q;
}

// ---- changes between two configurations ---------------------------------------------------------

/** The relative change of a figure from a base to a candidate, with its interval. */
export interface ChangeInterval {
  /** Point estimate, fraction (+0.10 = candidate 10 % higher): the geometric mean ratio minus 1. */
  change: number;
  /** The interval of the change, fractions. */
  low: number;
  high: number;
  /** Its two-sided confidence, e.g. 0.95. */
  confidence: number;
  /** Pairs (paired), or the smaller side's repeats (unpaired). */
  n: number;
  method: "paired t on log ratios" | "Welch t on logs";
}

/** Confidence of every change interval the verdicts judge by. */
export const CONFIDENCE = 0.95;

function logsOf(values: readonly number[]): number[] {
  return values.map((v) => {
    if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`a change needs positive figures, got ${v}`);
    return Math.log(v);
  });
}

/**
 * The change between PAIRED repeats: pair i is (base[i], candidate[i]),
 * measured in the same round. A t interval on the mean log ratio; null with
 * fewer than 2 pairs (no spread to judge by).
 */
export function pairedChange(base: readonly number[], candidate: readonly number[], confidence = CONFIDENCE): ChangeInterval | null {
  if (base.length !== candidate.length) throw new RangeError(`paired samples differ in length (${base.length} and ${candidate.length})`);
  const n = base.length;
  if (n < 2) return null;
  const b = logsOf(base);
  const d = logsOf(candidate).map((c, i) => c - b[i]!);
  const m = mean(d);
  const half = studentTQuantile(1 - (1 - confidence) / 2, n - 1) * Math.sqrt(variance(d, m) / n);
  return { change: Math.expm1(m), low: Math.expm1(m - half), high: Math.expm1(m + half), confidence, n, method: "paired t on log ratios" };
}

/**
 * The change between two independent sets of repeats: Welch's t interval on
 * the difference of their mean logs (Welch–Satterthwaite degrees of
 * freedom). null unless both sides have 2 repeats or more.
 */
export function unpairedChange(base: readonly number[], candidate: readonly number[], confidence = CONFIDENCE): ChangeInterval | null {
  if (base.length < 2 || candidate.length < 2) return null;
  const b = logsOf(base);
  const c = logsOf(candidate);
  const mb = mean(b);
  const mc = mean(c);
  const vb = variance(b, mb) / b.length;
  const vc = variance(c, mc) / c.length;
  const se = Math.sqrt(vb + vc);
  const m = mc - mb;
  const n = Math.min(b.length, c.length);
  if (se === 0) return { change: Math.expm1(m), low: Math.expm1(m), high: Math.expm1(m), confidence, n, method: "Welch t on logs" };
  const df = (vb + vc) ** 2 / (vb ** 2 / (b.length - 1) + vc ** 2 / (c.length - 1));
  const half = studentTQuantile(1 - (1 - confidence) / 2, df) * se;
  return { change: Math.expm1(m), low: Math.expm1(m - half), high: Math.expm1(m + half), confidence, n, method: "Welch t on logs" };
}

/**
 * Geometric coefficient of variation of repeats: exp(sd of the logs) - 1,
 * the typical factor one repeat differs from another by. null under 2 values.
 */
export function dispersion(values: readonly number[]): number | null {
  if (values.length < 2 || values.some((v) => !(v > 0))) return null;
  return Math.expm1(Math.sqrt(variance(values.map(Math.log))));
}

// ---- the median of one configuration ----------------------------------------------------------

/** P(Binomial(n, ½) <= k), exactly enough for the few repeats of a sweep. */
function binomialHalfCdf(n: number, k: number): number {
  let term = 0.5 ** n; // C(n, 0) / 2^n
  let sum = term;
  for (let i = 1; i <= k; i++) {
    term = (term * (n - i + 1)) / i;
    sum += term;
  }
  return sum;
}

/**
 * The order-statistic interval of the median of `sorted` (ascending): the
 * narrowest ranks [k, n+1-k] (1-based) whose coverage still reaches
 * `target`, else min–max; with the coverage it really has.
 */
export function medianInterval(sorted: readonly number[], target = CONFIDENCE): { low: number; high: number; confidence: number } {
  const n = sorted.length;
  if (n === 0) throw new RangeError("interval of no values");
  if (n === 1) return { low: sorted[0]!, high: sorted[0]!, confidence: 0 };
  let k = 1;
  while (k + 1 <= Math.floor((n + 1) / 2) && 1 - 2 * binomialHalfCdf(n, k) >= target) k++;
  return { low: sorted[k - 1]!, high: sorted[n - k]!, confidence: 1 - 2 * binomialHalfCdf(n, k - 1) };
}

/** One figure over repeats: what every summary table and chart shows. */
export interface Spread {
  /** Repeats the figure was measured in (null figures left out). */
  n: number;
  median: number;
  min: number;
  max: number;
  /** Order-statistic interval of the median (see medianInterval). */
  ciLow: number;
  ciHigh: number;
  /** Its true coverage: 0.95 from 6 repeats on, less below (0.75 at 3); 0 for one repeat. */
  ciConfidence: number;
  /** dispersion() of the repeats (null for one). */
  dispersion: number | null;
}

/** Median, min–max and the median's interval; null when no repeat measured the figure. */
export function spread(values: readonly (number | null)[]): Spread | null {
  const measured = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (measured.length === 0) return null;
  const sorted = [...measured].sort(ascending);
  const ci = medianInterval(sorted);
  return {
    n: measured.length,
    median: quantileSorted(sorted, 0.5),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    ciLow: ci.low,
    ciHigh: ci.high,
    ciConfidence: ci.confidence,
    dispersion: dispersion(measured),
  };
}

/** "95%", "75%", "87.5%": a confidence as a reader sees it. */
export function percent(confidence: number): string {
  return `${Math.round(confidence * 1000) / 10}%`;
}
