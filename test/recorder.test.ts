import { test } from "node:test";
import assert from "node:assert/strict";
import { FastRecorder } from "../clients/recorder.js";
import { HIGHEST_US, createHistogram, decodeHistogram, encodeHistogram, mergeEncoded, recordUs } from "../contracts/histogram.js";

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
