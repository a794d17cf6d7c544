/**
 * Does splitting the load over agents change what is measured? One epoll
 * server (1 thread, pinned to the server CPU, cpu:WORK µs of work per
 * message so that the server and not the client is the limit: a
 * comparison of two saturated clients would compare clients) is driven, round after round,
 * alternately by one client process (N sessions on 3 client threads) and by
 * 3 agents through a real Redis (N/3 sessions each on 1 thread, their
 * results merged exactly), every client pinned to the client CPU. Same
 * sessions, same load, same server, interleaved; per round the ratio
 * agents / one process of msg/s, p50 and p99, then their medians. A load
 * closed (as fast as the server echoes) and open (a fixed rate).
 *
 *   npm run bench:scale-out -- [--connections 300] [--rounds 5] [--seconds 3] [--rate 15000] [--work 20]
 */
import { spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { OkRun, ResultsFile } from "../reports/schema.js";
import { ensureRedis, startAgent, startRedis, stopChild } from "../test/fixtures/redis.js";
import { ROOT, arg, cpuPair, median, pinned, startModelServer } from "./lib.js";
import { medianInterval } from "../reports/stats.js";

const connections = arg("connections", 300);
const rounds = arg("rounds", 5);
const seconds = arg("seconds", 3);
const rate = arg("rate", 15_000);
const workUs = arg("work", 20);
const AGENTS = 3;

interface Figures {
  messagesPerSec: number;
  p50: number;
  p99: number;
  flags: string[];
}

function runBench(cpus: string, args: string[]): Figures {
  const [cmd, all] = pinned(cpus, process.execPath, [path.join(ROOT, "dist/cli/main.js"), "bench", ...args, "--json", "--out", path.join(ROOT, "results/bench")]);
  // The JSON is read whatever the exit status (1 = a run was flagged: the flags are reported).
  const out = spawnSync(cmd, all, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 256 << 20 }).stdout;
  const run = (JSON.parse(out) as ResultsFile).runs[0];
  if (run === undefined || run.status !== "ok") throw new Error(`run failed: ${run?.status === "failed" ? run.error : "no run"}`);
  const f = (run as OkRun).figures;
  return { messagesPerSec: f.messagesPerSec, p50: f.latencyUs?.p50 ?? NaN, p99: f.latencyUs?.p99 ?? NaN, flags: f.flags };
}

async function main(): Promise<void> {
  const cpu = cpuPair();
  const redisServer = ensureRedis();
  if (!("path" in redisServer)) throw new Error(redisServer.why);
  const children: ChildProcess[] = [];
  const server = await startModelServer("epoll", 1, cpu.server, "echo", undefined, { work: { kind: "cpu", durationUs: workUs, messageBytes: 64 } });
  try {
    const redis = await startRedis(redisServer.path, ["127.0.0.1"]);
    children.push(redis.child);
    const url = `redis://127.0.0.1:${redis.port}`;
    for (let i = 1; i <= AGENTS; i++) children.push(await startAgent(url, `bench-${i}`, cpu.client === "" ? {} : { cpus: cpu.client }));

    const common = ["--target", `127.0.0.1:${server.port}`, "--server-pid", String(server.pid), "--connections", String(connections), "--duration", String(seconds), "--warmup", "1", "--repeats", "1"];
    const clientCpus = cpu.client === "" ? [] : ["--client-cpus", cpu.client];
    const loads = [
      { name: "closed loop", args: [] as string[] },
      { name: `open loop ${rate} msg/s`, args: ["--rate", String(rate)] },
    ];
    const rows: { load: string; round: number; one: Figures; agents: Figures }[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const load of loads) {
        // Alternate which goes first, so neither always runs on a machine the other just warmed.
        const order = round % 2 === 1 ? ["one", "agents"] : ["agents", "one"];
        const got: Partial<Record<"one" | "agents", Figures>> = {};
        for (const which of order) {
          got[which as "one" | "agents"] =
            which === "one"
              ? runBench(cpu.client, [...common, ...load.args, "--client-threads", String(AGENTS), ...clientCpus])
              : runBench(cpu.client, [...common, ...load.args, "--agents", url, "--agent-count", String(AGENTS), "--client-threads", "1"]);
        }
        rows.push({ load: load.name, round, one: got.one!, agents: got.agents! });
        process.stderr.write(`round ${round} ${load.name}: one ${Math.round(got.one!.messagesPerSec)} msg/s, agents ${Math.round(got.agents!.messagesPerSec)} msg/s\n`);
      }
    }

    const lines = [
      `# ${AGENTS} agents through Redis vs one client process: ${connections} sessions, ${seconds} s windows, ${rounds} interleaved rounds, server epoll 1 thread (cpu:${workUs}us per message) on CPU ${cpu.server || "any"}, clients on CPU ${cpu.client || "any"}`,
      "",
      "| load | figure | one process (median) | 3 agents (median) | agents / one: median ratio [interval of the median, its confidence] |",
      "|---|---|---:|---:|---|",
    ];
    const summary: Record<string, Record<string, number>> = {};
    for (const load of loads) {
      const mine = rows.filter((r) => r.load === load.name);
      for (const figure of ["messagesPerSec", "p50", "p99"] as const) {
        const ratios = mine.map((r) => r.agents[figure] / r.one[figure]).sort((a, b) => a - b);
        const m = median(ratios);
        const ci = medianInterval(ratios);
        summary[`${load.name} ${figure}`] = { one: median(mine.map((r) => r.one[figure])), agents: median(mine.map((r) => r.agents[figure])), ratio: m, ciLow: ci.low, ciHigh: ci.high, confidence: ci.confidence };
        lines.push(
          `| ${load.name} | ${figure === "messagesPerSec" ? "msg/s" : `${figure} µs`} | ${Math.round(median(mine.map((r) => r.one[figure])))} | ${Math.round(median(mine.map((r) => r.agents[figure])))} | ${m.toFixed(3)} [${ci.low.toFixed(3)}–${ci.high.toFixed(3)}, ${Math.round(ci.confidence * 100)} %] |`,
        );
      }
    }
    const flagged = rows.filter((r) => r.one.flags.length > 0 || r.agents.flags.length > 0);
    lines.push("", flagged.length === 0 ? "No run was flagged." : `Flagged runs: ${flagged.map((r) => `${r.load} round ${r.round}: one [${r.one.flags.join(",")}] agents [${r.agents.flags.join(",")}]`).join("; ")}`);
    const closed = summary[`closed loop messagesPerSec`]!;
    const inside = (x: number): boolean => Math.abs(x - 1) <= 0.1;
    // Within 10 % when the whole interval is; outside when the whole interval is; else the rounds cannot tell.
    const verdict = inside(closed.ciLow!) && inside(closed.ciHigh!) ? "yes" : closed.ciHigh! < 0.9 || closed.ciLow! > 1.1 ? "NO" : "inconclusive";
    lines.push(`Closed-loop msg/s of the agents within 10 % of one process: ${verdict} (median ratio ${closed.ratio!.toFixed(3)}, interval ${closed.ciLow!.toFixed(3)}–${closed.ciHigh!.toFixed(3)}).`);
    const dir = path.join(ROOT, "results/bench");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `scale-out-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    fs.writeFileSync(file, JSON.stringify({ connections, rounds, seconds, rate, rows, summary }, null, 2));
    process.stdout.write(`${lines.join("\n")}\n\nraw: ${file}\n`);
  } finally {
    for (const c of children.reverse()) await stopChild(c);
    await server.stop();
  }
}

await main();
