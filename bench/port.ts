/**
 * The completion port, measured (docs/completion-port.md). Each part runs
 * its configurations in interleaved rounds (each round starts one
 * configuration further on), the server pinned to one CPU and the client to
 * another, and compares them round by round (ratios within a round cancel
 * the machine's drift). Figures are medians over the rounds with the
 * order-statistic interval of the median and the coverage it really has
 * (94 % from 5 rounds, 75 % from 3); a goal is met or not only when the
 * whole interval is on one side of it, else it is inconclusive.
 *
 *   npm run bench:port -- --part threads   [--rounds 5] [--seconds 5] [--driver iobench|pingpong] [--goal-only]
 *     iocp with 8 workers at the default concurrency (the server's CPUs: 1
 *     here) against as many workers as the concurrency value; the herd
 *     (--port-wake all) beside it; the same at concurrency 2. Under
 *     iobench's client and under the C ping-pong client (or the one
 *     --driver names), which costs less per message, so the server, not the
 *     client, is the limit. Context switches are counted per server thread
 *     (by name): the goal is judged on the port's workers' own, the whole
 *     process's (Node's main and helper threads, the acceptor) beside it.
 *     --goal-only leaves out the concurrency-2 pair.
 *   npm run bench:port -- --part db-work   [--rounds 5] [--seconds 5]
 *     block:2ms per message, 16 workers at concurrency = the server's CPUs:
 *     the port told of each block, not told, and the herd, against the bound
 *     16 workers / 2 ms = 8,000 msg/s; the blocking model's 16 threads
 *     beside them (no port: what 16 Node threads that block 2 ms get here).
 *   npm run bench:port -- --part cpu       [--rounds 5] [--seconds 5]
 *     server CPU µs per message with one server thread: iocp, the C io_uring
 *     yardstick and the C epoll yardstick, each under iobench's client and
 *     under the C ping-pong client.
 */
import {
  arg, buildReference, cpuPair, goal, interleaved, interval, median, ratios, runIobenchClient, runReferenceClient,
  startModelServer, startReferenceServer, type ClientRun, type StartedServer, type Yardstick,
} from "./lib.js";
import type { PortStats } from "../native/index.js";
import type { ContextSwitches } from "../reports/schema.js";

const rounds = arg("rounds", 5);
const seconds = arg("seconds", 5);
const pi = process.argv.indexOf("--part");
const part = pi >= 0 ? process.argv[pi + 1] : undefined;
const cpus = cpuPair();
const di = process.argv.indexOf("--driver");
const onlyDriver = di >= 0 ? process.argv[di + 1] : undefined;
/** threads: only the goal's configurations (1 and 8 workers at the default concurrency, the herd), so both drivers fit one machine-lock hold. */
const goalOnly = process.argv.includes("--goal-only");

/** How to start one configuration's server. */
interface Config {
  /** iocp unless said. */
  model?: string;
  threads: number;
  completionPort?: { concurrency: number; wake: "lifo" | "all"; blockNotice: boolean };
  work?: { kind: "block"; durationUs: number; messageBytes: number };
}

const lifo = (concurrency = 0, blockNotice = true): Config["completionPort"] => ({ concurrency, wake: "lifo", blockNotice });
const herd: Config["completionPort"] = { concurrency: 0, wake: "all", blockNotice: true };

/** One measured run of an iocp configuration, and the port's counters from its stopped line. */
interface Measured extends ClientRun {
  maxRunning: number | null;
  /** Over the server's life (warm-up too): its waits (io_uring_enter and futex) per completion, and the parked waiters it released. */
  sleepsPerCompletion: number | null;
  released: number | null;
}

/** The load generators: iobench's own client, or the C ping-pong client (cheaper per message, so the server stays the limit). */
type Driver = "iobench" | "pingpong";

async function measureIocp(c: Config, sessions: number, driver: Driver = "iobench"): Promise<Measured> {
  const server = await startModelServer(c.model ?? "iocp", c.threads, cpus.server, "echo", undefined, {
    ...(c.completionPort !== undefined ? { completionPort: c.completionPort } : {}),
    ...(c.work !== undefined ? { work: c.work } : {}),
  });
  let run: ClientRun;
  try {
    const load = { sessions, size: 64, seconds, cpus: cpus.client };
    run = driver === "iobench" ? runIobenchClient(server, load) : runReferenceClient(server, { ...load, warmupSec: 1 });
  } catch (err) {
    await server.stop();
    throw err;
  }
  const stopped = await server.stop();
  const port = stopped?.["port"] as Partial<PortStats> | undefined;
  const sleeps = port === undefined ? null : ((port.enterWaits ?? NaN) + (port.futexWaits ?? NaN)) / (port.completions ?? NaN);
  return { ...run, maxRunning: port?.maxRunning ?? null, sleepsPerCompletion: sleeps, released: port?.released ?? null };
}

function note(name: string, r: ClientRun & { maxRunning?: number | null }): void {
  const workers = r.maxRunning === undefined || r.maxRunning === null ? null : groupSwitches(r, "port workers");
  const sw = `${r.serverSwitchesPerMessage?.toFixed(4) ?? "-"}${workers === null ? "" : ` (port workers ${workers.toFixed(5)})`}`;
  const max = r.maxRunning === undefined || r.maxRunning === null ? "" : `, most running ${r.maxRunning}`;
  process.stderr.write(`  ${name}: ${r.messagesPerSec.toFixed(0)} msg/s, ${r.serverCpuUsPerMessage?.toFixed(2) ?? "-"} µs/msg, ${sw} switches/msg${max}` +
    `${r.clientSaturated ? " (CLIENT SATURATED)" : ""}${r.errors > 0 ? ` ERRORS ${r.errors}` : ""}\n`);
}

/** What a server thread is, by its name (servers/iocp.ts names the model's own threads). */
const GROUPS = ["port workers", "acceptor", "main", "Node helpers", "io_uring io-wq"] as const;
type Group = (typeof GROUPS)[number];
function groupOf(name: string): Group {
  if (name.startsWith("iocp-worker-")) return "port workers";
  if (name === "iocp-acceptor") return "acceptor";
  if (name.startsWith("iou-")) return "io_uring io-wq"; // the kernel's workers for operations it could not finish inline
  return name === "main" ? "main" : "Node helpers";
}

/** A run's switches per message of one group of server threads (null when the run read no per-thread counts). */
function groupSwitches(r: ClientRun, g: Group): number | null {
  if (r.serverSwitchesByThread === null) return null;
  return Object.entries(r.serverSwitchesByThread).reduce((sum, [name, v]) => sum + (groupOf(name) === g ? v.total : 0), 0);
}

/**
 * A run's switches per message of the worker that switched most, and of all
 * the others together. Below the concurrency value's count of workers the
 * port keeps the surplus parked (LIFO: the newest waiter polls, the same
 * worker keeps coming back for the next batch), so at concurrency 1 the
 * busiest is the one running worker and the rest is what the surplus costs.
 */
function busiestAndRest(r: ClientRun): { busiest: ContextSwitches; rest: number } | null {
  if (r.serverSwitchesByThread === null) return null;
  const workers = Object.entries(r.serverSwitchesByThread).filter(([name]) => groupOf(name) === "port workers").map(([, v]) => v);
  const busiest = workers.reduce((a, b) => (b.total > a.total ? b : a), { voluntary: 0, involuntary: 0, total: 0 });
  return { busiest, rest: workers.reduce((a, b) => a + b.total, 0) - busiest.total };
}

/**
 * Per-round ratios of the port workers' switches per message, a / b, each
 * counted one switch more: a worker at concurrency 1 under steady load may
 * not switch at all in a window, and "0 against 3" is then "1 against 4",
 * not infinitely many times (claims.ts floors the same way).
 */
function workerRatios(a: readonly ClientRun[], b: readonly ClientRun[]): number[] {
  const floored = (r: ClientRun | undefined): number => (r === undefined ? NaN : ((groupSwitches(r, "port workers") ?? NaN) * r.messages + 1) / r.messages);
  return a.map((r, i) => floored(r) / floored(b[i]));
}

function column(results: Map<string, Measured[]> | Map<string, ClientRun[]>, name: string, pick: (r: ClientRun) => number | null): number[] {
  return (results.get(name) ?? []).map((r) => pick(r) ?? NaN);
}

/** The most workers the port ever counted running over the rounds ("-" for a model without a port). */
function mostRunning(rs: readonly Measured[]): string {
  const known = rs.map((r) => r.maxRunning).filter((m): m is number => m !== null);
  return known.length === 0 ? "-" : String(Math.max(...known));
}

async function threadsPart(): Promise<void> {
  buildReference();
  const configs: Record<string, Config> = {
    "iocp t=1": { threads: 1, completionPort: lifo() },
    "iocp t=8": { threads: 8, completionPort: lifo() },
    "herd t=8": { threads: 8, completionPort: herd },
    ...(goalOnly ? {} : { "iocp t=2 c=2": { threads: 2, completionPort: lifo(2) }, "iocp t=8 c=2": { threads: 8, completionPort: lifo(2) } }),
  };
  const drivers = (["iobench", "pingpong"] as const).filter((d) => onlyDriver === undefined || d === onlyDriver);
  if (drivers.length === 0) throw new Error(`--driver ${onlyDriver}: iobench or pingpong`);
  const names = drivers.flatMap((d) => Object.keys(configs).map((c) => `${c} / ${d}`));
  const results = await interleaved(names, rounds, async (name, round) => {
    const [config, driver] = name.split(" / ") as [string, Driver];
    const r = await measureIocp(configs[config]!, 256, driver);
    note(`round ${round + 1} ${name}`, r);
    return r;
  });
  console.log(`iocp, 256 sessions of 64 B, ${seconds} s, server on CPU ${cpus.server} (concurrency default = its CPUs = 1), client on CPU ${cpus.client}; median [interval of the median, its coverage] of ${rounds} rounds`);
  for (const d of drivers) {
    const runs = (n: string): Measured[] => results.get(`${n} / ${d}`) ?? [];
    const switches = (n: string): number[] => column(results, `${n} / ${d}`, (r) => r.serverSwitchesPerMessage);
    const workers = (n: string): number[] => column(results, `${n} / ${d}`, (r) => groupSwitches(r, "port workers"));
    const rate = (n: string): number[] => column(results, `${n} / ${d}`, (r) => r.messagesPerSec);
    console.log(`\n${d} client:\n`);
    console.log(`| configuration | msg/s | server switches/msg | ${GROUPS.join(" | ")} | busiest worker | its waits (voluntary) | its preemptions | other workers | server µs/msg | most running | port waits/completion | released | client saturated |`);
    console.log(`|---|---|---|${GROUPS.map(() => "---|").join("")}---|---|---|---|---|---|---|---|---|`);
    for (const n of Object.keys(configs)) {
      const rs = runs(n);
      const cpu = median(column(results, `${n} / ${d}`, (r) => r.serverCpuUsPerMessage)).toFixed(2);
      const groups = GROUPS.map((g) => median(rs.map((r) => groupSwitches(r, g) ?? NaN)).toFixed(5));
      const busiest = (k: keyof ContextSwitches): string => median(rs.map((r) => busiestAndRest(r)?.busiest[k] ?? NaN)).toFixed(5);
      const rest = median(rs.map((r) => busiestAndRest(r)?.rest ?? NaN)).toFixed(5);
      console.log(`| ${n} | ${median(rate(n)).toFixed(0)} | ${interval(switches(n), 5)} | ${groups.join(" | ")} | ${busiest("total")} | ${busiest("voluntary")} | ${busiest("involuntary")} | ${rest} | ${cpu} | ${mostRunning(rs)} | ${median(rs.map((r) => r.sleepsPerCompletion ?? NaN)).toFixed(4)} | ${median(rs.map((r) => r.released ?? NaN)).toFixed(0)} | ${rs.filter((r) => r.clientSaturated).length} of ${rs.length} |`);
    }
    // The goal is about the port's threads: Node's main and helper threads and the acceptor switch as often whatever the worker count.
    const sw = workerRatios(runs("iocp t=8"), runs("iocp t=1"));
    const whole = ratios(switches("iocp t=8"), switches("iocp t=1"));
    const mps = ratios(rate("iocp t=8"), rate("iocp t=1"));
    console.log(`\nper-round ratios, 8 workers / 1 (= the concurrency value), ${d} client:`);
    console.log(`  port workers' switches/msg (+1 switch each) ${interval(sw)}  ${goal(sw, "<=", 1.5)}`);
    console.log(`  whole process switches/msg                 ${interval(whole)}  ${goal(whole, "<=", 1.5)}`);
    console.log(`  msg/s                                      ${interval(mps)}  ${goal(mps, ">=", 0.9)}`);
    // The direct ratio compares two windows of one running worker whose waits (the ring ran dry) swing with the client's pace; what the 7 more workers add is their own switches, counted in the same window.
    const one = runs("iocp t=1");
    const surplus = runs("iocp t=8").map((r, i) => {
      const base = one[i] === undefined ? null : groupSwitches(one[i], "port workers");
      const rest = busiestAndRest(r)?.rest ?? null;
      return base === null || rest === null ? NaN : 1 + rest / base;
    });
    const rest8 = runs("iocp t=8").map((r) => busiestAndRest(r)?.rest ?? NaN);
    const busy = ratios(runs("iocp t=8").map((r) => busiestAndRest(r)?.busiest.total ?? NaN), workers("iocp t=1"));
    const busyKind = (k: "voluntary" | "involuntary"): number[] =>
      ratios(runs("iocp t=8").map((r) => busiestAndRest(r)?.busiest[k] ?? NaN), runs("iocp t=1").map((r) => busiestAndRest(r)?.busiest[k] ?? NaN));
    console.log(`  the 7 workers beyond the concurrency value: ${interval(rest8, 6)} switches/msg; (1 worker's + theirs) / 1 worker's ${interval(surplus)}  ${goal(surplus, "<=", 1.5)}`);
    console.log(`  the running worker at t=8 / the one at t=1 (same code path, different windows): ${interval(busy)}; its waits ${interval(busyKind("voluntary"))}, its preemptions ${interval(busyKind("involuntary"))}`);
    const added = (pick: (n: string) => number[], n: string): number[] => pick(n).map((x, i) => x - (pick("iocp t=1")[i] ?? NaN));
    console.log(`  switches/msg added by 7 more workers: port workers ${interval(added(workers, "iocp t=8"), 5)}, whole process ${interval(added(switches, "iocp t=8"), 5)}; herd: port workers ${interval(added(workers, "herd t=8"), 5)}`);
    console.log(`  herd, 8 workers / port with 1: port workers' switches/msg ${interval(workerRatios(runs("herd t=8"), runs("iocp t=1")))}, whole process ${interval(ratios(switches("herd t=8"), switches("iocp t=1")))}, msg/s ${interval(ratios(rate("herd t=8"), rate("iocp t=1")))}`);
    if (!goalOnly) console.log(`  concurrency 2, 8 workers / 2: port workers' switches/msg ${interval(workerRatios(runs("iocp t=8 c=2"), runs("iocp t=2 c=2")))}, whole process ${interval(ratios(switches("iocp t=8 c=2"), switches("iocp t=2 c=2")))}, msg/s ${interval(ratios(rate("iocp t=8 c=2"), rate("iocp t=2 c=2")))}`);
  }
}

async function dbWorkPart(): Promise<void> {
  const work = { kind: "block" as const, durationUs: 2000, messageBytes: 64 };
  const configs: Record<string, Config> = {
    "told t=16": { threads: 16, completionPort: lifo(0, true), work },
    "untold t=16": { threads: 16, completionPort: lifo(0, false), work },
    "herd t=16": { threads: 16, completionPort: herd, work },
    // The same 16 threads blocking with no port at all: what this machine gives 16 Node threads that each block 2 ms.
    "blocking t=16": { model: "blocking", threads: 16, work },
  };
  const sessions = 64; // 4 per worker in flight: 16 blocked workers always have a next message
  const results = await interleaved(Object.keys(configs), rounds, async (name, round) => {
    const r = await measureIocp(configs[name]!, sessions);
    note(`round ${round + 1} ${name}`, r);
    return r;
  });
  const bound = 16 / 0.002;
  console.log(`db-work: block:2ms per message, iocp 16 workers, concurrency = the server's CPUs (1), ${sessions} sessions, ${seconds} s; median [interval of the median, its coverage] of ${rounds} rounds; bound 16 / 2 ms = ${bound} msg/s`);
  console.log("| configuration | msg/s | of the bound | most running |");
  console.log("|---|---|---|---|");
  for (const n of Object.keys(configs)) {
    const rate = column(results, n, (r) => r.messagesPerSec);
    const rs = results.get(n) ?? [];
    console.log(`| ${n} | ${interval(rate, 0)} | ${(median(rate) / bound).toFixed(3)} | ${mostRunning(rs)} |`);
  }
  const told = column(results, "told t=16", (r) => r.messagesPerSec);
  const ofBound = told.map((x) => x / bound);
  console.log(`\ntold, of the bound: ${interval(ofBound)}  ${goal(ofBound, ">=", 0.8)}`);
  console.log(`told / untold, per round: ${interval(ratios(told, column(results, "untold t=16", (r) => r.messagesPerSec)))}`);
}

async function cpuPart(): Promise<void> {
  buildReference();
  const servers: (Yardstick | "iocp")[] = ["c-epoll", "c-uring", "iocp"];
  const drivers = ["iobench", "pingpong"] as const;
  const names = drivers.flatMap((d) => servers.map((s) => `${s} / ${d}`));
  const load = { sessions: 256, size: 64, seconds, cpus: cpus.client, warmupSec: 1 };
  const results = await interleaved(names, rounds, async (name, round) => {
    const [server, driver] = name.split(" / ") as [Yardstick | "iocp", (typeof drivers)[number]];
    const s: StartedServer = server === "iocp" ? await startModelServer("iocp", 1, cpus.server) : await startReferenceServer(cpus.server, server);
    try {
      const r = driver === "iobench" ? runIobenchClient(s, load) : runReferenceClient(s, load);
      note(`round ${round + 1} ${name}`, r);
      return r;
    } finally {
      await s.stop();
    }
  });
  const cpu = (n: string): number[] => column(results, n, (r) => r.serverCpuUsPerMessage);
  console.log(`server CPU µs per message, one server thread on CPU ${cpus.server}, 256 sessions of 64 B, ${seconds} s, client on CPU ${cpus.client}; median [interval of the median, its coverage] of ${rounds} rounds`);
  console.log("| driver | C epoll | C io_uring | iocp | C io_uring / C epoll | iocp / C epoll | iocp / C io_uring |");
  console.log("|---|---|---|---|---|---|---|");
  for (const d of drivers) {
    const [e, u, i] = servers.map((s) => cpu(`${s} / ${d}`)) as [number[], number[], number[]];
    const rate = (s: string): string => median(column(results, `${s} / ${d}`, (r) => r.messagesPerSec)).toFixed(0);
    console.log(`| ${d} | ${median(e).toFixed(2)} (${rate("c-epoll")}/s) | ${median(u).toFixed(2)} (${rate("c-uring")}/s) | ${median(i).toFixed(2)} (${rate("iocp")}/s) | ${interval(ratios(u, e))} | ${interval(ratios(i, e))} | ${interval(ratios(i, u))} |`);
  }
  for (const d of drivers) {
    const r = ratios(cpu(`iocp / ${d}`), cpu(`c-uring / ${d}`));
    console.log(`iocp / C io_uring with the ${d} client: ${interval(r)}  ${goal(r, "<=", 1.15)}`);
  }
}

const parts: Record<string, () => Promise<void>> = { threads: threadsPart, "db-work": dbWorkPart, cpu: cpuPart };
const run = part === undefined ? undefined : parts[part];
if (run === undefined) {
  process.stderr.write(`usage: npm run bench:port -- --part ${Object.keys(parts).join("|")} [--rounds N] [--seconds S]\n`);
  process.exit(2);
}
await run();
