/**
 * The thresholds every verdict is decided by, in one place: the noise rules
 * that flag a run or a figure, and the margins the claims and the check
 * judge changes against. docs/verdicts.md gives the reasoning and
 * `npm run bench:verdicts` the error rates they lead to.
 */

/** A client worker thread waiting on a run queue for this share of the window flags the run CLIENT-STARVED... */
export const STARVED_THRESHOLD = 0.15;
/** ...when its waits averaged this long each time it got a CPU (µs): shorter is wake-up latency, not competition (derive.clientStarved). */
export const STARVED_WAIT_PER_SLICE_US = 200;

/**
 * Other processes using this share of the run's CPUs flag the run
 * MACHINE-BUSY. Quiet runs here read 1-6 %, but the blocking pool at 2
 * threads reads 10-12 %: each of its 40,000 messages a second takes both
 * CPUs in and out of idle, and the idle path's own time is nobody's
 * runtime (derive.otherCpuShare). A busy loop on the client's CPU reads
 * about 25 %.
 */
export const BUSY_THRESHOLD = 0.15;

/** Run flags that keep a run out of every claim and check figure: the machine, not the server, shaped it. */
export const NOISE_FLAGS: ReadonlySet<string> = new Set(["CLIENT-STARVED", "MACHINE-BUSY"]);

/** Run flags that make a run's throughput (and latency) a floor set by the client: kept out of throughput verdicts. */
export const CLIENT_BOUND_FLAGS: ReadonlySet<string> = new Set(["CLIENT-SATURATED", "CLIENT-STARVED"]);

/**
 * A figure whose repeats differ by more than this (geometric coefficient of
 * variation, stats.dispersion) is NOISY: at 10 % run-to-run noise, 3
 * repeats pass it 98 % of the time and 5 repeats 99.9 %.
 */
export const NOISY_DISPERSION = 0.25;

/**
 * The claims' margin: a change smaller than this is "no practical
 * difference". A claim that something does NOT help is supported only when
 * the whole 95 % interval of the change lies below +MARGIN (an equivalence
 * test); one that something helps, only when it lies beyond it.
 */
export const MARGIN = 0.1;

/** Usable paired rounds a claim's comparison needs: fewer give a t interval too wide to decide anything. */
export const MIN_ROUNDS = 3;

/** Claim 3's connects per second, whole client (cli/claims-sweep.ts): well below what either accept style serves, and what one client CPU makes. */
export const CLAIM3_CONNECTS_PER_SEC = 2000;
