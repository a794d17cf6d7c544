import { test } from "node:test";
import assert from "node:assert/strict";
import type { Run } from "../reports/schema.js";
import { median } from "../reports/stats.js";
import { configKey, summariseRuns, workLabel } from "../reports/summary.js";
import { reportFixture as fixture } from "./fixtures/report-fixture.js";

test("repeats of one configuration form one summary whose median is the repeats' median", () => {
  const r = fixture();
  const summaries = summariseRuns(r);
  const configs = new Set(r.runs.map((run) => `${run.config.model}/${run.config.threads}`));
  assert.equal(summaries.length, configs.size);
  for (const s of summaries) {
    const runs = r.runs.filter((run) => run.config.model === s.model && run.config.threads === s.threads);
    assert.deepEqual(s.runIndexes, runs.map((run) => run.config.index));
    assert.equal(s.messagesPerSec!.n, r.options.repeats);
    assert.equal(s.messagesPerSec!.median, median(runs.map((run) => run.figures!.messagesPerSec)));
    assert.ok(s.messagesPerSec!.ciLow <= s.messagesPerSec!.median && s.messagesPerSec!.median <= s.messagesPerSec!.ciHigh);
    assert.ok(s.messagesPerSec!.min <= s.messagesPerSec!.ciLow && s.messagesPerSec!.ciHigh <= s.messagesPerSec!.max);
  }
});

test("failed and corrupted runs are counted but left out of the figures", () => {
  const r = fixture();
  const [a, b] = r.runs.filter((run) => run.config.model === r.runs[0]!.config.model && run.config.threads === r.runs[0]!.config.threads);
  const failed: Run = { status: "failed", config: a!.config, error: "server died", failure: "server-died", figures: a!.figures, startedAt: a!.startedAt };
  const corrupted: Run = structuredClone(b!);
  corrupted.figures!.flags.push("MISMATCH");
  corrupted.figures!.messagesPerSec = 1e12;
  r.runs = r.runs.map((run) => (run === a ? failed : run === b ? corrupted : run));
  const s = summariseRuns(r).find((x) => x.runIndexes.includes(a!.config.index))!;
  assert.equal(s.validRuns, 0);
  assert.equal(s.failedRuns, 1);
  assert.equal(s.mismatchRuns, 1);
  assert.equal(s.messagesPerSec, null);
  assert.ok(s.flags.includes("FAILED") && s.flags.includes("MISMATCH"), s.flags.join(" "));
});

test("the configuration key ignores run-specific fields (a command line as run too) and includes fields added later (work)", () => {
  const run = fixture().runs[0]!;
  const again = { ...run.config, index: 99, repeat: 7, port: 1, serverPid: 2 };
  assert.equal(configKey(again), configKey(run.config));
  // A command model's line as run holds the port it was given: its repeats are one configuration still.
  const command = (port: number): typeof run.config => ({ ...run.config, model: "cmd:c-echo", port, command: `c-echo --port ${port}` });
  assert.equal(configKey(command(40001)), configKey(command(40002)));
  const worked = { ...run.config, work: { kind: "block" as const, durationUs: 2000, messageBytes: 64 } };
  assert.notEqual(configKey(worked), configKey(run.config));
  assert.equal(workLabel(worked), "block:2ms");
  assert.equal(workLabel({ ...worked, work: { kind: "cpu", durationUs: 200, messageBytes: 64 } }), "cpu:200us");
  assert.equal(workLabel({ ...run.config, work: null }), null);
  assert.equal(workLabel(run.config), null);
});
