/**
 * Scenario files: the built-ins validate, bad files are one line naming
 * file and field, flags override fields and the effective scenario lands
 * in results.json, and a model that cannot serve every session says so.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ResultsFile } from "../reports/schema.js";
import { validateScenario } from "../scenarios/format.js";
import { builtinNames, listLines, loadBuiltins, loadScenarioFile } from "../scenarios/load.js";
import { cli } from "./fixtures/cli.js";
import { startFixtureServer } from "./fixtures/echo-server.js";

const BUILTINS = ["bulk-64k", "c10k", "chat-fanout", "connect-storm", "cpu-work", "db-work", "pingpong-64b"];



function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "iobench-scenario-test-"));
}

const VALID = { name: "t", sessions: 4, messageSize: 64 };

test("every built-in scenario validates, is named after its file and listed on one line", async () => {
  assert.deepEqual(builtinNames(), BUILTINS);
  const all = await loadBuiltins();
  assert.deepEqual(
    all.map((s) => s.scenario.name),
    BUILTINS,
  );
  for (const s of all) {
    assert.equal(s.file, `scenarios/builtin/${s.scenario.name}.ts`);
    assert.ok((s.scenario.description ?? "").length > 10, `${s.scenario.name} has a description`);
  }
  const c10k = all.find((s) => s.scenario.name === "c10k")!.scenario;
  assert.equal(c10k.sessions, 10_000);
  assert.equal(c10k.loop, "open");
  assert.equal(all.find((s) => s.scenario.name === "db-work")!.scenario.server?.work, "block:2ms");
  assert.equal(all.find((s) => s.scenario.name === "cpu-work")!.scenario.server?.work, "cpu:50us");
  assert.equal(all.find((s) => s.scenario.name === "connect-storm")!.scenario.messagesPerSession, 1);
  const lines = listLines(all);
  assert.equal(lines.length, BUILTINS.length);
  lines.forEach((l, i) => assert.ok(l.startsWith(BUILTINS[i]!)));
});

const BAD: [unknown, RegExp][] = [
  [{ ...VALID, loop: "opne" }, /field "loop" must be one of "closed", "open"; got "opne"/],
  [{ ...VALID, sesions: 4 }, /field "sesions" is not a scenario field \(allowed: name, description, sessions,/],
  [{ ...VALID, sessions: 0 }, /field "sessions" must be from 1 to 1000000, got 0/],
  [{ ...VALID, sessions: "many" }, /field "sessions" must be a whole number/],
  [{ ...VALID, messageSize: "12q" }, /field "messageSize" must be a size in bytes/],
  [{ ...VALID, messageSize: { uniform: { minBytes: 100, maxBytes: 10 } } }, /field "messageSize.uniform" minBytes must not be above maxBytes/],
  [{ ...VALID, messageSize: { gaussian: 3 } }, /field "messageSize" must be a size .*uniform.*choice/],
  [{ ...VALID, loop: "open" }, /field "loop" is "open": give exactly one of ratePerSessionPerSec and rateTotalPerSec/],
  [{ ...VALID, ratePerSessionPerSec: 5 }, /field "ratePerSessionPerSec" applies to loop "open" only/],
  [{ ...VALID, loop: "open", rateTotalPerSec: 10, thinkTimeMs: 5 }, /field "thinkTimeMs" applies to loop "closed" only/],
  [{ ...VALID, messagesPerSession: "always" }, /field "messagesPerSession" must be a whole number from 1 or "forever"/],
  [{ ...VALID, server: { work: "sleep:2" } }, /field "server.work" must be "cpu:<time>" or "block:<time>" .*sleep:2/],
  [{ ...VALID, server: { models: ["epol"] } }, /field "server.models\[0\]" must be one of .*"epoll"/],
  [{ ...VALID, server: { protocol: "ftp" } }, /field "server.protocol" must be one of "echo"/],
  [{ ...VALID, senders: 2 }, /field "senders" applies to server.protocol "chat" only/],
  [{ ...VALID, server: { thread: [1] } }, /field "server.thread" is not a scenario field \(allowed: models, threads,/],
  [[1, 2], /field "" must be an object/],
];

test("a bad scenario is one line naming the file, the field and what it may be", () => {
  for (const [raw, pattern] of BAD) {
    assert.throws(
      () => validateScenario(raw, "my/file.json", ["epoll", "blocking"]),
      (err: Error) => {
        assert.equal(err.name, "UsageError");
        assert.ok(!err.message.includes("\n"), `one line: ${err.message}`);
        assert.match(err.message, /^scenario my\/file\.json: /);
        assert.match(err.message, pattern);
        return true;
      },
      JSON.stringify(raw),
    );
  }
  assert.doesNotThrow(() => validateScenario(VALID, "f", []));
  assert.doesNotThrow(() => validateScenario({ ...VALID, loop: "open", rateTotalPerSec: 100, messageSize: { choice: [{ bytes: "1k", weight: 1 }] } }, "f", []));
});

test("the CLI: --list-scenarios, a bad scenario file (exit 2, one line), an unknown name", async () => {
  const list = await cli(["--list-scenarios"]);
  assert.equal(list.code, 0, list.stderr);
  assert.equal(list.stdout.trim().split("\n").length, BUILTINS.length);

  const dir = tmpDir();
  try {
    const file = path.join(dir, "bad.json");
    fs.writeFileSync(file, JSON.stringify({ ...VALID, loop: "opne" }));
    const bad = await cli(["--scenario", file, "--model", "epoll"]);
    assert.equal(bad.code, 2);
    const lines = bad.stderr.trim().split("\n");
    assert.equal(lines.length, 1, bad.stderr);
    assert.equal(lines[0], `iobench: scenario ${file}: field "loop" must be one of "closed", "open"; got "opne"`);

    fs.writeFileSync(file, "{ not json");
    const broken = await cli(["--scenario", file]);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /^iobench: scenario .*bad\.json: not valid JSON/);
    assert.equal(broken.stderr.trim().split("\n").length, 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const unknown = await cli(["--scenario", "c10", "--model", "epoll"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^iobench: unknown scenario 'c10' \(built-in: bulk-64k, c10k, chat-fanout, connect-storm/);
});

test("flags override scenario fields and results.json records the effective scenario", { timeout: 40_000 }, async () => {
  const server = await startFixtureServer({ mode: "correct" });
  const dir = tmpDir();
  try {
    const file = path.join(dir, "mine.json");
    const scenario = { name: "mine", sessions: 50, messageSize: "1k", messagesPerSession: 3, loop: "open", rateTotalPerSec: 200, warmupSec: 0.3, durationSec: 0.7 };
    fs.writeFileSync(file, JSON.stringify(scenario));
    assert.equal((await loadScenarioFile(file)).scenario.name, "mine");
    const o = await cli(["--scenario", file, "--target", `127.0.0.1:${server.port}`, "--connections", "4", "--size", "128", "--out", dir, "--json"]);
    assert.equal(o.code, 0, o.stderr);
    const results = JSON.parse(o.stdout) as ResultsFile;
    const eff = results.options.scenario!.effective;
    assert.equal(results.options.scenario!.file, file);
    assert.equal(eff.sessions, 4, "--connections overrides sessions");
    assert.equal(eff.messageSize, 128, "--size overrides messageSize");
    assert.equal(eff.messagesPerSession, 3);
    assert.equal(eff.loop, "open");
    assert.equal(eff.rateTotalPerSec, 200);
    assert.equal(eff.durationSec, 0.7);
    const run = results.runs[0]!;
    assert.equal(run.status, "ok", run.status === "failed" ? run.error : "");
    assert.deepEqual(
      { scenario: run.config.load?.scenario, loop: run.config.load?.loop, perSession: run.config.load?.targetRatePerSessionPerSec, total: run.config.load?.targetRateTotalPerSec },
      { scenario: "mine", loop: "open", perSession: 50, total: 200 },
    );
    const f = run.figures!;
    assert.ok(f.openLoop !== null && f.openLoop.targetMessagesPerSec === 200);
    assert.ok(f.latencyUncorrectedUs !== null);
    assert.ok(f.connects > 0, "sessions reconnect every 3 messages");
    assert.equal(f.sessionsServed, 4);
    // The effective scenario is itself a valid scenario file.
    assert.doesNotThrow(() => validateScenario(eff, "effective", ["epoll"]));

    // --closed-loop turns the scenario's open loop off.
    const closed = await cli(["--scenario", file, "--target", `127.0.0.1:${server.port}`, "--connections", "2", "--closed-loop", "--out", dir, "--json"]);
    assert.equal(closed.code, 0, closed.stderr);
    const cr = JSON.parse(closed.stdout) as ResultsFile;
    assert.equal(cr.runs[0]!.config.load?.loop, "closed");
    assert.equal(cr.runs[0]!.figures!.latencyUncorrectedUs, null);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("blocking with fewer threads than sessions: the result says how many sessions were served", { timeout: 40_000 }, async () => {
  const dir = tmpDir();
  try {
    const o = await cli(
      ["--model", "blocking", "--threads", "2", "--connections", "6", "--warmup", "0.6", "--duration", "1", "--timeout", "400", "--out", dir, "--json"],
    );
    const results = JSON.parse(o.stdout) as ResultsFile;
    const run = results.runs[0]!;
    assert.equal(run.status, "ok", run.status === "failed" ? run.error : "");
    const f = run.figures!;
    // Each thread holds one session for as long as it stays connected; the others wait, time out and retry.
    assert.equal(f.sessionsServed, 2, `served ${f.sessionsServed}`);
    assert.equal(f.sessionsNotServed, 4);
    assert.ok(f.sessionsTimedOut >= 1, `timed out ${f.sessionsTimedOut}`);
    assert.ok(f.flags.includes("SESSIONS-UNSERVED"), `flags ${f.flags.join(",")}`);
    assert.ok(f.messages > 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
