/**
 * Does iobench's client keep up with plain C? Against the C epoll echo
 * yardstick (pinned to one core), run the C ping-pong client and iobench's
 * client with each session engine (pinned to the other core), in an order
 * that rotates every round, R rounds, and report per engine the median of
 * the per-round rate ratios to C with its order-statistic interval (its true
 * confidence printed: 96 % at 9 rounds), next to
 * the CPU each client and the server spent per message, and how busy each
 * side's core was (CPU per message x rate: a side near 100 % is the limit;
 * both far below it means other load on the machine took the cores, and
 * the rates say more about the scheduler than about the clients).
 * A ratio >= 1 means the harness's own client is not what limits a measurement.
 *
 *   npm run bench:client -- [--rounds 5] [--seconds 5] [--sessions 256] [--size 64]
 */
import { percent, spread } from "../reports/stats.js";
import type { Spread } from "../reports/stats.js";
import { CLIENT_ENGINES } from "../contracts/client.js";
import { arg, buildReference, cpuPair, runIobenchClient, runReferenceClient, startReferenceServer } from "./lib.js";
import type { ClientRun } from "./lib.js";

const rounds = arg("rounds", 5);
const load = { sessions: arg("sessions", 256), size: arg("size", 64), seconds: arg("seconds", 5) };
const cpus = cpuPair();
const clients = ["C", ...CLIENT_ENGINES] as const;
type Who = (typeof clients)[number];

buildReference();
const runs = new Map<Who, ClientRun[]>(clients.map((c) => [c, []]));
const ratios = new Map<Who, number[]>(CLIENT_ENGINES.map((e) => [e, []]));
const f0 = (x: number): string => x.toFixed(0);
const f2 = (x: number | null): string => (x === null ? "-" : x.toFixed(2));
for (let r = 0; r < rounds; r++) {
  // A fresh server per round, and the order rotates, so no client always
  // meets a warmer (or more fragmented) server than the others.
  const server = await startReferenceServer(cpus.server);
  const got = new Map<Who, ClientRun>();
  try {
    for (let i = 0; i < clients.length; i++) {
      const who = clients[(r + i) % clients.length] as Who;
      const opts = { ...load, cpus: cpus.client };
      got.set(who, who === "C" ? runReferenceClient(server, opts) : runIobenchClient(server, { ...opts, engine: who }));
    }
  } finally {
    await server.stop();
  }
  const c = got.get("C") as ClientRun;
  const cells = clients.map((who) => {
    const run = got.get(who) as ClientRun;
    runs.get(who)?.push(run);
    if (who !== "C") ratios.get(who)?.push(run.messagesPerSec / c.messagesPerSec);
    const ratio = who === "C" ? "" : ` (${(run.messagesPerSec / c.messagesPerSec).toFixed(3)})`;
    return `${who} ${f0(run.messagesPerSec)}${ratio}${run.errors > 0 ? ` ERRORS ${run.errors}` : ""}${run.clientSaturated ? " saturated" : ""}`;
  });
  process.stderr.write(`round ${r + 1}/${rounds}: ${cells.join(", ")} msg/s\n`);
}

const show = (s: Spread | null, digits: number): string =>
  s === null ? "-" : `${s.median.toFixed(digits)} [${s.min.toFixed(digits)}–${s.max.toFixed(digits)}]`;
console.log(`client vs C: ${load.sessions} sessions, ${load.size} B, ${load.seconds} s, ${rounds} rounds, server cpu ${cpus.server || "any"}, client cpu ${cpus.client || "any"}`);
console.log("medians [min–max] over rounds:");
console.log(
  `  ${"client".padEnd(8)} ${"msg/s".padEnd(24)} ${"client µs/msg".padEnd(20)} ${"server µs/msg".padEnd(20)} ` +
    `${"client core %".padEnd(16)} ${"server core %".padEnd(16)} ratio to C (median, its interval and confidence)`,
);
const busy = (perMsgUs: number | null, rate: number): number | null => (perMsgUs === null ? null : (perMsgUs * rate) / 1e4);
for (const who of clients) {
  const rs = runs.get(who) ?? [];
  const ratio = ratios.get(who);
  const rs95 = ratio === undefined ? null : spread(ratio);
  console.log(
    `  ${who.padEnd(8)} ${show(spread(rs.map((x) => x.messagesPerSec)), 0).padEnd(24)} ` +
      `${show(spread(rs.map((x) => x.clientCpuUsPerMessage)), 2).padEnd(20)} ` +
      `${show(spread(rs.map((x) => x.serverCpuUsPerMessage)), 2).padEnd(20)} ` +
      `${show(spread(rs.map((x) => busy(x.clientCpuUsPerMessage, x.messagesPerSec))), 0).padEnd(16)} ` +
      `${show(spread(rs.map((x) => busy(x.serverCpuUsPerMessage, x.messagesPerSec))), 0).padEnd(16)} ` +
      `${rs95 === null ? "" : `${f2(rs95.median)} (${f2(rs95.ciLow)}–${f2(rs95.ciHigh)}, ${percent(rs95.ciConfidence)}), min ${f2(rs95.min)}, max ${f2(rs95.max)}`}`,
  );
}
