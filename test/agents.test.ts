/**
 * Agents for real: a redis-server started here, `iobench agent` processes,
 * and the coordinator (`bench --agents`) against a real server. On
 * loopback: two agents, the run is the exact merge of their parts, each
 * with its clock offset; a second agent under a name in use is refused;
 * agents leave on SIGTERM. With IOBENCH_SLOW_TESTS=1, as root: three agents
 * in network namespaces of their own (veth pairs made and removed here),
 * each from its own address, driving one server: merged messages = the
 * sum of the agents', merged histogram = their histograms added, and an
 * agent killed mid-run is reported, not hidden.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { decodeHistogram, mergeEncoded } from "../contracts/histogram.js";
import type { OkRun, ResultsFile, Run } from "../reports/schema.js";
import { MAIN, cli } from "./fixtures/cli.js";
import { ensureRedis, startAgent, startRedis, stopChild } from "./fixtures/redis.js";

const redis = ensureRedis();
const skipRedis = "path" in redis ? false : `redis-server cannot be had here: ${redis.why}`;

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "iobench-agents-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const RUN = ["--model", "epoll", "--threads", "1", "--repeats", "1", "--client-threads", "1", "--client-engine", "epoll", "--json"];

/** The run is the merge of its parts: counts summed, histograms added bucket by bucket. */
function assertExactMerge(run: Run, parts: number): void {
  assert.equal(run.status, "ok", run.status === "failed" ? run.error : "");
  const ok = run as OkRun;
  const figs = (ok.parts ?? []).map((p) => p.figures!);
  assert.equal(figs.length, parts);
  assert.ok(ok.figures.messages > 0);
  assert.equal(ok.figures.messages, figs.reduce((a, f) => a + f.messages, 0), "merged messages = the sum of the agents'");
  assert.equal(ok.figures.sessionsConnected, figs.reduce((a, f) => a + f.sessionsConnected, 0));
  const merged = decodeHistogram(ok.figures.latencyHistogram.data);
  const added = mergeEncoded(figs.map((f) => f.latencyHistogram.data));
  assert.equal(merged.totalCount, ok.figures.messages);
  assert.equal(merged.outputPercentileDistribution(1, 1), added.outputPercentileDistribution(1, 1), "merged histogram = the agents' histograms added");
  for (const p of ok.parts!) {
    assert.equal(p.kind, "agent");
    assert.ok(p.clockOffsetMs !== null && Math.abs(p.clockOffsetMs) < 1000, `${p.name}: clock offset ${p.clockOffsetMs}`);
    assert.ok(p.clockRttMs !== null && p.clockRttMs >= 0);
  }
}

test("two agents on loopback through a real Redis: one run, merged exactly; a taken name is refused; agents leave on SIGTERM", { skip: skipRedis }, async (t) => {
  const out = tmp(t);
  const server = await startRedis((redis as { path: string }).path, ["127.0.0.1"]);
  const agents: ChildProcess[] = [];
  t.after(async () => {
    for (const a of agents) await stopChild(a);
    await stopChild(server.child);
  });
  const url = `redis://127.0.0.1:${server.port}`;
  agents.push(await startAgent(url, "lo-1"), await startAgent(url, "lo-2"));

  const taken = await cli(["agent", "--redis", url, "--name", "lo-1"], { timeoutMs: 15_000 });
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, /^iobench: agent name lo-1 is in use/m);

  const r = await cli(["bench", ...RUN, "--agents", url, "--agent-count", "2", "--connections", "20", "--duration", "1", "--warmup", "0.5", "--out", out], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const run = (JSON.parse(r.stdout) as ResultsFile).runs[0]!;
  assert.equal(run.config.agents, 2);
  assertExactMerge(run, 2);
  assert.deepEqual((run as OkRun).parts!.map((p) => [p.name, p.sessions]), [["lo-1", 10], ["lo-2", 10]]);

  for (const a of agents) {
    const exited = new Promise<number | null>((resolve) => a.once("exit", (code) => resolve(code)));
    a.kill("SIGTERM");
    assert.equal(await exited, 0, "an agent stops cleanly on SIGTERM");
  }
  const none = await cli(["bench", ...RUN, "--agents", url, "--connections", "2", "--out", out], { timeoutMs: 60_000 });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^iobench: 0 agent\(s\) registered on redis:\/\/127\.0\.0\.1:\d+, 1 wanted: start them with iobench agent/m);
});

const slow = process.env.IOBENCH_SLOW_TESTS === "1";
const root = process.getuid?.() === 0;
const skipNetns = skipRedis || (!slow ? "slow test: set IOBENCH_SLOW_TESTS=1" : !root ? "network namespaces need root" : false);

/** Runs `ip ...`, throwing its stderr on failure. */
function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

test("three agents in their own network namespaces drive one server: exact merge; a killed agent is named, the run PARTIAL", { skip: skipNetns }, async (t) => {
  const out = tmp(t);
  // Names and a subnet of this test process's own, so parallel runs do not collide.
  const tag = `iob${process.pid % 100_000}`;
  const net = 100 + (process.pid % 100);
  const spaces = [1, 2, 3].map((k) => ({ ns: `${tag}-a${k}`, host: `${tag}h${k}`, peer: `${tag}p${k}`, hostAddr: `10.${net}.${k}.1`, agentAddr: `10.${net}.${k}.2` }));
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const c of children) await stopChild(c);
    for (const s of spaces) {
      try {
        ip("netns", "del", s.ns); // takes its end of the veth pair, and with it the other end
      } catch {
        // not made
      }
      try {
        ip("link", "del", s.host);
      } catch {
        // gone with the namespace
      }
    }
  });
  for (const s of spaces) {
    ip("netns", "add", s.ns);
    ip("link", "add", s.host, "type", "veth", "peer", "name", s.peer);
    ip("link", "set", s.peer, "netns", s.ns);
    ip("addr", "add", `${s.hostAddr}/24`, "dev", s.host);
    ip("link", "set", s.host, "up");
    ip("-n", s.ns, "addr", "add", `${s.agentAddr}/24`, "dev", s.peer);
    ip("-n", s.ns, "link", "set", s.peer, "up");
    ip("-n", s.ns, "link", "set", "lo", "up");
    // The server and Redis listen on the first link's host address: every namespace reaches it through its own link.
    ip("-n", s.ns, "route", "add", "default", "via", s.hostAddr);
  }
  const serverAddr = spaces[0]!.hostAddr;
  const server = await startRedis((redis as { path: string }).path, [serverAddr]);
  children.push(server.child);
  const url = `redis://${serverAddr}:${server.port}`;
  for (const [k, s] of spaces.entries()) children.push(await startAgent(url, `ns-${k + 1}`, { netns: s.ns }));

  const args = ["bench", ...RUN, "--agents", url, "--agent-count", "3", "--host", serverAddr, "--connections", "30", "--warmup", "1"];
  const r = await cli([...args, "--duration", "1", "--out", out], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assertExactMerge((JSON.parse(r.stdout) as ResultsFile).runs[0]!, 3);

  // Kill the third agent inside the window of a longer run.
  const coordinator = spawn(process.execPath, [MAIN, ...args, "--duration", "3", "--out", out], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(coordinator);
  let stdout = "";
  let stderr = "";
  coordinator.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  coordinator.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((resolve) => coordinator.once("close", resolve));
  for (let i = 0; i < 200 && !stderr.includes("measure"); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  children[3]!.kill("SIGKILL");
  assert.equal(await closed, 1, stderr);
  const run = (JSON.parse(stdout) as ResultsFile).runs[0] as OkRun;
  assert.equal(run.status, "ok", `${(run as Run & { error?: string }).error ?? ""} ${stderr}`);
  assert.ok(run.figures.flags.includes("PARTIAL"), run.figures.flags.join(","));
  const killed = run.parts!.find((p) => p.name === "ns-3")!;
  assert.equal(killed.status, "missing");
  assert.match(stderr, /iobench: run 1: ns-3: PARTIAL: returned nothing/);
  const alive = run.parts!.filter((p) => p.status === "ok");
  assert.equal(alive.length, 2);
  assert.equal(run.figures.messages, alive.reduce((a, p) => a + p.figures!.messages, 0), "the figures are the live agents'");
});
