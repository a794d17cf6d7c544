/**
 * The chapter's claims (docs/DESIGN.md, claims 1–4) judged against one sweep.
 * Pure: summaries in, verdicts out. Four verdicts:
 *
 *   supported      the comparison's whole 95 % interval lies where the claim says;
 *   not supported  it lies where the claim says it does not;
 *   inconclusive   the runs exist but cannot decide (interval across the line,
 *                  too few usable rounds, runs flagged): the reason says why and
 *                  `testWith` gives the command that would decide;
 *   not tested     a run the claim needs is missing (`testWith` names it).
 *
 * Every comparison is PAIRED: two configurations of one sweep ran in the
 * same rounds, so the ratio within each round cancels the machine's drift,
 * and the interval is a t interval on the per-round log ratios
 * (stats.pairedChange). A claim that something does NOT help or cost is
 * supported only by an equivalence test: the whole interval inside the
 * margin (rules.MARGIN) or on the harmless side of it; a wide interval is
 * inconclusive, never support.
 *
 * Runs flagged CLIENT-STARVED or MACHINE-BUSY are left out of every
 * comparison; runs whose client was the limit (CLIENT-SATURATED, STARVED)
 * are also left out of throughput and latency, which they bound. Where the
 * client's limit leaves too few rounds for throughput, a claim rests on
 * what the client cannot distort: the server's CPU time and context
 * switches per message. Each verdict names the figure it rests on.
 *
 * Claim 2 rests on the highest open-loop rate meeting an objective when the
 * sweep searched for it (--find-max-rate --slo): the rate a server can be
 * offered within its latency bound is what "does not help" means to a user.
 * Each round's searches are paired as repeats are; a search counts only if
 * it bracketed its limit ("found") and none of its probes was flagged.
 */
import { parseWork } from "../contracts/work.js";
import { CLAIM3_CONNECTS_PER_SEC, CLIENT_BOUND_FLAGS, MARGIN, MIN_ROUNDS, NOISE_FLAGS } from "./rules.js";
import type { Figures, ResultsFile, SearchResult } from "./schema.js";
import { percent, pairedChange } from "./stats.js";
import type { ChangeInterval, Spread } from "./stats.js";
import { withoutCurvePoints } from "./curves.js";
import { compareThreads, configLabel, serverCores } from "./summary.js";
import type { ConfigSummary } from "./summary.js";

export type Verdict = "supported" | "not supported" | "inconclusive" | "not tested";

/** One claim, what the sweep measured for it and the verdict. */
export interface ClaimResult {
  id: 1 | 2 | 3 | 4;
  /** The claim, as docs/DESIGN.md words it. */
  claim: string;
  verdict: Verdict;
  /** The figure the verdict rests on (e.g. "server context switches per message"); null when not tested. */
  basis: string | null;
  /** What the sweep measured that bears on the claim, one line each, each naming the comparison it comes from. */
  measured: string[];
  /** Why the verdict, in one sentence. */
  reason: string;
  /** The bench command line that would decide (inconclusive, not tested) or test more firmly; null when this sweep decided firmly. */
  testWith: string | null;
}

export const CLAIMS: Record<ClaimResult["id"], string> = {
  1: "A completion port serves many connections with few threads, so it avoids the cost of context switches.",
  2: "The usual thread count is the CPU count; more threads than needed do not help.",
  3: "The completion-routine server's polling accept() plus SleepEx(100) loop costs performance.",
  4: "Neither epoll nor IOCP wins absolutely; inefficient I/O structure or slow blocking work per message matter more.",
};

// ---- figures and paired comparisons -------------------------------------------------------------

/** A figure a claim compares, and the run flags that keep a run out of it. */
interface ClaimFigure {
  /** As the verdict names it. */
  name: string;
  unit: string;
  value(f: Figures): number | null;
  exclude: ReadonlySet<string>;
}

const union = (...sets: ReadonlySet<string>[]): ReadonlySet<string> => new Set(sets.flatMap((s) => [...s]));
const positive = (x: number | null | undefined): number | null => (x !== null && x !== undefined && x > 0 && Number.isFinite(x) ? x : null);

const THROUGHPUT: ClaimFigure = {
  name: "throughput (msg/s)",
  unit: "msg/s",
  value: (f) => positive(f.messagesPerSec),
  exclude: union(NOISE_FLAGS, CLIENT_BOUND_FLAGS),
};
const CPU: ClaimFigure = {
  name: "server CPU µs per message",
  unit: "µs/msg",
  value: (f) => positive(f.serverCpuUsPerMessage),
  exclude: NOISE_FLAGS,
};
/** One switch is added to every run's count, so a run without any (an event loop that never slept) still has a ratio. */
const SWITCHES: ClaimFigure = {
  name: "server context switches per message",
  unit: "switches/msg",
  value: (f) => (f.serverContextSwitches === null || f.messages === 0 ? null : (f.serverContextSwitches.total + 1) / f.messages),
  exclude: NOISE_FLAGS,
};
const FIRST_ECHO: ClaimFigure = {
  name: "connect-to-first-echo p99 (µs)",
  unit: "µs",
  value: (f) => positive(f.firstEchoLatencyUs?.p99),
  exclude: union(NOISE_FLAGS, CLIENT_BOUND_FLAGS),
};

/** Two configurations compared round by round on one figure. */
interface Comparison {
  base: ConfigSummary;
  cand: ConfigSummary;
  figure: ClaimFigure;
  /** The figure's values in the rounds both runs count. */
  b: number[];
  c: number[];
  /** Runs of the two left out, "run 7 CLIENT-SATURATED". */
  leftOut: string[];
  /** null with fewer than MIN_ROUNDS usable rounds. */
  change: ChangeInterval | null;
}

function compare(base: ConfigSummary, cand: ConfigSummary, figure: ClaimFigure): Comparison {
  const b: number[] = [];
  const c: number[] = [];
  const leftOut: string[] = [];
  const flagged = (r: { index: number; figures: Figures }): boolean => {
    const why = r.figures.flags.filter((f) => figure.exclude.has(f));
    if (why.length > 0) leftOut.push(`run ${r.index + 1} ${why.join(" ")}`);
    return why.length > 0;
  };
  for (const br of base.runs) {
    const cr = cand.runs.find((r) => r.round === br.round);
    if (cr === undefined) continue;
    const skip = [flagged(br), flagged(cr)].some(Boolean);
    const bv = figure.value(br.figures);
    const cv = figure.value(cr.figures);
    if (skip || bv === null || cv === null) continue;
    b.push(bv);
    c.push(cv);
  }
  return { base, cand, figure, b, c, leftOut, change: b.length >= MIN_ROUNDS ? pairedChange(b, c) : null };
}

function fmt(x: number): string {
  if (x >= 100) return Math.round(x).toLocaleString("en-US");
  if (x >= 1) return x.toFixed(1);
  return x.toPrecision(2);
}

function signed(x: number): string {
  const p = x * 100;
  return `${p >= 0 ? "+" : "−"}${Math.abs(p) >= 100 ? Math.round(Math.abs(p)) : Math.abs(p).toFixed(1)}%`;
}

const geoMean = (v: readonly number[]): number => Math.exp(v.reduce((s, x) => s + Math.log(x), 0) / v.length);

/** "iocp 1 thread vs blocking, thread per connection (64 conns): server context switches per message 0.0052 vs 1.04 switches/msg, −99.5% [−99.6%, −99.4%] (95% CI, paired t, 3 rounds)" */
function describeComparison(what: string, c: Comparison): string {
  const left = c.leftOut.length > 0 ? `; left out: ${c.leftOut.join(", ")}` : "";
  if (c.b.length === 0) return `${what}: ${c.figure.name}: no round where both runs count${left}`;
  const values = `${fmt(geoMean(c.c))} vs ${fmt(geoMean(c.b))} ${c.figure.unit}`;
  if (c.change === null) return `${what}: ${c.figure.name} ${values} over ${c.b.length} round(s), fewer than the ${MIN_ROUNDS} an interval needs${left}`;
  const ch = c.change;
  return `${what}: ${c.figure.name} ${values}, ${signed(ch.change)} [${signed(ch.low)}, ${signed(ch.high)}] (${percent(ch.confidence)} CI, paired t, ${ch.n} rounds)${left}`;
}

const usable = (s: ConfigSummary): boolean => s.validRuns > 0;
const threadsText = (t: ConfigSummary["threads"]): string => (t === 1 ? "1 thread" : t === "per-connection" ? "thread per connection" : `${String(t)} threads`);
const short = (s: ConfigSummary): string => `${s.model} ${threadsText(s.threads)}${s.model === "completion-routine" && s.accept !== null ? ` (${s.accept} accept)` : ""}`;
const sameLoad = (a: ConfigSummary, b: ConfigSummary): boolean => a.loadKey === b.loadKey;

/** Where a change lies against ±MARGIN. */
const above = (c: ChangeInterval): boolean => c.low > MARGIN; // surely more than +margin
const belowUpper = (c: ChangeInterval): boolean => c.high < MARGIN; // surely less than +margin (or lower)
const belowLower = (c: ChangeInterval): boolean => c.high < -MARGIN; // surely less than -margin
const aboveLower = (c: ChangeInterval): boolean => c.low > -MARGIN; // surely more than -margin

/** Repeats that would likely decide: more than this sweep's, at least 5. */
function moreRepeats(rounds: number): number {
  return Math.max(5, 2 * rounds);
}

/** Why a comparison set cannot decide, and the advice for a sweep that could. */
function undecided(comparisons: readonly Comparison[]): { why: string; quieter: boolean } {
  const few = comparisons.filter((c) => c.change === null);
  const flagged = comparisons.some((c) => c.leftOut.length > 0);
  if (few.length > 0) {
    const c = few[0]!;
    return {
      why: `${few.length} comparison(s) have fewer than ${MIN_ROUNDS} usable rounds (${c.b.length} for ${short(c.cand)} vs ${short(c.base)})${flagged ? ": flagged runs were left out" : ""}`,
      quieter: flagged,
    };
  }
  return { why: `an interval reaches across the ±${percent(MARGIN)} margin: the runs do not separate the outcomes`, quieter: flagged };
}

function result(id: ClaimResult["id"], verdict: Verdict, basis: string | null, measured: string[], reason: string, testWith: string | null): ClaimResult {
  return { id, claim: CLAIMS[id], verdict, basis, measured, reason, testWith };
}

/** The advice for an inconclusive claim: the command with more repeats, and a quieter machine when flagged runs were left out. */
function inconclusive(id: ClaimResult["id"], basis: string, measured: string[], comparisons: readonly Comparison[], command: (repeats: number) => string, rounds: number): ClaimResult {
  const u = undecided(comparisons);
  const advice = u.quieter ? "; runs were flagged (CLIENT-STARVED, MACHINE-BUSY or a saturated client): run it again on a quieter machine" : "";
  return result(id, "inconclusive", basis, measured, `${u.why}${advice}`, command(moreRepeats(rounds)));
}

// ---- the claims --------------------------------------------------------------------------------

/**
 * Claim 1: at "few threads" (no more than the server's CPUs), iocp switches
 * context clearly less per message than a thread per connection (blocking
 * --threads per-connection), with every session served on both sides. The
 * blocking pool of iocp's size is shown too, but serves only as many
 * sessions as it has threads: a different load, so it does not decide.
 */
export function claim1(summaries: readonly ConfigSummary[], cores: number, rounds: number): ClaimResult {
  const command = (r: number): string => `npm run bench -- --model iocp,blocking --threads ${cores},per-connection --connections 64 --warmup 3 --repeats ${r}`;
  const few = (s: ConfigSummary): boolean => s.model === "iocp" && typeof s.threads === "number" && s.threads <= cores && usable(s);
  const perConnection = summaries.filter((s) => s.model === "blocking" && s.threads === "per-connection" && usable(s));
  const pairs = perConnection.flatMap((pc) => {
    const alike = summaries.filter((s) => few(s) && sameLoad(s, pc));
    // The claims sweep runs iocp beside the thread-per-connection server in its own part: that one, when there.
    const mate = alike.filter((s) => s.part === pc.part);
    return (mate.length > 0 ? mate : alike).map((iocp) => ({ iocp, pc }));
  });
  const pools = summaries.flatMap((iocp) => {
    const pool = few(iocp) ? summaries.find((b) => b.model === "blocking" && b.threads === iocp.threads && sameLoad(b, iocp) && usable(b)) : undefined;
    return pool === undefined ? [] : [compare(pool, iocp, SWITCHES)];
  });
  const poolLines = pools.map(
    (c) => `${describeComparison(`pool: ${short(c.cand)} vs blocking pool of ${threadsText(c.base.threads)} (${c.base.connections} conns, the pool serves ${served(c.base)}: a different load, not judged)`, c)}`,
  );
  if (pairs.length === 0) {
    return result(1, "not tested", null, poolLines, `needs iocp at no more than the server's ${cores} CPU(s) and blocking --threads per-connection, same load`, command(MIN_ROUNDS));
  }
  const comparisons = pairs.map((p) => compare(p.pc, p.iocp, SWITCHES));
  const measured = [
    ...comparisons.map((c) => describeComparison(`${short(c.cand)} vs blocking, thread per connection (${c.base.connections} conns; served ${served(c.cand)} and ${served(c.base)})`, c)),
    ...pairs.map((p) => describeComparison(`${short(p.iocp)} vs blocking, thread per connection (context, not judged)`, compare(p.pc, p.iocp, CPU))),
    ...poolLines,
  ];
  const basis = SWITCHES.name;
  const unservedIocp = pairs.filter((p) => p.iocp.unservedRuns > 0);
  if (unservedIocp.length > 0) return result(1, "not supported", basis, measured, `iocp left sessions unserved (${unservedIocp.map((p) => short(p.iocp)).join(", ")})`, null);
  const unservedPc = pairs.filter((p) => p.pc.unservedRuns > 0);
  if (unservedPc.length > 0) {
    return result(1, "inconclusive", basis, measured, `the thread-per-connection server left sessions unserved (its threads were still starting): not the same load as iocp's; fewer sessions or a longer --warmup`, command(moreRepeats(rounds)));
  }
  if (comparisons.some((c) => c.change === null)) return inconclusive(1, basis, measured, comparisons, command, rounds);
  if (comparisons.every((c) => belowLower(c.change!))) {
    return result(1, "supported", basis, measured, `with every session served on both sides, iocp switched context at least ${percent(MARGIN)} less per message than a thread per connection (whole 95% interval)`, null);
  }
  if (comparisons.some((c) => aboveLower(c.change!))) {
    return result(1, "not supported", basis, measured, `iocp did not switch context ${percent(MARGIN)} less per message than a thread per connection (whole 95% interval above −${percent(MARGIN)})`, null);
  }
  return inconclusive(1, basis, measured, comparisons, command, rounds);
}

/** "256/256" sessions served (median), or "?" */
function served(s: ConfigSummary): string {
  return s.sessionsServed === null ? "?" : `${Math.round(s.sessionsServed.median)}/${s.connections} sessions`;
}

/**
 * Claim 2: for the completion port, more threads than the server's CPUs do
 * not help. An equivalence test: on throughput, every "more threads" run's
 * change lies below +MARGIN; where the client's limit leaves too few
 * rounds, on server CPU per message (the server's capacity on its CPUs is
 * CPUs ÷ CPU per message): more threads are not MARGIN cheaper.
 */
export function claim2(summaries: readonly ConfigSummary[], cores: number, pinned: boolean, rounds: number, searches?: SearchesAtObjective): ClaimResult {
  const closedLoop = claim2ClosedLoop(summaries, cores, pinned, rounds);
  const atObjective = searches === undefined ? null : claim2AtObjective(searches, cores, pinned, rounds);
  if (atObjective === null) return closedLoop;
  return { ...atObjective, measured: [...atObjective.measured, ...closedLoop.measured.map((m) => `closed loop (context, not judged): ${m}`)] };
}

function claim2ClosedLoop(summaries: readonly ConfigSummary[], cores: number, pinned: boolean, rounds: number): ClaimResult {
  const command = (r: number): string => `npm run bench -- --model iocp --threads ${cores},${2 * cores},${4 * cores} --repeats ${r}`;
  // Without per-message work: a thread blocked in slow work is claim 4's case, where more threads do help.
  const iocp = summaries.filter((s) => s.model === "iocp" && usable(s) && s.part === null && s.work === null);
  const pairs = iocp
    .filter((s) => s.threads === cores)
    .flatMap((base) => iocp.filter((s) => typeof s.threads === "number" && s.threads > cores && sameLoad(s, base)).map((more) => ({ base, more })))
    .sort((x, y) => compareThreads(x.more.threads, y.more.threads));
  if (pairs.length === 0) {
    return result(2, "not tested", null, [], `needs iocp runs at ${threadsText(cores)} (the server's CPUs) and at more threads, same load`, command(MIN_ROUNDS));
  }
  const sharing = pinned ? "" : " (not pinned: the server's threads shared the CPUs with the client, so \"as many threads as CPUs\" is blurred)";
  const throughput = pairs.map((p) => compare(p.base, p.more, THROUGHPUT));
  const cpu = pairs.map((p) => compare(p.base, p.more, CPU));
  const vs = (c: Comparison): string => `${short(c.cand)} vs ${short(c.base)} (= the server's CPUs${pinned ? ", pinned" : ""})`;
  const measured = [...throughput.map((c) => describeComparison(vs(c), c)), ...cpu.map((c) => describeComparison(vs(c), c))];
  const byThroughput = throughput.every((c) => c.change !== null);
  const used = byThroughput ? throughput : cpu;
  const basis = byThroughput ? THROUGHPUT.name : `${CPU.name} (too few rounds where the client did not limit throughput)`;
  if (used.some((c) => c.change === null)) return inconclusive(2, basis, measured, used, command, rounds);
  const noHelp = byThroughput ? used.every((c) => belowUpper(c.change!)) : used.every((c) => aboveLower(c.change!));
  const helped = byThroughput ? used.filter((c) => above(c.change!)) : used.filter((c) => belowLower(c.change!));
  if (noHelp) {
    const how = byThroughput ? `raised throughput by less than ${percent(MARGIN)}` : `made the server's messages less than ${percent(MARGIN)} cheaper in CPU`;
    return result(2, "supported", basis, measured, `at every count above ${cores}, more iocp threads ${how} (whole 95% interval)${sharing}`, pinned ? null : command(rounds));
  }
  if (helped.length > 0) {
    const how = byThroughput ? "raised throughput" : "made each message cheaper in server CPU";
    return result(2, "not supported", basis, measured, `more threads than CPUs ${how} by more than ${percent(MARGIN)} (at ${helped.map((c) => threadsText(c.cand.threads)).join(", ")})${sharing}`, pinned ? null : command(rounds));
  }
  return inconclusive(2, basis, measured, used, command, rounds);
}

/** The searches a sweep ran (--find-max-rate), the objective they searched against and the runs their probes are. */
export interface SearchesAtObjective {
  searches: readonly SearchResult[];
  objective: string;
  runs: ResultsFile["runs"];
}

/** Why a search cannot count in a claim (see the file comment), or null when it can. */
function searchLeftOut(s: SearchResult, runs: ResultsFile["runs"]): string | null {
  if (s.status !== "found" || s.highPerSec === null || s.foundPerSec === null) return `round ${s.repeat} ${s.status}`;
  const flags = s.probes.flatMap((p) => {
    const r = runs[p.run];
    return r?.status === "ok" ? r.figures.flags.filter((f) => NOISE_FLAGS.has(f)) : [];
  });
  return flags.length > 0 ? `round ${s.repeat} ${[...new Set(flags)].join(" ")}` : null;
}

/**
 * Two configurations' searches compared round by round. The limit of each
 * search lies between the rate found and the rate missed, so the interval
 * covers both: its low end from the pessimistic ratios (found ÷ the base's
 * missed), its high end from the optimistic ones (missed ÷ the base's found).
 */
function compareSearches(base: readonly SearchResult[], cand: readonly SearchResult[], runs: ResultsFile["runs"]): { change: ChangeInterval | null; n: number; leftOut: string[] } {
  const leftOut: string[] = [];
  const pairs: [SearchResult, SearchResult][] = [];
  for (const b of base) {
    const c = cand.find((x) => x.repeat === b.repeat);
    if (c === undefined) continue;
    const why = [searchLeftOut(b, runs), searchLeftOut(c, runs)];
    why.forEach((w, i) => w !== null && leftOut.push(`${threadsText((i === 0 ? b : c).threads)} ${w}`));
    if (why.every((w) => w === null)) pairs.push([b, c]);
  }
  if (pairs.length < MIN_ROUNDS) return { change: null, n: pairs.length, leftOut };
  const mid = pairedChange(pairs.map(([b]) => b.foundPerSec!), pairs.map(([, c]) => c.foundPerSec!))!;
  const low = pairedChange(pairs.map(([b]) => b.highPerSec!), pairs.map(([, c]) => c.foundPerSec!))!.low;
  const high = pairedChange(pairs.map(([b]) => b.foundPerSec!), pairs.map(([, c]) => c.highPerSec!))!.high;
  return { change: { ...mid, low, high }, n: pairs.length, leftOut };
}

/**
 * Claim 2 on the highest rate meeting the objective: iocp at the server's
 * CPUs against iocp at more threads, same load, an equivalence test as on
 * throughput. null when the sweep searched no such pair.
 */
function claim2AtObjective(at: SearchesAtObjective, cores: number, pinned: boolean, rounds: number): ClaimResult | null {
  const command = (r: number): string => `npm run bench -- --model iocp --threads ${cores},${2 * cores} --find-max-rate --slo ${at.objective} --repeats ${r}`;
  const iocp = at.searches.filter((s) => s.model === "iocp" && s.work === null);
  const same = (a: SearchResult, b: SearchResult): boolean => a.connections === b.connections && a.sizeBytes === b.sizeBytes;
  const base = iocp.filter((s) => s.threads === cores);
  const more = [...new Set(iocp.filter((s) => typeof s.threads === "number" && s.threads > cores && base.some((b) => same(b, s))).map((s) => s.threads as number))].sort((a, b) => a - b);
  if (more.length === 0) return null;
  const comparisons = more.map((t) => ({ threads: t, ...compareSearches(base, iocp.filter((s) => s.threads === t && same(s, base[0]!)), at.runs) }));
  const sharing = pinned ? "" : " (not pinned: the server's threads shared the CPUs with the client)";
  const median = (rs: readonly SearchResult[]): string => {
    const found = rs.flatMap((r) => (r.foundPerSec === null ? [] : [r.foundPerSec])).sort((a, b) => a - b);
    return found.length === 0 ? "none found" : fmt(found[Math.floor(found.length / 2)]!);
  };
  const measured = comparisons.map((c) => {
    const what = `iocp ${threadsText(c.threads)} vs iocp ${threadsText(cores)} (= the server's CPUs${pinned ? ", pinned" : ""}): highest rate meeting ${at.objective} ${median(iocp.filter((s) => s.threads === c.threads))} vs ${median(base)} msg/s (median)`;
    const left = c.leftOut.length > 0 ? `; left out: ${c.leftOut.join(", ")}` : "";
    if (c.change === null) return `${what} over ${c.n} usable round(s), fewer than the ${MIN_ROUNDS} an interval needs${left}`;
    const ch = c.change;
    return `${what}, ${signed(ch.change)} [${signed(ch.low)}, ${signed(ch.high)}] (${percent(ch.confidence)} CI, paired t over ${ch.n} rounds, widened to the searches' brackets)${left}`;
  });
  const basis = `highest rate meeting ${at.objective} (--find-max-rate)`;
  const flagged = comparisons.some((c) => c.leftOut.length > 0);
  const advice = flagged ? "; searches were left out (flagged probes, or a search that did not bracket its limit): run it again on a quieter machine" : "";
  if (comparisons.some((c) => c.change === null)) {
    return result(2, "inconclusive", basis, measured, `some comparison has fewer than ${MIN_ROUNDS} usable rounds of searches${advice}`, command(moreRepeats(rounds)));
  }
  if (comparisons.every((c) => belowUpper(c.change!))) {
    return result(2, "supported", basis, measured, `at every count above ${cores}, more iocp threads raised the highest rate meeting ${at.objective} by less than ${percent(MARGIN)} (whole 95% interval)${sharing}`, pinned ? null : command(rounds));
  }
  const helped = comparisons.filter((c) => above(c.change!));
  if (helped.length > 0) {
    return result(2, "not supported", basis, measured, `more threads than CPUs raised the highest rate meeting ${at.objective} by more than ${percent(MARGIN)} (at ${helped.map((c) => threadsText(c.threads)).join(", ")})${sharing}`, pinned ? null : command(rounds));
  }
  return result(2, "inconclusive", basis, measured, `an interval reaches across the ±${percent(MARGIN)} margin: the searches do not separate the outcomes${advice}`, command(moreRepeats(rounds)));
}

/**
 * Claim 3: completion-routine with the seed's polling accept (a
 * non-blocking accept between 100 ms alertable waits) against the same
 * model accepting on its ring, under a reconnecting load, on the time from
 * connect() to the first echo (p99). Supported when polling costs more than
 * MARGIN; not supported when it surely costs less (equivalence).
 */
export function claim3(summaries: readonly ConfigSummary[], rounds: number): ClaimResult {
  const command = (r: number): string =>
    `npm run bench -- --model completion-routine --threads 1 --accept poll,ring --scenario connect-storm --connect-rate ${CLAIM3_CONNECTS_PER_SEC} --repeats ${r}`;
  const cr = summaries.filter((s) => s.model === "completion-routine" && usable(s));
  const pairs = cr
    .filter((s) => s.accept === "ring")
    .flatMap((ring) => cr.filter((s) => s.accept === "poll" && s.threads === ring.threads && sameLoad(s, ring)).map((poll) => ({ poll, ring })));
  if (pairs.length === 0) {
    return result(3, "not tested", null, [], "needs completion-routine with --accept poll and with --accept ring (--accept poll,ring), same threads and load", command(MIN_ROUNDS));
  }
  const reconnecting = pairs.filter((p) => p.poll.firstEchoP99Us !== null && p.ring.firstEchoP99Us !== null);
  if (reconnecting.length === 0) {
    return result(3, "not tested", null, [], "the load never reconnected, so no first echo fell in the window: needs a load whose sessions reconnect (--scenario connect-storm)", command(MIN_ROUNDS));
  }
  const comparisons = reconnecting.map((p) => compare(p.ring, p.poll, FIRST_ECHO));
  const what = (c: Comparison): string => `${short(c.cand)} vs ${short(c.base)} (${c.base.loadName ?? "reconnecting load"}, ${c.base.connections} sessions)`;
  const measured = [
    ...comparisons.map((c) => describeComparison(what(c), c)),
    ...reconnecting.map((p) => describeComparison(what(compare(p.ring, p.poll, THROUGHPUT)), compare(p.ring, p.poll, THROUGHPUT))),
  ];
  const basis = FIRST_ECHO.name;
  if (comparisons.some((c) => c.change === null)) return inconclusive(3, basis, measured, comparisons, command, rounds);
  if (comparisons.every((c) => above(c.change!))) {
    return result(3, "supported", basis, measured, `the polling accept made new clients wait more than ${percent(MARGIN)} longer for their first echo than accepting on the ring (whole 95% interval)`, null);
  }
  if (comparisons.every((c) => belowUpper(c.change!))) {
    return result(3, "not supported", basis, measured, `the polling accept cost new clients less than ${percent(MARGIN)} in time to their first echo (whole 95% interval below +${percent(MARGIN)})`, null);
  }
  return inconclusive(3, basis, measured, comparisons, command, rounds);
}

/** |ln(1 + change)| bounds of an interval: the smallest and largest size of the effect it allows. */
function effectBounds(c: ChangeInterval): { min: number; max: number } {
  const lo = Math.log1p(c.low);
  const hi = Math.log1p(c.high);
  return { min: lo > 0 ? lo : hi < 0 ? -hi : 0, max: Math.max(Math.abs(lo), Math.abs(hi)) };
}

/** "4 ÷ 2 ms = 2,000 msg/s": what blocking work allows at most, by construction. */
function bound(s: ConfigSummary): string | null {
  const w = s.work === null ? null : parseWork(s.work);
  if (w === null || w.kind !== "block" || typeof s.threads !== "number") return null;
  const most = (s.threads * 1e6) / w.durationUs;
  const reached = s.messagesPerSec === null ? "" : ` (measured ${Math.round((100 * s.messagesPerSec.median) / most)}% of it)`;
  return `${s.threads} ÷ ${s.work!.slice(6)} = ${fmt(most)} msg/s${reached}`;
}

/**
 * Claim 4: under slow blocking work per message, the same load on both
 * sides, the thread count (how many blocked calls wait at once) moves
 * throughput more than the choice between epoll and iocp: the smallest
 * thread effect's interval lies above the largest model effect's. The
 * arithmetic bound (threads ÷ work time) is stated beside what was
 * measured; without work, epoll vs iocp is shown as context.
 */
export function claim4(summaries: readonly ConfigSummary[], rounds: number): ClaimResult {
  const command = (r: number): string => `npm run bench -- --model epoll,iocp --threads 1,4 --scenario db-work --repeats ${r}`;
  const models = ["epoll", "iocp"];
  const worked = summaries.filter((s) => usable(s) && models.includes(s.model) && typeof s.threads === "number" && s.work !== null && s.work.startsWith("block:"));
  const threadEffects: Comparison[] = [];
  const modelEffects: Comparison[] = [];
  for (const s of worked) {
    const twins = worked.filter((o) => o.model === s.model && sameLoad(o, s));
    const low = twins.reduce((a, b) => (compareThreads(a.threads, b.threads) <= 0 ? a : b));
    const high = twins.reduce((a, b) => (compareThreads(a.threads, b.threads) >= 0 ? a : b));
    if (s === high && low !== high) threadEffects.push(compare(low, high, THROUGHPUT));
    const epoll = s.model === "iocp" ? worked.find((o) => o.model === "epoll" && o.threads === s.threads && sameLoad(o, s)) : undefined;
    if (epoll !== undefined) modelEffects.push(compare(s, epoll, THROUGHPUT));
  }
  const context = summaries
    .filter((s) => s.model === "iocp" && s.work === null && s.part === null && usable(s))
    .flatMap((iocp) => {
      const epoll = summaries.find((o) => o.model === "epoll" && o.threads === iocp.threads && sameLoad(o, iocp) && usable(o));
      return epoll === undefined ? [] : [describeComparison(`without work (context, not judged): epoll vs iocp, ${threadsText(iocp.threads)}`, compare(iocp, epoll, THROUGHPUT))];
    });
  if (threadEffects.length === 0 || modelEffects.length === 0) {
    return result(4, "not tested", null, context, "needs epoll and iocp runs with blocking work (--work block:2ms) at two or more thread counts, same load", command(MIN_ROUNDS));
  }
  const measured = [
    ...worked.map((s) => `${configLabel(s)}: ${describeSpread(s.messagesPerSec)} msg/s measured${bound(s) !== null ? `; bound ${bound(s)!}` : ""}`),
    ...threadEffects.map((c) => describeComparison(`thread effect: ${short(c.cand)} vs ${short(c.base)} (${c.base.work})`, c)),
    ...modelEffects.map((c) => describeComparison(`model effect: epoll vs iocp, ${threadsText(c.base.threads)} (${c.base.work})`, c)),
    ...context,
  ];
  const basis = `${THROUGHPUT.name}: thread effect vs model effect under the same work`;
  const all = [...threadEffects, ...modelEffects];
  if (all.some((c) => c.change === null)) return inconclusive(4, basis, measured, all, command, rounds);
  const thread = threadEffects.map((c) => effectBounds(c.change!));
  const model = modelEffects.map((c) => effectBounds(c.change!));
  if (Math.min(...thread.map((t) => t.min)) > Math.max(...model.map((m) => m.max))) {
    return result(4, "supported", basis, measured, "under blocking work, the smallest thread-count effect surely exceeded the largest epoll-vs-iocp difference (95% intervals apart)", null);
  }
  if (Math.max(...model.map((m) => m.min)) > Math.min(...thread.map((t) => t.max))) {
    return result(4, "not supported", basis, measured, "under blocking work, the choice of model surely moved throughput more than the thread count did", null);
  }
  return inconclusive(4, basis, measured, all, command, rounds);
}

/** "1,950 [75% CI 1,900–1,990, n=3]" */
export function describeSpread(s: Spread | null): string {
  if (s === null) return "not measured";
  return s.n > 1 ? `${fmt(s.median)} [${percent(s.ciConfidence)} CI ${fmt(s.ciLow)}–${fmt(s.ciHigh)}, n=${s.n}]` : `${fmt(s.median)} (1 repeat)`;
}

/** How a report introduces a claim's testWith command. */
export function testWithLabel(c: Pick<ClaimResult, "verdict">): string {
  return c.verdict === "not tested" ? "To test it" : c.verdict === "inconclusive" ? "To decide it" : "To test it more firmly";
}

/** Every claim's verdict for a sweep. */
export function judgeClaims(results: Pick<ResultsFile, "environment" | "options" | "searches" | "runs">, all: readonly ConfigSummary[]): ClaimResult[] {
  const cores = serverCores(results);
  const rounds = results.options.repeats;
  const pinned = results.options.serverCpus !== null && results.options.clientCpus !== null;
  // The closed-loop figures the claims compare; the open-loop curves bear on claim 2 through the searches.
  const summaries = withoutCurvePoints(all, results.runs);
  const searches = results.searches === undefined || results.options.slo === undefined ? undefined : { searches: results.searches, objective: results.options.slo.text, runs: results.runs };
  return [claim1(summaries, cores, rounds), claim2(summaries, cores, pinned, rounds, searches), claim3(summaries, rounds), claim4(summaries, rounds)];
}
