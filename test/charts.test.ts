import { test } from "node:test";
import assert from "node:assert/strict";
import { logTick, percentileTick, toChartConfig } from "../reports/chart-kit.js";
import { chartSpecs, chosenThreads } from "../reports/charts.js";
import { latencyTimelineChart } from "../reports/curve-charts.js";
import { summariseRuns } from "../reports/summary.js";
import { curvesFixture, reportFixture } from "./fixtures/report-fixture.js";

test("axis ticks: percentiles at powers of ten, log values at 1-2-5 steps", () => {
  assert.equal(percentileTick(1), "0%");
  assert.equal(percentileTick(10), "90%");
  assert.equal(percentileTick(1000), "99.9%");
  assert.equal(percentileTick(100_000), "99.999%");
  assert.equal(percentileTick(2), "");
  assert.equal(logTick(200), "200");
  assert.equal(logTick(50_000), "50,000");
  assert.equal(logTick(300), "");
});

test("the charts of a sweep: one per figure, error bars from the summaries, the distribution at the CPU count", () => {
  const results = reportFixture();
  const summaries = summariseRuns(results);
  const specs = chartSpecs(results, summaries);
  const ids = specs.map((s) => s.id);
  const models = results.options.models;
  for (const id of ["throughput", "cpu-per-message", "context-switches", "latency-distribution", ...models.map((m) => `latency-${m}`), ...models.map((m) => `timeline-${m}`)]) {
    assert.ok(ids.includes(id), id);
  }
  assert.equal(chosenThreads(results), results.environment.usableCores);
  const throughput = specs.find((s) => s.id === "throughput")!;
  const iocp = throughput.series.find((s) => s.label === "iocp")!;
  const two = summaries.find((s) => s.model === "iocp" && s.threads === 2)!.messagesPerSec!;
  assert.deepEqual(iocp.points.find((p) => p.x === "2"), { x: "2", y: two.median, low: two.ciLow, high: two.ciHigh });
  // blocking with fewer threads than sessions leaves sessions unserved: its line says so.
  assert.ok(throughput.series.some((s) => s.label === "blocking (sessions unserved!)"), throughput.series.map((s) => s.label).join(", "));
  // Every error bar fits inside the y axis.
  const config = toChartConfig(throughput);
  const max = (config.options!.scales!.y as { suggestedMax: number }).suggestedMax;
  assert.ok(throughput.series.every((s) => s.points.every((p) => (p.high ?? 0) <= max)));
  // The percentile curve rises and reaches each model's maximum.
  const dist = specs.find((s) => s.id === "latency-distribution")!;
  for (const s of dist.series) {
    const ys = s.points.map((p) => p.y!);
    assert.ok(ys.every((y, i) => i === 0 || y >= ys[i - 1]!), `${s.label} curve is monotonic`);
  }
});

test("chat-fanout runs get their own fan-out latency charts and stay out of the echo charts", () => {
  const results = reportFixture();
  for (const r of results.runs) if (r.config.model === "iocp") r.config.chat = { senders: 4, rateHz: 100 };
  const summaries = summariseRuns(results);
  const specs = chartSpecs(results, summaries);
  const p50 = specs.find((s) => s.id === "chat-fanout-p50");
  assert.ok(p50 !== undefined && specs.some((s) => s.id === "chat-fanout-p99"), specs.map((s) => s.id).join(", "));
  assert.deepEqual(p50.series.map((s) => s.label), ["iocp"]);
  const two = summaries.find((s) => s.model === "iocp" && s.threads === 2)!.latencyP50Us!;
  assert.deepEqual(p50.series[0]!.points.find((p) => p.x === "2"), { x: "2", y: two.median, low: two.ciLow, high: two.ciHigh });
  assert.ok(!specs.find((s) => s.id === "throughput")!.series.some((s) => s.label.startsWith("iocp")), "a chat run in the echo throughput chart");
  // Without chat runs there are no chat charts.
  assert.ok(!chartSpecs(reportFixture(), summariseRuns(reportFixture())).some((s) => s.id.startsWith("chat-")));
});

test("latency through the sweep: each run's seconds placed when they ran, a line per thread count broken between runs", () => {
  const results = curvesFixture();
  const spec = latencyTimelineChart("epoll", results);
  assert.ok(spec !== null);
  assert.equal(spec.yScale, "log");
  const runs = results.runs.filter((r) => r.config.model === "epoll");
  assert.deepEqual(spec.series.map((s) => s.label).sort(), [...new Set(runs.map((r) => (r.config.threads === 1 ? "1 thread" : `${r.config.threads} threads`)))].sort());
  for (const s of spec.series) {
    assert.equal(s.gaps, true);
    const mine = runs.filter((r) => s.label.startsWith(String(r.config.threads)));
    // One point per second of every run, and one break after each run.
    assert.equal(s.points.length, mine.reduce((n, r) => n + r.figures!.latencyTimeline!.intervals.length + 1, 0));
    assert.equal(s.points.filter((p) => p.y === null).length, mine.length);
    const xs = s.points.map((p) => Number(p.x));
    assert.ok(xs.every((x, i) => i === 0 || x > xs[i - 1]!), "time runs forward");
  }
  // A stall in the third second of a run shows at that run's third second.
  const run = runs[0]!;
  const t = run.figures!.latencyTimeline!;
  t.intervals = [0, 1, 2, 3].map((k) => ({ ...t.intervals[0]!, p99Us: k === 2 ? 400_000 : 900 }));
  const stalled = latencyTimelineChart("epoll", results)!;
  const peak = stalled.series.flatMap((s) => s.points).reduce((a, b) => ((b.y ?? 0) > (a.y ?? 0) ? b : a));
  assert.equal(peak.y, 400_000);
  assert.ok(Math.abs(Number(peak.x) - ((t.originEpochMs - Date.parse(results.createdAt)) / 1000 + 2.5)) <= 0.0005);
  // No latency timeline (outside tools, older files): no chart.
  for (const r of results.runs) delete r.figures!.latencyTimeline;
  assert.equal(latencyTimelineChart("epoll", results), null);
});
