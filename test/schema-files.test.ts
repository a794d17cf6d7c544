/**
 * The published JSON Schema files (schemas/): up to date with
 * reports/schema.ts, and real files validate against them with a validator
 * that is not iobench's own (Ajv): the recorded fixture, fresh sweeps
 * (echo with a scenario's open loop and size distribution, chat, a failed
 * run), a baseline, every built-in scenario. Each file written points at
 * its schema with `$schema`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import { jsonSchemaFiles } from "../reports/json-schemas.js";
import { baselineFromResults, readBaseline, writeBaseline } from "../reports/baseline.js";
import { readResults, schemaFile } from "../reports/results-file.js";
import { loadBuiltins } from "../scenarios/load.js";
import { cli } from "./fixtures/cli.js";
import { tmpDirs } from "./fixtures/tmp.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURE = path.join(ROOT, "test/fixtures/report-results.json");

const tmpDir = tmpDirs("iobench-schemas-");

const ajv = new Ajv({ strict: false, allErrors: false });
function validator(kind: "results" | "baseline" | "scenario"): ValidateFunction {
  return ajv.compile(JSON.parse(fs.readFileSync(schemaFile(kind), "utf8")) as object);
}

function assertValid(validate: ValidateFunction, data: unknown, what: string): void {
  assert.ok(validate(data), `${what}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
}

test("the committed JSON Schema files are what reports/schema.ts makes (npm run schemas)", () => {
  for (const [name, content] of Object.entries(jsonSchemaFiles())) {
    const file = path.join(ROOT, "schemas", name);
    assert.ok(fs.existsSync(file), `schemas/${name} is committed`);
    assert.equal(fs.readFileSync(file, "utf8"), content, `schemas/${name} is out of date: run npm run schemas`);
  }
  const check = spawnSync(process.execPath, [path.join(ROOT, "dist/scripts/schemas.js"), "--check"], { encoding: "utf8" });
  assert.equal(check.status, 0, check.stderr);
});

test("the schema tells a malformed file from a good one (it is not a schema that accepts anything)", () => {
  const results = validator("results");
  const good = JSON.parse(fs.readFileSync(FIXTURE, "utf8")) as { runs: Record<string, unknown>[] };
  const broken = structuredClone(good);
  broken.runs[0]!.figures = null;
  assert.equal(results(broken), false);
  const scenario = validator("scenario");
  assert.equal(scenario({ name: "x", sessions: 1, messageSize: "12q" }), false);
  assert.equal(scenario({ name: "x", sessions: 1, messageSize: "1G", sesions: 2 }), false);
  assert.equal(scenario({ name: "x", sessions: 1, messageSize: "1G" }), true);
});

test("real results validate against schemas/results.schema.json: the fixture, and fresh echo, chat and failed runs", { timeout: 90_000 }, async () => {
  const results = validator("results");
  assertValid(results, JSON.parse(fs.readFileSync(FIXTURE, "utf8")), "test/fixtures/report-results.json");
  assert.equal(readResults(FIXTURE).runs.length, 30);

  const dir = tmpDir();
  const scenario = path.join(dir, "mixed.json");
  const reference = path.relative(dir, schemaFile("scenario"));
  fs.writeFileSync(
    scenario,
    JSON.stringify({ $schema: reference, name: "mixed", sessions: 3, messageSize: { uniform: { minBytes: 1, maxBytes: "4k" } }, loop: "open", rateTotalPerSec: 300, warmupSec: 0, durationSec: 0.4 }),
  );
  assertValid(validator("scenario"), JSON.parse(fs.readFileSync(scenario, "utf8")), "the scenario file with $schema");
  const sweeps: string[][] = [
    ["--scenario", scenario, "--model", "epoll", "--threads", "1"],
    ["--protocol", "chat", "--model", "epoll", "--threads", "1", "--connections", "4", "--senders", "2", "--duration", "0.4", "--warmup", "0"],
    // Nothing listens on port 1: the run fails, and a failed run is a result too.
    ["--target", "127.0.0.1:1", "--duration", "0.3", "--warmup", "0", "--connections", "1", "--timeout", "200"],
  ];
  let failed = 0;
  for (const args of sweeps) {
    const o = await cli([...args, "--repeats", "1", "--out", dir], { timeoutMs: 60_000 });
    const file = /results in (.+results\.json)/.exec(o.stderr)?.[1];
    assert.ok(file !== undefined, o.stderr);
    const data = JSON.parse(fs.readFileSync(file, "utf8")) as { $schema: string; runs: { status: string }[] };
    assert.equal(path.resolve(path.dirname(file), data.$schema), schemaFile("results"), "$schema points at the published schema");
    assertValid(results, data, args.join(" "));
    assert.equal(readResults(file).runs.length, data.runs.length);
    failed += data.runs.filter((r) => r.status === "failed").length;
  }
  assert.ok(failed === 0 || failed === 1, "a run against a closed port failed or recorded its connect errors");
});

test("a baseline validates against schemas/baseline.schema.json and reads back; every built-in scenario against scenario.schema.json", async () => {
  const dir = tmpDir();
  const fixture = readResults(FIXTURE);
  const file = writeBaseline(dir, baselineFromResults("fixture", fixture));
  const data = JSON.parse(fs.readFileSync(file, "utf8")) as { $schema: string };
  assert.equal(path.resolve(dir, data.$schema), schemaFile("baseline"));
  assertValid(validator("baseline"), data, file);
  assert.equal(readBaseline(dir, "fixture").configurations.length, baselineFromResults("fixture", fixture).configurations.length);

  const scenario = validator("scenario");
  for (const s of await loadBuiltins()) assertValid(scenario, s.scenario, s.file);
});
