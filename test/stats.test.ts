import { test } from "node:test";
import assert from "node:assert/strict";
import {
  bootstrapChangeInterval,
  bootstrapInterval,
  bootstrapPairedChangeInterval,
  median,
  medianChange,
  pairedChange,
  quantileSorted,
  seededRandom,
  spread,
} from "../reports/stats.js";

test("median and quantiles interpolate between ranks", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(quantileSorted([10, 20, 30, 40, 50], 0.9), 46);
  assert.throws(() => median([]), RangeError);
  assert.throws(() => quantileSorted([1], 1.5), RangeError);
});

test("the seeded generator is uniform and repeatable", () => {
  const a = seededRandom(7);
  const b = seededRandom(7);
  const draws = Array.from({ length: 20_000 }, () => a());
  assert.deepEqual(draws.slice(0, 5), Array.from({ length: 5 }, () => b()));
  assert.ok(draws.every((x) => x >= 0 && x < 1));
  const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
});

test("the bootstrap interval of the median covers it, narrows with more data and is repeatable", () => {
  const random = seededRandom(1);
  const noisy = (n: number): number[] => Array.from({ length: n }, () => 100 + (random() - 0.5) * 20);
  const small = noisy(5);
  const large = noisy(200);
  const ciSmall = bootstrapInterval(small);
  const ciLarge = bootstrapInterval(large);
  assert.ok(ciSmall.low <= median(small) && median(small) <= ciSmall.high);
  assert.ok(ciLarge.high - ciLarge.low < (ciSmall.high - ciSmall.low) / 2, "more repeats, tighter interval");
  assert.ok(ciLarge.low < 100 && ciLarge.high > 100, "the true median 100 is inside");
  assert.deepEqual(bootstrapInterval(small), ciSmall);
  assert.deepEqual(bootstrapInterval([42]), { low: 42, high: 42 });
});

test("the change interval finds a real 20 % shift and straddles zero without one", () => {
  const random = seededRandom(2);
  const base = Array.from({ length: 10 }, () => 1000 + (random() - 0.5) * 50);
  const same = Array.from({ length: 10 }, () => 1000 + (random() - 0.5) * 50);
  const slower = Array.from({ length: 10 }, () => 1200 + (random() - 0.5) * 50);
  const up = bootstrapChangeInterval(base, slower);
  assert.ok(up.low > 0.15 && up.high < 0.25, JSON.stringify(up));
  const flat = bootstrapChangeInterval(base, same);
  assert.ok(flat.low < 0 && flat.high > 0, JSON.stringify(flat));
});

test("spread leaves out unmeasured repeats and says null when there are none", () => {
  const s = spread([5, null, 1, 3]);
  assert.ok(s);
  assert.equal(s.n, 3);
  assert.equal(s.median, 3);
  assert.equal(s.min, 1);
  assert.equal(s.max, 5);
  assert.ok(s.ciLow >= 1 && s.ciHigh <= 5);
  assert.equal(spread([null, null]), null);
});

test("the paired change interval cancels drift that the unpaired one cannot", () => {
  const random = seededRandom(3);
  // The machine drifts from 1000 to 1600 over ten rounds; the candidate is 10 % slower in every round.
  const base = Array.from({ length: 10 }, (_, i) => (1000 + 60 * i) * (1 + (random() - 0.5) * 0.02));
  const candidate = base.map((b) => b * 1.1 * (1 + (random() - 0.5) * 0.02));
  const paired = bootstrapPairedChangeInterval(base, candidate);
  assert.ok(paired.low > 0.08 && paired.high < 0.12, JSON.stringify(paired));
  assert.ok(Math.abs(pairedChange(base, candidate) - 0.1) < 0.02);
  const unpaired = bootstrapChangeInterval(base, candidate);
  assert.ok(unpaired.low < 0, `drift swamps the unpaired interval: ${JSON.stringify(unpaired)}`);
  assert.ok(Math.abs(medianChange([1, 2, 3], [2, 4, 6]) - 1) < 1e-12);
  assert.throws(() => bootstrapPairedChangeInterval([1, 2], [1]), RangeError);
});
