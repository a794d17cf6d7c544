/**
 * Simulated sweeps for the verdict rules' error rates: pure and seeded, no
 * server, no clock. Each simulated sweep makes results.json runs whose
 * figures are a true value times log-normal noise (per run, plus a drift
 * shared by every run of a round, which pairing cancels), and hands them
 * to the real rules: judgeClaims (reports/claims.ts) and judge
 * (reports/verdict.ts). bench/verdicts.ts prints the rates; the tests in
 * test/verdict-rates.test.ts hold the rules to them.
 */
import { judgeClaims, type Verdict } from "../reports/claims.js";
import { groupRuns } from "../reports/samples.js";
import type { Figures, OkRun, ResultsFile, RunConfig, RunFlag, ThreadsSetting } from "../reports/schema.js";
import { SEED_LOAD } from "../reports/schema.js";
import { seededNormal } from "../reports/stats.js";
import { summariseRuns } from "../reports/summary.js";
import { DEFAULT_THRESHOLDS, judge, type Overall } from "../reports/verdict.js";

/** Run-to-run noise: the sd of a figure's logarithm per run, and of a drift shared by a round (≈ the relative noise). */
export interface Noise {
  perRun: number;
  drift: number;
}

/** One simulated configuration: what it is and its true figures. */
interface SimConfig {
  model: string;
  threads: ThreadsSetting;
  connections?: number;
  accept?: "poll" | "ring";
  work?: { kind: "block"; durationUs: number };
  loadName?: string;
  messagesPerSession?: number;
  part?: string;
  /** True values; null = not measured. */
  rate: number;
  cpuUs: number;
  switchesPerMessage: number;
  firstEchoP99Us: number | null;
  /** Flags every run of it carries (e.g. CLIENT-SATURATED). */
  flags?: RunFlag[];
}

function figures(rate: number, cpuUs: number, switchesPerMessage: number, p99Us: number, firstEchoP99Us: number | null, flags: RunFlag[]): Figures {
  const messages = Math.round(rate * 2);
  const latency = { count: messages, min: 1, p50: p99Us / 2, p90: p99Us / 1.2, p99: p99Us, p99_9: p99Us * 1.5, max: p99Us * 2, mean: p99Us / 2 };
  const histogram = { encoding: "hdrhistogram-v2-compressed-base64" as const, unit: "us" as const, data: "" };
  const none = { connect: 0, reset: 0, timeout: 0, mismatch: 0, closedEarly: 0, total: 0 };
  const switches = switchesPerMessage * messages;
  return {
    durationSec: 2,
    warmupSec: 1,
    messages,
    bytes: messages * 64,
    messagesPerSec: rate,
    bytesPerSec: rate * 64,
    latencyUs: latency,
    latencyUncorrectedUs: null,
    latencyUncorrectedHistogram: null,
    openLoop: null,
    connectLatencyUs: null,
    firstEchoLatencyUs: firstEchoP99Us === null ? null : { ...latency, p99: firstEchoP99Us },
    latencyHistogram: histogram,
    connectLatencyHistogram: histogram,
    errors: none,
    errorsTotal: none,
    sessionsConnected: 64,
    sessionsServed: 64,
    sessionsNotServed: 0,
    sessionsTimedOut: 0,
    connects: 0,
    connectsPerSec: 0,
    connectsTotal: 64,
    serverCpuSeconds: (cpuUs * messages) / 1e6,
    serverCpuUsPerMessage: cpuUs,
    serverContextSwitches: { voluntary: switches, involuntary: 0, total: switches },
    serverContextSwitchesPerMessage: { voluntary: switchesPerMessage, involuntary: 0, total: switchesPerMessage },
    serverRssBytes: null,
    serverPeakRssBytes: null,
    serverThreadCount: null,
    clientCpuSeconds: 1,
    clientUsableCores: 1,
    clientCpuUtilisation: 0.5,
    clientThreadMaxUtilisation: 0.5,
    clientSaturated: flags.includes("CLIENT-SATURATED"),
    clientSaturatedReason: null,
    timeline: { intervalMs: 500, messages: [], measureStartIndex: 0 },
    flags,
  };
}

/** A simulated sweep: every configuration once per round, each figure with its own noise. */
export function simulateSweep(configs: readonly SimConfig[], rounds: number, noise: Noise, seed: number): ResultsFile {
  const z = seededNormal(seed);
  const runs: OkRun[] = [];
  for (let round = 1; round <= rounds; round++) {
    const drift = noise.drift * z();
    for (const c of configs) {
      const n = (): number => Math.exp(drift + noise.perRun * z());
      const config: RunConfig = {
        index: runs.length,
        repeat: round,
        ...(c.part !== undefined ? { part: c.part } : {}),
        model: c.model,
        threads: c.threads,
        connections: c.connections ?? 256,
        sizeBytes: 64,
        load: { ...SEED_LOAD, scenario: c.loadName ?? null, messagesPerSession: c.messagesPerSession ?? 0, targetRatePerSessionPerSec: null, targetRateTotalPerSec: null },
        clientThreads: 1,
        durationSec: 2,
        warmupSec: 1,
        timeoutMs: 5000,
        host: "127.0.0.1",
        port: null,
        bufferBytes: 65536,
        accept: c.accept ?? "poll",
        work: c.work === undefined ? null : { ...c.work, messageBytes: 64 },
        pinning: { serverCpus: [1], clientCpus: [0] },
      };
      // Throughput and the per-message costs move against each other when the machine slows (the drift), each with its own noise.
      const f = figures(c.rate * n(), c.cpuUs / n(), c.switchesPerMessage * n(), 1000 / n(), c.firstEchoP99Us === null ? null : c.firstEchoP99Us / n(), [...(c.flags ?? [])]);
      runs.push({ status: "ok", config, figures: f, startedAt: "2026-01-01T00:00:00.000Z" });
    }
  }
  const environment = { cpuModel: "sim", cores: 2, usableCores: 2, memoryBytes: 0, kernel: "", node: "", platform: "", gitCommit: null, gitDirty: null, nofileLimit: null, clockTicksPerSec: 100 };
  return {
    schema: "iobench.results",
    version: 1,
    createdAt: "",
    updatedAt: "",
    complete: true,
    tool: { name: "iobench", version: "sim" },
    environment,
    options: {
      models: [],
      threads: [],
      connections: [256],
      sizesBytes: [64],
      durationSec: 2,
      warmupSec: 1,
      repeats: rounds,
      clientThreads: null,
      clientEngine: null,
      timeoutMs: 5000,
      target: null,
      serverPid: null,
      serverCpus: [1],
      clientCpus: [0],
      host: "127.0.0.1",
      bufferBytes: 65536,
      accept: "poll",
      out: "",
      json: false,
      load: SEED_LOAD,
      scenario: null,
    },
    runs,
  };
}

/** The four claims' verdicts for a simulated sweep. */
export function claimVerdicts(results: ResultsFile): Verdict[] {
  return judgeClaims(results, summariseRuns(results)).map((c) => c.verdict);
}

/** A claim rule, a true effect and what a simulated sweep of it looks like. */
export interface ClaimCase {
  claim: 1 | 2 | 3 | 4;
  /** What the true effect is, in words (a table row). */
  truth: string;
  /** Whether the claim is true at this effect (for the error-rate columns); null = at the margin, neither. */
  claimTrue: boolean | null;
  configs: SimConfig[];
}

const BLOCK = { kind: "block" as const, durationUs: 2000 };

/** Claim 2, on throughput: iocp at 2 and 4 threads change msg/s by `effect` against 1 thread (the server's CPU). */
export function claim2Throughput(effect: number): ClaimCase {
  const base = { model: "iocp", rate: 100_000, cpuUs: 5, switchesPerMessage: 0.01, firstEchoP99Us: null };
  return {
    claim: 2,
    truth: `more threads ${signed(effect)} msg/s`,
    claimTrue: effect < 0.1 - 1e-9 ? true : effect > 0.1 + 1e-9 ? false : null,
    configs: [
      { ...base, threads: 1 },
      { ...base, threads: 2, rate: base.rate * (1 + effect) },
      { ...base, threads: 4, rate: base.rate * (1 + effect) },
    ],
  };
}

/** Claim 2, with a saturated client: throughput cannot decide, CPU per message does; more threads change it by `effect`. */
export function claim2Cpu(effect: number): ClaimCase {
  const base = { model: "iocp", rate: 100_000, cpuUs: 5, switchesPerMessage: 0.01, firstEchoP99Us: null, flags: ["CLIENT-SATURATED" as RunFlag] };
  return {
    claim: 2,
    truth: `client-bound; more threads ${signed(effect)} CPU/msg`,
    claimTrue: effect > -0.1 + 1e-9 ? true : effect < -0.1 - 1e-9 ? false : null,
    configs: [
      { ...base, threads: 1 },
      { ...base, threads: 2, cpuUs: base.cpuUs * (1 + effect) },
      { ...base, threads: 4, cpuUs: base.cpuUs * (1 + effect) },
    ],
  };
}

/** Claim 1: iocp's switches per message are `ratio` times a thread per connection's. */
export function claim1Case(ratio: number): ClaimCase {
  const common = { connections: 64, part: "claim 1", rate: 50_000, cpuUs: 10, firstEchoP99Us: null };
  return {
    claim: 1,
    truth: `iocp switches ×${ratio} of per-connection's`,
    claimTrue: ratio < 0.9 - 1e-9 ? true : ratio > 0.9 + 1e-9 ? false : null,
    configs: [
      { ...common, model: "iocp", threads: 1, switchesPerMessage: 1 * ratio },
      { ...common, model: "blocking", threads: "per-connection", switchesPerMessage: 1 },
    ],
  };
}

/** Claim 3: the polling accept's first-echo p99 is `ratio` times the ring accept's. */
export function claim3Case(ratio: number): ClaimCase {
  const common = { model: "completion-routine", threads: 1, connections: 64, part: "claim 3", loadName: "connect-storm", messagesPerSession: 1, rate: 20_000, cpuUs: 20, switchesPerMessage: 0.1 };
  return {
    claim: 3,
    truth: `polling first echo ×${ratio} of ring's`,
    claimTrue: ratio > 1.1 + 1e-9 ? true : ratio < 1.1 - 1e-9 ? false : null,
    configs: [
      { ...common, accept: "poll", firstEchoP99Us: 1000 * ratio },
      { ...common, accept: "ring", firstEchoP99Us: 1000 },
    ],
  };
}

/** Claim 4: under block:2ms, 4 threads give `threadGain` times 1 thread's msg/s; epoll gives `modelGain` times iocp's. */
export function claim4Case(threadGain: number, modelGain: number): ClaimCase {
  const common = { connections: 64, part: "claim 4", work: BLOCK, loadName: "db-work", cpuUs: 30, switchesPerMessage: 1, firstEchoP99Us: null };
  return {
    claim: 4,
    truth: `threads ×${threadGain}, model ×${modelGain}`,
    claimTrue: threadGain > modelGain ? true : threadGain < modelGain ? false : null,
    configs: [
      { ...common, model: "epoll", threads: 1, rate: 500 * modelGain },
      { ...common, model: "epoll", threads: 4, rate: 500 * threadGain * modelGain },
      { ...common, model: "iocp", threads: 1, rate: 500 },
      { ...common, model: "iocp", threads: 4, rate: 500 * threadGain },
    ],
  };
}

function signed(x: number): string {
  return `${x >= 0 ? "+" : "−"}${Math.round(Math.abs(x) * 100)}%`;
}

/** Verdict counts of one case over `sweeps` simulated sweeps. */
export function claimRates(c: ClaimCase, rounds: number, noise: Noise, sweeps: number, seed = 1): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { supported: 0, "not supported": 0, inconclusive: 0, "not tested": 0 };
  for (let i = 0; i < sweeps; i++) counts[claimVerdicts(simulateSweep(c.configs, rounds, noise, seed * 1_000_003 + i))[c.claim - 1]!]++;
  return counts;
}

/** The check on simulated sides: `change` is the candidate's true relative change of msg/s (lower is worse) and of CPU per message. */
export function checkRates(change: number, paired: boolean, repeats: number, noise: Noise, trials: number, seed = 1): Record<Overall, number> {
  const counts: Record<Overall, number> = { regressed: 0, improved: 0, "within-noise": 0, invalid: 0 };
  const one: SimConfig = { model: "epoll", threads: 1, rate: 30_000, cpuUs: 8, switchesPerMessage: 0.05, firstEchoP99Us: null };
  for (let i = 0; i < trials; i++) {
    const s = seed * 1_000_003 + i;
    // Paired: both sides share each round's drift (interleaved rounds); unpaired: each side drifts on its own.
    const worse = { ...one, rate: one.rate * (1 + change), cpuUs: one.cpuUs / (1 + change) };
    const both = simulateSweep([one, worse], repeats, noise, s);
    const b = paired ? sideOf(both, 0) : simulateSweep([one], repeats, noise, s);
    const c = paired ? sideOf(both, 1) : simulateSweep([worse], repeats, noise, s ^ 0x5bd1e995);
    const outcome = judge(groupRuns(b.runs), groupRuns(c.runs), { paired, thresholds: DEFAULT_THRESHOLDS });
    counts[outcome.overall]++;
  }
  return counts;
}

/** The runs of the k-th configuration of a sweep, renumbered as a sweep of their own. */
function sideOf(r: ResultsFile, k: number): ResultsFile {
  const per = r.runs.length / r.options.repeats;
  const runs = r.runs.filter((x) => x.config.index % per === k).map((x, i) => ({ ...x, config: { ...x.config, index: i } }));
  return { ...r, runs };
}
