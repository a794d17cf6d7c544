/**
 * Files a hostile (or careless) user hands iobench: scenario modules that
 * never finish loading, throw from a getter or nest without end, results
 * files with a broken run, sizes past what the server takes. Each must be
 * one line naming the file (and the field), exit 2, never a hang, a stack
 * trace or an exit 0 with nothing done.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { loadScenarioFile } from "../scenarios/load.js";
import { MAX_BUFFER_BYTES, MAX_MESSAGE_BYTES } from "../reports/schema.js";
import { startServer } from "../servers/start.js";
import { DEFAULT_SERVER_OPTIONS } from "../contracts/server.js";
import { cli } from "./fixtures/cli.js";
import { tmpDirs } from "./fixtures/tmp.js";

const tmpDir = tmpDirs("iobench-hostile-");

function write(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const FIXTURE = new URL("../../test/fixtures/report-results.json", import.meta.url);

/** A CLI run that must fail with exactly one line `iobench: <pattern>` and exit 2. */
async function oneLineExit2(args: string[], pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  const o = await cli(args, { timeoutMs });
  assert.equal(o.code, 2, `exit 2 for ${args.join(" ")}: ${o.stderr}`);
  const lines = o.stderr.trim().split("\n");
  assert.equal(lines.length, 1, o.stderr);
  assert.match(lines[0]!, /^iobench: /);
  assert.match(lines[0]!, pattern);
}

test("a scenario module whose top-level await never settles is one line naming the file, exit 2 (not exit 0 with no run)", { timeout: 30_000 }, async () => {
  const dir = tmpDir();
  const file = write(dir, "never.mjs", "await new Promise(() => {}); export default {};\n");
  await oneLineExit2(["--scenario", file, "--model", "epoll", "--out", dir], new RegExp(`scenario ${file}: the module's top-level await never settles`));
  assert.deepEqual(fs.readdirSync(dir), ["never.mjs"], "no run was started");
});

test("a scenario module import is bounded: a pending await with a live timer, or an endless loop, ends at the limit", { timeout: 30_000 }, async () => {
  const dir = tmpDir();
  const waiting = write(dir, "waiting.mjs", "setInterval(() => {}, 1000); await new Promise(() => {}); export default {};\n");
  const spinning = write(dir, "spinning.mjs", "for (;;) {}\n");
  for (const file of [waiting, spinning]) {
    const t0 = Date.now();
    await assert.rejects(loadScenarioFile(file, 300), (err: Error) => {
      assert.equal(err.name, "UsageError");
      assert.equal(err.message, `scenario ${file}: the module did not finish loading within 0.3 s (a top-level await that never settles, or a loop that never ends?)`);
      return true;
    });
    assert.ok(Date.now() - t0 < 5_000, "gave up near the limit");
  }
  // A module that leaves a timer running is loaded in a thread that is ended: it cannot keep iobench alive.
  const lingering = write(dir, "lingering.mjs", 'setInterval(() => {}, 1000); export default { name: "l", sessions: 1, messageSize: 64 };\n');
  assert.equal((await loadScenarioFile(lingering, 5_000)).scenario.name, "l");
});

test("every error raised while loading a scenario names the file, and the field when one is to blame (exit 2)", { timeout: 60_000 }, async () => {
  const dir = tmpDir();
  const getter = write(dir, "getter.mjs", 'export default { name: "g", get sessions() { throw new Error("getter boom"); }, messageSize: 64 };\n');
  await oneLineExit2(["--scenario", getter, "--model", "epoll"], new RegExp(`scenario ${getter}: field "sessions" could not be read: getter boom$`));

  let nested = "64";
  for (let i = 0; i < 100_000; i++) nested = `[${nested}]`;
  const deepJson = write(dir, "deep.json", `{"name":"d","sessions":1,"messageSize":${nested}}`);
  await oneLineExit2(["--scenario", deepJson, "--model", "epoll"], new RegExp(`scenario ${deepJson}: field "messageSize\\[0\\]" must be a size in bytes`));

  const deepModule = write(dir, "deep.mjs", 'let v = 64; for (let i = 0; i < 100000; i++) v = [v];\nexport default { name: "d", sessions: 1, messageSize: v };\n');
  await oneLineExit2(["--scenario", deepModule, "--model", "epoll"], new RegExp(`scenario ${deepModule}: field "messageSize\\[0\\]\\[0\\].*" is nested deeper than 32 levels`));

  const cyclic = write(dir, "cyclic.mjs", 'const s = { name: "c", sessions: 1, messageSize: 64 }; s.server = { self: s };\nexport default s;\n');
  await oneLineExit2(["--scenario", cyclic, "--model", "epoll"], new RegExp(`scenario ${cyclic}: field "server\\.self\\..*" is nested deeper`));

  const fn = write(dir, "fn.mjs", 'export default { name: "f", sessions: () => 4, messageSize: 64 };\n');
  await oneLineExit2(["--scenario", fn, "--model", "epoll"], new RegExp(`scenario ${fn}: field "sessions" must be plain data \\(JSON\\), got a function`));

  const throws = write(dir, "throws.mjs", 'throw new RangeError("top-level boom");\n');
  await oneLineExit2(["--scenario", throws, "--model", "epoll"], new RegExp(`scenario ${throws}: cannot load the module: top-level boom`));

  const proxy = write(dir, "proxy.mjs", 'export default new Proxy({}, { ownKeys() { throw new Error("keys boom"); } });\n');
  await oneLineExit2(["--scenario", proxy, "--model", "epoll"], new RegExp(`scenario ${proxy}: .*keys boom`));
});

/** The fixture results with `edit` applied, written into a fresh results directory. */
function brokenResults(edit: (r: { runs: Record<string, unknown>[] }) => void): string {
  const dir = tmpDir();
  const r = JSON.parse(fs.readFileSync(FIXTURE, "utf8")) as { runs: Record<string, unknown>[] };
  edit(r);
  fs.writeFileSync(path.join(dir, "results.json"), JSON.stringify(r));
  return dir;
}

test("a results file is checked against the schema when read: a malformed run is named (which run, which field), exit 2", { timeout: 60_000 }, async () => {
  const nullFigures = brokenResults((r) => (r.runs[3]!.figures = null));
  const file = path.join(nullFigures, "results.json");
  const expected = new RegExp(`${file}: run 4 of 30 \\("ok"\\): field "figures" must be an object, got null$`);
  await oneLineExit2(["report", nullFigures], expected);
  await oneLineExit2(["check", "--compare", nullFigures, nullFigures], expected);

  const badP99 = brokenResults((r) => ((r.runs[7]!.figures as { latencyUs: { p99: unknown } }).latencyUs.p99 = "fast"));
  await oneLineExit2(["report", badP99], /run 8 of 30 \("ok"\): field "figures\.latencyUs\.p99" must be a number, got "fast"$/);

  const badStatus = brokenResults((r) => (r.runs[0]!.status = "done"));
  await oneLineExit2(["report", badStatus], /run 1 of 30 \("done"\): field "status" must be one of "ok", "failed"; got "done"$/);

  const noRuns = brokenResults((r) => delete (r as { runs?: unknown }).runs);
  await oneLineExit2(["report", noRuns], /field "runs" must be a list .*got nothing$/);
  for (const dir of [nullFigures, badP99, badStatus, noRuns]) assert.ok(!fs.existsSync(path.join(dir, "report.html")), "no report was written from a malformed file");
});

test("--buffer and --size: one limit in the CLI, the scenario loader and the server; the format takes what the range allows (1G)", { timeout: 60_000 }, async () => {
  const over = String(MAX_BUFFER_BYTES + 1);
  const range = `between 1 and ${MAX_BUFFER_BYTES} bytes`;
  await oneLineExit2(["--buffer", "100M", "--model", "epoll"], new RegExp(`--buffer must be ${range}, got '100M'`));
  await oneLineExit2(["--buffer", "1G", "--model", "epoll"], new RegExp(`--buffer must be ${range}, got '1G'`));
  await oneLineExit2(["serve", "--buffer", over, "--model", "epoll"], new RegExp(`--buffer must be ${range}`));
  await oneLineExit2(["--size", "1G", "--model", "epoll"], new RegExp(`--size must be between 1 and ${MAX_MESSAGE_BYTES} bytes, got '1G'`));
  await oneLineExit2(["--size", "1T", "--model", "epoll"], /--size must be a byte count like 64, 4k, 1M or 1G, got '1T'/);

  const dir = tmpDir();
  // A size distribution http sessions would ignore (every request at the largest size) is refused, not silently changed.
  const mixed = write(dir, "mixed.json", JSON.stringify({ name: "mixed", sessions: 2, messageSize: { uniform: { minBytes: 1, maxBytes: "64k" } }, server: { protocol: "http" } }));
  await oneLineExit2(["--scenario", mixed, "--model", "epoll"], /--protocol http sends every request at one size: give --size/);
  const scenario = write(dir, "big.json", JSON.stringify({ name: "big", sessions: 1, messageSize: 64, server: { bufferBytes: "100M" } }));
  await oneLineExit2(["--scenario", scenario, "--model", "epoll"], new RegExp(`scenario ${scenario}: field "server.bufferBytes" must be a size in bytes from 1 to ${MAX_BUFFER_BYTES}`));
  await assert.rejects(startServer({ ...DEFAULT_SERVER_OPTIONS, model: "epoll", threads: 1, bufferBytes: MAX_BUFFER_BYTES + 1 }), new RegExp(`bufferBytes must be a whole number from 1 to ${MAX_BUFFER_BYTES}`));

  // The largest buffer the CLI takes, the server takes: the run is ok.
  const ok = await cli(["--buffer", "64M", "--size", "64k", "--model", "epoll", "--threads", "1", "--connections", "2", "--duration", "0.3", "--warmup", "0", "--repeats", "1", "--out", dir, "--json"], { timeoutMs: 30_000 });
  assert.equal(ok.code, 0, ok.stderr);
  const run = (JSON.parse(ok.stdout) as { runs: { status: string; config: { bufferBytes: number } }[] }).runs[0]!;
  assert.equal(run.status, "ok");
  assert.equal(run.config.bufferBytes, MAX_BUFFER_BYTES);
});
