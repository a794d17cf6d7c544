import { test } from "node:test";
import assert from "node:assert/strict";
import {
  dispersion,
  median,
  medianInterval,
  pairedChange,
  percent,
  quantileSorted,
  seededNormal,
  seededRandom,
  spread,
  studentTCdf,
  studentTQuantile,
  unpairedChange,
} from "../reports/stats.js";

test("median and quantiles interpolate between ranks", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(quantileSorted([10, 20, 30, 40, 50], 0.9), 46);
  assert.throws(() => median([]), RangeError);
  assert.throws(() => quantileSorted([1], 1.5), RangeError);
});

test("the seeded generators are repeatable, uniform and normal", () => {
  const a = seededRandom(7);
  const b = seededRandom(7);
  const draws = Array.from({ length: 20_000 }, () => a());
  assert.deepEqual(draws.slice(0, 5), Array.from({ length: 5 }, () => b()));
  assert.ok(draws.every((x) => x >= 0 && x < 1));
  const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
  const z = seededNormal(3);
  const zs = Array.from({ length: 20_000 }, () => z());
  const m = zs.reduce((s, x) => s + x, 0) / zs.length;
  const sd = Math.sqrt(zs.reduce((s, x) => s + (x - m) ** 2, 0) / zs.length);
  assert.ok(Math.abs(m) < 0.03 && Math.abs(sd - 1) < 0.03, `mean ${m}, sd ${sd}`);
});

test("Student's t quantiles match the tables", () => {
  // Two-sided 95 % critical values: df 1, 2, 4, 10, 30 (any statistics table).
  const table: [number, number][] = [
    [1, 12.706],
    [2, 4.303],
    [4, 2.776],
    [10, 2.228],
    [30, 2.042],
  ];
  for (const [df, t] of table) assert.ok(Math.abs(studentTQuantile(0.975, df) - t) < 0.001, `df ${df}: ${studentTQuantile(0.975, df)}`);
  assert.ok(Math.abs(studentTQuantile(0.95, 5) - 2.015) < 0.001);
  assert.ok(Math.abs(studentTCdf(0, 3) - 0.5) < 1e-12);
  assert.ok(Math.abs(studentTCdf(-2.776, 4) - 0.025) < 1e-4);
  // Fractional degrees of freedom (Welch) fall between their neighbours.
  const mid = studentTQuantile(0.975, 4.5);
  assert.ok(mid < studentTQuantile(0.975, 4) && mid > studentTQuantile(0.975, 5));
  assert.throws(() => studentTQuantile(0.4, 3), RangeError);
});

test("the median's order-statistic interval says its true confidence, never 95 % for min–max of a few", () => {
  assert.deepEqual(medianInterval([5]), { low: 5, high: 5, confidence: 0 });
  assert.equal(medianInterval([1, 2]).confidence, 0.5);
  assert.equal(medianInterval([1, 2, 3]).confidence, 0.75);
  assert.equal(medianInterval([1, 2, 3, 4, 5]).confidence, 0.9375);
  const six = medianInterval([1, 2, 3, 4, 5, 6]);
  assert.deepEqual([six.low, six.high], [1, 6]);
  assert.ok(Math.abs(six.confidence - 0.96875) < 1e-12);
  const twenty = medianInterval(Array.from({ length: 20 }, (_, i) => i));
  assert.ok(twenty.confidence >= 0.95 && twenty.low > 0 && twenty.high < 19, JSON.stringify(twenty));
  assert.equal(percent(0.9375), "93.8%");
  assert.equal(percent(0.75), "75%");
});

/** How often an interval method covers the truth over many seeded samples. */
function coverage(trials: number, draw: (z: () => number) => boolean, seed: number): number {
  const z = seededNormal(seed);
  let hits = 0;
  for (let i = 0; i < trials; i++) if (draw(z)) hits++;
  return hits / trials;
}

test("the order-statistic interval covers the true median as often as it says (n = 3 and 8)", () => {
  for (const n of [3, 8]) {
    const said = medianInterval(Array.from({ length: n }, (_, i) => i)).confidence;
    // Skewed data (log-normal around a median of 1): the interval is distribution-free.
    const got = coverage(
      20_000,
      (z) => {
        const ci = medianInterval(Array.from({ length: n }, () => Math.exp(0.5 * z())).sort((a, b) => a - b));
        return ci.low <= 1 && 1 <= ci.high;
      },
      n,
    );
    assert.ok(Math.abs(got - said) < 0.015, `n=${n}: said ${said}, covered ${got}`);
  }
});

test("the paired change interval holds 95 % at 3 pairs and cancels the rounds' drift", () => {
  // A candidate truly 10 % higher; each round drifts both sides by up to ±40 %, each run has 10 % noise.
  const got = coverage(
    20_000,
    (z) => {
      const drift = [z(), z(), z()].map((d) => Math.exp(0.4 * d));
      const base = drift.map((d) => 1000 * d * Math.exp(0.1 * z()));
      const cand = drift.map((d) => 1100 * d * Math.exp(0.1 * z()));
      const c = pairedChange(base, cand)!;
      return c.low <= 0.1 && 0.1 <= c.high;
    },
    11,
  );
  assert.ok(Math.abs(got - 0.95) < 0.01, `covered ${got}`);
  // Drift from 1000 to 1600 over ten rounds and a steady 10 % gap: the paired interval is tight, the unpaired one is not.
  const random = seededRandom(3);
  const base = Array.from({ length: 10 }, (_, i) => (1000 + 60 * i) * (1 + (random() - 0.5) * 0.02));
  const candidate = base.map((b) => b * 1.1 * (1 + (random() - 0.5) * 0.02));
  const paired = pairedChange(base, candidate)!;
  assert.ok(paired.low > 0.08 && paired.high < 0.12, JSON.stringify(paired));
  const unpaired = unpairedChange(base, candidate)!;
  assert.ok(unpaired.low < 0, `drift swamps the unpaired interval: ${JSON.stringify(unpaired)}`);
  assert.equal(pairedChange([1], [2]), null, "one pair has no spread to judge by");
  assert.throws(() => pairedChange([1, 2], [1]), RangeError);
  assert.throws(() => pairedChange([1, 0], [1, 1]), RangeError);
});

test("Welch's interval on logs holds 95 % with unequal spreads at 3 and 5 repeats", () => {
  const got = coverage(
    20_000,
    (z) => {
      const base = Array.from({ length: 3 }, () => 1000 * Math.exp(0.05 * z()));
      const cand = Array.from({ length: 5 }, () => 800 * Math.exp(0.2 * z()));
      const c = unpairedChange(base, cand)!;
      return c.low <= -0.2 && -0.2 <= c.high;
    },
    12,
  );
  assert.ok(got >= 0.94 && got <= 0.965, `covered ${got}`);
  assert.equal(unpairedChange([1], [1, 2]), null);
  const exact = unpairedChange([2, 2], [3, 3])!;
  assert.ok(Math.abs(exact.change - 0.5) < 1e-12 && exact.low === exact.high && exact.n === 2, "no spread: a zero-width interval at the change");
});

test("spread: median, min–max, the interval with its confidence and the dispersion; null when nothing was measured", () => {
  const s = spread([5, null, 1, 3]);
  assert.ok(s);
  assert.equal(s.n, 3);
  assert.equal(s.median, 3);
  assert.deepEqual([s.min, s.max, s.ciLow, s.ciHigh, s.ciConfidence], [1, 5, 1, 5, 0.75]);
  assert.ok(s.dispersion !== null && s.dispersion > 0.5);
  assert.equal(spread([null, null]), null);
  assert.equal(spread([7])!.dispersion, null);
  assert.ok(Math.abs(dispersion([100, 110, 121])! - 0.1) < 1e-9);
});
