/**
 * The chapter's claims (DESIGN.md, claims 1–4) judged against one sweep.
 * Pure: summaries in, verdicts out. Conservative on purpose: a claim is
 * "supported" only when the runs that bear on it exist, were not limited by
 * the client, and differ by more than their noise; when a needed run is
 * missing the verdict is "not tested" and names the run that would test it.
 *
 * "Clearly" below means the whole 95 % interval of one median lies below the
 * other's and the gap exceeds NOISE_MARGIN. A figure measured once has no
 * interval at all (one run on a shared machine can be off by tens of per
 * cent), so a claim that rests on single repeats is "not tested".
 */
import { compareThreads, configLabel, serverCores } from "./summary.js";
import type { ConfigSummary } from "./summary.js";
import type { ResultsFile } from "./schema.js";
import type { Spread } from "./stats.js";
import { maxRates, withoutCurvePoints } from "./curves.js";
import type { MaxRate } from "./curves.js";

/** Relative gap two medians must exceed, beyond their intervals, to count as a difference. */
export const NOISE_MARGIN = 0.05;

export type Verdict = "supported" | "not supported" | "not tested";

/** One claim, what the sweep measured for it and the verdict. */
export interface ClaimResult {
  id: 1 | 2 | 3 | 4;
  /** The claim, as DESIGN.md words it. */
  claim: string;
  verdict: Verdict;
  /** What the sweep measured that bears on the claim, one line each. */
  measured: string[];
  /** Why the verdict, in one sentence. */
  reason: string;
  /** The bench command line that would test it (better), or null when this sweep did. */
  testWith: string | null;
}

export const CLAIMS: Record<ClaimResult["id"], string> = {
  1: "A completion port serves many connections with few threads, so it avoids the cost of context switches.",
  2: "The usual thread count is the CPU count; more threads than needed do not help.",
  3: "The completion-routine server's polling accept() plus SleepEx(100) loop costs performance.",
  4: "Neither epoll nor IOCP wins absolutely; inefficient I/O structure or slow blocking work per message matter more.",
};

/** `a` lies clearly below `b` (see the file comment). */
export function clearlyBelow(a: Spread, b: Spread): boolean {
  return a.ciHigh < b.ciLow && a.median * (1 + NOISE_MARGIN) < b.median;
}

function fmt(x: number): string {
  if (x >= 100) return Math.round(x).toLocaleString("en-US");
  if (x >= 1) return x.toFixed(1);
  return x.toPrecision(2);
}

/** "41,093 [CI 40,100–42,000, n=3]" */
export function describe(s: Spread | null, unit = ""): string {
  if (s === null) return "not measured";
  const ci = s.n > 1 ? ` [95% CI ${fmt(s.ciLow)}–${fmt(s.ciHigh)}, n=${s.n}]` : " (1 repeat)";
  return `${fmt(s.median)}${unit}${ci}`;
}

/** Same connections, size and work: the only differences left are model and threads. */
function sameLoad(a: ConfigSummary, b: ConfigSummary): boolean {
  return a.connections === b.connections && a.sizeBytes === b.sizeBytes && a.work === b.work;
}

const usable = (s: ConfigSummary): boolean => s.validRuns > 0;
/** Repeats a figure needs before it can support or refute a claim. */
export const MIN_REPEATS = 2;
const SINGLE_REASON = `some figures this claim needs were measured fewer than ${MIN_REPEATS} times, so they have no confidence interval to judge by`;
const once = (...spreads: (Spread | null)[]): boolean => spreads.some((x) => x !== null && x.n < MIN_REPEATS);
const threadsText = (t: ConfigSummary["threads"]): string => (t === 1 ? "1 thread" : `${String(t)} threads`);
const saturated = (...s: ConfigSummary[]): boolean => s.some((x) => x.clientSaturatedRuns > 0);
const SATURATED_REASON = "the client was the bottleneck (CLIENT-SATURATED) in runs this claim needs, so their throughput is a floor, not the server's";
const PINNED = "--server-cpus 0 --client-cpus 1";

function result(id: ClaimResult["id"], verdict: Verdict, measured: string[], reason: string, testWith: string | null): ClaimResult {
  return { id, claim: CLAIMS[id], verdict, measured, reason, testWith };
}

/**
 * Claim 1: at "few threads" (no more than the server's CPUs; more is claim
 * 2's question), iocp serves every session, and switches context clearly
 * less per message than the blocking model at the same thread count and load.
 */
export function claim1(summaries: readonly ConfigSummary[], cores: number): ClaimResult {
  const testWith = "npm run bench -- --model iocp,blocking --threads 1,2 --connections 256 --repeats 3";
  const pairs = summaries
    .filter((s) => s.model === "iocp" && typeof s.threads === "number" && s.threads <= cores && usable(s) && s.connections >= 4 * s.threads)
    .flatMap((iocp) => {
      const blocking = summaries.find((b) => b.model === "blocking" && b.threads === iocp.threads && sameLoad(b, iocp) && usable(b));
      return blocking !== undefined && iocp.contextSwitchesPerMessage !== null && blocking.contextSwitchesPerMessage !== null
        ? [{ iocp, blocking, a: iocp.contextSwitchesPerMessage, b: blocking.contextSwitchesPerMessage }]
        : [];
    });
  if (pairs.length === 0) {
    return result(1, "not tested", [], `needs iocp and blocking runs at the same thread count (at most the ${cores} CPU(s)) with many more connections than threads`, testWith);
  }
  const served = (s: ConfigSummary): string => (s.sessionsServed === null ? "" : `, sessions served ${Math.round(s.sessionsServed.median)}/${s.connections}`);
  const measured = pairs.map(
    (p) =>
      `${threadsText(p.iocp.threads)}, ${p.iocp.connections} conns: context switches/msg iocp ${describe(p.a)}${served(p.iocp)} vs blocking ${describe(p.b)}${served(p.blocking)}`,
  );
  if (once(...pairs.flatMap((p) => [p.a, p.b]))) return result(1, "not tested", measured, SINGLE_REASON, testWith);
  const unserved = pairs.filter((p) => p.iocp.unservedRuns > 0);
  if (unserved.length > 0) {
    return result(1, "not supported", measured, `iocp left sessions unserved at ${unserved.map((p) => threadsText(p.iocp.threads)).join(", ")}`, null);
  }
  const lower = pairs.filter((p) => clearlyBelow(p.a, p.b));
  if (lower.length === pairs.length) {
    return result(1, "supported", measured, `iocp served every session and switched context clearly less per message than blocking at every thread count up to the CPUs (${pairs.map((p) => p.iocp.threads).join(", ")})`, null);
  }
  const higher = pairs.filter((p) => clearlyBelow(p.b, p.a));
  const reason =
    higher.length > 0
      ? `iocp switched context more per message than blocking at ${higher.map((p) => threadsText(p.iocp.threads)).join(", ")}`
      : "iocp and blocking context switches per message are within noise of each other at some thread count";
  return result(1, "not supported", measured, reason, null);
}

/**
 * Claim 2 from searches (--find-max-rate): iocp's highest rate meeting the
 * objective at as many threads as cores and at more. Lines for `measured`,
 * and whether more threads clearly helped: the whole interval of the limit
 * at more threads (its lowest rate found) above the whole interval at the
 * CPU count (its highest rate missed).
 */
function claim2AtObjective(rates: readonly MaxRate[], cores: number, objective: string): { measured: string[]; helpedAt: number[] } {
  const iocp = rates.filter((r) => r.model === "iocp" && r.foundPerSec !== null && !r.clientLimited);
  const base = iocp.find((r) => r.threads === cores);
  const more = iocp.filter((r) => typeof r.threads === "number" && r.threads > cores && base !== undefined && r.connections === base.connections && r.sizeBytes === base.sizeBytes && r.work === base.work);
  if (base === undefined || more.length === 0) return { measured: [], helpedAt: [] };
  const line = (r: MaxRate): string =>
    `iocp at ${threadsText(r.threads)}: highest rate meeting ${objective} ${fmt(r.foundPerSec!)} msg/s (limit between ${fmt(r.lowPerSec!)} and ${r.highPerSec === null ? "not missed" : fmt(r.highPerSec)}, ${r.searches.length} search(es))`;
  return {
    measured: [line(base), ...more.map(line)],
    helpedAt: more.filter((r) => base.highPerSec !== null && r.lowPerSec! > base.highPerSec).map((r) => r.threads as number),
  };
}

/**
 * Claim 2: for the completion port, throughput at more threads than cores is
 * no better than at as many threads as cores. When searches ran, the highest
 * rate meeting the objective bears on it too: more threads that clearly raise
 * it refute the claim whatever the closed-loop msg/s say.
 */
export function claim2(summaries: readonly ConfigSummary[], cores: number, pinned = false, rates: readonly MaxRate[] = [], objective = ""): ClaimResult {
  const slo = claim2AtObjective(rates, cores, objective);
  const verdict = claim2ClosedLoop(summaries, cores, pinned);
  if (slo.measured.length === 0) return verdict;
  const measured = [...verdict.measured, ...slo.measured];
  if (slo.helpedAt.length > 0) {
    return { ...verdict, verdict: "not supported", measured, reason: `more threads than CPUs raised iocp's highest rate meeting ${objective} clearly (at ${slo.helpedAt.join(", ")} threads)`, testWith: null };
  }
  return { ...verdict, measured };
}

function claim2ClosedLoop(summaries: readonly ConfigSummary[], cores: number, pinned: boolean): ClaimResult {
  // Pinned to one server CPU, 1 thread is "as many as CPUs" and 2, 4 are more, on any machine with two CPUs or more.
  const testWith = `npm run bench -- --model iocp --threads 1,2,4 --repeats 3 ${PINNED}`;
  // Unpinned, the client's threads compete with the server's for the same CPUs: "as many threads as CPUs" is blurred.
  const sharing = pinned ? "" : "; the server shared its CPUs with the client (not pinned)";
  const firmer = pinned ? null : testWith;
  const iocp = summaries.filter((s) => s.model === "iocp" && usable(s) && s.messagesPerSec !== null);
  const atCores = iocp.filter((s) => s.threads === cores);
  const pairs = atCores.flatMap((base) =>
    iocp.filter((s) => typeof s.threads === "number" && s.threads > cores && sameLoad(s, base)).map((more) => ({ base, more })),
  );
  if (pairs.length === 0) {
    return result(2, "not tested", [], `needs iocp runs at ${threadsText(cores)} (the server's CPUs) and at more threads, same load`, testWith);
  }
  pairs.sort((x, y) => compareThreads(x.more.threads, y.more.threads));
  const measured = [
    `iocp at ${threadsText(cores)} (= CPUs): ${describe(pairs[0]!.base.messagesPerSec, " msg/s")}`,
    ...pairs.map((p) => `iocp at ${threadsText(p.more.threads)}: ${describe(p.more.messagesPerSec, " msg/s")}`),
  ];
  if (once(...pairs.flatMap((p) => [p.base.messagesPerSec, p.more.messagesPerSec]))) return result(2, "not tested", measured, SINGLE_REASON, testWith);
  const helped = pairs.filter((p) => clearlyBelow(p.base.messagesPerSec!, p.more.messagesPerSec!));
  if (helped.length > 0) {
    return result(2, "not supported", measured, `more threads than CPUs raised iocp's throughput clearly (at ${helped.map((p) => p.more.threads).join(", ")} threads)${sharing}`, firmer);
  }
  if (saturated(...pairs.flatMap((p) => [p.base, p.more]))) return result(2, "not tested", measured, SATURATED_REASON, testWith);
  return result(2, "supported", measured, `no thread count above ${cores} raised iocp's throughput beyond noise${sharing}`, firmer);
}

/** Claim 3: the completion-routine model with the seed's polling accept vs iocp (accept on its own thread), same threads and load. */
export function claim3(summaries: readonly ConfigSummary[], accept: "poll" | "ring"): ClaimResult {
  const testWith = "npm run bench -- --model completion-routine,iocp --threads 1,2 --accept poll --repeats 3";
  if (accept !== "poll") {
    return result(3, "not tested", [], "this sweep ran completion-routine with --accept ring, not the seed's polling accept", testWith);
  }
  const pairs = summaries
    .filter((s) => s.model === "completion-routine" && usable(s))
    .flatMap((cr) => {
      const iocp = summaries.find((s) => s.model === "iocp" && s.threads === cr.threads && sameLoad(s, cr) && usable(s));
      return iocp === undefined ? [] : [{ cr, iocp }];
    });
  if (pairs.length === 0) return result(3, "not tested", [], "needs completion-routine and iocp runs at the same threads and load", testWith);
  const measured = pairs.flatMap((p) => [
    `${threadsText(p.cr.threads)}: connect p99 completion-routine ${describe(p.cr.connectP99Us, " µs")} vs iocp ${describe(p.iocp.connectP99Us, " µs")}`,
    `${threadsText(p.cr.threads)}: completion-routine ${describe(p.cr.messagesPerSec, " msg/s")} vs iocp ${describe(p.iocp.messagesPerSec, " msg/s")}`,
  ]);
  const slowerConnect = (p: (typeof pairs)[number]): boolean =>
    p.cr.connectP99Us !== null && p.iocp.connectP99Us !== null && clearlyBelow(p.iocp.connectP99Us, p.cr.connectP99Us);
  const fewerMessages = (p: (typeof pairs)[number]): boolean =>
    !saturated(p.cr, p.iocp) && p.cr.messagesPerSec !== null && p.iocp.messagesPerSec !== null && clearlyBelow(p.cr.messagesPerSec, p.iocp.messagesPerSec);
  if (once(...pairs.flatMap((p) => [p.cr.connectP99Us, p.iocp.connectP99Us, p.cr.messagesPerSec, p.iocp.messagesPerSec]))) {
    return result(3, "not tested", measured, SINGLE_REASON, testWith);
  }
  const worse = pairs.filter((p) => slowerConnect(p) || fewerMessages(p));
  if (worse.length === pairs.length) {
    return result(3, "supported", measured, "at every thread count measured, the polling server accepted clearly slower (connect p99) or echoed clearly fewer messages than iocp", null);
  }
  const where = worse.length === 0 ? "at no thread count" : `only at ${worse.map((p) => p.cr.threads).join(", ")} of ${pairs.map((p) => p.cr.threads).join(", ")} threads`;
  return result(3, "not supported", measured, `the polling completion-routine server was clearly worse than iocp (connect p99 or throughput) ${where}`, null);
}

/** Best-to-worst ratio of medians (>= 1). */
function ratio(values: readonly number[]): number {
  return Math.max(...values) / Math.min(...values);
}

/**
 * Claim 4, in two parts. (a) No absolute winner: epoll does not clearly beat
 * iocp everywhere, nor iocp epoll. (b) Blocking work matters more than the
 * model: among runs with --work, throughput varies more with the thread
 * count (how many blocked calls can wait at once) than between models at one
 * thread count.
 */
export function claim4(summaries: readonly ConfigSummary[]): ClaimResult {
  const testWith = "npm run bench -- --model epoll,iocp --threads 1,2,4 --work block:2ms --repeats 3";
  const valid = summaries.filter((s) => usable(s) && s.messagesPerSec !== null && (s.model === "epoll" || s.model === "iocp"));
  const worked = valid.filter((s) => s.work !== null);
  if (worked.length === 0) {
    return result(4, "not tested", [], "needs runs with per-message server work (none in this sweep)", testWith);
  }
  const measured: string[] = [];
  // (a) who wins where
  const pairs = valid
    .filter((s) => s.model === "epoll")
    .flatMap((e) => {
      const i = valid.find((s) => s.model === "iocp" && s.threads === e.threads && sameLoad(s, e));
      return i === undefined ? [] : [{ e, i }];
    });
  const epollWins = pairs.filter((p) => clearlyBelow(p.i.messagesPerSec!, p.e.messagesPerSec!)).length;
  const iocpWins = pairs.filter((p) => clearlyBelow(p.e.messagesPerSec!, p.i.messagesPerSec!)).length;
  measured.push(`epoll vs iocp at ${pairs.length} configuration(s): epoll clearly faster at ${epollWins}, iocp at ${iocpWins}, within noise at ${pairs.length - epollWins - iocpWins}`);
  // (b) work runs: thread-count effect vs model gap
  const threadCounts = [...new Set(worked.map((s) => s.threads))].sort(compareThreads);
  const byModel = ["epoll", "iocp"].map((m) => worked.filter((s) => s.model === m)).filter((g) => g.length > 1);
  const modelGaps = threadCounts
    .map((t) => worked.filter((s) => s.threads === t).map((s) => s.messagesPerSec!.median))
    .filter((v) => v.length > 1)
    .map(ratio);
  if (pairs.length === 0 || byModel.length === 0 || modelGaps.length === 0) {
    return result(4, "not tested", measured, "needs epoll and iocp runs with --work at two or more thread counts", testWith);
  }
  const threadEffect = Math.max(...byModel.map((g) => ratio(g.map((s) => s.messagesPerSec!.median))));
  const modelGap = Math.max(...modelGaps);
  measured.push(
    `with work ${[...new Set(worked.map((s) => s.work))].join(", ")}: thread count changes throughput up to ×${threadEffect.toFixed(2)}, the model (epoll vs iocp) up to ×${modelGap.toFixed(2)}`,
    ...worked.map((s) => `${configLabel(s)}: ${describe(s.messagesPerSec, " msg/s")}`),
  );
  if (once(...valid.map((s) => s.messagesPerSec))) return result(4, "not tested", measured, SINGLE_REASON, testWith);
  const noAbsoluteWinner = pairs.length >= 2 ? !(epollWins === pairs.length || iocpWins === pairs.length) : epollWins + iocpWins === 0;
  if (noAbsoluteWinner && threadEffect > modelGap * (1 + NOISE_MARGIN)) {
    return result(4, "supported", measured, "no model won everywhere, and with blocking work the thread count moved throughput more than the choice of model", null);
  }
  const why = noAbsoluteWinner ? "with blocking work the choice of model mattered as much as the thread count" : `${epollWins > 0 ? "epoll" : "iocp"} won at every configuration measured`;
  return result(4, "not supported", measured, why, null);
}

/** Every claim's verdict for a sweep. */
export function judgeClaims(results: Pick<ResultsFile, "environment" | "options" | "searches" | "runs">, all: readonly ConfigSummary[]): ClaimResult[] {
  const cores = serverCores(results);
  // The closed-loop figures the claims compare; the open-loop curves bear on claim 2 through the searches.
  const summaries = withoutCurvePoints(all, results.runs);
  return [
    claim1(summaries, cores),
    claim2(summaries, cores, results.options.serverCpus !== null, maxRates(results), results.options.slo?.text ?? ""),
    claim3(summaries, results.options.accept),
    claim4(summaries),
  ];
}
