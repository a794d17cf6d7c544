/**
 * Load–latency curves from results (reports/curves.ts): the knee as
 * defined, runs grouped into curves by configuration and rate, the searches
 * over repeats, and claim 2 reading the highest rate at the objective.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { sloOption } from "../cli/rate-options.js";
import { claim2 } from "../reports/claims.js";
import { allCurvesChart, curveChart, maxRateChart } from "../reports/curve-charts.js";
import { KNEE_FACTOR, curves, kneeIndex, maxRates, withoutCurvePoints } from "../reports/curves.js";
import type { OkRun, ResultsFile, Run, SearchResult } from "../reports/schema.js";
import { summariseRuns } from "../reports/summary.js";
import { curvesFixture, searchSweepFixture } from "./fixtures/report-fixture.js";
import { curveTable, maxRateTable } from "../reports/curve-tables.js";
import { renderMarkdown } from "../reports/markdown.js";
import { ResultsFileSchema } from "../reports/schema.js";
import { firstProblem } from "../reports/validate.js";
import { reportView } from "../reports/view.js";

test("the knee: the last rate before p99 exceeds KNEE_FACTOR × the lowest p99 below it", () => {
  assert.equal(KNEE_FACTOR, 2);
  assert.equal(kneeIndex([100, 110, 105, 190, 450, 9000]), 3);
  assert.equal(kneeIndex([100, 300]), 0);
  assert.equal(kneeIndex([300, 150, 290, 310]), 2, "the floor is the lowest p99 so far, not the first");
  assert.equal(kneeIndex([100, 120, 150, 199]), null, "never left its floor: no knee in range");
  assert.equal(kneeIndex([]), null);
});

/** A run of the fixture as one point: model, threads, its part and rate, its p99 and achieved rate. */
function point(base: OkRun, index: number, threads: number, role: "closed-loop-max" | "rate" | "probe", rate: number, p99: number, achieved = rate, repeat = 1): Run {
  const r = structuredClone(base);
  const c = r.config;
  Object.assign(c, { index, threads, repeat, loadPoint: { role } });
  c.load = { ...c.load!, loop: role === "closed-loop-max" ? "closed" : "open", targetRateTotalPerSec: role === "closed-loop-max" ? null : rate, targetRatePerSessionPerSec: null };
  r.figures.messagesPerSec = achieved;
  r.figures.latencyUs = { ...r.figures.latencyUs!, p50: p99 / 4, p99, p99_9: p99 * 2 };
  r.figures.flags = achieved < 0.9 * rate ? ["BELOW-TARGET-RATE"] : [];
  return r;
}

function results(runs: Run[], searches?: SearchResult[]): ResultsFile {
  const r = curvesFixture();
  return { ...r, runs, ...(searches !== undefined ? { searches } : {}) };
}

test("curves: one per configuration, a point per rate with medians over repeats, knee and saturation marked", () => {
  const base = curvesFixture().runs.find((x): x is OkRun => x.status === "ok" && x.config.model === "epoll")!;
  const runs = [
    point(base, 0, 1, "closed-loop-max", 0, 5000, 9000),
    point(base, 1, 2, "closed-loop-max", 0, 5000, 15_000),
    point(base, 2, 1, "rate", 2000, 300),
    point(base, 3, 2, "rate", 2000, 250),
    point(base, 4, 1, "rate", 8000, 900),
    point(base, 5, 2, "rate", 8000, 260),
    point(base, 6, 1, "rate", 2000, 500, 2000, 2),
    point(base, 7, 1, "rate", 12_000, 80_000, 9100),
  ];
  const all = curves(results(runs));
  assert.equal(all.length, 2);
  const [one, two] = all;
  assert.deepEqual([one!.threads, two!.threads], [1, 2]);
  assert.equal(one!.closedLoopPerSec, 9000);
  assert.deepEqual(one!.points.map((p) => [p.offeredPerSec, p.p99Us, p.runs]), [
    [2000, 400, [2, 6]],
    [8000, 900, [4]],
    [12_000, 80_000, [7]],
  ]);
  assert.equal(one!.knee, 0, "900 µs > 2 × 400 µs");
  assert.equal(one!.saturation, 2, "9,100 of 12,000 offered");
  assert.equal(two!.knee, null);
  assert.equal(one!.objective, undefined, "no objective, no verdicts");
  // With an objective, each rate is judged: every run of it must meet it.
  const judged = curves({ ...results(runs), options: { ...results(runs).options, slo: sloOption("p99=1ms") } });
  assert.deepEqual(
    judged[0]!.points.map((p) => p.met),
    [true, true, false],
  );
  assert.deepEqual(judged[0]!.objective, { metUpToPerSec: 8000, firstMissedPerSec: 12_000 });
  assert.deepEqual(judged[1]!.objective, { metUpToPerSec: 8000, firstMissedPerSec: null });
  // The per-thread-count figures keep the closed-loop runs only.
  const kept = withoutCurvePoints(summariseRuns(results(runs)), runs);
  assert.deepEqual(kept.flatMap((s) => s.runIndexes).sort(), [0, 1]);
});

function searchResult(threads: number, repeat: number, found: number | null, high: number | null, status: SearchResult["status"] = "found"): SearchResult {
  return {
    model: "iocp",
    threads,
    connections: 256,
    sizeBytes: 64,
    work: null,
    repeat,
    closedLoopRun: 0,
    closedLoopMessagesPerSec: 10_000,
    status,
    foundPerSec: found,
    lowPerSec: found,
    highPerSec: high,
    note: "",
    probes: [],
  };
}

test("max rates: the searches of a configuration over repeats, their median and the interval over all of them", () => {
  const r = maxRates({ searches: [searchResult(1, 1, 9000, 9400), searchResult(2, 1, 9500, 9900), searchResult(1, 2, 8800, 9200), searchResult(1, 3, 9100, null, "client-limited")] });
  assert.equal(r.length, 2);
  const one = r[0]!;
  assert.equal(one.searches.length, 3);
  assert.equal(one.foundPerSec, 9000);
  assert.deepEqual([one.lowPerSec, one.highPerSec], [8800, 9400]);
  assert.equal(one.floor, "client-limited: a floor");
  assert.equal(maxRates({}).length, 0);
});

test("a search stopped by other processes' load is a floor too, in its own words: the table, the headline chart, the claim", () => {
  const rates = maxRates({ searches: [searchResult(1, 1, 9000, 9400), searchResult(2, 1, 9500, null, "disturbed"), searchResult(2, 2, 9800, null, "client-limited")] });
  assert.equal(rates[0]!.floor, null);
  assert.equal(rates[1]!.floor, "disturbed: other processes took the CPUs; a floor; client-limited: a floor");
  const cells = maxRateTable(maxRates({ searches: [searchResult(2, 1, 9500, null, "disturbed")] })).rows[0]!;
  assert.equal(cells[5], "9,500 (disturbed: other processes took the CPUs; a floor)");
  assert.equal(cells.at(-1), "disturbed");
  const head = maxRateChart(rates.slice(0, 1).concat(maxRates({ searches: [searchResult(2, 1, 9500, null, "disturbed")] })), new Map([["iocp", 1]]), sloOption("p99=1ms"))!;
  assert.equal(head.series[0]!.label, "iocp (disturbed: other processes took the CPUs; a floor)");
  // Claim 2 counts only searches that bracketed their limit: a disturbed one is left out by name.
  const search = { ...searchResult(2, 1, 9500, null, "disturbed"), probes: [] };
  const c2 = claim2([], 2, true, 3, { searches: [search, { ...search, threads: 4 }], objective: "p99=1ms", runs: [] });
  assert.match(c2.measured[0]!, /left out: 2 threads round 1 disturbed, 4 threads round 1 disturbed/);
});

test("claim 2 reads the highest rate at the objective, round by round: equivalence within the margin, help beyond it, nothing from flagged or too few rounds", () => {
  const base = curvesFixture().runs.find((x): x is OkRun => x.status === "ok" && x.config.model === "epoll")!;
  const probeRun = point(base, 0, 2, "probe", 9000, 500) as OkRun;
  const round = (r: number, t: number, found: number): SearchResult => ({
    ...searchResult(t, r, found, found * 1.04),
    probes: [{ run: 0, offeredPerSec: found, achievedPerSec: found, outcome: "met", reasons: [] }],
  });
  const judge = (at4: readonly number[], flags: OkRun["figures"]["flags"] = [], rounds = 3): ReturnType<typeof claim2> => {
    const run = structuredClone(probeRun);
    run.figures.flags = flags;
    const searches = Array.from({ length: rounds }, (_, i) => [round(i + 1, 2, [9000, 9300, 8800][i]!), round(i + 1, 4, at4[i]!)]).flat();
    return claim2([], 2, true, rounds, { searches, objective: "p99=2ms", runs: [run] });
  };
  const helped = judge([12_000, 12_600, 11_700]);
  assert.equal(helped.verdict, "not supported");
  assert.match(helped.basis ?? "", /highest rate meeting p99=2ms/);
  assert.match(helped.reason, /raised the highest rate meeting p99=2ms by more than 10% \(at 4 threads\)/);
  // Equal limits: the interval, widened by the searches' 4 % brackets, stays under +10 %: "does not help" is supported.
  const flat = judge([9000, 9300, 8800]);
  assert.equal(flat.verdict, "supported", flat.measured.join("\n"));
  assert.match(flat.measured[0]!, /iocp 4 threads vs iocp 2 threads .*: highest rate meeting p99=2ms 9,000 vs 9,000 msg\/s \(median\), \+0\.0% \[−\d\.\d%, \+\d\.\d%\]/);
  // The same limits found on noisy rounds (±10 %) cannot tell: inconclusive, never support.
  assert.equal(judge([9900, 8400, 9700]).verdict, "inconclusive");
  // Flagged probes take their searches out: no decision from them.
  const flagged = judge([12_000, 12_600, 11_700], ["MACHINE-BUSY"]);
  assert.equal(flagged.verdict, "inconclusive");
  assert.match(flagged.measured[0]!, /left out: 2 threads round 1 MACHINE-BUSY/);
  assert.match(flagged.reason, /quieter machine/);
  assert.equal(judge([12_000, 12_600], [], 2).verdict, "inconclusive", "two rounds give no interval");
  // No searches of iocp beyond the CPUs: exactly the closed-loop verdict.
  assert.deepEqual(claim2([], 2, true, 3, { searches: [round(1, 2, 9000)], objective: "p99=2ms", runs: [] }), claim2([], 2, true, 3));
});

test("the curve charts: per model p50/p99/p99.9 with the knee ringed, every model's p99, the highest rate with its interval", () => {
  const base = curvesFixture().runs.find((x): x is OkRun => x.status === "ok" && x.config.model === "epoll")!;
  const runs = [
    point(base, 0, 1, "rate", 2000, 300),
    point(base, 1, 1, "rate", 8000, 900),
    point(base, 2, 2, "rate", 2000, 250),
    point(base, 3, 2, "rate", 8000, 260),
  ];
  const all = curves(results(runs));
  const slo = sloOption("p99=1ms");
  const per = curveChart("epoll", all, slo)!;
  assert.equal(per.series.length, 6, "3 percentiles × 2 thread counts");
  const p99 = per.series.find((s) => s.label === "1 thread p99")!;
  assert.deepEqual(p99.marks, [{ x: 2000, y: 300, label: "knee" }]);
  assert.deepEqual(p99.points, [
    { x: 2000, y: 300 },
    { x: 8000, y: 900 },
  ]);
  assert.equal(per.series.find((s) => s.label === "1 thread p50")!.dotted, true);
  assert.equal(per.series.find((s) => s.label === "2 threads p99")!.marks, undefined, "no knee at 2 threads");
  assert.deepEqual(per.hline, { y: 1000, label: "objective p99=1ms" });
  assert.equal(curveChart("iocp", all, slo), null);

  const every = allCurvesChart(all, new Map([["epoll", 3]]), undefined)!;
  assert.deepEqual(
    every.series.map((s) => [s.label, s.color, s.dash === true]),
    [
      ["epoll 1 thread", 3, false],
      ["epoll 2 threads", 3, true],
    ],
  );
  assert.equal(allCurvesChart(all.slice(0, 1), new Map(), undefined), null);

  const rates = maxRates({ searches: [searchResult(1, 1, 9000, 9400), searchResult(2, 1, 9500, null, "client-limited")] });
  const head = maxRateChart(rates, new Map([["iocp", 1]]), slo)!;
  assert.equal(head.id, "max-rate-at-slo");
  assert.deepEqual(head.categories, ["1", "2"]);
  assert.equal(head.series[0]!.label, "iocp (client-limited: a floor)");
  assert.deepEqual(head.series[0]!.points, [
    { x: "1", y: 9000, low: 9000, high: 9400 },
    { x: "2", y: 9500, low: 9500, high: 9500 },
  ]);
});

test("a search sweep's report: the open-loop charts lead, client-limited rates marked in charts and table, claim 2 undecided on one round", () => {
  const results = searchSweepFixture();
  assert.equal(firstProblem(ResultsFileSchema, results, "results"), null, "the fixture is a valid results.json");
  const view = reportView(results);
  const md = renderMarkdown(view);
  const open = md.indexOf("## Open loop");
  assert.ok(open > md.indexOf("## The chapter's claims") && open < md.indexOf("## Summary per configuration"), "open loop right after the claims");
  assert.ok(md.indexOf("charts/max-rate-at-slo.png") > open && md.indexOf("charts/max-rate-at-slo.png") < md.indexOf("charts/curves-p99.png"), "the highest rate at the objective leads");
  assert.ok(md.indexOf("charts/curve-iocp.png") < md.indexOf("## Summary per configuration"));
  assert.equal(md.match(/charts\/curve-iocp\.png/g)?.length, 1, "drawn once, not again under Charts");
  // iocp at 2 threads: the probe the client limited is ringed on both curve charts and named in the table.
  const iocp2 = (id: string, label: RegExp): { label: string }[] => view.charts.find((c) => c.id === id)!.series.find((s) => label.test(s.label))!.marks ?? [];
  assert.deepEqual(iocp2("curve-iocp", /^2 threads p99$/).map((m) => m.label).sort(), ["client-limited", "knee"]);
  assert.deepEqual(iocp2("curve-iocp", /^1 thread p99$/).map((m) => m.label), ["knee"]);
  assert.ok(iocp2("curves-p99", /^iocp 2 threads$/).some((m) => m.label === "client"));
  const table = curveTable(view.curves);
  const column = table.header.indexOf("client a limit at");
  assert.deepEqual(table.rows.map((r) => r[column]), ["none", "none", "none", "14.9 k"]);
  // One round of searches gives no interval: claim 2 says so rather than decide.
  const c2 = view.claims[1]!;
  assert.equal(c2.verdict, "inconclusive");
  assert.match(c2.basis ?? "", /highest rate meeting p99=5ms/);
});
