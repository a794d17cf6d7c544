/**
 * A command model in a sweep, as a user runs it: `bench --model
 * epoll,cmd:c-echo --server-cmd c-echo='...' --threads 1,2` gives one
 * results.json and one report with both models on every chart, the C
 * server's CPU per message read from its process tree (also when a shell
 * wrapper sits between iobench and the server), its command line in each
 * run; `check --compare` takes its configurations like any other. Usage
 * problems are one line; a scenario file declares command models too.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { OkRun, ResultsFile } from "../reports/schema.js";
import { cli } from "./fixtures/cli.js";
import { ROOT } from "./conformance/server.js";

const C_ECHO = path.join(ROOT, "examples/bin/c-echo");
const LOAD = ["--duration", "0.4", "--warmup", "0.2", "--repeats", "1", "--connections", "16"];

before(() => execFileSync("make", ["-s", "-C", path.join(ROOT, "examples")], { stdio: "inherit" }));

function resultsOf(stderr: string): { file: string; results: ResultsFile } {
  const m = /results in (.+results\.json)/.exec(stderr);
  assert.ok(m, stderr);
  return { file: m[1]!, results: JSON.parse(fs.readFileSync(m[1]!, "utf8")) as ResultsFile };
}

describe("command models in a sweep", { timeout: 120_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-cmd-bench-"));

  test("epoll beside cmd:c-echo and the same behind a shell wrapper, threads 1 and 2: one report, every chart, CPU from the tree", async () => {
    const out = await cli(
      [
        "bench", "--model", "epoll,cmd:c-echo,cmd:wrapped", "--threads", "1,2", ...LOAD, "--out", dir,
        "--server-cmd", `c-echo=${C_ECHO} --host {host} --port {port} --threads {threads}`,
        // sh stays c-echo's parent (a command follows it): the server is a grandchild of the tree's root.
        "--server-cmd", `wrapped=sh -c '"$0" --port "$1" --threads "$2"; echo stopped' ${C_ECHO} {port} {threads}`,
      ],
      { timeoutMs: 100_000 },
    );
    assert.equal(out.code, 0, out.stderr);
    const { file, results } = resultsOf(out.stderr);
    assert.deepEqual(results.options.servers?.["c-echo"], { command: `${C_ECHO} --host {host} --port {port} --threads {threads}`, protocols: ["echo"] });
    const runs = results.runs as OkRun[];
    assert.deepEqual(runs.map((r) => `${r.config.model} ${String(r.config.threads)}`), ["epoll 1", "epoll 2", "cmd:c-echo 1", "cmd:c-echo 2", "cmd:wrapped 1", "cmd:wrapped 2"]);
    for (const r of runs.filter((x) => x.config.model.startsWith("cmd:"))) {
      const what = `${r.config.model} t${String(r.config.threads)}`;
      assert.equal(r.status, "ok", what);
      assert.match(r.config.command ?? "", new RegExp(`--port ${r.config.port}|"\\$0" --port "\\$1" .* ${r.config.port} ${String(r.config.threads)}$`), what);
      assert.equal(r.config.bufferBytes, null, "iobench's buffer option is not the command's");
      assert.ok((r.figures.serverCpuUsPerMessage ?? 0) > 0.5, `${what}: CPU µs/msg ${r.figures.serverCpuUsPerMessage} (from the tree, not the root alone)`);
      assert.ok((r.figures.serverThreadCount ?? 0) >= (r.config.threads as number) + 2, `${what}: threads ${r.figures.serverThreadCount}`);
      assert.deepEqual(r.serverExit, { code: null, signal: "SIGTERM", killed: false }, `${what}: stopped by the SIGTERM it was sent`);
      assert.ok(!r.figures.flags.includes("SERVER-EXIT"), `${what}: a command ended by SIGTERM stopped cleanly`);
    }
    // Every chart that draws models holds all three.
    const md = fs.readFileSync(path.join(path.dirname(file), "report.md"), "utf8");
    for (const model of ["epoll", "cmd:c-echo", "cmd:wrapped"]) assert.ok(md.includes(model), `${model} in report.md`);
    const charts = fs.readdirSync(path.join(path.dirname(file), "charts"));
    for (const chart of ["throughput.png", "cpu-per-message.png", "latency-cmd-c-echo.png", "timeline-cmd-wrapped.png"]) assert.ok(charts.includes(chart), `${chart} in ${charts.join(" ")}`);
    const html = fs.readFileSync(path.join(path.dirname(file), "report.html"), "utf8");
    assert.ok(html.includes('"label":"cmd:c-echo"') || html.includes("cmd:c-echo"), "the HTML charts name the command model");

    // check pairs its configurations like any model's. One repeat is too few
    // for a verdict (check wants 3 per side): that, and nothing else, is its complaint.
    const compared = await cli(["check", "--compare", path.dirname(file), path.dirname(file)], { cwd: dir });
    const said = compared.stdout + compared.stderr;
    for (const config of ["epoll t1", "cmd:c-echo t1", "cmd:c-echo t2", "cmd:wrapped t2"]) assert.match(compared.stdout, new RegExp(`^${config} c16 64B +msg/s`, "m"), said);
    const problems = said.split("\n").filter((l) => /^PROBLEM /.test(l.trim()));
    assert.equal(problems.length, 6, said);
    for (const p of problems) assert.match(p, /too few usable repeats for a verdict/, said);
  });

  test("a scenario file's servers section declares a command model that server.models names", async () => {
    const file = path.join(dir, "mine.json");
    const servers = { "c-echo": { command: `${C_ECHO} --port {port} --threads {threads}` } };
    fs.writeFileSync(file, JSON.stringify({ name: "mine", sessions: 8, messageSize: 64, durationSec: 0.3, warmupSec: 0.1, server: { models: ["cmd:c-echo"], threads: [1] }, servers }));
    const out = await cli(["bench", "--scenario", file, "--repeats", "1", "--out", dir], { timeoutMs: 60_000 });
    assert.equal(out.code, 0, out.stderr);
    const { results } = resultsOf(out.stderr);
    assert.deepEqual(results.runs.map((r) => r.config.model), ["cmd:c-echo"]);
    assert.deepEqual(results.options.scenario?.effective.servers, { "c-echo": { ...servers["c-echo"], protocols: ["echo"] } }, "the effective scenario repeats the run");

    fs.writeFileSync(file, JSON.stringify({ name: "mine", sessions: 8, messageSize: 64, server: { models: ["cmd:other"] }, servers }));
    const bad = await cli(["bench", "--scenario", file, "--out", dir]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^iobench: scenario .*mine\.json: field "server\.models\[0\]" must be one of .*"cmd:c-echo"; got "cmd:other"/);
  });

  test("a command that cannot serve is one line naming it before any run, exit 1", async () => {
    const out = await cli(["bench", "--server-cmd", "x=echo no such server >&2; exit 3", "--model", "epoll,cmd:x", ...LOAD, "--out", dir]);
    assert.equal(out.code, 1, out.stderr);
    assert.equal(out.stdout, "");
    assert.match(out.stderr, /^iobench: command model cmd:x exited before listening on 127\.0\.0\.1:\d+ \(exit code 3\): no such server\n$/);
  });

  test("usage problems are one line, exit 2", async () => {
    const cmd = ["--server-cmd", `c-echo=${C_ECHO} --port {port}`];
    const cases: [string[], RegExp][] = [
      [["--model", "cmd:nope"], /unknown model 'cmd:nope': declare it with --server-cmd nope=/],
      [[...cmd, "--target", "127.0.0.1:9"], /--server-cmd starts your server for each run; --target measures one already running/],
      [[...cmd, "--model", "cmd:c-echo", "--protocol", "http"], /protocol http is not spoken by the cmd:c-echo model \(it speaks echo; declare more with --server-protocols c-echo=echo,http\)/],
      [[...cmd, "--model", "cmd:c-echo", "--work", "cpu:10us"], /work applies to the .* models only, not cmd:c-echo/],
      [[...cmd, "--model", "cmd:c-echo", "--threads", "per-connection"], /per-connection applies to the blocking model only/],
      [[...cmd, "--model", "cmd:c-echo", "--profile", "doctor"], /--profile runs iobench's own Node\.js servers under clinic: it cannot profile cmd:c-echo/],
      [[...cmd, "--server-protocols", "other=echo"], /--server-protocols other: no --server-cmd other declares that model/],
      [[...cmd, "--server-protocols", "c-echo=gopher"], /cmd:c-echo protocols must be among echo, http, chat, chat-raw, got 'gopher'/],
    ];
    for (const [args, expected] of cases) {
      const out = await cli(["bench", ...args, "--out", dir]);
      assert.equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
      assert.equal(out.stderr.trim().split("\n").length, 1, out.stderr);
      assert.match(out.stderr, expected);
    }
  });
});
