import { test } from "node:test";
import assert from "node:assert/strict";
import { FastRecorder, IntervalRecorder, snapshotHistogram } from "../clients/recorder.js";
import { HIGHEST_US, createHistogram, decodeHistogram, encodeHistogram, mergeEncoded, mergeIntervals, recordUs } from "../contracts/histogram.js";
import type { Histogram } from "hdr-histogram-js";

/** A reproducible spread of µs values: mostly small, a long tail past the flat-array range. */
function values(seed: number, n: number): number[] {
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const u = x / 2 ** 32;
    out.push(i % 97 === 0 ? 70_000 + u * 5_000_000 : 20 + u * u * 3000 + (i % 3) * 0.4);
  }
  return out;
}

test("merging encoded worker histograms equals one histogram fed every value", () => {
  const whole = createHistogram();
  const encoded: string[] = [];
  for (let w = 0; w < 4; w++) {
    const worker = new FastRecorder();
    for (const v of values(w + 1, 20_000)) {
      worker.record(v);
      recordUs(whole, v);
    }
    assert.equal(worker.count, 20_000);
    encoded.push(worker.encode());
  }
  const merged = mergeEncoded(encoded);
  assert.equal(merged.totalCount, 80_000);
  assert.equal(merged.totalCount, whole.totalCount);
  for (const p of [0, 1, 10, 50, 90, 99, 99.9, 99.99, 100]) {
    assert.equal(merged.getValueAtPercentile(p), whole.getValueAtPercentile(p), `p${p}`);
  }
  // Encoding keeps buckets, not raw extremes: max and min agree to the histogram's precision.
  assert.ok(Math.abs(merged.maxValue - whole.maxValue) <= whole.maxValue * 0.001);
  assert.ok(Math.abs(merged.minNonZeroValue - whole.minNonZeroValue) <= whole.minNonZeroValue * 0.001 + 1);
  assert.equal(merged.mean, whole.mean);
});

test("percentiles of known values, within 3 significant digits", () => {
  const r = new FastRecorder();
  for (let v = 1; v <= 10_000; v++) r.record(v);
  const h = decodeHistogram(r.encode());
  assert.equal(h.totalCount, 10_000);
  const near = (actual: number, expected: number): void =>
    assert.ok(Math.abs(actual - expected) <= expected * 0.001 + 1, `${actual} vs ${expected}`);
  near(h.getValueAtPercentile(50), 5000);
  near(h.getValueAtPercentile(90), 9000);
  near(h.getValueAtPercentile(99), 9900);
  near(h.getValueAtPercentile(99.9), 9990);
  near(h.maxValue, 10_000);
});

test("out-of-range values are clamped, never lost", () => {
  const r = new FastRecorder();
  r.record(0);
  r.record(-5);
  r.record(Number.NaN);
  r.record(HIGHEST_US * 10);
  const h = r.histogram();
  assert.equal(h.totalCount, 4);
  assert.equal(h.minNonZeroValue, 1);
  assert.ok(h.maxValue >= HIGHEST_US && h.maxValue <= HIGHEST_US * 1.001);
});

test("reset forgets the warm-up", () => {
  const r = new FastRecorder();
  r.record(5);
  r.record(1_000_000);
  r.reset();
  assert.equal(r.count, 0);
  r.record(7);
  const h = decodeHistogram(encodeHistogram(r.histogram()));
  assert.equal(h.totalCount, 1);
  assert.equal(h.maxValue, 7);
});

/** Two histograms hold the same values (every percentile, the count and the mean agree). */
function sameValues(a: Histogram, b: Histogram, what: string): void {
  assert.equal(a.totalCount, b.totalCount, `${what}: count`);
  for (const p of [0, 1, 10, 50, 90, 99, 99.9, 99.99, 100]) assert.equal(a.getValueAtPercentile(p), b.getValueAtPercentile(p), `${what}: p${p}`);
  assert.equal(a.mean, b.mean, `${what}: mean`);
}

test("drain takes out exactly what was recorded, tail past the flat array included, and resets", () => {
  const r = new FastRecorder();
  const whole = createHistogram();
  for (const v of values(9, 30_000)) {
    r.record(v);
    recordUs(whole, v);
  }
  sameValues(snapshotHistogram(r.drain()), whole, "drained");
  assert.equal(r.count, 0);
  assert.equal(snapshotHistogram(r.drain()).totalCount, 0);
  r.record(12);
  assert.equal(snapshotHistogram(r.drain()).maxValue, 12);
});

test("an interval recorder files each value by its completion time, empty intervals included", () => {
  // Origin at t = 100 ms, 1 s intervals: [100, 1100), [1100, 2100), ...
  const r = new IntervalRecorder(100, 1000);
  r.record(50, 7); // before the origin: the first interval
  r.record(100, 10);
  r.record(1099.9, 20);
  r.record(1100, 30_000);
  r.record(3100, 100_000); // interval 3; interval 2 had nothing
  const h = r.finish(3500).map(decodeHistogram);
  assert.deepEqual(
    h.map((x) => x.totalCount),
    [3, 1, 0, 1],
  );
  assert.equal(h[0]!.maxValue, 20);
  assert.ok(Math.abs(h[1]!.maxValue - 30_000) <= 30);
  assert.ok(Math.abs(h[3]!.maxValue - 100_000) <= 100);
  // The end closes every interval up to the one it falls in.
  const idle = new IntervalRecorder(0, 1000);
  idle.record(10, 5);
  assert.equal(idle.finish(2500).length, 3);
});

test("latency timelines of several clients with one origin merge exactly, interval by interval", () => {
  const origin = 1_700_000_000_000;
  const perInterval: Histogram[] = [createHistogram(), createHistogram(), createHistogram()];
  const parts = [1, 2, 3].map((seed) => {
    const r = new IntervalRecorder(0, 1000);
    const vs = values(seed, 9000);
    vs.forEach((v, i) => {
      // A client that ran shorter (seed 3) stops in interval 1.
      const t = seed === 3 ? (i * 1999) / vs.length : (i * 2999) / vs.length;
      r.record(t, v);
      recordUs(perInterval[Math.floor(t / 1000)]!, v);
    });
    return { originEpochMs: origin, intervalMs: 1000, histograms: r.finish(seed === 3 ? 1999 : 2999) };
  });
  const merged = mergeIntervals(parts);
  assert.equal(merged.histograms.length, 3);
  merged.histograms.forEach((e, k) => sameValues(decodeHistogram(e), perInterval[k]!, `interval ${k}`));
  assert.throws(() => mergeIntervals([parts[0]!, { ...parts[1]!, originEpochMs: origin + 1 }]), /one origin/);
  assert.throws(() => mergeIntervals([parts[0]!, { ...parts[1]!, intervalMs: 500 }]), /one origin/);
});
